//! The sync client. `try_sync_once` makes one pass: push every pending outbox entry in batches,
//! then pull every feed from its cursor. The loop (when to try again) lives in the app, guided by
//! the [`Outcome`] and [`Backoff`].
//!
//! Architecture Invariant: an entry is marked sent only after the center acknowledged it, and
//! marked rejected only with the center's reason; anything else leaves it pending, so a retry
//! resends it and the center's sequence check makes the retry harmless.

use std::collections::HashSet;
use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use radqc_protocol::{
    DeviceRecordsPage, DeviceState, EnrollRequest, EnrollResponse, EntryStatus, ErrorBody, ErrorCode, FeedKind,
    FeedPage, ForkRequest, PushEntry, PushRequest, PushResponse, SCHEMA_VERSION,
};
use radqc_store::{CenterLink, ForkPlan, OutboxEntry, Store, StoreError};
use serde::Serialize;

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
}

impl SyncError {
    /// The code: the store's or this client's from the catalogue, or the center's as it sent it.
    pub fn code(&self) -> &str {
        match self {
            Self::Store(e) => e.code().as_str(),
            Self::Network { .. } => ErrorCode::Network.as_str(),
            Self::Refused(body) => &body.code,
        }
    }
}

/// A client builder with the TLS crypto provider installed (every HTTP client of ours starts here).
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// An HTTP client for the center: gzip both ways, and timeouts that fit a clinic's link.
pub fn http_client() -> reqwest::Client {
    client_builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .gzip(true)
        .build()
        .expect("the HTTP client builds")
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

async fn call<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, Failure> {
    let resp = req.send().await.map_err(|e| Failure::Network(e.to_string()))?;
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

/// Enrolls the store with a center using a one-time code, and keeps the device token.
pub async fn enroll(
    store: &mut Store,
    http: &reqwest::Client,
    center: &str,
    code: &str,
    device_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<EnrollResponse, SyncError> {
    let req = EnrollRequest {
        code: code.to_owned(),
        device_id: store.device_id().to_owned(),
        device_name: device_name.map(str::to_owned),
    };
    let resp: EnrollResponse =
        call(http.post(url(center, "/api/v1/enroll")).json(&req)).await.map_err(|f| match f {
            Failure::Network(message) => SyncError::Network { url: center.to_owned(), message },
            Failure::Server(body) | Failure::Refused(body) => SyncError::Refused(body),
        })?;
    let site = resp.site.parse().map_err(|e: radqc_domain::CodeError| {
        SyncError::Refused(ErrorBody::new(ErrorCode::InvalidSite, e.to_string()))
    })?;
    store.set_center_link(
        &CenterLink { url: center.trim_end_matches('/').to_owned(), token: resp.token.clone() },
        &site,
        now,
    )?;
    Ok(resp)
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

async fn pass(store: &mut Store, http: &reqwest::Client, now: DateTime<Utc>, batch_size: u32) -> Outcome {
    let (mut pushed, mut duplicates, mut rejected, mut pulled) = (0u64, 0u64, 0u64, 0u64);
    let mut copy: Option<CopyRecovery> = None;
    let mut forks = 0;
    'device: loop {
        let link = match store.center_link() {
            Ok(Some(link)) => link,
            Ok(None) => return Outcome::NotEnrolled,
            Err(e) => return Outcome::Retry { error: e.to_string(), pushed },
        };
        let fail = |f: Failure, pushed: u64| match f {
            Failure::Network(e) => Outcome::Retry { error: format!("cannot reach {}: {e}", link.url), pushed },
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
