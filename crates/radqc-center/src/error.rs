//! The center's errors: every failure leaves as one envelope, an HTTP status and an
//! [`ErrorBody`] with a stable code.

use radqc_protocol::ErrorBody;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({}): {}", body.code, status, body.message)]
pub struct ApiError {
    pub status: u16,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, body: ErrorBody::new(code, message) }
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(401, "UNAUTHENTICATED", message)
    }
    pub fn revoked() -> Self {
        Self::new(401, "TOKEN_REVOKED", "this device's token was revoked; enroll the device again with a new code")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "FORBIDDEN", message)
    }
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn sequence_gap(expected: i64, got: i64) -> Self {
        let mut e = Self::new(
            409,
            "SEQUENCE_GAP",
            format!("the center expects sequence {expected} next, the batch starts at {got}"),
        );
        e.body.expected_seq = Some(expected);
        e
    }
    pub fn storage(e: impl std::fmt::Display) -> Self {
        Self::new(503, "STORAGE_UNAVAILABLE", format!("the center's database failed: {e}"))
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
