//! The application layer's error: a stable code and the message in both languages, exactly
//! what crosses IPC as the envelope.

use radqc_domain::ScoringError;
use radqc_store::StoreError;

/// The one catalogue of codes (the domain's, also `radqc_protocol::ErrorCode`): the store's, the
/// engine's, the app's and the shell's are among them. The UI branches on these (generated into
/// `ui/src/wire.ts`), never on the text.
pub use radqc_domain::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct AppError {
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl AppError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { code: code.as_str(), message_zh: zh.into(), message_en: en.into() }
    }
    pub fn invalid(field: &str, message: String) -> Self {
        Self::new(ErrorCode::InvalidInput, format!("输入有误（{field}）：{message}"), format!("`{field}`: {message}"))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self { code: e.code().as_str(), message_zh: e.message_zh(), message_en: e.to_string() }
    }
}

impl From<ScoringError> for AppError {
    fn from(e: ScoringError) -> Self {
        Self { code: e.code().as_str(), message_zh: format!("评分项填写有误：{e}"), message_en: e.to_string() }
    }
}
