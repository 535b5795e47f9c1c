//! The sync client. `try_sync_once` makes one pass: push every pending outbox entry in batches,
//! then pull every feed from its cursor. The loop (when to try again) lives in the app, guided by
//! the [`Outcome`] and [`Backoff`].
//!
//! Architecture Invariant: an entry is marked sent only after the center acknowledged it, and
//! marked rejected only with the center's reason; anything else leaves it pending, so a retry
//! resends it and the center's sequence check makes the retry harmless.
//!
//! Architecture Invariant: a store enrolled over HTTPS talks to its center only through a client
//! that checks the pinned key (`pin.rs`), for every call of every pass; the client a caller passes
//! in serves only links without a pin (plain HTTP, and stores enrolled before pins were taken).
//! Enrollment refuses HTTPS without a pin and plain HTTP over the network without the caller's
//! explicit consent, before any request, and writes nothing when the center is not the pinned one.

pub mod pin;

use std::collections::HashSet;
use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use radqc_protocol::{
    DeviceRecordsPage, DeviceState, EnrollRequest, EnrollResponse, EntryStatus, ErrorBody, ErrorCode, FeedKind,
    FeedPage, ForkRequest, PushEntry, PushRequest, PushResponse, SCHEMA_VERSION,
};
use radqc_store::{CenterLink, CenterTrust, ForkPlan, OutboxEntry, Store, StoreError};
use serde::Serialize;

pub use pin::{split_enrollment, Pin, PinError, Refusal};

/// How many outbox entries go in one push.
pub const BATCH: u32 = 1000;

/// How a sync pass ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Outcome {
    /// Everything pending went out and every feed is current. `copy` tells when this pass found
    /// the store to be a restored or copied copy and made it a device of its own.
    Synced { pushed: u64, duplicates: u64, rejected: u64, pulled: u64, copy: Option<CopyRecovery> },
    /// The store is not enrolled with a center.
    NotEnrolled,
    /// The network or the center failed; nothing is lost. Try again after a backoff.
    Retry { error: String, pushed: u64 },
    /// The center refused the device itself (revoked token, unsupported schema): retrying will
    /// not help until a person acts.
    Stopped { code: String, message: String },
}

/// What a pass did about a store that turned out to be a copy (restored from a backup, or
/// copied onto another workstation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CopyRecovery {
    /// `restored`: the center holds more of this device than the store; `reused`: the center
    /// holds other content under a number the store used again.
    pub why: String,
    /// The device the store was, and the one it is now.
    pub was: String,
    pub now: String,
    /// Records of the device it was that the store lacked and took back from the center.
    pub restored_evaluations: u64,
    pub restored_events: u64,
}

/// How many times one pass may fork (a copy forks once; more means something else is wrong).
const MAX_FORKS: u32 = 2;

/// Jittered exponential backoff: attempt `n` waits a uniformly random share (`jitter` in 0..1,
/// passed in so the schedule is reproducible in tests) of `min(max, base · 2ⁿ)`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(2), max: Duration::from_secs(15 * 60) }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let cap = self.base.saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX)).min(self.max);
        cap.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot reach the center at {url}: {message}")]
    Network { url: String, message: String },
    #[error("the center refused: {} ({})", .0.message, .0.code)]
    Refused(ErrorBody),
    /// Enrollment refused before (or, for a key that is not the pinned one, during) the first
    /// request: the center is not known the way it must be. Words in English and Chinese.
    #[error("{en} ({code})")]
    Trust { code: ErrorCode, en: String, zh: String },
}

impl SyncError {
    /// The code: the store's or this client's from the catalogue, or the center's as it sent it.
    pub fn code(&self) -> &str {
        match self {
            Self::Store(e) => e.code().as_str(),
            Self::Network { .. } => ErrorCode::Network.as_str(),
            Self::Refused(body) => &body.code,
            Self::Trust { code, .. } => code.as_str(),
        }
    }

    /// The words for a person reading Chinese (the English ones are `Display`'s).
    pub fn message_zh(&self) -> String {
        match self {
            Self::Trust { zh, code, .. } => format!("{zh}（{code}）"),
            other => other.to_string(),
        }
    }

    fn trust(code: ErrorCode, en: impl Into<String>, zh: impl Into<String>) -> SyncError {
        SyncError::Trust { code, en: en.into(), zh: zh.into() }
    }
}

