//! The regional center (区域远程医学影像中心): receives every site's evaluations and exam
//! events exactly once, publishes the rubric, the grants, sampling rules, roster and notices back, and
//! answers reads according to roles.
//!
//! Architecture Invariant: a device's `last_seq` and the data of the entries up to it are
//! written in one transaction; an entry at or below `last_seq` is acknowledged, never applied
//! again.
//!
//! Architecture Invariant: only this crate depends on the HTTP server framework (axum).

pub mod db;
mod enrollment;
pub mod error;
mod feed;
pub mod gold;
pub mod gold_http;
pub mod http;
pub mod notices;
pub mod push;
pub mod rollups;
mod rows;
pub mod secret;
pub mod staff_secrets;

use std::net::SocketAddr;

use chrono::Utc;
use radqc_protocol::{ErrorCode, FeedKind, StaffMember};

pub use db::Db;
pub use error::ApiError;
pub use http::{openapi_json, router, AppState};

/// TLS material for HTTPS.
pub struct Tls {
    pub cert_pem: std::path::PathBuf,
    pub key_pem: std::path::PathBuf,
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: std::net::TcpListener,
    state: AppState,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    match tls {
        None => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_pem, &tls.key_pem).await?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            listener.set_nonblocking(true)?;
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        }
    }
}

/// Adds or updates a staff member and publishes the site's roster.
pub async fn put_staff(db: &Db, member: &StaffMember) -> Result<i64, ApiError> {
    for role in &member.roles {
        role.parse::<radqc_domain::Role>().map_err(|e| ApiError::new(ErrorCode::InvalidRole, e.to_string()))?;
    }
    member
        .code
        .parse::<radqc_domain::StaffCode>()
        .map_err(|e| ApiError::new(ErrorCode::InvalidStaff, e.to_string()))?;
    db.upsert_staff(member).await?;
    publish_roster(db, &member.site).await
}

pub use staff_secrets::publish_roster;

/// Sets a site's time zone (the rollups are rebuilt in it) and publishes it to the site.
pub async fn set_site_zone(db: &Db, site: &str, zone: radqc_domain::SiteZone) -> Result<i64, ApiError> {
    db.set_site_zone(site, zone).await?;
    publish_roster(db, site).await
}

/// Publishes a rubric version (validated first) to every site.
pub async fn publish_rubric(db: &Db, toml_text: &str, source: &str) -> Result<(String, i64), ApiError> {
    let rubric = radqc_domain::Rubric::from_toml_str(toml_text, source)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRubric, e.to_string()))?;
    let body = serde_json::json!({ "version": rubric.version, "toml": toml_text });
    let cursor = db.publish(FeedKind::Rubric, None, &body, Utc::now()).await?;
    Ok((rubric.version, cursor))
}

/// Publishes a grants document (validated whole first) to every site: from then on the
/// center's reads and notices, and each site after its next sync, decide by it.
pub async fn publish_grants(db: &Db, json_text: &str, source: &str) -> Result<(String, i64), ApiError> {
    let grants = radqc_domain::Grants::from_json(json_text, source)
        .map_err(|e| ApiError::new(ErrorCode::InvalidGrants, e.to_string()))?;
    let body: serde_json::Value =
        serde_json::from_str(json_text).map_err(|e| ApiError::new(ErrorCode::InvalidGrants, e.to_string()))?;
    let cursor = db.publish(FeedKind::Grants, None, &body, Utc::now()).await?;
    Ok((grants.version, cursor))
}
