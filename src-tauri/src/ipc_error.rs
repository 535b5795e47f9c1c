//! The one error envelope that every IPC command rejects with.
//!
//! The UI branches on `code` (stable, SCREAMING_SNAKE_CASE) and shows the message in the
//! user's language; it never parses the text.

use std::fmt;

use serde::Serialize;

/// `{ "code": "STABLE_CODE", "message_zh": "...", "message_en": "..." }` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct IpcError {
    /// One of `ErrorCode` (the one catalogue, `radqc_protocol::ErrorCode`).
    #[cfg_attr(test, ts(type = "ErrorCode"))]
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl IpcError {
    pub fn new(code: radqc_app::ErrorCode, message_zh: impl Into<String>, message_en: impl Into<String>) -> Self {
        Self { code: code.as_str(), message_zh: message_zh.into(), message_en: message_en.into() }
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl std::error::Error for IpcError {}

impl From<radqc_app::AppError> for IpcError {
    fn from(e: radqc_app::AppError) -> Self {
        Self { code: e.code, message_zh: e.message_zh, message_en: e.message_en }
    }
}

impl From<radqc_store::StoreError> for IpcError {
    fn from(e: radqc_store::StoreError) -> Self {
        radqc_app::AppError::from(e).into()
    }
}