/// A client builder with the TLS crypto provider installed (every HTTP client of ours starts here).
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// The center client's settings: gzip both ways, timeouts that fit a clinic's link, and no
/// redirects (an answer elsewhere is not the center's).
fn center_builder() -> reqwest::ClientBuilder {
    client_builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .gzip(true)
        .redirect(reqwest::redirect::Policy::none())
}

/// An HTTP client for a center without a pin: plain HTTP (to this machine, or accepted as
/// insecure) and HTTPS against the system's roots (a store enrolled before pins were taken).
pub fn http_client() -> reqwest::Client {
    center_builder().build().expect("the HTTP client builds")
}

/// A client that talks only HTTPS, and only to the holder of the pinned key (or a server whose
/// chain leads to a pinned CA it sends); it remembers the key a refused server showed.
pub struct PinnedClient {
    pub client: reqwest::Client,
    pin: Pin,
    verifier: std::sync::Arc<pin::PinnedVerifier>,
}

impl PinnedClient {
    pub fn new(pin: Pin) -> PinnedClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier = std::sync::Arc::new(pin::PinnedVerifier::new(pin, provider.clone()));
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let client = center_builder()
            .https_only(true)
            .tls_backend_preconfigured(tls)
            .build()
            .expect("the pinned HTTP client builds");
        PinnedClient { client, pin, verifier }
    }

    /// Why this client refused a server, when it did.
    pub fn refusal(&self) -> Option<Refusal> {
        self.verifier.refusal.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A network failure in words that say why the server was refused, when it was.
    fn refused_key(&self, url: &str) -> Option<SyncError> {
        let pin = self.pin;
        let (en, zh) = match self.refusal()? {
            Refusal::OtherKey(shown) => (
                format!(
                    "the server at {url} is not the center this enrollment names: its key is {shown}, the pin is {pin}. \
                     Check the address, or ask the center's administrator whether its certificate's key changed"
                ),
                format!(
                    "{url} 上的服务器不是注册码所指的中心：它的密钥是 {shown}，注册时的指纹是 {pin}。请核对地址，或询问中心管理员证书密钥是否已更换"
                ),
            ),
            Refusal::Chain { key, why } => (
                format!(
                    "the server at {url} (key {key}) sent the pinned CA {pin}, but its certificate is not valid under it \
                     for this address: {why}. Use the address its certificate names"
                ),
                format!(
                    "{url} 上的服务器（密钥 {key}）出示了注册时指纹为 {pin} 的 CA，但它的证书对此地址无效：{why}。请使用证书中所写的地址"
                ),
            ),
        };
        Some(SyncError::trust(ErrorCode::CenterPinMismatch, en, zh))
    }
}

/// What an enrollment needs: the center's URL, the one-time code (or the enrollment string
/// `CODE#sha256/…` the center printed), the pin when given apart, whether plain HTTP over the
/// network is accepted, and a name for the device.
#[derive(Debug, Clone, Default)]
pub struct EnrollArgs<'a> {
    pub center: &'a str,
    pub code: &'a str,
    pub pin: Option<&'a str>,
    pub insecure_http: bool,
    pub device_name: Option<&'a str>,
}

/// How an enrollment will reach the center, decided before any request.
enum Route {
    Pinned(Box<PinnedClient>),
    Plain(reqwest::Client, CenterTrust),
}

