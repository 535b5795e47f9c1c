//! The center's HTTP API (axum): enrollment, push, feeds, reads. Handlers are thin: parse and
//! authenticate at the boundary, call the database, answer with a wire type or the one error
//! envelope.

use std::sync::{Arc, RwLock};

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, Utc};
use radqc_domain::report::{Period, ReportFilter};
use radqc_domain::{Grants, Rubric};
use radqc_protocol::{
    DeviceRecordsPage, DeviceState, EnrollRequest, EnrollResponse, ErrorBody, EvaluationRecord, FeedKind, FeedPage,
    ForkRequest, PushRequest, PushResponse,
};
use serde::Deserialize;
use tower_http::decompression::RequestDecompressionLayer;
use utoipa::OpenApi;

use crate::db::{Db, Device, Person, RubricSet};
use crate::error::ApiError;
use crate::{push, secret};
use radqc_protocol::ErrorCode;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub rubrics: Arc<RwLock<RubricSet>>,
    /// The grants published last (feed cursor 0: none was, the bundled ones).
    grants: Arc<RwLock<(i64, Arc<Grants>)>>,
    /// The pushes served at once: one more is refused before its body is read (`admit_push`).
    pushes: Arc<tokio::sync::Semaphore>,
    max_pushes: usize,
}

/// How many pushes a center serves at once by default (`radqc center serve --max-pushes`). A
/// push holds at most `MAX_BODY_BYTES` of body and its rows, so this bounds the memory pushes
/// take; more would only queue for the database (SQLite writes one at a time).
pub const DEFAULT_MAX_PUSHES: u32 = 16;

impl AppState {
    /// Loads the rubric versions the region published, besides the bundled one, and the grants
    /// it published last.
    pub async fn new(db: Db) -> Result<AppState, ApiError> {
        let state = AppState {
            db,
            rubrics: Arc::new(RwLock::new(RubricSet::with_bundled())),
            grants: Arc::new(RwLock::new((0, Arc::new(Grants::bundled().clone())))),
            pushes: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_PUSHES as usize)),
            max_pushes: DEFAULT_MAX_PUSHES as usize,
        };
        state.reload_rubrics().await?;
        state.grants().await?;
        Ok(state)
    }

    /// Serves at most `n` (≥ 1) pushes at once; the others answer 503 CENTER_BUSY with
    /// `Retry-After`, and the device's sync retries them.
    pub fn with_max_pushes(mut self, n: usize) -> AppState {
        let n = n.max(1);
        self.pushes = Arc::new(tokio::sync::Semaphore::new(n));
        self.max_pushes = n;
        self
    }

    async fn reload_rubrics(&self) -> Result<(), ApiError> {
        let set = published_rubric_set(&self.db).await?;
        *self.rubrics.write().unwrap_or_else(|p| p.into_inner()) = set;
        Ok(())
    }

    pub(crate) fn rubric_snapshot(&self) -> RubricSet {
        self.rubrics.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The grants in force: the document published last for the region (asked of the database
    /// on each call, so one published by another process, `radqc center publish-grants`, holds
    /// from its next request on; parsed again only when it changed), else the bundled one.
    pub async fn grants(&self) -> Result<Arc<Grants>, ApiError> {
        let latest = self.db.latest_grants().await?;
        let cursor = latest.as_ref().map_or(0, |(c, _)| *c);
        {
            let held = self.grants.read().unwrap_or_else(|p| p.into_inner());
            if held.0 == cursor {
                return Ok(held.1.clone());
            }
        }
        let grants = Arc::new(match latest {
            Some((_, body)) => parse_published_grants(&body)?,
            None => Grants::bundled().clone(),
        });
        *self.grants.write().unwrap_or_else(|p| p.into_inner()) = (cursor, grants.clone());
        Ok(grants)
    }
}

/// Every rubric version the region published, besides the bundled one; the last published is
/// the current one.
pub async fn published_rubric_set(db: &Db) -> Result<RubricSet, ApiError> {
    let mut set = RubricSet::with_bundled();
    for body in db.published_rubrics().await? {
        set.insert(parse_published_rubric(&body)?);
    }
    Ok(set)
}

/// A grants feed item's body (the document). It was checked when published, so one that does
/// not parse is a storage error: never the bundled grants, which would open or close reads
/// the region did not decide.
pub fn parse_published_grants(body: &str) -> Result<Grants, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("the published grants do not parse: {e}"));
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| bad(&e))?;
    Grants::from_value(&value, "published grants").map_err(|e| bad(&e))
}

/// A rubric feed item's body: `{"version": "...", "toml": "..."}`. It was checked when
/// published, so one that does not parse is a storage error: never a version the center does
/// not know, which would reject the evaluations scored under it for good.
pub fn parse_published_rubric(body: &str) -> Result<Rubric, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a published rubric does not parse: {e}"));
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| bad(&e))?;
    let text = value.get("toml").and_then(|t| t.as_str()).ok_or_else(|| bad(&"no `toml` text"))?;
    Rubric::from_toml_str(text, "published rubric").map_err(|e| bad(&e))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body)).into_response()
    }
}

