//! Deciding what a push does, without I/O: given the device, the last sequence number the center
//! applied for it (read inside the transaction that will write), and the batch, which entries are
//! duplicates, which apply, and which are rejected for their content (and why).
//!
//! Each backend runs the plan in the same transaction as the update of `last_seq`; that is what
//! makes a push exactly-once under retries, drops, duplicates and restarts.

use radqc_domain::{CriterionCode, Findings, Rubric};
use radqc_protocol::{
    EntryResult, EntryStatus, ErrorBody, ErrorCode, PushEntry, SyncPayload, MAX_PUSH_ENTRIES, MAX_REPORT_CHARS,
    SCHEMA_VERSION,
};

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
    /// The digest of every entry planned above the device's `last_seq`, to keep.
    pub digests: Vec<(i64, String)>,
    pub last_seq: i64,
}

/// Checks the batch's shape before any database work.
pub fn check_batch(schema: u32, entries: &[PushEntry]) -> Result<(), ApiError> {
    if schema != SCHEMA_VERSION {
        return Err(ApiError::new(
            ErrorCode::UnsupportedSchema,
            format!("push schema {schema} is not supported; this center reads schema {SCHEMA_VERSION}"),
        ));
    }
    if entries.len() > MAX_PUSH_ENTRIES {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!("{} entries in one push; at most {MAX_PUSH_ENTRIES}", entries.len()),
        ));
    }
    if let Some(first) = entries.first() {
        if first.seq < 1 {
            return Err(ApiError::new(ErrorCode::BadBatch, format!("sequence numbers start at 1, got {}", first.seq)));
        }
    }
    for pair in entries.windows(2) {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
            return Err(ApiError::new(
                ErrorCode::BadBatch,
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

/// A record the center already holds, as a plan compares it with an incoming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub site: String,
    pub accession: String,
    /// The record as stored (`rows::rows`'s `body`): equal bodies are the same record.
    pub body: String,
    /// The evaluation that supersedes this one, if any (evaluations only).
    pub superseded_by: Option<String>,
}

/// What a plan needs to know of the center's data, read inside the push's transaction. A
/// lookup that fails is an error of the whole push (a 5xx the client retries), never a verdict
/// on an entry.
pub trait Known {
    /// The digest of the entry applied (or rejected) under `seq` for this device, if the center
    /// kept one (entries applied before digests were kept have none).
    fn digest(&mut self, seq: i64) -> Result<Option<String>, ApiError>;
    /// The stored reason of an earlier rejected entry, so a duplicate is answered the same way.
    fn rejected_reason(&mut self, seq: i64) -> Result<Option<ErrorBody>, ApiError>;
    /// The site of a monitoring notice, if it exists.
    fn notice_site(&mut self, id: &str) -> Result<Option<String>, ApiError>;
    /// A stored evaluation, by id.
    fn evaluation(&mut self, id: &str) -> Result<Option<StoredRecord>, ApiError>;
    /// A stored exam event, by id.
    fn event(&mut self, id: &str) -> Result<Option<StoredRecord>, ApiError>;
}

/// The digest of an entry's payload, as sent (the store never changes an entry's text).
pub fn digest(payload: &serde_json::value::RawValue) -> String {
    radqc_domain::migrations::digest(payload.get())
}

/// The ids a batch names (its records and the evaluations its corrections supersede), for
/// backends that look them up before planning: (evaluation ids, event ids, notice ids).
pub fn named_ids(entries: &[PushEntry]) -> (Vec<String>, Vec<String>, Vec<String>) {
    #[derive(serde::Deserialize)]
    struct Entry {
        evaluation: Option<Id>,
        event: Option<Id>,
        closure: Option<Closure>,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
        #[serde(default)]
        supersedes: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Closure {
        notice_id: String,
    }
    let (mut evaluations, mut events, mut notices) = (Vec::new(), Vec::new(), Vec::new());
    for e in entries {
        let Ok(entry) = serde_json::from_str::<Entry>(e.payload.get()) else { continue };
        if let Some(v) = entry.evaluation {
            evaluations.push(v.id);
            evaluations.extend(v.supersedes);
        }
        if let Some(v) = entry.event {
            events.push(v.id);
        }
        if let Some(c) = entry.closure {
            notices.push(c.notice_id);
        }
    }
    (evaluations, events, notices)
}

/// Plans a checked batch.
///
/// An entry at or below `last_seq` is a duplicate when its digest is the one applied under that
/// number; other content under a used number is a conflict (`SEQUENCE_REUSED`: a restored or
/// copied store), and planning stops there. A new entry is applied, or rejected for its content
/// (and the rejection kept as a dead letter); a record the center already holds with the same
/// content is acknowledged as a duplicate and written nowhere.
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
    let mut batch = Batch::default();
    for entry in entries {
        let digest = digest(&entry.payload);
        if entry.seq <= plan.last_seq {
            match known.digest(entry.seq)? {
                Some(stored) if stored != digest => {
                    plan.results.push(EntryResult {
                        seq: entry.seq,
                        status: EntryStatus::Conflict,
                        reason: Some(ErrorBody {
                            expected_seq: Some(last_seq + 1),
                            ..ErrorBody::new(
                                ErrorCode::SequenceReused,
                                format!(
                                    "entry {} of this device was applied with other content: this store is a \
                                     restored or copied copy and must continue as a device of its own",
                                    entry.seq
                                ),
                            )
                        }),
                    });
                    break;
                }
                _ => {
                    let reason = known.rejected_reason(entry.seq)?;
                    plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Duplicate, reason });
                    continue;
                }
            }
        }
        plan.digests.push((entry.seq, digest));
        match validate(device_site, &entry.payload, rubrics, known, &mut batch)? {
            Verdict::Apply(payload) => {
                plan.writes.push(Write::Apply { seq: entry.seq, payload });
                plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Applied, reason: None });
            }
            Verdict::Held => {
                plan.results.push(EntryResult { seq: entry.seq, status: EntryStatus::Duplicate, reason: None });
            }
            Verdict::Reject(reason) => {
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

/// What the batch planned so far adds to the stored data (later entries see it).
#[derive(Default)]
struct Batch {
    evaluations: std::collections::HashMap<String, StoredRecord>,
    events: std::collections::HashMap<String, StoredRecord>,
    /// Evaluation id → the one this batch supersedes it with.
    superseded: std::collections::HashMap<String, String>,
}

enum Verdict {
    Apply(Box<SyncPayload>),
    /// The center already holds this record, with the same content: nothing to write.
    Held,
    Reject(ErrorBody),
}

impl From<ErrorBody> for Verdict {
    fn from(reason: ErrorBody) -> Self {
        Verdict::Reject(reason)
    }
}

/// Whether the batch or the center already holds a record with this id: `Held` for the same
/// content of the same site, a rejection for anything else.
fn collision(
    what: &str,
    id: &str,
    site: &str,
    body: &str,
    planned: Option<&StoredRecord>,
    stored: Option<StoredRecord>,
) -> Option<Verdict> {
    let held = planned.cloned().or(stored)?;
    if held.site != site {
        return Some(Verdict::Reject(ErrorBody::new(
            ErrorCode::IdConflict,
            format!("{what} {id} already exists at another site ({})", held.site),
        )));
    }
    if held.body != body {
        return Some(Verdict::Reject(ErrorBody::new(
            ErrorCode::IdConflict,
            format!("{what} {id} already exists with other content; a change is a correction with an id of its own"),
        )));
    }
    Some(Verdict::Held)
}

/// Whether an entry's content may enter the region's data. `Err` only for a failed lookup.
fn validate(
    device_site: &str,
    payload: &serde_json::value::RawValue,
    rubrics: &dyn Rubrics,
    known: &mut dyn Known,
    batch: &mut Batch,
) -> Result<Verdict, ApiError> {
    let reject = |code: ErrorCode, message: String| Ok(Verdict::Reject(ErrorBody::new(code, message)));
    // No text of the region's data holds a NUL (PostgreSQL cannot store one; nothing means one).
    if payload.get().contains("\\u0000") {
        return reject(ErrorCode::InvalidPayload, "the entry holds a NUL character (\\u0000)".to_owned());
    }
    let payload: SyncPayload = match serde_json::from_str(payload.get()) {
        Ok(p) => p,
        Err(e) => return reject(ErrorCode::InvalidPayload, format!("the entry is not a valid sync payload: {e}")),
    };
    if let Some(other) = payload.sites().into_iter().find(|s| s.as_str() != device_site) {
        return reject(
            ErrorCode::SiteMismatch,
            format!("this device acts for site {device_site}, the entry is for site {other}"),
        );
    }
    match &payload {
        SyncPayload::NoticeClosed { closure } => {
            match known.notice_site(&closure.notice_id)? {
                None => return reject(ErrorCode::UnknownNotice, format!("no monitoring notice {}", closure.notice_id)),
                Some(site) if site != device_site => {
                    return reject(
                        ErrorCode::SiteMismatch,
                        format!("notice {} belongs to site {site}", closure.notice_id),
                    )
                }
                Some(_) => {}
            }
            let chars = closure.correction.trim().chars().count();
            if chars == 0 || chars > 2000 {
                return reject(
                    ErrorCode::InvalidPayload,
                    "the correction (整改) must say what was done, in 1-2000 characters".to_owned(),
                );
            }
        }
        SyncPayload::Evaluation { evaluation: e, exam } => {
            if let Err(reason) = check_ids(e) {
                return Ok(Verdict::Reject(reason));
            }
            if let Some(reason) = check_rubric(e, rubrics) {
                return Ok(Verdict::Reject(reason));
            }
            if e.accession != exam.accession {
                return reject(
                    ErrorCode::InvalidPayload,
                    format!("evaluation {} names exam {}, the entry carries {}", e.id, e.accession, exam.accession),
                );
            }
            let body = serde_json::to_string(e.as_ref()).expect("an evaluation serializes");
            let stored = if batch.evaluations.contains_key(&e.id) { None } else { known.evaluation(&e.id)? };
            if let Some(verdict) =
                collision("evaluation", &e.id, device_site, &body, batch.evaluations.get(&e.id), stored)
            {
                return Ok(verdict);
            }
            if let Some(previous) = &e.supersedes {
                let original = match batch.evaluations.get(previous) {
                    Some(planned) => Some(planned.clone()),
                    None => known.evaluation(previous)?,
                };
                if let Some(original) = original {
                    if original.site != device_site {
                        return reject(
                            ErrorCode::SiteMismatch,
                            format!(
                                "evaluation {} corrects evaluation {previous} of site {}; a device corrects only its own site's",
                                e.id, original.site
                            ),
                        );
                    }
                    if original.accession != e.accession {
                        return reject(
                            ErrorCode::InvalidPayload,
                            format!(
                                "evaluation {} corrects evaluation {previous} of exam {}, not of its own exam {}",
                                e.id, original.accession, e.accession
                            ),
                        );
                    }
                    let by = batch.superseded.get(previous).cloned().or(original.superseded_by);
                    if let Some(by) = by {
                        return reject(
                            ErrorCode::AlreadySuperseded,
                            format!("evaluation {previous} was already corrected by {by}; correct that one instead"),
                        );
                    }
                }
                batch.superseded.insert(previous.clone(), e.id.clone());
            }
            batch.evaluations.insert(
                e.id.clone(),
                StoredRecord {
                    site: device_site.to_owned(),
                    accession: e.accession.clone(),
                    body,
                    superseded_by: None,
                },
            );
        }
        SyncPayload::GoldRead { read } => {
            let findings = Findings {
                item: read.item,
                findings: read.findings.clone(),
                not_applicable: read.not_applicable.clone(),
            };
            let scored = (read.score, read.grade, read.pass, read.severe.clone(), read.unmet.clone());
            if let Some(reason) =
                check_score(&format!("gold read {}", read.id), &read.rubric_version, findings, scored, rubrics)
            {
                return Ok(Verdict::Reject(reason));
            }
            let chars = read.note.chars().count();
            if chars > 2000 {
                return reject(ErrorCode::InvalidPayload, "a gold read's note is at most 2000 characters".to_owned());
            }
        }
        SyncPayload::Dispute { dispute } => {
            let chars = dispute.reason.trim().chars().count();
            if chars == 0 || chars > 2000 {
                return reject(ErrorCode::InvalidPayload, "a dispute must say why, in 1-2000 characters".to_owned());
            }
        }
        SyncPayload::Exam { exam, report } => {
            if let Some(reason) = check_exam(exam) {
                return Ok(Verdict::Reject(reason));
            }
            if let Some(r) = report {
                let long = |t: &Option<String>| t.as_ref().is_some_and(|t| t.chars().count() > MAX_REPORT_CHARS);
                if long(&r.findings) || long(&r.impression) {
                    return reject(
                        ErrorCode::InvalidPayload,
                        format!(
                            "exam {}: the report's findings and impression are at most {MAX_REPORT_CHARS} characters each",
                            exam.accession
                        ),
                    );
                }
                let status = r.status.trim();
                if status.is_empty() || status.chars().count() > 8 {
                    return reject(
                        ErrorCode::InvalidPayload,
                        format!("exam {}: the report's status (OBR-25) must be 1-8 characters", exam.accession),
                    );
                }
            }
        }
        SyncPayload::ExamEvent { event, exam } => {
            if event.accession != exam.accession {
                return reject(
                    ErrorCode::InvalidPayload,
                    format!("event {} names exam {}, the entry carries {}", event.id, event.accession, exam.accession),
                );
            }
            let body = serde_json::to_string(event).expect("an event serializes");
            let stored = if batch.events.contains_key(&event.id) { None } else { known.event(&event.id)? };
            if let Some(verdict) =
                collision("exam event", &event.id, device_site, &body, batch.events.get(&event.id), stored)
            {
                return Ok(verdict);
            }
            batch.events.insert(
                event.id.clone(),
                StoredRecord {
                    site: device_site.to_owned(),
                    accession: event.accession.clone(),
                    body,
                    superseded_by: None,
                },
            );
        }
    }
    Ok(Verdict::Apply(Box::new(payload)))
}

/// An exam record's own fields are what an exam can be: an accession, an item, an age.
fn check_exam(exam: &radqc_protocol::ExamRecord) -> Option<ErrorBody> {
    let bad =
        |what: &str| Some(ErrorBody::new(ErrorCode::InvalidPayload, format!("exam {:?}: {what}", exam.accession)));
    let accession = exam.accession.trim();
    if accession.is_empty() || accession.chars().count() > 64 {
        return bad("the accession must be 1-64 characters");
    }
    let item = exam.exam_item.trim().chars().count();
    if item == 0 || item > 200 {
        return bad("the exam item (检查部位) must be 1-200 characters");
    }
    if exam.patient_age.is_some_and(|a| a > 150) {
        return bad("the patient's age must be 0-150");
    }
    if exam.patient_name.is_some() {
        return bad("an exam from the RIS carries no patient name: the center never needs one");
    }
    None
}

/// The evaluation's score is what its findings give under its rubric version.
fn check_rubric(e: &radqc_protocol::EvaluationRecord, rubrics: &dyn Rubrics) -> Option<ErrorBody> {
    let findings = Findings { item: e.item, findings: e.findings.clone(), not_applicable: e.not_applicable.clone() };
    let scored = (e.score, e.grade, e.pass, e.severe.clone(), e.unmet.clone());
    check_score(&format!("evaluation {}", e.id), &e.rubric_version, findings, scored, rubrics)
}

/// A score as sent: score, grade, pass, severe and unmet criteria.
type Scored = (Option<radqc_domain::Score>, radqc_domain::Grade, bool, Vec<CriterionCode>, Vec<CriterionCode>);

/// Whether `scored` is what `findings` give under rubric `version` (an evaluation's, a gold
/// read's): the score is the engine's, never the sender's.
pub(crate) fn check_score(
    what: &str,
    version: &str,
    findings: Findings,
    (score, grade, pass, severe, unmet): Scored,
    rubrics: &dyn Rubrics,
) -> Option<ErrorBody> {
    let Some(rubric) = rubrics.get(version) else {
        return Some(ErrorBody::new(
            ErrorCode::UnknownRubricVersion,
            format!("rubric version {version} is not known to this center"),
        ));
    };
    let verdict = match rubric.score(&findings) {
        Ok(v) => v,
        Err(err) => return Some(ErrorBody::new(ErrorCode::InvalidFindings, format!("{what}: {err}"))),
    };
    if verdict.score != score
        || verdict.grade != grade
        || verdict.pass != pass
        || verdict.severe != severe
        || verdict.unmet != unmet
    {
        return Some(ErrorBody::new(
            ErrorCode::ScoreMismatch,
            format!(
                "{what}: the findings score {:?} ({}) under rubric {version}, the entry says {:?} ({grade})",
                verdict.score.map(|s| s.get()),
                verdict.grade,
                score.map(|s| s.get()),
            ),
        ));
    }
    None
}

/// An evaluation's id is the store's UUID; it names no other record.
fn check_ids(e: &radqc_protocol::EvaluationRecord) -> Result<(), ErrorBody> {
    if e.supersedes.as_deref() == Some(e.id.as_str()) {
        return Err(ErrorBody::new(ErrorCode::InvalidPayload, format!("evaluation {} cannot correct itself", e.id)));
    }
    Ok(())
}