/// Checks the URL, the code and the pin, and picks the client: nothing is sent yet.
fn route(args: &EnrollArgs<'_>) -> Result<(String, String, Route), SyncError> {
    let center = args.center.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(center).map_err(|e| {
        SyncError::trust(
            ErrorCode::CenterUrl,
            format!("`{center}` is not a center URL ({e}): write it as https://host:port"),
            format!("“{center}”不是中心地址（{e}）：请写成 https://主机:端口"),
        )
    })?;
    let bad_pin =
        |e: PinError| SyncError::trust(ErrorCode::CenterPinInvalid, e.to_string(), format!("证书指纹无法识别：{e}"));
    let (code, in_code) = split_enrollment(args.code).map_err(bad_pin)?;
    let apart =
        args.pin.map(str::trim).filter(|p| !p.is_empty()).map(str::parse::<Pin>).transpose().map_err(bad_pin)?;
    let pin = match (in_code, apart) {
        (Some(a), Some(b)) if a != b => {
            return Err(SyncError::trust(
                ErrorCode::CenterPinInvalid,
                format!("the enrollment string carries the pin {a}, but the pin given is {b}: use the center's one"),
                format!("注册码所带的证书指纹 {a} 与另行输入的 {b} 不同：请使用中心给出的指纹"),
            ))
        }
        (a, b) => a.or(b),
    };
    let route = match (url.scheme(), pin) {
        ("https", Some(pin)) => Route::Pinned(Box::new(PinnedClient::new(pin))),
        ("https", None) => {
            return Err(SyncError::trust(
                ErrorCode::CenterPinRequired,
                "enrolling over HTTPS needs the pin of the center's key (sha256/…): use the whole enrollment \
                 string the center's administrator gave (CODE#sha256/…), or pass the pin apart",
                "通过 HTTPS 注册需要中心证书的指纹（sha256/…）：请输入中心管理员给出的完整注册码（注册码#sha256/…），或另行填写指纹",
            ))
        }
        ("http", Some(_)) => {
            return Err(SyncError::trust(
                ErrorCode::CenterPinInvalid,
                format!("a pin is for HTTPS, and {center} is plain HTTP: use the center's https:// address"),
                format!("证书指纹只用于 HTTPS，而 {center} 是明文 HTTP：请使用中心的 https:// 地址"),
            ))
        }
        ("http", None) => match CenterTrust::of(center, None) {
            CenterTrust::Loopback => Route::Plain(http_client(), CenterTrust::Loopback),
            _ if args.insecure_http => Route::Plain(http_client(), CenterTrust::InsecureHttp),
            _ => {
                return Err(SyncError::trust(
                    ErrorCode::InsecureHttp,
                    format!(
                        "{center} is plain HTTP over the network: anyone on the way could read or change what is sent. \
                         Use the center's https:// address with its pin, or accept plain HTTP explicitly (--insecure-http)"
                    ),
                    format!(
                        "{center} 是经网络的明文 HTTP：途中任何人都能读取或篡改所传内容。请使用中心的 https:// 地址和证书指纹，或明确接受明文 HTTP（--insecure-http）"
                    ),
                ))
            }
        },
        (other, _) => {
            return Err(SyncError::trust(
                ErrorCode::CenterUrl,
                format!("`{center}` is a {other}: URL, not a center's (https://host:port)"),
                format!("“{center}”不是中心地址（应为 https://主机:端口）"),
            ))
        }
    };
    Ok((center.to_owned(), code, route))
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

enum Failure {
    Network(String),
    /// 5xx: the center is there but failing.
    Server(ErrorBody),
    /// 4xx with the center's envelope.
    Refused(ErrorBody),
}

/// An error with its causes, which reqwest's own words leave out (`error sending request`).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.contains(&words) {
            text = format!("{text}: {words}");
        }
        source = cause.source();
    }
    text
}

async fn call<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, Failure> {
    let resp = req.send().await.map_err(|e| Failure::Network(with_causes(&e)))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| Failure::Network(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| Failure::Network(format!("unreadable answer: {e}")));
    }
    let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        ErrorBody::new(
            ErrorCode::HttpError,
            format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>()),
        )
    });
    if status.is_server_error() {
        Err(Failure::Server(body))
    } else {
        Err(Failure::Refused(body))
    }
}

/// Enrolls the store with a center using a one-time code, and keeps the device token and the
/// pin of the center's key. Over HTTPS the pin is required (from the enrollment string or given
/// apart) and the center must hold that key; plain HTTP only to this machine or with
/// `insecure_http`. Refused before any request when not, and the store is unchanged when the
/// enrollment fails.
pub async fn enroll(
    store: &mut Store,
    args: &EnrollArgs<'_>,
    now: DateTime<Utc>,
) -> Result<(EnrollResponse, CenterTrust), SyncError> {
    let (center, code, route) = route(args)?;
    let req = EnrollRequest {
        code,
        device_id: store.device_id().to_owned(),
        device_name: args.device_name.map(str::to_owned),
    };
    let (http, pinned, trust) = match &route {
        Route::Pinned(p) => (&p.client, Some(&**p), CenterTrust::Pinned),
        Route::Plain(c, trust) => (c, None, *trust),
    };
    let resp: EnrollResponse =
        call(http.post(url(&center, "/api/v1/enroll")).json(&req)).await.map_err(|f| match f {
            Failure::Network(message) => pinned
                .and_then(|p| p.refused_key(&center))
                .unwrap_or(SyncError::Network { url: center.clone(), message }),
            Failure::Server(body) | Failure::Refused(body) => SyncError::Refused(body),
        })?;
    let site = resp.site.parse().map_err(|e: radqc_domain::CodeError| {
        SyncError::Refused(ErrorBody::new(ErrorCode::InvalidSite, e.to_string()))
    })?;
    let pin = pinned.map(|p| p.pin.to_string());
    store.set_center_link(&CenterLink { url: center, token: resp.token.clone(), pin }, &site, now)?;
    Ok((resp, trust))
}

