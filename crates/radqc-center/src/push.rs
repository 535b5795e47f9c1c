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
        if pair[1].seq != pair[0].seq + 1 {
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

/// Plans a checked batch. `rejected_reason(seq)` gives the stored reason of an earlier rejected
/// entry, so that a duplicate of it is answered the same way.
pub fn plan(
    device_site: &str,
    last_seq: i64,
    entries: &[PushEntry],
    rubrics: &dyn Rubrics,
    rejected_reason: &mut dyn FnMut(i64) -> Option<ErrorBody>,
) -> Result<Plan, ApiError> {
    let mut plan = Plan { last_seq, ..Plan::default() };
    if let Some(first) = entries.first() {
        if first.seq > last_seq + 1 {
            return Err(ApiError::sequence_gap(last_seq + 1, first.seq));
        }
    }
    for entry in entries {
        if entry.seq <= plan.last_seq {
            let reason = rejected_reason(entry.seq);
            plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Duplicate, reason });
            continue;
        }
        match validate(device_site, &entry.payload, rubrics) {
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
) -> Result<SyncPayload, ErrorBody> {
    let payload: SyncPayload = serde_json::from_str(payload.get())
        .map_err(|e| ErrorBody::new("INVALID_PAYLOAD", format!("the entry is not a valid sync payload: {e}")))?;
    let exam = payload.exam();
    let record_site = match &payload {
        SyncPayload::Evaluation { evaluation, .. } => evaluation.site.as_str(),
        SyncPayload::ExamEvent { event, .. } => event.site.as_str(),
    };
    if exam.site.as_str() != device_site || record_site != device_site {
        return Err(ErrorBody::new(
            "SITE_MISMATCH",
            format!("this device acts for site {device_site}, the entry is for site {}", exam.site),
        ));
    }
    if let SyncPayload::Evaluation { evaluation: e, .. } = &payload {
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
