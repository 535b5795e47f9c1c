//! The gate API's shell side: `radqc_app::gate_http` serves it on loopback; here the held
//! signature brings the window to the front and reaches the panel as events
//! (`gate-requested`, `gate-gave-up`).

use radqc_app::gate_http::{GateEvents, GateOptions};
use radqc_app::GateView;
use tauri::{AppHandle, Emitter, Manager};

use crate::{events, Shared};

struct Window(AppHandle);

impl GateEvents for Window {
    fn held(&self, gate: &GateView) {
        let _ = self.0.emit(events::GATE_REQUESTED, gate);
        if let Some(window) = self.0.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }

    fn gave_up(&self, gate: &GateView) {
        let _ = self.0.emit(events::GATE_GAVE_UP, gate);
    }
}

/// Binds 127.0.0.1:`port` (0: any free port); returns the URL.
pub fn start(port: u16, app: Shared, handle: AppHandle) -> std::io::Result<String> {
    let addr =
        radqc_app::gate_http::start(port, app.0.clone(), std::sync::Arc::new(Window(handle)), GateOptions::default())?;
    Ok(format!("http://{addr}"))
}
