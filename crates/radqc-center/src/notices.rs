//! Monthly monitoring (7.1): a failed evaluation (不合格) becomes a notice for the person scored
//! and the site's staff whose roles the grants name (`department_notices`: the department
//! heads, by default), delivered through the notices feed, open until someone
//! records the correction (整改). Pure: the backends store and publish what this builds.

use chrono::{DateTime, Utc};
use radqc_domain::Rubric;
use radqc_protocol::{MonitoringNotice, NoticeClosure, NoticeMessage, SyncPayload};

use crate::error::ApiError;

/// The notice of a failed evaluation, or none. Its id derives from the evaluation's, so a
/// retried apply cannot make two.
pub fn for_failed(payload: &SyncPayload, heads: Vec<String>, now: DateTime<Utc>) -> Option<MonitoringNotice> {
    let SyncPayload::Evaluation { exam, evaluation: e } = payload else { return None };
    if e.pass {
        return None;
    }
    Some(MonitoringNotice {
        id: format!("N-{}", e.id),
        site: e.site.to_string(),
        evaluation_id: e.id.clone(),
        accession: e.accession.clone(),
        item: e.item.to_string(),
        to: e.scored_person.as_ref().map(|p| p.to_string()),
        also_to: heads,
        department: exam.department.clone(),
        grade: e.grade.to_string(),
        score: e.score.map(|s| s.get()),
        created_at: now,
        closed: false,
        correction: None,
        closed_by: None,
        closed_at: None,
    })
}

/// What the site's staff read in the notices feed when the notice opens.
pub fn opened_feed_body(n: &MonitoringNotice) -> NoticeMessage {
    let rubric = Rubric::bundled();
    let item = n.item.parse().map(|i| rubric.item(i).name.zh.clone()).unwrap_or_else(|_| n.item.clone());
    let score = n.score.map_or(String::new(), |s| format!("（{s}分）"));
    NoticeMessage::FailedEvaluation {
        notice_id: n.id.clone(),
        to: n.to.clone(),
        also_to: n.also_to.clone(),
        text: format!("检查 {} 的{}质控不合格{score}，请整改并记录整改措施。", n.accession, item),
        accession: n.accession.clone(),
        item: n.item.clone(),
        evaluation_id: n.evaluation_id.clone(),
    }
}

/// What they read when it closes.
pub fn closed_feed_body(n: &MonitoringNotice, c: &NoticeClosure) -> NoticeMessage {
    NoticeMessage::NoticeClosed {
        notice_id: n.id.clone(),
        to: n.to.clone(),
        also_to: n.also_to.clone(),
        text: format!("检查 {} 的不合格通知已整改关闭（{}）：{}", n.accession, c.closed_by, c.correction),
        accession: n.accession.clone(),
    }
}

/// The staff of a site (code, roles as stored) whose roles the grants name on the site's
/// notices (`department_notices`); roles that do not parse are an error, not a person named on
/// nothing.
pub fn heads(staff: Vec<(String, String)>, grants: &radqc_domain::Grants) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for (code, roles) in staff {
        if grants.gets_department_notices(&crate::db::parse_roles(&roles)?) {
            out.push(code);
        }
    }
    Ok(out)
}

/// A stored notice's body; one that does not parse is a storage error.
pub fn stored(body: &str) -> Result<MonitoringNotice, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::storage(format!("a stored notice does not parse: {e}")))
}

/// A stored notice with its closing columns.
pub fn with_closure(
    body: &str,
    correction: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<String>,
) -> Result<MonitoringNotice, ApiError> {
    let mut n = stored(body)?;
    n.closed = closed_at.is_some();
    n.correction = correction;
    n.closed_by = closed_by;
    n.closed_at = closed_at.as_deref().map(crate::db::parse_ts).transpose()?;
    Ok(n)
}

/// A corrected evaluation (a new revision) settles the notice of the one it supersedes: the
/// closure that records it, or none when the payload corrects nothing.
pub fn closure_by_revision(payload: &SyncPayload) -> Option<(String, NoticeClosure)> {
    let SyncPayload::Evaluation { evaluation: e, .. } = payload else { return None };
    let previous = e.supersedes.clone()?;
    let closure = NoticeClosure {
        notice_id: format!("N-{previous}"),
        site: e.site.clone(),
        correction: format!("评分已更正（新版本 {}，{}）", e.id, e.grade.label_zh()),
        closed_by: e.reviewer.clone(),
        at: e.at,
    };
    Some((previous, closure))
}