/// The largest request body the center reads (after gzip is undone).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// JSON bodies whose rejections are envelopes too: not JSON or not of the documented shape (400
/// `INVALID_BODY`), larger than [`MAX_BODY_BYTES`] (413 `PAYLOAD_TOO_LARGE`), not sent as
/// `application/json` (415 `UNSUPPORTED_MEDIA_TYPE`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON, with `Content-Type: application/json`",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(ApiError::new(ErrorCode::InvalidBody, e.body_text())),
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {} MiB (after gzip); send fewer entries per push", MAX_BODY_BYTES >> 20),
    )
}

/// A query string whose rejection (a value of the wrong type) is the envelope: 400 `INVALID_QUERY`.
/// No value holds a NUL character (no database stores one).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "a query parameter holds a NUL character (%00)"));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(ApiQuery(q)),
            Err(e) => Err(ApiError::new(ErrorCode::InvalidQuery, e.body_text())),
        }
    }
}

/// No route has this path: 404 `NOT_FOUND`.
async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no such endpoint: {method} {}", uri.path()))
}

/// The path exists, the method does not: 405 `METHOD_NOT_ALLOWED` (axum adds the `Allow` header).
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{} does not answer {method}; see the Allow header", uri.path()))
}

/// A bug that panicked answers 500 `INTERNAL_ERROR` instead of closing the connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(ErrorCode::InternalError, "the center failed on this request (a bug: please report it)")
        .into_response()
}

/// The last guard: an error answered by a layer rather than a handler (the request
/// decompression's 415 for an unknown `Content-Encoding`, a body limit, a timeout) still
/// leaves as the envelope, its status and headers (`Allow`, `Accept-Encoding`) kept.
async fn envelope_every_failure(res: Response) -> Response {
    let status = res.status();
    let is_json =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let error = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE if parts.headers.contains_key(header::ACCEPT_ENCODING) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the body's Content-Encoding is not supported: send it plain or with `Content-Encoding: gzip`",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => {
            let reason = status.canonical_reason().unwrap_or("error");
            ApiError::with_status(status.as_u16(), ErrorCode::HttpError, format!("{} {reason}", status.as_u16()))
        }
    };
    let body = serde_json::to_vec(&error.body).unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthenticated("missing `Authorization: Bearer <token>`"))?;
    header
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be `Bearer <token>`"))
}

/// An authenticated, not revoked device.
pub struct AuthDevice(pub Device);

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        match state.db.device_by_token(&secret::hash(&token)).await? {
            Some(d) if d.revoked => Err(ApiError::revoked()),
            Some(d) => Ok(AuthDevice(d)),
            None => Err(ApiError::unauthenticated("unknown device token")),
        }
    }
}

/// Who is calling a read endpoint: a device (its own site) or a person (by their roles).
pub enum Caller {
    Device(Device),
    Person(Person),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let hash = secret::hash(&token);
        if let Some(d) = state.db.device_by_token(&hash).await? {
            return if d.revoked { Err(ApiError::revoked()) } else { Ok(Caller::Device(d)) };
        }
        match state.db.person_by_token(&hash).await? {
            Some(p) => Ok(Caller::Person(p)),
            None => Err(ApiError::unauthenticated("unknown token")),
        }
    }
}

