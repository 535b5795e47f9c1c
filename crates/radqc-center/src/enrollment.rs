//! The rules of enrollment, shared by both backends: a code is used once, before it expires,
//! and a device stays at the site it first enrolled at.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use radqc_protocol::ErrorCode;

/// Checks a looked-up code (site, expiry, used by); returns its site.
pub fn check_code(code: Option<(String, String, Option<String>)>, now: DateTime<Utc>) -> Result<String, ApiError> {
    let Some((site, expires_at, used_by)) = code else {
        return Err(ApiError::unauthenticated("unknown enrollment code; ask the center for a new one"));
    };
    if let Some(device) = used_by {
        return Err(ApiError::unauthenticated(format!(
            "this enrollment code was already used (by device {device}); codes work once"
        )));
    }
    let expires = crate::db::parse_ts(&expires_at)?;
    if expires <= now {
        return Err(ApiError::unauthenticated(format!(
            "this enrollment code expired at {expires_at}; ask the center for a new one"
        )));
    }
    Ok(site)
}

/// A device re-enrolling (after its token was revoked, or on reinstall) stays at its site: its
/// sequence numbers and data belong there.
pub fn check_same_site(device: &str, old_site: &str, new_site: &str) -> Result<(), ApiError> {
    if old_site != new_site {
        return Err(ApiError::new(
            ErrorCode::DeviceAtOtherSite,
            format!("device {device} is enrolled at site {old_site}; a code for site {new_site} cannot move it"),
        ));
    }
    Ok(())
}
