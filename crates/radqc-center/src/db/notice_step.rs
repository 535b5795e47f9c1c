//! The monitoring-notice step of a push, decided once for both backends: which statements an
//! applied entry runs (close a notice, close the superseded evaluation's, open one for a failed
//! evaluation) and what each answer publishes; the backends only run the statements.

use chrono::{DateTime, Utc};
use radqc_protocol::{MonitoringNotice, NoticeClosure, SyncPayload};

use super::{sql, ts};
use crate::error::ApiError;
use crate::notices;

/// One statement of an applied entry's notice step, in the order the backend runs them.
pub(crate) enum NoticeStep<'a> {
    /// `statement` with `params` closes a notice still open and returns its stored body (none
    /// when nothing was open): then [`closed`] says what to publish.
    Close { statement: &'static str, params: [String; 4], closure: NoticeClosure },
    /// A failed evaluation: the backend reads the site's staff roles (`sql::STAFF_ROLES`, with
    /// `site`) and passes them to [`opening`].
    Open { site: String, payload: &'a SyncPayload },
}

/// The notice steps of an applied entry: a recorded correction closes its notice; a revision
/// closes the notice of the evaluation it supersedes, then a failed evaluation opens its own.
pub(crate) fn steps(payload: &SyncPayload) -> Vec<NoticeStep<'_>> {
    let close = |statement, key: String, c: NoticeClosure| NoticeStep::Close {
        statement,
        params: [c.correction.clone(), c.closed_by.as_str().to_owned(), ts(c.at), key],
        closure: c,
    };
    match payload {
        SyncPayload::NoticeClosed { closure } => {
            vec![close(sql::CLOSE_NOTICE, closure.notice_id.clone(), closure.clone())]
        }
        SyncPayload::Evaluation { evaluation, .. } => {
            let mut out = Vec::new();
            if let Some((previous, c)) = notices::closure_by_revision(payload) {
                out.push(close(sql::CLOSE_SUPERSEDED_NOTICE, previous, c));
            }
            if !evaluation.pass {
                out.push(NoticeStep::Open { site: evaluation.site.to_string(), payload });
            }
            out
        }
        SyncPayload::ExamEvent { .. }
        | SyncPayload::GoldRead { .. }
        | SyncPayload::Dispute { .. }
        | SyncPayload::Exam { .. } => Vec::new(),
    }
}

/// A message for the notices feed: `sql::PUBLISH` with `"notices"`, `site`, `body`.
pub(crate) struct Publish {
    pub site: String,
    pub body: String,
}

/// What a close publishes: the closing message of the notice it closed, if it closed one.
pub(crate) fn closed(body: Option<&str>, c: &NoticeClosure) -> Result<Option<Publish>, ApiError> {
    let Some(body) = body else { return Ok(None) };
    let n = notices::stored(body)?;
    Ok(Some(publish(&n.site, &notices::closed_feed_body(&n, c))))
}

/// A failed evaluation's notice, to insert (`sql::INSERT_NOTICE`: id, site, evaluation id,
/// department, the time received, `body`) and, when the insert adds it, to publish.
pub(crate) struct Opening {
    pub notice: MonitoringNotice,
    pub body: String,
    pub publish: Publish,
}

/// The notice a failed evaluation opens, from the site's staff `(code, roles as stored)` and
/// the grants (who is named on it besides the person scored).
pub(crate) fn opening(
    payload: &SyncPayload,
    staff: Vec<(String, String)>,
    grants: &radqc_domain::Grants,
    now: DateTime<Utc>,
) -> Result<Option<Opening>, ApiError> {
    let Some(notice) = notices::for_failed(payload, notices::heads(staff, grants)?, now) else { return Ok(None) };
    let body = serde_json::to_string(&notice).expect("a notice serializes");
    let publish = publish(&notice.site, &notices::opened_feed_body(&notice));
    Ok(Some(Opening { notice, body, publish }))
}

fn publish(site: &str, message: &radqc_protocol::NoticeMessage) -> Publish {
    Publish { site: site.to_owned(), body: serde_json::to_string(message).expect("a notice message serializes") }
}