/// The bearer tokens the center takes: a device's (from enrollment) and a person's (`radqc
/// center staff token`). The reads take either.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description.to_owned())).build(),
            )
        };
        components.add_security_scheme(
            "device_token",
            bearer("A device's token, given once by POST /api/v1/enroll. A revoked one answers 401 TOKEN_REVOKED."),
        );
        components.add_security_scheme(
            "person_token",
            bearer("A person's token (`radqc center staff token`): reads by the person's roles."),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "RadQC regional center",
        description = "Sync and reads for RadQC sites. Every answer that is not 2xx is an ErrorBody \
            (`application/json`) with a stable code: besides each operation's own, an unknown path answers \
            404 NOT_FOUND, a method the path does not take 405 METHOD_NOT_ALLOWED (with `Allow`), and \
            503 STORAGE_UNAVAILABLE a database failure (retry later). Request bodies are JSON, plain or \
            `Content-Encoding: gzip`, at most 32 MiB once unzipped."
    ),
    modifiers(&SecuritySchemes),
    paths(health, openapi_document, enroll, push_entries, device_state, fork_device, device_records, device_secret,
        set_staff_secret, feed, evaluations, report, notices, crate::gold_http::create_case, crate::gold_http::draw,
        crate::gold_http::cases, crate::gold_http::case, crate::gold_http::assignments, crate::gold_http::get_settings,
        crate::gold_http::put_settings, agreement),
    components(schemas(
        ErrorBody,
        EnrollRequest,
        EnrollResponse,
        PushRequest,
        PushResponse,
        radqc_protocol::PushEntry,
        radqc_protocol::EntryResult,
        radqc_protocol::EntryStatus,
        radqc_protocol::DeviceState,
        radqc_protocol::ForkRequest,
        radqc_protocol::DeviceRecord,
        radqc_protocol::DeviceRecordsPage,
        FeedPage,
        radqc_protocol::FeedItem,
        FeedKind,
        EvaluationRecord,
        radqc_protocol::ExamRecord,
        radqc_protocol::ExamEventRecord,
        radqc_protocol::ReportRecord,
        radqc_protocol::SyncPayload,
        radqc_protocol::StaffMember,
        radqc_protocol::StaffCredential,
        radqc_protocol::RosterBody,
        radqc_protocol::SecretChange,
        radqc_protocol::SecretChangeAnswer,
        radqc_protocol::SecretChangeStatus,
        radqc_protocol::SetSecretRequest,
        radqc_protocol::MonitoringNotice,
        radqc_protocol::NoticeClosure,
        radqc_protocol::GoldReadRecord,
        radqc_protocol::DisputeRecord,
        radqc_protocol::GoldTask,
        radqc_protocol::GoldSource,
        radqc_protocol::GoldState,
        radqc_protocol::GoldExam,
        radqc_protocol::BlindRead,
        radqc_protocol::GoldAssignment,
        radqc_protocol::FinalRead,
        radqc_protocol::GoldFinal,
        radqc_protocol::GoldMessage,
        radqc_protocol::GoldCaseRequest,
        radqc_protocol::GoldDrawRequest,
        radqc_protocol::GoldDrawAnswer,
        radqc_protocol::GoldReaderView,
        radqc_protocol::GoldReadView,
        radqc_protocol::DisputeView,
        radqc_protocol::GoldCaseView,
        radqc_protocol::GoldSettings
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document of this API, as committed in `openapi.json`.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi_document))
        // Only the bodies read are decompressed: a GET is never refused for its Content-Encoding.
        .route("/api/v1/enroll", post(enroll).layer(RequestDecompressionLayer::new()))
        .route(
            "/api/v1/push",
            post(push_entries)
                .layer(RequestDecompressionLayer::new())
                .layer(axum::middleware::from_fn_with_state(state.clone(), admit_push)),
        )
        .route("/api/v1/device", get(device_state))
        .route("/api/v1/device/fork", post(fork_device).layer(RequestDecompressionLayer::new()))
        .route("/api/v1/device/records", get(device_records))
        .route("/api/v1/device/secret", post(device_secret).layer(RequestDecompressionLayer::new()))
        .route("/api/v1/staff/{site}/{code}/secret", axum::routing::put(set_staff_secret))
        .route("/api/v1/feed/{kind}", get(feed))
        .route("/api/v1/evaluations", get(evaluations))
        .route("/api/v1/report", get(report))
        .route("/api/v1/notices", get(notices))
        .route("/api/v1/agreement", get(agreement))
        .route("/api/v1/gold/cases", get(crate::gold_http::cases).post(crate::gold_http::create_case))
        .route("/api/v1/gold/cases/{id}", get(crate::gold_http::case))
        .route("/api/v1/gold/draw", post(crate::gold_http::draw))
        .route("/api/v1/gold/assignments", get(crate::gold_http::assignments))
        .route("/api/v1/gold/settings", get(crate::gold_http::get_settings).put(crate::gold_http::put_settings))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::map_response(envelope_every_failure))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

#[utoipa::path(get, path = "/api/v1/health",
    responses((status = 200, description = "the center is up", content_type = "text/plain", body = String, example = "ok")))]
async fn health() -> &'static str {
    "ok"
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

/// Exchanges a one-time enrollment code for a device token.
#[utoipa::path(post, path = "/api/v1/enroll", request_body = EnrollRequest,
    responses((status = 200, description = "the device's token", body = EnrollResponse),
        (status = 400, description = "INVALID_BODY: not JSON of this shape, or `device_id` is not a UUID", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED: the code is unknown, used or expired", body = ErrorBody),
        (status = 409, description = "DEVICE_AT_OTHER_SITE: the device is enrolled at another site", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE: not `application/json`, or an encoding other than gzip", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)))]
async fn enroll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<axum::Json<EnrollResponse>, ApiError> {
    if !is_uuid(&req.device_id) {
        return Err(ApiError::new(ErrorCode::InvalidBody, "`device_id` must be the store's device UUID"));
    }
    check_device_name(req.device_name.as_deref())?;
    let token = secret::new_token();
    let (site, next_seq) = state
        .db
        .enroll(&secret::hash(&req.code), &req.device_id, req.device_name.as_deref(), &secret::hash(&token), Utc::now())
        .await?;
    Ok(axum::Json(EnrollResponse { device_id: req.device_id, site, token, next_seq }))
}

/// A device's name, as enrollment and a fork take it: no control character, at most 200 characters.
fn check_device_name(name: Option<&str>) -> Result<(), ApiError> {
    match name {
        Some(n) if n.chars().any(char::is_control) => {
            Err(ApiError::new(ErrorCode::InvalidBody, "`device_name` holds a control character"))
        }
        Some(n) if n.chars().count() > 200 => {
            Err(ApiError::new(ErrorCode::InvalidBody, "`device_name` has at most 200 characters"))
        }
        _ => Ok(()),
    }
}

/// A page of a feed or of a device's records: `after` ≥ 0 and 1 ≤ `limit` ≤ `feed::MAX_PAGE`.
fn check_page(after: i64, limit: i64) -> Result<(), ApiError> {
    if after < 0 || !(1..=crate::feed::MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`after` ≥ 0 and 1 ≤ `limit` ≤ {}", crate::feed::MAX_PAGE),
        ));
    }
    Ok(())
}

/// A UUID as text: 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Lets a push in while fewer than the center's maximum are being served, before its body is
/// read; else 503 CENTER_BUSY with `Retry-After: 1` (nothing was read or applied).
async fn admit_push(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match state.pushes.clone().try_acquire_owned() {
        Ok(permit) => {
            let answer = next.run(req).await;
            drop(permit);
            answer
        }
        Err(_) => {
            let busy = ApiError::new(
                ErrorCode::CenterBusy,
                format!(
                    "the center is serving {} pushes at once, its maximum; nothing was read: retry after a second",
                    state.max_pushes
                ),
            );
            let mut answer = busy.into_response();
            answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            answer
        }
    }
}

/// Applies a batch of consecutive outbox entries exactly once.
#[utoipa::path(post, path = "/api/v1/push", request_body = PushRequest,
    responses((status = 200, description = "each entry's result, in order", body = PushResponse),
        (status = 400, description = "INVALID_BODY (not JSON of this shape), UNSUPPORTED_SCHEMA, BATCH_TOO_LARGE \
            (more than 1000 entries) or BAD_BATCH (not consecutive, or starting below 1)", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED (no or an unknown device token) or TOKEN_REVOKED", body = ErrorBody),
        (status = 409, description = "SEQUENCE_GAP: resend from `expected_seq`", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE: not `application/json`, or an encoding other than gzip", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE: nothing was applied; retry. CENTER_BUSY: the center \
            serves its maximum of pushes at once; nothing was read; retry after `Retry-After` seconds", body = ErrorBody,
            headers(("Retry-After" = u32, description = "with CENTER_BUSY: seconds to wait")))),
    security(("device_token" = [])))]
