//! The gate API on loopback: the reading workstation (not ours) asks before it commits a
//! signature. `POST /v1/sign` with `{"exam": {...}, "signer": "D1"}` answers at once with
//! `{"decision": "go", ...}` when the exam is not sampled; when it is, the panel comes to the
//! front and the answer waits until the score is saved (`go`) or the panel is closed (`go` or
//! `blocked`, by the site's setting). Documented in the README.

use std::time::Duration;

use chrono::Utc;
use radqc_app::{GateAnswer, SignRequest, SignResponse};
use tauri::{AppHandle, Emitter, Manager};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::Shared;

/// How long a held signature waits for its score before the workstation is told to go on
/// without one (and the panel forgets it).
pub const HOLD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn json(status: u16, body: serde_json::Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes("Content-Type", "application/json; charset=utf-8").expect("a valid header");
    Response::from_string(body.to_string()).with_status_code(status).with_header(header)
}

fn error(status: u16, code: &str, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    json(status, serde_json::json!({ "code": code, "message": message }))
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves requests on their own threads.
pub fn start(port: u16, app: Shared, handle: AppHandle) -> std::io::Result<String> {
    let server = Server::http(("127.0.0.1", port)).map_err(std::io::Error::other)?;
    let addr = server.server_addr().to_ip().map(|a| a.to_string()).unwrap_or_default();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let (app, handle) = (app.clone(), handle.clone());
            std::thread::spawn(move || serve(request, &app, &handle));
        }
    });
    Ok(format!("http://{addr}"))
}

fn serve(mut request: Request, app: &Shared, handle: &AppHandle) {
    let response = match (request.method(), request.url()) {
        (Method::Get, "/v1/health") => json(200, serde_json::json!({ "status": "ok" })),
        (Method::Post, "/v1/sign") => {
            let mut body = String::new();
            if request.as_reader().read_to_string(&mut body).is_err() {
                error(400, "INVALID_BODY", "the body is not UTF-8 text")
            } else {
                sign(&body, app, handle)
            }
        }
        _ => error(404, "NOT_FOUND", "endpoints: POST /v1/sign, GET /v1/health"),
    };
    let _ = request.respond(response);
}

fn sign(body: &str, app: &Shared, handle: &AppHandle) -> Response<std::io::Cursor<Vec<u8>>> {
    let req: SignRequest = match serde_json::from_str(body) {
        Ok(r) => r,
        Err(e) => return error(400, "INVALID_BODY", &e.to_string()),
    };
    let asked = match app.lock() {
        Ok(mut a) => a.sign(&req, Utc::now()),
        Err(e) => return error(503, e.code, &e.message_en),
    };
    match asked {
        Err(e) => error(400, e.code, &e.message_en),
        Ok(SignResponse::Go { decision }) => {
            json(200, serde_json::json!({ "decision": "go", "sampled": false, "draw": decision }))
        }
        Ok(SignResponse::Hold { gate, waiter, decision }) => {
            let _ = handle.emit("gate-requested", &gate);
            if let Some(window) = handle.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
            let answer = waiter.recv_timeout(HOLD_TIMEOUT).unwrap_or_else(|_| {
                if let Ok(mut a) = app.lock() {
                    a.forget_gate(&gate.id);
                }
                GateAnswer::Go { evaluations: vec![] }
            });
            let mut body = serde_json::to_value(&answer).expect("the answer serializes");
            body["sampled"] = serde_json::Value::Bool(true);
            body["draw"] = serde_json::to_value(decision).expect("the decision serializes");
            json(200, body)
        }
    }
}