/// A batch and its compressed push body, numbered for the current device (`seq - base`).
fn prepare(batch: Vec<OutboxEntry>, base: i64) -> Result<(Vec<OutboxEntry>, Vec<u8>), StoreError> {
    let body = if batch.is_empty() { Vec::new() } else { gzip(&push_request(&batch, base)?) };
    Ok((batch, body))
}

fn push_request(entries: &[OutboxEntry], base: i64) -> Result<Vec<u8>, StoreError> {
    let entries = entries
        .iter()
        .map(|e| {
            let payload = serde_json::value::RawValue::from_string(e.payload.clone()).map_err(|err| {
                StoreError::Invalid { field: format!("outbox[{}].payload", e.seq), message: err.to_string() }
            })?;
            Ok(PushEntry { seq: e.seq - base, payload })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(serde_json::to_vec(&PushRequest { schema: SCHEMA_VERSION, entries }).expect("push serializes"))
}

/// One sync pass. Never loses or doubles an entry, whatever fails in the middle.
pub async fn try_sync_once(store: &mut Store, http: &reqwest::Client, now: DateTime<Utc>) -> Outcome {
    try_sync_once_batched(store, http, now, BATCH).await
}

/// [`try_sync_once`] with `batch` entries per push (tests use small batches to cut a pass into
/// many requests).
pub async fn try_sync_once_batched(
    store: &mut Store,
    http: &reqwest::Client,
    now: DateTime<Utc>,
    batch: u32,
) -> Outcome {
    let batch = batch.clamp(1, radqc_protocol::MAX_PUSH_ENTRIES as u32);
    let outcome = pass(store, http, now, batch).await;
    let error = match &outcome {
        Outcome::Synced { .. } | Outcome::NotEnrolled => None,
        Outcome::Retry { error, .. } => Some(error.clone()),
        Outcome::Stopped { code, message } => Some(format!("{message} ({code})")),
    };
    if !matches!(outcome, Outcome::NotEnrolled) {
        if let Err(e) = store.record_sync(now, error.as_deref()) {
            return Outcome::Retry { error: format!("cannot record the sync status: {e}"), pushed: 0 };
        }
    }
    outcome
}

async fn pass(store: &mut Store, unpinned: &reqwest::Client, now: DateTime<Utc>, batch_size: u32) -> Outcome {
    let (mut pushed, mut duplicates, mut rejected, mut pulled) = (0u64, 0u64, 0u64, 0u64);
    let mut copy: Option<CopyRecovery> = None;
    let mut forks = 0;
    'device: loop {
        let link = match store.center_link() {
            Ok(Some(link)) => link,
            Ok(None) => return Outcome::NotEnrolled,
            Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
        };
        // A pinned link is talked to only through a client that checks the pin.
        let pinned = match link.pin.as_deref().map(str::parse::<Pin>).transpose() {
            Ok(pin) => pin.map(PinnedClient::new),
            Err(e) => {
                return Outcome::Stopped {
                    code: ErrorCode::CenterPinInvalid.as_str().to_owned(),
                    message: format!("the pin this store keeps for its center does not read: {e}; enroll again"),
                }
            }
        };
        let http = pinned.as_ref().map_or(unpinned, |p| &p.client);
        let fail = |f: Failure, pushed: u64| match f {
            Failure::Network(e) => match pinned.as_ref().and_then(|p| p.refused_key(&link.url)) {
                Some(SyncError::Trust { code, en, .. }) => {
                    Outcome::Stopped { code: code.as_str().to_owned(), message: en }
                }
                _ => Outcome::Retry { error: format!("cannot reach {}: {e}", link.url), pushed },
            },
            Failure::Server(b) => {
                Outcome::Retry { error: format!("the center failed: {} ({})", b.message, b.code), pushed }
            }
            Failure::Refused(b) => Outcome::Stopped { code: b.code, message: b.message },
        };
        // A fork asked for before (its answer lost, or the app stopped): ask again, the same way.
        let pending_fork = match store.fork_pending() {
            Ok(p) => p,
            Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
        };
        if let Some(plan) = pending_fork {
            if let Err(f) = fork(store, http, &link, &plan, now).await {
                return fail(f, pushed);
            }
            copy.get_or_insert_with(|| recovery(&plan));
            continue 'device;
        }
        // What the center holds of this device: beyond this store's own entries means a copy.
        let state: DeviceState = match call(http.get(url(&link.url, "/api/v1/device")).bearer_auth(&link.token)).await {
            Ok(s) => s,
            Err(f) => return fail(f, pushed),
        };
        let own = match store.last_device_seq() {
            Ok(n) => n,
            Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
        };
        if state.last_seq > own {
            match start_fork(store, "restored", &mut forks, now) {
                Ok(()) => continue 'device,
                Err(o) => return o,
            }
        }
        // What a fork left to pull back: the parent's records beyond what this copy had.
        match pull_back(store, http, &link, now).await {
            Ok((evaluations, events)) => {
                if let Some(c) = copy.as_mut() {
                    c.restored_evaluations += evaluations;
                    c.restored_events += events;
                }
            }
            Err(f) => return fail(f, pushed),
        }
        let base = match store.seq_base() {
            Ok(b) => b,
            Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
        };
        // After a SEQUENCE_GAP the center asks for entries again from this number (it lost them).
        let mut resend_from: Option<i64> = None;
        // The next batch, read and compressed while the center was working on the previous one.
        let mut prefetched: Option<(Vec<OutboxEntry>, Vec<u8>)> = None;
        loop {
            let (batch, body) = match (resend_from.take(), prefetched.take()) {
                (None, Some(ready)) => ready,
                (resend, _) => {
                    let batch = match resend {
                        Some(seq) => store.outbox_from(seq, batch_size),
                        None => store.pending_outbox_after(base, batch_size),
                    };
                    match batch.and_then(|b| prepare(b, base)) {
                        Ok(ready) => ready,
                        Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
                    }
                }
            };
            if batch.is_empty() {
                break;
            }
            let req = http
                .post(url(&link.url, "/api/v1/push"))
                .bearer_auth(&link.token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::CONTENT_ENCODING, "gzip")
                .body(body);
            let last = batch[batch.len() - 1].seq;
            // The center works on this batch while the next one is read and compressed here.
            let in_flight = tokio::spawn(call::<PushResponse>(req));
            let next = store.pending_outbox_after(last, batch_size).and_then(|b| prepare(b, base));
            let answer =
                in_flight.await.unwrap_or_else(|e| Err(Failure::Network(format!("the push task failed: {e}"))));
            let resp = match answer {
                Ok(r) => r,
                Err(Failure::Refused(b)) if b.is(ErrorCode::SequenceGap) => match b.expected_seq {
                    Some(expected) if expected + base < batch[0].seq && expected >= 1 => {
                        resend_from = Some(expected + base);
                        continue;
                    }
                    _ => return Outcome::Stopped { code: b.code, message: b.message },
                },
                Err(f) => return fail(f, pushed),
            };
            prefetched = next.ok();
            let pending: HashSet<i64> =
                batch.iter().filter(|e| e.state == radqc_store::OutboxState::Pending).map(|e| e.seq).collect();
            let mut sent = Vec::new();
            let mut conflict = false;
            for r in &resp.results {
                let seq = r.seq + base;
                match (r.status, &r.reason) {
                    (EntryStatus::Applied, _) => {
                        pushed += 1;
                        sent.push(seq);
                    }
                    (EntryStatus::Duplicate, None) => {
                        duplicates += 1;
                        sent.push(seq);
                    }
                    (EntryStatus::Conflict, _) => conflict = true,
                    (EntryStatus::Rejected, reason) | (EntryStatus::Duplicate, reason @ Some(_)) => {
                        rejected += 1;
                        if pending.contains(&seq) {
                            let reason = reason
                                .as_ref()
                                .map_or_else(|| "rejected".to_owned(), |b| format!("{} ({})", b.message, b.code));
                            if let Err(e) = store.mark_rejected(seq, &reason, now) {
                                return Outcome::Retry { error: e.to_string(), pushed };
                            }
                        }
                    }
                }
            }
            sent.retain(|s| pending.contains(s));
            if let Err(e) = store.mark_sent(&sent, now) {
                return Outcome::Retry { error: e.to_string(), pushed };
            }
            if conflict {
                match start_fork(store, "reused", &mut forks, now) {
                    Ok(()) => continue 'device,
                    Err(o) => return o,
                }
            }
        }
        // Secrets people chose here, before the feeds: the roster the center then publishes
        // with them arrives in this pass.
        match send_secrets(store, http, &link, now).await {
            Ok(()) => {}
            Err(Ok(e)) => return Outcome::Retry { error: e.to_string(), pushed },
            Err(Err(f)) => return fail(f, pushed),
        }
        for kind in FeedKind::ALL {
            loop {
                let after = match store.feed_cursor(kind) {
                    Ok(c) => c,
                    Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
                };
                let req = http
                    .get(url(&link.url, &format!("/api/v1/feed/{}?after={after}&limit=200", kind.as_str())))
                    .bearer_auth(&link.token);
                let page: FeedPage = match call(req).await {
                    Ok(p) => p,
                    Err(f) => return fail(f, pushed),
                };
                pulled += page.items.len() as u64;
                if let Err(e) = store.save_feed_items(&page.items, now) {
                    return Outcome::Retry { error: e.to_string(), pushed };
                }
                if !page.more || page.items.is_empty() {
                    break;
                }
            }
        }
        return Outcome::Synced { pushed, duplicates, rejected, pulled, copy };
    }
}

/// Sends each secret a person chose here (its verifier) to the center (an error: the store's,
/// or the center's answer). Taken: marked sent (the
/// roster then carries it). Superseded by the center's (an administrator reset it since), or
/// refused (the person left the roster, a verifier the center will not take): dropped here, with
/// the reason in the audit log, and the center's secret applies. Network and server failures
/// leave it for the next pass.
async fn send_secrets(
    store: &mut Store,
    http: &reqwest::Client,
    link: &CenterLink,
    now: DateTime<Utc>,
) -> Result<(), Result<StoreError, Failure>> {
    let unsent = store.unsent_secrets().map_err(Ok)?;
    for secret in unsent {
        let change = radqc_protocol::SecretChange {
            staff: secret.staff.clone(),
            verifier: secret.verifier.clone(),
            based_on: secret.based_on,
            changed_at: secret.changed_at,
        };
        let req = http.post(url(&link.url, "/api/v1/device/secret")).bearer_auth(&link.token).json(&change);
        let done = match call::<radqc_protocol::SecretChangeAnswer>(req).await {
            Ok(a) if a.status == radqc_protocol::SecretChangeStatus::Applied => {
                store.mark_secret_sent(&secret.staff, &secret.verifier, now)
            }
            Ok(_) => store.drop_local_secret(&secret.staff, &secret.verifier, now),
            Err(Failure::Refused(b)) if !b.is(ErrorCode::Unauthenticated) && !b.is(ErrorCode::TokenRevoked) => {
                store.drop_local_secret(&secret.staff, &secret.verifier, now)
            }
            Err(f) => return Err(Err(f)),
        };
        done.map_err(Ok)?;
    }
    Ok(())
}

fn recovery(plan: &ForkPlan) -> CopyRecovery {
    CopyRecovery {
        why: plan.why.clone(),
        was: plan.parent.clone(),
        now: plan.device_id.clone(),
        restored_evaluations: 0,
        restored_events: 0,
    }
}

/// Plans a fork (committed before the center is asked), unless this pass forked too often.
fn start_fork(store: &mut Store, why: &str, forks: &mut u32, now: DateTime<Utc>) -> Result<(), Outcome> {
    *forks += 1;
    if *forks > MAX_FORKS {
        return Err(Outcome::Stopped {
            code: ErrorCode::ForkLoop.as_str().to_owned(),
            message: format!("this store was found to be a copy {forks} times in one pass; ask the regional center"),
        });
    }
    store.plan_fork(why, now).map(drop).map_err(|e| Outcome::Retry { error: e.to_string(), pushed: 0 })
}

/// Asks the center for the planned device (the same request however often it is repeated) and
/// makes the store that device.
async fn fork(
    store: &mut Store,
    http: &reqwest::Client,
    link: &CenterLink,
    plan: &ForkPlan,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let req = ForkRequest { device_id: plan.device_id.clone(), token: plan.token.clone(), device_name: None };
    let _: DeviceState =
        call(http.post(url(&link.url, "/api/v1/device/fork")).bearer_auth(&link.token).json(&req)).await?;
    store.complete_fork(plan, now).map_err(|e| Failure::Network(format!("cannot record the new device: {e}")))
}

/// Pulls back what a fork left to pull back, page by page (each page kept in one transaction,
/// so an interrupted pull-back goes on where it stopped).
async fn pull_back(
    store: &mut Store,
    http: &reqwest::Client,
    link: &CenterLink,
    now: DateTime<Utc>,
) -> Result<(u64, u64), Failure> {
    let (mut evaluations, mut events) = (0, 0);
    loop {
        let Some(p) = store.pullback().map_err(|e| Failure::Network(e.to_string()))? else {
            return Ok((evaluations, events));
        };
        let req = http
            .get(url(&link.url, &format!("/api/v1/device/records?device={}&after={}&limit=500", p.device, p.after)))
            .bearer_auth(&link.token);
        let page: DeviceRecordsPage = call(req).await?;
        let done = !page.more || page.items.is_empty();
        let r = store
            .restore_records(&page.items, page.after, done, now)
            .map_err(|e| Failure::Network(format!("cannot keep the records pulled back: {e}")))?;
        evaluations += r.evaluations;
        events += r.events;
    }
}

/// Runs passes until one ends in `Synced`, `NotEnrolled` or `Stopped`, or `attempts` are used,
/// sleeping with backoff between them. For the command line; the app runs its own loop.
pub async fn sync_with_retries(
    store: &mut Store,
    http: &reqwest::Client,
    attempts: u32,
    backoff: Backoff,
    jitter: &mut dyn FnMut() -> f64,
) -> Outcome {
    let mut attempt = 0;
    loop {
        let outcome = try_sync_once(store, http, Utc::now()).await;
        attempt += 1;
        match &outcome {
            Outcome::Retry { .. } if attempt < attempts => {
                tokio::time::sleep(backoff.delay(attempt - 1, jitter())).await
            }
            _ => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gold reads and disputes go out like every other entry: their payload as stored, numbered
    /// for the device.
    #[test]
    fn gold_reads_and_disputes_are_pushed_as_stored() {
        use radqc_protocol::{GoldMessage, SyncPayload};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let key = radqc_store::Key::create_file(&dir.join("qc.db.key")).unwrap();
        let now: DateTime<Utc> = "2026-11-10T09:00:00Z".parse().unwrap();
        let mut store = Store::create(&dir.join("qc.db"), &key, &"NJGL".parse().unwrap(), now).unwrap();
        let assigned: GoldMessage = serde_json::from_value(serde_json::json!({
            "type": "assigned", "case_id": "C1", "task": "first", "to": "S1", "item": "IQ",
            "rubric_version": radqc_domain::Rubric::bundled().version,
            "exam": {"site": "XZRM", "accession": "CT-1", "modality": "CT", "exam_item": "CT胸部平扫",
                     "department": null, "patient_source": null, "follow_up": false, "patient_sex": null,
                     "patient_age": null, "performed_at": null, "staff": null},
            "reads": [], "assigned_at": "2026-11-10T08:00:00Z"
        }))
        .unwrap();
        let item = radqc_protocol::FeedItem {
            cursor: 1,
            kind: FeedKind::Gold,
            site: Some("NJGL".into()),
            body: serde_json::to_value(&assigned).unwrap(),
            published_at: now,
        };
        store.save_feed_items(&[item], now).unwrap();
        let read: radqc_store::NewGoldRead = serde_json::from_value(
            serde_json::json!({"case_id": "C1", "task": "first", "reader": "S1", "findings": ["IQ-C1"]}),
        )
        .unwrap();
        let read = store.save_gold_read(&read, now).unwrap();
        let exam = serde_json::json!({"accession": "CT-9", "modality": "CT", "exam_item": "CT胸部平扫", "staff": {"technologist": "A1"}});
        let failed: radqc_store::NewEvaluation = serde_json::from_value(serde_json::json!({
            "item": "IQ", "findings": ["IQ-S2"], "exam": exam, "reviewer": "D1", "mode": "random"
        }))
        .unwrap();
        let failed = store.save_evaluation(&failed, now).unwrap();
        let dispute = store.save_dispute(&failed.id, &"A1".parse().unwrap(), "不同意", now).unwrap();
        let pending = store.pending_outbox(10).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&push_request(&pending, 0).unwrap()).unwrap();
        let entries = body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        let payload = |i: usize| serde_json::from_value::<SyncPayload>(entries[i]["payload"].clone()).unwrap();
        assert_eq!(payload(0), SyncPayload::GoldRead { read: Box::new(read) });
        assert_eq!(payload(2), SyncPayload::Dispute { dispute });
        assert_eq!(entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(FeedKind::ALL.contains(&FeedKind::Gold), "the gold feed is pulled with the others");
    }

    const PIN: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const OTHER: &str = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    fn refused(center: &str, code: &str, pin: Option<&str>, insecure_http: bool) -> Option<ErrorCode> {
        let args = EnrollArgs { center, code, pin, insecure_http, device_name: None };
        match route(&args) {
            Ok(_) => None,
            Err(SyncError::Trust { code, .. }) => Some(code),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn enrollment_knows_how_it_reaches_the_center_before_any_request() {
        let with_pin = format!("K7QM-3XPA-9TWE#{PIN}");
        assert_eq!(refused("https://qc.region.example:8443/", &with_pin, None, false), None);
        assert_eq!(refused("https://qc.region.example:8443", "K7QM-3XPA-9TWE", Some(PIN), false), None);
        assert_eq!(refused("https://qc.region.example:8443", &with_pin, Some(PIN), false), None, "the same pin twice");
        assert_eq!(refused("https://10.0.0.2", "K7QM-3XPA-9TWE", None, true), Some(ErrorCode::CenterPinRequired));
        assert_eq!(refused("https://10.0.0.2", "K7QM-3XPA-9TWE", Some(" "), false), Some(ErrorCode::CenterPinRequired));
        assert_eq!(refused("https://10.0.0.2", &with_pin, Some(OTHER), false), Some(ErrorCode::CenterPinInvalid));
        assert_eq!(
            refused("https://10.0.0.2", "K7QM-3XPA-9TWE#sha256/x", None, false),
            Some(ErrorCode::CenterPinInvalid)
        );
        assert_eq!(refused("http://127.0.0.1:8080", "K7QM-3XPA-9TWE", None, false), None);
        assert_eq!(refused("http://localhost:8080", "K7QM-3XPA-9TWE", None, false), None);
        assert_eq!(refused("http://[::1]:8080", "K7QM-3XPA-9TWE", None, false), None);
        assert_eq!(refused("http://10.0.0.2:8080", "K7QM-3XPA-9TWE", None, false), Some(ErrorCode::InsecureHttp));
        assert_eq!(refused("http://center.example", "K7QM-3XPA-9TWE", None, false), Some(ErrorCode::InsecureHttp));
        assert_eq!(refused("http://10.0.0.2:8080", "K7QM-3XPA-9TWE", None, true), None);
        assert_eq!(refused("http://10.0.0.2:8080", &with_pin, None, true), Some(ErrorCode::CenterPinInvalid));
        assert_eq!(refused("ftp://10.0.0.2", "K7QM-3XPA-9TWE", None, true), Some(ErrorCode::CenterUrl));
        assert_eq!(refused("qc.region.example:8443", "K7QM-3XPA-9TWE", Some(PIN), false), Some(ErrorCode::CenterUrl));
        assert_eq!(refused("", "K7QM-3XPA-9TWE", None, false), Some(ErrorCode::CenterUrl));
    }

    #[test]
    fn the_trust_an_enrollment_records_matches_the_links() {
        let args = EnrollArgs { center: "http://10.0.0.2:8080/", code: "C", insecure_http: true, ..Default::default() };
        let Ok((center, code, Route::Plain(_, trust))) = route(&args) else { panic!("plain HTTP, accepted") };
        assert_eq!((center.as_str(), code.as_str(), trust), ("http://10.0.0.2:8080", "C", CenterTrust::InsecureHttp));
        assert_eq!(CenterTrust::of(&center, None), trust, "the store reads the same trust back");
    }
}
