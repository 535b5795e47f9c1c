//! The IPC commands the front-end calls with `invoke`; each one is a few lines.

use radqc_domain::Rubric;

use crate::IpcError;

/// The rubric bundled with this build (`assets/rubric.toml`), for display and scoring forms.
///
/// It cannot fail today: the bundled file is validated by the domain crate's tests before any
/// build ships. It still answers `Result` so that every command has one wire contract (data,
/// or an [`IpcError`]) and so that loading a region's published rubric can fail here later
/// without the front-end changing.
#[tauri::command]
pub fn rubric() -> Result<&'static Rubric, IpcError> {
    Ok(Rubric::bundled())
}
