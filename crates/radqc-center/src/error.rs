//! The center's errors: every failure leaves as one envelope, an HTTP status and an
//! [`ErrorBody`] with a stable code.

use radqc_protocol::{ErrorBody, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({}): {}", body.code, status, body.message)]
pub struct ApiError {
    pub status: u16,
    pub body: ErrorBody,
}

impl ApiError {
    /// The answer `code` with the status the catalogue gives it.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        debug_assert!(code.status().is_some(), "{code} is not an HTTP answer in the catalogue");
        Self::with_status(code.status().unwrap_or(500), code, message)
    }
    /// An answer whose status is not `code`'s own: only `HTTP_ERROR`, a failure of the HTTP layer
    /// that the last layer turns into an envelope with its status.
    pub(crate) fn with_status(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, body: ErrorBody::new(code, message) }
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    pub fn revoked() -> Self {
        Self::new(ErrorCode::TokenRevoked, "this device's token was revoked; enroll the device again with a new code")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn sequence_gap(expected: i64, got: i64) -> Self {
        let mut e = Self::new(
            ErrorCode::SequenceGap,
            format!("the center expects sequence {expected} next, the batch starts at {got}"),
        );
        e.body.expected_seq = Some(expected);
        e
    }
    pub fn storage(e: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::StorageUnavailable, format!("the center's database failed: {e}"))
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        Self::storage(e)
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Self::storage(format!("{}: {}", db.code().code(), db.message())),
            None => Self::storage(e),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::storage(e)
    }
}
