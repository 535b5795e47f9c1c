//! Deciding what a push does, without I/O: given the device, the last sequence number the center
//! applied for it (read inside the transaction that will write), and the batch, which entries are
//! duplicates, which apply, and which are rejected for their content (and why).
//!
//! Each backend runs the plan in the same transaction as the update of `last_seq`; that is what
//! makes a push exactly-once under retries, drops, duplicates and restarts.

use radqc_domain::{Findings, Rubric};
use radqc_protocol::{EntryResult, EntryStatus, ErrorBody, PushEntry, SyncPayload, MAX_PUSH_ENTRIES, SCHEMA_VERSION};

use crate::error::ApiError;

/// One write the backend performs for an entry.
#[derive(Debug)]
pub enum Write {
    Apply { seq: i64, payload: Box<SyncPayload> },
    Reject { seq: i64, reason: ErrorBody, payload: String },
}

#[derive(Debug, Default)]
pub struct Plan {
    pub results: Vec<EntryResult>,
    pub writes: Vec<Write>,
    pub last_seq: i64,
}

/// Checks the batch's shape before any database work.
pub fn check_batch(schema: u32, entries: &[PushEntry]) -> Result<(), ApiError> {
    if schema != SCHEMA_VERSION {
        return Err(ApiError::bad_request(
            "UNSUPPORTED_SCHEMA",
            format!("push schema {schema} is not supported; this center reads schema {SCHEMA_VERSION}"),
        ));
    }
    if entries.len() > MAX_PUSH_ENTRIES {
        return Err(ApiError::bad_request(
            "BATCH_TOO_LARGE",
            format!("{} entries in one push; at most {MAX_PUSH_ENTRIES}", entries.len()),
        ));
    }
    if let Some(first) = entries.first() {
        if first.seq < 1 {
            return Err(ApiError::bad_request("BAD_BATCH", format!("sequence numbers start at 1, got {}", first.seq)));
        }
    }
    for pair in entries.windows(2) {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
            return Err(ApiError::bad_request(
                "BAD_BATCH",
                format!("entries must be consecutive: {} is followed by {}", pair[0].seq, pair[1].seq),
            ));
        }
    }
    Ok(())
}

/// A rubric version the center knows, by its version string.
pub trait Rubrics {
    fn get(&self, version: &str) -> Option<&Rubric>;
}

/// What a plan needs to know of the center's data, read inside the push's transaction.
pub trait Known {
    /// The stored reason of an earlier rejected entry, so a duplicate is answered the same way.
    fn rejected_reason(&mut self, seq: i64) -> Option<ErrorBody>;
    /// The site of a monitoring notice, if it exists.
    fn notice_site(&mut self, id: &str) -> Option<String>;
}

/// The notices a batch closes (a cheap partial parse), for backends that look them up first.
pub fn notice_ids(entries: &[PushEntry]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        closure: Option<Closure>,
    }
    #[derive(serde::Deserialize)]
    struct Closure {
        notice_id: String,
    }
    entries
        .iter()
        .filter_map(|e| serde_json::from_str::<Entry>(e.payload.get()).ok()?.closure.map(|c| c.notice_id))
        .collect()
}

/// Plans a checked batch.
pub fn plan(
    device_site: &str,
    last_seq: i64,
    entries: &[PushEntry],
    rubrics: &dyn Rubrics,
    known: &mut dyn Known,
) -> Result<Plan, ApiError> {
    let mut plan = Plan { last_seq, ..Plan::default() };
    if let Some(first) = entries.first() {
        if first.seq > last_seq + 1 {
            return Err(ApiError::sequence_gap(last_seq + 1, first.seq));
        }
    }
    for entry in entries {
        if entry.seq <= plan.last_seq {
            let reason = known.rejected_reason(entry.seq);
            plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Duplicate, reason });
            continue;
        }
        match validate(device_site, &entry.payload, rubrics, known) {
            Ok(payload) => {
                plan.writes.push(Write::Apply { seq: entry.seq, payload: Box::new(payload) });
                plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Applied, reason: None });
            }
            Err(reason) => {
                plan.writes.push(Write::Reject {
                    seq: entry.seq,
                    reason: reason.clone(),
                    payload: entry.payload.get().to_owned(),
                });
                plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Rejected, reason: Some(reason) });
            }
        }
        plan.last_seq = entry.seq;
    }
    Ok(plan)
}

/// Whether an entry's content may enter the region's data.
fn validate(
    device_site: &str,
    payload: &serde_json::value::RawValue,
    rubrics: &dyn Rubrics,
    known: &mut dyn Known,
) -> Result<SyncPayload, ErrorBody> {
    let payload: SyncPayload = serde_json::from_str(payload.get())
        .map_err(|e| ErrorBody::new("INVALID_PAYLOAD", format!("the entry is not a valid sync payload: {e}")))?;
    if let Some(other) = payload.sites().into_iter().find(|s| s.as_str() != device_site) {
        return Err(ErrorBody::new(
            "SITE_MISMATCH",
            format!("this device acts for site {device_site}, the entry is for site {other}"),
        ));
    }
    if let SyncPayload::NoticeClosed { closure } = &payload {
        match known.notice_site(&closure.notice_id) {
            None => {
                return Err(ErrorBody::new("UNKNOWN_NOTICE", format!("no monitoring notice {}", closure.notice_id)))
            }
            Some(site) if site != device_site => {
                return Err(ErrorBody::new(
                    "SITE_MISMATCH",
                    format!("notice {} belongs to site {site}", closure.notice_id),
                ))
            }
            Some(_) => {}
        }
        let chars = closure.correction.trim().chars().count();
        if chars == 0 || chars > 2000 {
            return Err(ErrorBody::new(
                "INVALID_PAYLOAD",
                "the correction (整改) must say what was done, in 1-2000 characters",
            ));
        }
    }
    if let SyncPayload::Evaluation { evaluation: e, exam } = &payload {
        let Some(rubric) = rubrics.get(&e.rubric_version) else {
            return Err(ErrorBody::new(
                "UNKNOWN_RUBRIC_VERSION",
                format!("rubric version {} is not known to this center", e.rubric_version),
            ));
        };
        let findings =
            Findings { item: e.item, findings: e.findings.clone(), not_applicable: e.not_applicable.clone() };
        let verdict = rubric
            .score(&findings)
            .map_err(|err| ErrorBody::new("INVALID_FINDINGS", format!("evaluation {}: {err}", e.id)))?;
        if verdict.score != e.score
            || verdict.grade != e.grade
            || verdict.pass != e.pass
            || verdict.severe != e.severe
            || verdict.unmet != e.unmet
        {
            return Err(ErrorBody::new(
                "SCORE_MISMATCH",
                format!(
                    "evaluation {}: the findings score {:?} ({}) under rubric {}, the entry says {:?} ({})",
                    e.id,
                    verdict.score.map(|s| s.get()),
                    verdict.grade,
                    e.rubric_version,
                    e.score.map(|s| s.get()),
                    e.grade
                ),
            ));
        }
        if e.accession != exam.accession {
            return Err(ErrorBody::new(
                "INVALID_PAYLOAD",
                format!("evaluation {} names exam {}, the entry carries {}", e.id, e.accession, exam.accession),
            ));
        }
    }
    if let SyncPayload::ExamEvent { event, exam } = &payload {
        if event.accession != exam.accession {
            return Err(ErrorBody::new(
                "INVALID_PAYLOAD",
                format!("event {} names exam {}, the entry carries {}", event.id, event.accession, exam.accession),
            ));
        }
    }
    Ok(payload)
}