async fn push_entries(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<axum::Json<PushResponse>, ApiError> {
    push::check_batch(req.schema, &req.entries)?;
    let unknown_version = {
        let known = state.rubrics.read().unwrap_or_else(|p| p.into_inner());
        req.entries.iter().any(|e| rubric_version(e.payload.get()).is_some_and(|v| !known.contains(&v)))
    };
    if unknown_version {
        // Another center process may have published it since this one started.
        state.reload_rubrics().await?;
    }
    let rubrics = state.rubric_snapshot();
    // Who a failed evaluation's notice names besides the person scored.
    let grants = state.grants().await?;
    let gold = req.entries.iter().any(|e| is_gold_entry(e.payload.get()));
    let answer = state.db.push(&device, req.entries, &rubrics, &grants, Utc::now()).await?;
    if gold {
        // The push is committed: a case it decided is finished now (or by the next settle, which
        // any later push, the center's start or `radqc center gold settle` runs).
        if let Err(e) = crate::gold::settle(&state.db, &rubrics, &grants, Utc::now()).await {
            eprintln!("radqc center: settling gold-standard cases failed (retried at the next push): {e}");
        }
    }
    Ok(axum::Json(answer))
}

/// Whether an entry is a gold read or a dispute (a cheap partial parse).
fn is_gold_entry(payload: &str) -> bool {
    #[derive(Deserialize)]
    struct Entry {
        kind: String,
    }
    serde_json::from_str::<Entry>(payload).is_ok_and(|e| matches!(e.kind.as_str(), "gold_read" | "dispute"))
}

/// The rubric version an entry's evaluation names, if it is one (a cheap partial parse).
fn rubric_version(payload: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Entry {
        evaluation: Option<Version>,
        read: Option<Version>,
    }
    #[derive(Deserialize)]
    struct Version {
        rubric_version: String,
    }
    let entry = serde_json::from_str::<Entry>(payload).ok()?;
    entry.evaluation.or(entry.read).map(|v| v.rubric_version)
}

/// What the center holds of the calling device: a store whose own copy ends below `last_seq`
/// is a restored or copied copy and forks.
#[utoipa::path(get, path = "/api/v1/device",
    responses((status = 200, description = "the calling device as the center holds it", body = DeviceState),
        (status = 401, description = "UNAUTHENTICATED (no or an unknown device token) or TOKEN_REVOKED", body = ErrorBody),
        (status = 404, description = "UNKNOWN_DEVICE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = [])))]
async fn device_state(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
) -> Result<axum::Json<DeviceState>, ApiError> {
    let found = state.db.device_state(&device.id).await?;
    found.map(axum::Json).ok_or_else(|| ApiError::new(ErrorCode::UnknownDevice, format!("no device {}", device.id)))
}

/// Makes a device of its own, with its own sequence, for a restored or copied store of the
/// calling device (same site). The store chose the id and the token; a retry answers the same.
#[utoipa::path(post, path = "/api/v1/device/fork", request_body = ForkRequest,
    responses((status = 200, description = "the new device (the same one for a retried request)", body = DeviceState),
        (status = 400, description = "INVALID_BODY: not a ForkRequest, a device id that is not a UUID, a token not \
            `rq_` and 64 lowercase hex characters, a name over 200 characters", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED (no or an unknown device token) or TOKEN_REVOKED", body = ErrorBody),
        (status = 409, description = "DEVICE_EXISTS: the id is taken by another device", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = [])))]
async fn fork_device(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiJson(req): ApiJson<ForkRequest>,
) -> Result<axum::Json<DeviceState>, ApiError> {
    if !is_uuid(&req.device_id) {
        return Err(ApiError::new(ErrorCode::InvalidBody, "`device_id` must be a new device UUID"));
    }
    check_device_name(req.device_name.as_deref())?;
    let well_formed = req
        .token
        .strip_prefix("rq_")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if !well_formed {
        return Err(ApiError::new(ErrorCode::InvalidBody, "`token` must be `rq_` and 64 lowercase hex characters"));
    }
    let forked = state
        .db
        .fork_device(&device, &req.device_id, req.device_name.as_deref(), &secret::hash(&req.token), Utc::now())
        .await?;
    Ok(axum::Json(forked))
}

/// A person of the device's site chose a new secret at the workstation: the device sends its
/// verifier (never the secret). Applied when the center still holds the version it was changed
/// from; the site's roster is then published with it.
#[utoipa::path(post, path = "/api/v1/device/secret", request_body = radqc_protocol::SecretChange,
    responses((status = 200, description = "applied, or superseded by a newer secret at the center",
            body = radqc_protocol::SecretChangeAnswer),
        (status = 400, description = "INVALID_BODY, or INVALID_VERIFIER: not argon2id of the region's minimum cost",
            body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED (no or an unknown device token) or TOKEN_REVOKED", body = ErrorBody),
        (status = 404, description = "UNKNOWN_STAFF: no active staff member of that code at the device's site",
            body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = [])))]
async fn device_secret(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiJson(change): ApiJson<radqc_protocol::SecretChange>,
) -> Result<axum::Json<radqc_protocol::SecretChangeAnswer>, ApiError> {
    if change.staff.is_empty() || change.staff.len() > 64 || change.verifier.len() > 512 {
        return Err(ApiError::new(ErrorCode::InvalidBody, "`staff`: 1 to 64 characters; `verifier`: at most 512"));
    }
    let answer = crate::staff_secrets::device_change(&state.db, &device, &change, Utc::now()).await?;
    Ok(axum::Json(answer))
}

/// Sets or resets a person's secret (a center administrator). The secret must meet the region's
/// policy; the site's roster is published again with its verifier.
#[utoipa::path(put, path = "/api/v1/staff/{site}/{code}/secret", request_body = radqc_protocol::SetSecretRequest,
    params(("site" = String, Path, description = "the person's site"), ("code" = String, Path, description = "their staff code")),
    responses((status = 200, description = "set; the secret's new version", body = radqc_protocol::SecretChangeAnswer),
        (status = 400, description = "INVALID_BODY, or WEAK_SECRET: the region's policy refuses it", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED: no or an unknown token", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not a center administrator", body = ErrorBody),
        (status = 404, description = "UNKNOWN_STAFF", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("person_token" = [])))]
