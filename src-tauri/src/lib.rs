//! The desktop shell: builds the Tauri app and registers its IPC commands.
//!
//! Architecture Invariant: no QC logic lives here. A command turns a wire type into a call of
//! `radqc-domain` (later the application layer) and the answer back into a wire type, or its
//! error into an [`IpcError`].

pub mod commands;
mod ipc_error;

pub use ipc_error::IpcError;

/// Starts the desktop app and blocks until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::rubric])
        .run(tauri::generate_context!())
        // Nothing to recover at this point: no window could be shown, so say why and stop.
        .unwrap_or_else(|e| panic!("RadQC desktop failed to start: {e}"));
}
