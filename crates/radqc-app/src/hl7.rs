//! The HL7 v2 listener inside the desktop app (`--hl7-listen ADDR`), for a site without an
//! always-on service: the same loop as `radqc hl7 listen` (`radqc_hl7::listen`), each message
//! kept in the app's store before its ACK.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};

use radqc_hl7::{ErrorCondition, Mapping, Refusal, Responder};
use radqc_store::Hl7Intake;

use crate::App;

/// Binds `listen` and serves it on a thread of its own; the address it listens on. The mapping
/// is the hospital's file, or the default; `gb18030` reads a message whose MSH-18 names no
/// charset as GB18030.
pub fn start_hl7(
    app: Arc<Mutex<App>>,
    listen: &str,
    mapping: Option<&Path>,
    gb18030: bool,
) -> Result<SocketAddr, String> {
    let mapping = match mapping {
        None => Mapping::bundled(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Mapping::from_json(&text, &p.display().to_string()).map_err(|e| e.to_string())?
        }
    };
    let site = app.lock().map_err(|_| "the app's lock is poisoned".to_owned())?.store().site().to_string();
    let responder = Responder { application: "RADQC".to_owned(), facility: site };
    let unnamed = if gb18030 { radqc_hl7::Charset::Gb18030 } else { radqc_hl7::Charset::Utf8 };
    let intake = Hl7Intake { mapping, unnamed, responder: responder.clone() };
    let listener = TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let answer = move |payload: &[u8]| -> Vec<u8> {
        let now = chrono::Utc::now();
        match app.lock() {
            Ok(mut app) => app.store_mut().answer_hl7(payload, &intake, now),
            Err(_) => {
                let refusal = Refusal::error(ErrorCondition::ApplicationInternalError, None, "the app is unavailable");
                radqc_hl7::ack(None, payload, Some(&refusal), &intake.responder, now, &radqc_hl7::listen::answer_id())
            }
        }
    };
    std::thread::Builder::new()
        .name("hl7-listen".into())
        .spawn(move || radqc_hl7::listen::serve_forever(listener, responder, Arc::new(answer)))
        .map_err(|e| e.to_string())?;
    Ok(addr)
}