async fn set_staff_secret(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path((site, code)): axum::extract::Path<(String, String)>,
    ApiJson(req): ApiJson<radqc_protocol::SetSecretRequest>,
) -> Result<axum::Json<radqc_protocol::SecretChangeAnswer>, ApiError> {
    let grants = state.grants().await?;
    let admin = match &caller {
        Caller::Person(p) if p.administers_region(&grants) => p,
        _ => return Err(ApiError::new(ErrorCode::Forbidden, "only a center administrator sets secrets")),
    };
    let by = format!("admin:{}/{}", admin.site, admin.staff);
    let version =
        crate::staff_secrets::set_secret(&state.db, &site, &code, &req.secret, req.must_change, &by, Utc::now())
            .await?;
    Ok(axum::Json(radqc_protocol::SecretChangeAnswer { status: radqc_protocol::SecretChangeStatus::Applied, version }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RecordsQuery {
    #[param(format = "uuid")]
    device: String,
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 500)]
    limit: i64,
}

/// What a device of the caller's site pushed after a sequence number, each record with its
/// exam: a restored store pulls back its own evaluations and events.
#[utoipa::path(get, path = "/api/v1/device/records",
    params(RecordsQuery),
    responses((status = 200, description = "the records after `after`, in sequence order", body = DeviceRecordsPage),
        (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED (no or an unknown device token) or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a device of another site", body = ErrorBody),
        (status = 404, description = "UNKNOWN_DEVICE", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = [])))]
async fn device_records(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> Result<axum::Json<DeviceRecordsPage>, ApiError> {
    if !is_uuid(&q.device) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "`device`: a device UUID"));
    }
    check_page(q.after, q.limit)?;
    let Some(other) = state.db.device_state(&q.device).await? else {
        return Err(ApiError::new(ErrorCode::UnknownDevice, format!("no device {}", q.device)));
    };
    if other.site != device.site {
        return Err(ApiError::forbidden(format!("device {} acts for another site", q.device)));
    }
    Ok(axum::Json(state.db.device_records(&q.device, q.after, q.limit).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FeedQuery {
    /// the last cursor seen (default 0: from the start)
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
    /// items per page (default 100)
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 500)]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// What was published for the caller's site (and the whole region) after a cursor.
#[utoipa::path(get, path = "/api/v1/feed/{kind}",
    params(("kind" = FeedKind, Path), FeedQuery),
    responses((status = 200, description = "the items after `after`", body = FeedPage),
        (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 404, description = "UNKNOWN_FEED", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
async fn feed(
    State(state): State<AppState>,
    caller: Caller,
    kind: Result<Path<String>, axum::extract::rejection::PathRejection>,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<axum::Json<FeedPage>, ApiError> {
    let kind: FeedKind = kind
        .map_err(|e| ApiError::new(ErrorCode::UnknownFeed, e.body_text()))?
        .0
        .parse()
        .map_err(|e: String| ApiError::new(ErrorCode::UnknownFeed, e))?;
    check_page(q.after, q.limit)?;
    let site = match &caller {
        Caller::Device(d) => d.site.clone(),
        Caller::Person(p) => p.site.clone(),
    };
    let mut page = state.db.feed(kind, &site, q.after, q.limit).await?;
    if let (Caller::Person(p), FeedKind::Gold) = (&caller, kind) {
        // A person is served their own assignments only: another reader's (the third reader's
        // holds both reads) never (`gold::feed_item_for`).
        let grants = state.grants().await?;
        page.items.retain(|i| crate::gold::feed_item_for(&i.body, p, &grants));
    }
    Ok(axum::Json(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EvaluationsQuery {
    /// a site code (default: the caller's site)
    site: Option<String>,
}

/// Evaluations the caller may read: a device or person reads its own site; a region role any.
/// A person whose role does not cover the site's scores sees only evaluations of or by them.
#[utoipa::path(get, path = "/api/v1/evaluations",
    params(EvaluationsQuery),
    responses((status = 200, description = "every revision, oldest first; `superseded_by` names the correction", body = Vec<EvaluationRecord>),
        (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: another site, without a regional role", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
async fn evaluations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EvaluationsQuery>,
) -> Result<axum::Json<Vec<EvaluationRecord>>, ApiError> {
    let (own_site, person) = match &caller {
        Caller::Device(d) => (d.site.clone(), None),
        Caller::Person(p) => (p.site.clone(), Some(p)),
    };
    let site = q.site.unwrap_or(own_site.clone());
    let grants = state.grants().await?;
    let allowed = match person {
        None => site == own_site,
        Some(p) => p.may_read_site(&grants, &site),
    };
    if !allowed {
        return Err(ApiError::forbidden(format!("you may not read site {site}'s data")));
    }
    let mut list = state.db.evaluations(Some(&site)).await?;
    if let Some(p) = person.filter(|p| !p.sees_all_of_site(&grants)) {
        list.retain(|e| {
            e.reviewer.as_str() == p.staff || e.scored_person.as_ref().is_some_and(|s| s.as_str() == p.staff)
        });
    }
    Ok(axum::Json(list))
}

/// Creates a one-time enrollment code for a site, valid for `hours`.
pub async fn new_enrollment_code(db: &Db, site: &str, hours: i64) -> Result<String, ApiError> {
    let code = secret::new_enrollment_code();
    let now = Utc::now();
    db.create_enrollment_code(site, &secret::hash(&code), now + Duration::hours(hours), now).await?;
    Ok(code)
}

/// The period and filters of a report, as the query string gives them.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// one month, YYYY-MM (or from/to, or neither for all time)
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-11")]
    pub month: Option<String>,
    /// first month, YYYY-MM
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// last month, YYYY-MM (not before `from`)
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
    /// a site code; none: the region (roles the grants let read it: `reads_region`)
    #[param(min_length = 1, max_length = 64)]
    pub site: Option<String>,
    #[param(min_length = 1, max_length = 64)]
    pub department: Option<String>,
    /// DR, CT, MR, …
    #[param(pattern = "^[A-Z0-9]{1,8}$")]
    pub modality: Option<String>,
    /// the role scored (a scored role of the rubric)
    #[param(pattern = "^(ordering_clinician|technologist|reporting_doctor|auditing_doctor)$")]
    pub role: Option<String>,
    /// a staff code
    #[param(min_length = 1, max_length = 64)]
    pub person: Option<String>,
    #[param(pattern = "^(random|active|centralized|gold)$")]
    pub mode: Option<String>,
    #[param(min_length = 1, max_length = 64)]
    pub rubric_version: Option<String>,
    /// figure 3 rows (json: default 500; files: all)
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295.0)]
    pub details_limit: Option<u32>,
    /// json (default), or a file to download
    #[param(pattern = "^(json|csv|xlsx|pdf)$")]
    pub format: Option<String>,
}

impl ReportQuery {
    /// Over HTTP a parameter given has a value: none that is empty or padded with spaces (the
    /// CLI and the app read a blank filter as none; a query string simply leaves it out).
    pub fn check_given(&self) -> Result<(), ApiError> {
        let fields = [
            ("month", &self.month),
            ("from", &self.from),
            ("to", &self.to),
            ("site", &self.site),
            ("department", &self.department),
            ("modality", &self.modality),
            ("role", &self.role),
            ("person", &self.person),
            ("mode", &self.mode),
            ("rubric_version", &self.rubric_version),
            ("format", &self.format),
        ];
        for (name, value) in fields {
            if let Some(v) = value.as_deref().filter(|v| v.is_empty() || v.trim() != *v) {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("{name}: `{v}` is empty or padded with spaces; give a value or leave the parameter out"),
                ));
            }
        }
        Ok(())
    }

    /// The period and filter, or an error naming the parameter that is wrong (the domain's
    /// `ReportScope` rules, as the CLI and the desktop app apply them), against the rubric
    /// versions the center knows (a role filter is a role one of them scores).
    pub fn parse(&self, rubrics: &RubricSet) -> Result<(Period, ReportFilter), ApiError> {
        if self.month.is_some() && (self.from.is_some() || self.to.is_some()) {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "give either month, or from and to, not both"));
        }
        let scope = radqc_domain::scope::ReportScope {
            from: self.month.clone().or_else(|| self.from.clone()),
            to: self.month.clone().or_else(|| self.to.clone()),
            site: self.site.clone(),
            department: self.department.clone(),
            modality: self.modality.clone(),
            role: self.role.clone(),
            person: self.person.clone(),
            mode: self.mode.clone(),
            rubric_version: self.rubric_version.clone(),
        };
        scope.parse_in(&rubrics.all()).map_err(|mut e| {
            if self.month.is_some() && matches!(e.field, "from" | "to") {
                e.field = "month";
            }
            ApiError::new(ErrorCode::InvalidQuery, e.to_string())
        })
    }
}

/// The indicators and figures of a period for one site, or for the region (no `site`; regional
/// roles only), filtered by department, modality, role, person, QC mode and rubric version. People
/// need a role that sees the site's scores: the figures name people. Read from the month-keyed
/// rollups, so any period costs about the same.
#[utoipa::path(get, path = "/api/v1/report", params(ReportQuery),
    responses((status = 200, description = "the report (see radqc_domain::report::Report), or the CSV, XLSX or PDF file", content(
            (Object = "application/json"), (String = "text/csv"),
            (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(FileBytes) = "application/pdf"))),
        (status = 400, description = "INVALID_QUERY: names the parameter", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a role that does not see the site's scores, or the region without a regional role", body = ErrorBody),
        (status = 503, description = "NO_PDF_FONT (a PDF was asked and the center has no CJK font) or STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    q.check_given()?;
    let mut rubrics = state.rubric_snapshot();
    let (period, filter) = match q.parse(&rubrics) {
        Ok(parsed) => parsed,
        // Another center process may have published a rubric (scoring the role) since this one
        // loaded them.
        Err(_) if q.role.is_some() => {
            state.reload_rubrics().await?;
            rubrics = state.rubric_snapshot();
            q.parse(&rubrics)?
        }
        Err(e) => return Err(e),
    };
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx" | "pdf") {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("format: `{format}` (use json, csv, xlsx or pdf)")));
    }
    let grants = state.grants().await?;
    let allowed = match (&caller, filter.site.as_deref()) {
        (Caller::Device(d), Some(site)) => d.site == site,
        (Caller::Device(_), None) => false,
        (Caller::Person(p), Some(site)) => p.may_read_site(&grants, site) && p.sees_all_of_site(&grants),
        (Caller::Person(p), None) => p.reads_region(&grants),
    };
    if !allowed {
        return Err(ApiError::forbidden(match &filter.site {
            Some(site) => format!("you may not read site {site}'s report"),
            None => "the region's report needs a regional role".to_owned(),
        }));
    }
    // The files carry all of figure 3; JSON (for screens) a first page of it.
    let limit = if format == "json" { Some(q.details_limit.unwrap_or(500)) } else { q.details_limit };
    let scope = filter.site.as_ref().map_or_else(|| "全区域 Region".to_owned(), |s| format!("站点 Site {s}"));
    let report = build_report(&state.db, rubrics.latest(), period, filter, limit).await?;
    export(&report, rubrics.latest(), format, &scope)
}

/// A downloaded file's bytes, as the document describes them (a binary string).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only described, never built
struct FileBytes(Vec<u8>);

/// The report as the format asks: JSON, or a file to download.
fn export(
    report: &radqc_domain::report::Report,
    rubric: &Rubric,
    format: &str,
    scope: &str,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let file = |bytes: Vec<u8>, mime: &str, ext: &str| {
        let name = format!("attachment; filename=\"radqc-report-{}.{ext}\"", report.period.replace("..", "_"));
        ([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, name)], bytes).into_response()
    };
    Ok(match format {
        "csv" => file(radqc_export::csv(report, rubric).into_bytes(), "text/csv; charset=utf-8", "csv"),
        "xlsx" => file(
            radqc_export::xlsx(report, rubric)
                .map_err(|e| ApiError::storage(format!("cannot build the workbook: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "pdf" => {
            let (font, index) = pdf_font()?;
            let opts = radqc_export::pdf::PdfOptions {
                font,
                font_index: index,
                title: "影像质控月报".to_owned(),
                scope: scope.to_owned(),
                generated_at: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            };
            let bytes = radqc_export::pdf::render(report, rubric, &opts)
                .map_err(|e| ApiError::storage(format!("cannot make the PDF: {e}")))?;
            file(bytes, "application/pdf", "pdf")
        }
        _ => axum::Json(report).into_response(),
    })
}

/// A font's bytes and the face in them.
type Font = (std::sync::Arc<Vec<u8>>, u32);

/// The CJK font the center's PDFs use, found once (RADQC_PDF_FONT or the system's fonts).
fn pdf_font() -> Result<Font, ApiError> {
    static FONT: std::sync::OnceLock<Result<Font, String>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        radqc_export::pdf::find_cjk_font().map(|f| (std::sync::Arc::new(f.bytes), f.index)).map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|e| ApiError::new(ErrorCode::NoPdfFont, format!("this center cannot make PDFs: {e}")))
}

/// A report of a period from the center's rollups, laid out by `rubric` (the current version:
/// its items, their scored roles, figure 4's criteria).
pub async fn build_report(
    db: &Db,
    rubric: &Rubric,
    period: Period,
    filter: ReportFilter,
    details_limit: Option<u32>,
) -> Result<radqc_domain::report::Report, ApiError> {
    let site = filter.site.clone();
    let modality = filter.modality.clone();
    let report = db.report(period, filter, rubric, details_limit).await?;
    // Readers' agreement (7.3.1), when the period has final gold-standard cases.
    let agreement = crate::gold::agreement(db, period, site.as_deref(), modality.as_ref()).await?;
    Ok(if agreement.cases > 0 { report.with_agreement(agreement) } else { report })
}

/// How well gold-standard readers agree (7.3.1) over a period: between the two blind readers
/// (share of agreement; Cohen's kappa, quadratic-weighted for the 1-5 scores, unweighted for the
/// application form's pass / fail) per item, modality and reader pair, and per original reviewer
/// the mean difference between their score and the gold result. Each figure carries its number of
/// cases; a kappa that cannot be computed (no variance, no case) is `null` with the reason. Cases
/// count in the month (the site's local month) they became final. Who may read it: as the report.
#[utoipa::path(get, path = "/api/v1/agreement", params(ReportQuery),
    responses((status = 200, description = "the agreement figures (radqc_domain::agreement::AgreementReport)", body = Object),
        (status = 400, description = "INVALID_QUERY: names the parameter (only json is answered)", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: a role that does not see the site's scores, or the region without a regional role", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<axum::Json<radqc_domain::agreement::AgreementReport>, ApiError> {
    q.check_given()?;
    if q.format.as_deref().is_some_and(|f| f != "json") {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "format: the agreement is answered as json (files: /api/v1/report)",
        ));
    }
    let rubrics = state.rubric_snapshot();
    let (period, filter) = q.parse(&rubrics)?;
    let grants = state.grants().await?;
    let allowed = match (&caller, filter.site.as_deref()) {
        (Caller::Device(d), Some(site)) => d.site == site,
        (Caller::Device(_), None) => false,
        (Caller::Person(p), Some(site)) => {
            p.may_read_site(&grants, site) && (p.sees_all_of_site(&grants) || grants.manages_gold(&p.roles))
        }
        (Caller::Person(p), None) => p.reads_region(&grants),
    };
    if !allowed {
        return Err(ApiError::forbidden(match &filter.site {
            Some(site) => format!("you may not read site {site}'s agreement figures"),
            None => "the region's agreement figures need a regional role".to_owned(),
        }));
    }
    Ok(axum::Json(crate::gold::agreement(&state.db, period, filter.site.as_deref(), filter.modality.as_ref()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NoticesQuery {
    /// a site code (default: the caller's site)
    site: Option<String>,
    department: Option<String>,
    /// only notices still open
    #[serde(default)]
    open: bool,
    /// only open notices past their due date: the site's local day they opened plus this many days
    #[param(minimum = 0)]
    overdue_days: Option<i64>,
}

/// Monitoring notices (7.1) of a site: all of them for roles that see the site's scores, else
/// the caller's own (as the person scored or as a department head named on it).
#[utoipa::path(get, path = "/api/v1/notices",
    params(NoticesQuery),
    responses((status = 200, description = "the notices, oldest first", body = Vec<radqc_protocol::MonitoringNotice>),
        (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 401, description = "UNAUTHENTICATED or TOKEN_REVOKED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: another site, without a regional role", body = ErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = ErrorBody)),
    security(("device_token" = []), ("person_token" = [])))]
async fn notices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NoticesQuery>,
) -> Result<axum::Json<Vec<radqc_protocol::MonitoringNotice>>, ApiError> {
    let (own_site, person) = match &caller {
        Caller::Device(d) => (d.site.clone(), None),
        Caller::Person(p) => (p.site.clone(), Some(p)),
    };
    if q.overdue_days.is_some_and(|d| d < 0) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "overdue_days: a number of days, 0 or more"));
    }
    let site = q.site.unwrap_or(own_site.clone());
    let grants = state.grants().await?;
    if !person.map_or(site == own_site, |p| p.may_read_site(&grants, &site)) {
        return Err(ApiError::forbidden(format!("you may not read site {site}'s notices")));
    }
    let list = state.db.notices(Some(&site)).await?;
    // Due dates are local days: the zones are read only when they are asked about.
    let zones = if q.overdue_days.is_some() { state.db.site_zones().await? } else { Default::default() };
    let list = select_notices(list, q.open, q.overdue_days, q.department.as_deref(), Utc::now(), &zones);
    Ok(axum::Json(match person.filter(|p| !p.sees_all_of_site(&grants)) {
        Some(p) => {
            list.into_iter().filter(|n| n.to.as_deref() == Some(&p.staff) || n.also_to.contains(&p.staff)).collect()
        }
        None => list,
    }))
}

/// The open (or all) notices, and with `overdue_days` only open ones past their due date (the
/// local day they opened plus that many days, in each site's zone of `zones`); of one
/// department when it is given.
pub fn select_notices(
    list: Vec<radqc_protocol::MonitoringNotice>,
    open: bool,
    overdue_days: Option<i64>,
    department: Option<&str>,
    now: chrono::DateTime<Utc>,
    zones: &radqc_domain::Zones,
) -> Vec<radqc_protocol::MonitoringNotice> {
    list.into_iter()
        .filter(|n| department.is_none_or(|d| n.department.as_deref() == Some(d)))
        .filter(|n| !(open || overdue_days.is_some()) || !n.closed)
        .filter(|n| overdue_days.is_none_or(|d| zones.of(&n.site).days_between(n.created_at, now) > d))
        .collect()
}
