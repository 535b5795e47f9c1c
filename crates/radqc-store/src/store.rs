//! The store's API: save and correct evaluations, record exam events, find exams, drain the
//! outbox, keep the audit log. Every write is one transaction; a save that returned is on disk.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use radqc_domain::{Applicability, ExamEventKind, ExamStaff, Findings, ItemCode, Rubric, SiteCode, StaffCode};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::error::{invalid, StoreError};
use crate::model::*;
use crate::open::{self, Key};

/// An open local store.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) site: SiteCode,
    pub(crate) device_id: String,
    patient_salt: String,
    pub(crate) store_patient_names: bool,
    rubric: Rubric,
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_col<T: FromStr>(s: &str) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    s.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn opt_parse<T: FromStr>(s: Option<String>) -> rusqlite::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    s.map(|s| parse_col(&s)).transpose()
}

const MAX_NOTE_CHARS: usize = 2000;
/// How far in the future an evaluation's `at` may be: the clock skew allowed between the
/// workstation that scored and this one.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
const MAX_TEXT_CHARS: usize = 128;

/// A short free-text field (accession, exam item, department): present, trimmed, no control characters.
fn check_text(field: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(field, format!("is longer than {MAX_TEXT_CHARS} characters")));
    }
    if value.chars().any(char::is_control) || value != value.trim() {
        return Err(invalid(field, "has control characters or surrounding spaces"));
    }
    Ok(())
}

/// The exam's fields, and its site: a store holds its own site's exams only.
fn check_exam(exam: &ExamInput, own: &SiteCode) -> Result<(), StoreError> {
    if let Some(site) = exam.site.as_ref().filter(|s| *s != own) {
        return Err(invalid("exam.site", format!("is {site}, but this store belongs to site {own}")));
    }
    check_text("exam.accession", &exam.accession)?;
    check_text("exam.exam_item", &exam.exam_item)?;
    if let Some(d) = &exam.department {
        check_text("exam.department", d)?;
    }
    if let Some(p) = &exam.patient {
        if let Some(age) = p.age {
            if age > 150 {
                return Err(invalid("exam.patient.age", format!("{age} is not an age")));
            }
        }
        if let Some(id) = &p.id {
            check_text("exam.patient.id", id)?;
        }
        if let Some(name) = &p.name {
            check_text("exam.patient.name", name)?;
        }
    }
    Ok(())
}

macro_rules! exam_columns {
    () => {
        "x.site, x.accession, x.modality, x.exam_item, x.department, x.patient_source, x.follow_up, \
    x.film_printed, x.reconstruction, x.technologist, x.reporting_doctor, x.auditing_doctor, x.ordering_clinician, \
    x.patient_hash, x.patient_sex, x.patient_age, x.patient_name, x.performed_at, x.performed_at_source, \
    (SELECT count(*) FROM evaluations v WHERE v.exam_id = x.id AND NOT EXISTS (SELECT 1 FROM evaluations s WHERE s.supersedes = v.id)), \
    x.cancelled"
    };
}
pub(crate) const EXAM_COLUMNS: &str = exam_columns!();
/// An exam by its row id (the save's read-back, a cached statement).
const EXAM_BY_ID: &str = concat!("SELECT ", exam_columns!(), " FROM exams x WHERE x.id = ?1");

pub(crate) fn exam_from_row(r: &Row) -> rusqlite::Result<ExamRecord> {
    Ok(ExamRecord {
        site: parse_col(&r.get::<_, String>(0)?)?,
        accession: r.get(1)?,
        modality: parse_col(&r.get::<_, String>(2)?)?,
        exam_item: r.get(3)?,
        department: r.get(4)?,
        patient_source: opt_parse(r.get(5)?)?,
        follow_up: r.get(6)?,
        film_printed: r.get(7)?,
        reconstruction: r.get(8)?,
        staff: ExamStaff {
            technologist: opt_parse(r.get(9)?)?,
            reporting_doctor: opt_parse(r.get(10)?)?,
            auditing_doctor: opt_parse(r.get(11)?)?,
            ordering_clinician: opt_parse(r.get(12)?)?,
        },
        patient_hash: r.get(13)?,
        patient_sex: opt_parse(r.get(14)?)?,
        patient_age: r.get(15)?,
        patient_name: r.get(16)?,
        performed_at: r.get::<_, Option<String>>(17)?.map(|s| parse_ts(&s)).transpose()?,
        performed_at_source: r.get::<_, Option<String>>(18)?.as_deref().and_then(PerformedAtSource::parse),
        evaluations: r.get(19)?,
        cancelled: r.get(20)?,
    })
}

const EVALUATION_COLUMNS: &str = "e.id, x.site, x.accession, e.item, e.reviewer, e.scored_person, e.mode, e.findings, \
    e.not_applicable, e.score, e.grade, e.pass, e.severe, e.unmet, e.rubric_version, e.note, e.at, e.supersedes, \
    (SELECT s.id FROM evaluations s WHERE s.supersedes = e.id)";

fn evaluation_from_row(r: &Row) -> rusqlite::Result<EvaluationRecord> {
    Ok(EvaluationRecord {
        id: r.get(0)?,
        site: parse_col(&r.get::<_, String>(1)?)?,
        accession: r.get(2)?,
        item: parse_col(&r.get::<_, String>(3)?)?,
        reviewer: parse_col(&r.get::<_, String>(4)?)?,
        scored_person: opt_parse(r.get(5)?)?,
        mode: parse_col(&r.get::<_, String>(6)?)?,
        findings: parse_json(&r.get::<_, String>(7)?)?,
        not_applicable: parse_json(&r.get::<_, String>(8)?)?,
        score: r
            .get::<_, Option<u8>>(9)?
            .map(|s| {
                radqc_domain::Score::new(s).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Integer, Box::new(e))
                })
            })
            .transpose()?,
        grade: parse_col(&r.get::<_, String>(10)?)?,
        pass: r.get(11)?,
        severe: parse_json(&r.get::<_, String>(12)?)?,
        unmet: parse_json(&r.get::<_, String>(13)?)?,
        rubric_version: r.get(14)?,
        note: r.get(15)?,
        at: parse_ts(&r.get::<_, String>(16)?)?,
        supersedes: r.get(17)?,
        superseded_by: r.get(18)?,
    })
}

fn outbox_from_row(r: &Row) -> rusqlite::Result<OutboxEntry> {
    let state: String = r.get(4)?;
    Ok(OutboxEntry {
        seq: r.get(0)?,
        kind: r.get(1)?,
        ref_id: r.get(2)?,
        payload: r.get(3)?,
        state: match state.as_str() {
            "pending" => OutboxState::Pending,
            "sent" => OutboxState::Sent,
            _ => OutboxState::Rejected,
        },
        reason: r.get(5)?,
        created_at: parse_ts(&r.get::<_, String>(6)?)?,
    })
}

impl Store {
    /// Creates a new store for `site` at `path`, encrypted with `key`.
    pub fn create(path: &Path, key: &Key, site: &SiteCode, now: DateTime<Utc>) -> Result<Store, StoreError> {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| invalid("salt", e.to_string()))?;
        let meta = [
            ("site", site.to_string()),
            ("device_id", uuid::Uuid::new_v4().to_string()),
            ("patient_salt", hex::encode(salt)),
            ("store_patient_names", "0".to_owned()),
            ("created_at", ts(now)),
        ];
        // The schema and the meta commit together: a store either has its site or does not exist.
        let conn = open::create(path, key, &meta)?;
        Self::from_conn(conn, path)
    }

    /// Opens an existing store. A file that is not a RadQC store of a schema this build knows,
    /// or that the key does not open, is refused without being changed.
    pub fn open(path: &Path, key: &Key) -> Result<Store, StoreError> {
        let conn = open::open_existing(path, key)?;
        Self::from_conn(conn, path)
    }

    /// Opens an existing store read-only, holding it exclusively while open: for reading on a
    /// full disk (an export). Every write through it fails.
    pub fn open_read_only(path: &Path, key: &Key) -> Result<Store, StoreError> {
        let conn = open::open_read_only(path, key)?;
        Self::from_conn(conn, path)
    }

    fn from_conn(conn: Connection, path: &Path) -> Result<Store, StoreError> {
        let meta = |k: &str| -> Result<String, StoreError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()?
                .ok_or_else(|| invalid("meta", format!("the store has no `{k}`")))
        };
        let site = meta("site")?.parse().map_err(|e: radqc_domain::CodeError| invalid("meta.site", e.to_string()))?;
        let device_id = meta("device_id")?;
        let patient_salt = meta("patient_salt")?;
        let store_patient_names = meta("store_patient_names")? == "1";
        Ok(Store {
            conn,
            path: path.to_owned(),
            site,
            device_id,
            patient_salt,
            store_patient_names,
            rubric: Rubric::bundled().clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn site(&self) -> &SiteCode {
        &self.site
    }
    /// The device this store is now, as its file says (a fork made through another connection
    /// to the same file changes it); the id it opened with if the file cannot be read.
    pub fn device_id(&self) -> String {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0))
            .unwrap_or_else(|_| self.device_id.clone())
    }
    pub fn rubric(&self) -> &Rubric {
        &self.rubric
    }
    /// Scores with another rubric version from now on (the one the center published).
    pub fn set_rubric(&mut self, rubric: Rubric) {
        self.rubric = rubric;
    }

    /// Caps the file at `pages` pages (4 KiB each): a quota for small disks, and how the tests
    /// make a disk full.
    pub fn set_max_pages(&self, pages: u32) -> Result<(), StoreError> {
        self.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Turns storing patient names on or off for this site (off by default: QC needs no names).
    pub fn set_store_patient_names(&mut self, on: bool) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE meta SET value = ?1 WHERE key = 'store_patient_names'", [if on { "1" } else { "0" }])?;
        self.store_patient_names = on;
        Ok(())
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    pub(crate) fn patient_hash(&self, id: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.patient_salt.as_bytes());
        h.update(b"\0");
        h.update(id.as_bytes());
        hex::encode(h.finalize())
    }

    /// Inserts the exam or updates it with what the caller now knows; returns its row id.
    fn upsert_exam(
        &self,
        tx: &Connection,
        exam: &ExamInput,
        now: DateTime<Utc>,
    ) -> Result<(i64, ExamRecord), StoreError> {
        let site = exam.site.clone().unwrap_or_else(|| self.site.clone());
        let patient = exam.patient.as_ref();
        let hash = patient.and_then(|p| p.id.as_deref()).map(|id| self.patient_hash(id));
        let name = if self.store_patient_names { patient.and_then(|p| p.name.clone()) } else { None };
        let s = &exam.staff;
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO exams (site, accession, modality, exam_item, department, patient_source, follow_up,
                 film_printed, reconstruction, technologist, reporting_doctor, auditing_doctor, ordering_clinician,
                 patient_hash, patient_sex, patient_age, patient_name, performed_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
             ON CONFLICT (site, accession) DO UPDATE SET
                 modality = excluded.modality,
                 exam_item = excluded.exam_item,
                 department = coalesce(excluded.department, department),
                 patient_source = coalesce(excluded.patient_source, patient_source),
                 follow_up = max(excluded.follow_up, follow_up),
                 film_printed = coalesce(excluded.film_printed, film_printed),
                 reconstruction = coalesce(excluded.reconstruction, reconstruction),
                 technologist = coalesce(excluded.technologist, technologist),
                 reporting_doctor = coalesce(excluded.reporting_doctor, reporting_doctor),
                 auditing_doctor = coalesce(excluded.auditing_doctor, auditing_doctor),
                 ordering_clinician = coalesce(excluded.ordering_clinician, ordering_clinician),
                 patient_hash = coalesce(excluded.patient_hash, patient_hash),
                 patient_sex = coalesce(excluded.patient_sex, patient_sex),
                 patient_age = coalesce(excluded.patient_age, patient_age),
                 patient_name = coalesce(excluded.patient_name, patient_name),
                 performed_at = coalesce(excluded.performed_at, performed_at),
                 performed_at_source = CASE WHEN excluded.performed_at IS NULL THEN performed_at_source END
             RETURNING id",
            )?
            .query_row(
                params![
                    site.as_str(),
                    exam.accession,
                    exam.modality.as_str(),
                    exam.exam_item,
                    exam.department,
                    exam.patient_source.map(|p| p.as_str()),
                    exam.follow_up,
                    exam.film_printed,
                    exam.reconstruction,
                    s.technologist.as_ref().map(StaffCode::as_str),
                    s.reporting_doctor.as_ref().map(StaffCode::as_str),
                    s.auditing_doctor.as_ref().map(StaffCode::as_str),
                    s.ordering_clinician.as_ref().map(StaffCode::as_str),
                    hash,
                    patient.and_then(|p| p.sex).map(|x| x.as_str()),
                    patient.and_then(|p| p.age),
                    name,
                    exam.performed_at.map(ts),
                    ts(now),
                ],
                |r| r.get(0),
            )?;
        let record = tx.prepare_cached(EXAM_BY_ID)?.query_row([id], exam_from_row)?;
        Ok((id, record))
    }

    pub(crate) fn enqueue(
        tx: &Connection,
        kind: &str,
        ref_id: &str,
        payload: &SyncPayload,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let json = serde_json::to_string(payload).map_err(|e| invalid("payload", e.to_string()))?;
        let seq: i64 = tx
            .prepare_cached(
                "INSERT INTO outbox (seq, kind, ref_id, created_at)
             VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?1, ?2, ?3) RETURNING seq",
            )?
            .query_row(params![kind, ref_id, ts(now)], |r| r.get(0))?;
        tx.prepare_cached("INSERT INTO outbox_payload (seq, payload) VALUES (?1, ?2)")?.execute(params![seq, json])?;
        Ok(seq)
    }

    pub(crate) fn log(
        tx: &Connection,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tx.prepare_cached("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![ts(now), actor, action, subject, detail])?;
        Ok(())
    }

    /// Validates, scores and saves an evaluation with its exam, its outbox entry and its audit
    /// line, in one durable transaction. When this returns Ok, the evaluation is on disk.
    pub fn save_evaluation(
        &mut self,
        input: &NewEvaluation,
        now: DateTime<Utc>,
    ) -> Result<EvaluationRecord, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let record = self.insert_evaluation(&tx, input, now)?;
        tx.commit()?;
        Ok(record)
    }

    /// Saves many evaluations in one durable transaction (imports, and tests that need a month of
    /// data). Each invalid one gets its error and changes nothing; the valid ones commit together.
    /// An error of the store itself (a full disk) saves none and is the outer error.
    pub fn save_batch(
        &mut self,
        inputs: &[NewEvaluation],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<EvaluationRecord, StoreError>>, StoreError> {
        let mut tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(inputs.len());
        for input in inputs {
            let sp = tx.savepoint()?;
            match self.insert_evaluation(&sp, input, now) {
                Ok(r) => {
                    sp.commit()?;
                    results.push(Ok(r));
                }
                Err(e @ (StoreError::Sqlite(_) | StoreError::DiskFull)) => return Err(e),
                Err(e) => results.push(Err(e)),
            }
        }
        tx.commit()?;
        Ok(results)
    }

    /// Validates, scores and writes an evaluation with its exam, outbox entry and audit line,
    /// inside the caller's transaction.
    fn insert_evaluation(
        &self,
        tx: &Connection,
        input: &NewEvaluation,
        now: DateTime<Utc>,
    ) -> Result<EvaluationRecord, StoreError> {
        check_exam(&input.exam, &self.site)?;
        if input.note.chars().count() > MAX_NOTE_CHARS {
            return Err(invalid("note", format!("is longer than {MAX_NOTE_CHARS} characters")));
        }
        if let Some(at) = input.at.filter(|at| *at > now + MAX_CLOCK_SKEW) {
            return Err(invalid(
                "at",
                format!(
                    "{} is in the future (now {}; at most {} minutes of clock skew)",
                    ts(at),
                    ts(now),
                    MAX_CLOCK_SKEW.num_minutes()
                ),
            ));
        }
        let findings = Findings {
            item: input.item,
            findings: input.findings.clone(),
            not_applicable: input.not_applicable.clone(),
        };
        let verdict = self.rubric.score(&findings)?;
        let item = self.rubric.item(input.item);
        let at = input.at.unwrap_or(now);
        let site = input.exam.site.clone().unwrap_or_else(|| self.site.clone());
        let scored_person = input.exam.staff.person_in(item.scored_role).cloned();
        let rubric_version = self.rubric.version.clone();
        let id = uuid::Uuid::now_v7().to_string();
        let mut sorted_findings = input.findings.clone();
        sorted_findings.sort();

        if let Some(prev) = &input.supersedes {
            let found: Option<(String, String, String, Option<String>, String)> = tx
                .query_row(
                    "SELECT x.site, x.accession, e.item, (SELECT s.id FROM evaluations s WHERE s.supersedes = e.id), e.mode
                     FROM evaluations e JOIN exams x ON x.id = e.exam_id WHERE e.id = ?1",
                    [prev],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((psite, pacc, pitem, by, pmode)) = found else {
                return Err(StoreError::UnknownEvaluation(prev.clone()));
            };
            if let Some(by) = by {
                return Err(StoreError::AlreadyCorrected { id: prev.clone(), by });
            }
            if pmode == radqc_domain::QcMode::Gold.as_str() {
                return Err(invalid(
                    "supersedes",
                    format!("evaluation {prev} is a gold-standard result (7.3.1), which is final: it is not corrected"),
                ));
            }
            if psite != site.as_str() || pacc != input.exam.accession || pitem != input.item.as_str() {
                return Err(invalid(
                    "supersedes",
                    format!("evaluation {prev} is of item {pitem} of exam {psite}/{pacc}: a correction keeps the exam and the item"),
                ));
            }
        }
        let (exam_id, exam) = self.upsert_exam(tx, &input.exam, now)?;
        // What the exam is known to be, with what this evaluation states (the caller's
        // transaction rolls the upsert back on a refusal).
        check_applies(item, &exam)?;
        let codes = |v: &[radqc_domain::CriterionCode]| serde_json::to_string(v).expect("codes serialize");
        tx.prepare_cached(
            "INSERT INTO evaluations (id, exam_id, item, reviewer, scored_person, mode, findings, not_applicable,
                 score, grade, pass, severe, unmet, rubric_version, note, at, supersedes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?
        .execute(params![
            id,
            exam_id,
            input.item.as_str(),
            input.reviewer.as_str(),
            scored_person.as_ref().map(StaffCode::as_str),
            input.mode.as_str(),
            codes(&sorted_findings),
            codes(&verdict.not_applicable),
            verdict.score.map(|s| s.get()),
            verdict.grade.as_str(),
            verdict.pass,
            codes(&verdict.severe),
            codes(&verdict.unmet),
            rubric_version,
            input.note,
            ts(at),
            input.supersedes,
        ])?;
        let record = EvaluationRecord {
            id: id.clone(),
            site,
            accession: input.exam.accession.clone(),
            item: input.item,
            reviewer: input.reviewer.clone(),
            scored_person,
            mode: input.mode,
            findings: sorted_findings,
            not_applicable: verdict.not_applicable.clone(),
            score: verdict.score,
            grade: verdict.grade,
            pass: verdict.pass,
            severe: verdict.severe.clone(),
            unmet: verdict.unmet.clone(),
            rubric_version,
            note: input.note.clone(),
            at: parse_ts(&ts(at))?,
            supersedes: input.supersedes.clone(),
            superseded_by: None,
        };
        let payload = SyncPayload::Evaluation { exam, evaluation: Box::new(record.clone()) };
        Self::enqueue(tx, "evaluation", &id, &payload, now)?;
        let action = if input.supersedes.is_some() { "corrected" } else { "scored" };
        let detail =
            format!("{} {} {}", input.item, verdict.grade, verdict.score.map(|s| s.to_string()).unwrap_or_default());
        Self::log(tx, input.reviewer.as_str(), action, Some(&id), Some(detail.trim_end()), now)?;
        Ok(record)
    }

    /// Records that a report was signed or audited: the denominator of workload and sampling.
    pub fn record_event(
        &mut self,
        exam: &ExamInput,
        kind: ExamEventKind,
        staff: &StaffCode,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ExamEventRecord, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let event = self.insert_event(&tx, exam, kind, staff, at, now)?;
        tx.commit()?;
        Ok(event)
    }

    /// Records many exam events in one durable transaction (all or none).
    pub fn record_events(
        &mut self,
        events: &[(ExamInput, ExamEventKind, StaffCode, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<ExamEventRecord>, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(events.len());
        for (exam, kind, staff, at) in events {
            out.push(self.insert_event(&tx, exam, *kind, staff, *at, now)?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn insert_event(
        &self,
        tx: &Connection,
        exam: &ExamInput,
        kind: ExamEventKind,
        staff: &StaffCode,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ExamEventRecord, StoreError> {
        check_exam(exam, &self.site)?;
        let id = uuid::Uuid::now_v7().to_string();
        let (exam_id, mut exam_record) = self.upsert_exam(tx, exam, now)?;
        if kind == ExamEventKind::ReportSigned && exam_record.performed_at.is_none() {
            // No performing time known: the signing is the best time there is, marked as such,
            // so the exam counts in the workload until the exam's data gives the real one.
            tx.execute(
                "UPDATE exams SET performed_at = ?2, performed_at_source = ?3 WHERE id = ?1 AND performed_at IS NULL",
                params![exam_id, ts(at), PerformedAtSource::Signed.as_str()],
            )?;
            exam_record.performed_at = Some(parse_ts(&ts(at))?);
            exam_record.performed_at_source = Some(PerformedAtSource::Signed);
        }
        tx.prepare_cached("INSERT INTO exam_events (id, exam_id, kind, staff, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![id, exam_id, kind.as_str(), staff.as_str(), ts(at)])?;
        let event = ExamEventRecord {
            id: id.clone(),
            site: exam_record.site.clone(),
            accession: exam_record.accession.clone(),
            kind,
            staff: staff.clone(),
            at: parse_ts(&ts(at))?,
        };
        Self::enqueue(tx, "exam_event", &id, &SyncPayload::ExamEvent { exam: exam_record, event: event.clone() }, now)?;
        Ok(event)
    }

    /// Appends to the audit log (opened, exported, …); saving and correcting log themselves.
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        Self::log(&tx, actor, action, subject, detail, now)?;
        tx.commit()?;
        Ok(())
    }

    /// How many times `actor` did `action` since `since`: counted in SQL, because the signing
    /// path asks it on every signature and the log only grows.
    pub fn count_audit(&self, action: &str, actor: &str, since: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM audit_log WHERE action = ?1 AND actor = ?2 AND at >= ?3")?
            .query_row(params![action, actor, ts(since)], |r| r.get(0))?)
    }

    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT at, actor, action, subject, detail FROM audit_log ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(AuditEntry {
                at: parse_ts(&r.get::<_, String>(0)?)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                subject: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The exam with this accession at `site` (the store's own site when `None`).
    pub fn exam(&self, site: Option<&SiteCode>, accession: &str) -> Result<Option<ExamRecord>, StoreError> {
        let site = site.unwrap_or(&self.site);
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {EXAM_COLUMNS} FROM exams x WHERE x.site = ?1 AND x.accession = ?2"),
                params![site.as_str(), accession],
                exam_from_row,
            )
            .optional()?)
    }

    /// Exams matching every given filter, newest first.
    pub fn find_exams(&self, f: &ExamFilter) -> Result<Vec<ExamRecord>, StoreError> {
        let mut sql = format!("SELECT {EXAM_COLUMNS} FROM exams x WHERE 1 = 1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let mut add = |clause: &str, value: Box<dyn rusqlite::ToSql>| {
            args.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(from) = f.from {
            add(" AND coalesce(x.performed_at, x.created_at) >= ?", Box::new(ts(from)));
        }
        if let Some(to) = f.to {
            add(" AND coalesce(x.performed_at, x.created_at) < ?", Box::new(ts(to)));
        }
        if let Some(site) = &f.site {
            add(" AND x.site = ?", Box::new(site.to_string()));
        }
        if let Some(m) = &f.modality {
            add(" AND x.modality = ?", Box::new(m.to_string()));
        }
        if let Some(i) = &f.exam_item {
            add(" AND x.exam_item = ?", Box::new(i.clone()));
        }
        if let Some(d) = &f.department {
            add(" AND x.department = ?", Box::new(d.clone()));
        }
        if let Some(s) = &f.staff {
            add(
                " AND ? IN (x.technologist, x.reporting_doctor, x.auditing_doctor, x.ordering_clinician)",
                Box::new(s.to_string()),
            );
        }
        if let Some(score) = f.score {
            add(
                " AND EXISTS (SELECT 1 FROM evaluations v WHERE v.exam_id = x.id AND v.score = ? \
                   AND NOT EXISTS (SELECT 1 FROM evaluations s WHERE s.supersedes = v.id))",
                Box::new(score.get()),
            );
        }
        match f.evaluated {
            Some(true) => sql.push_str(" AND EXISTS (SELECT 1 FROM evaluations v WHERE v.exam_id = x.id)"),
            Some(false) => sql.push_str(" AND NOT EXISTS (SELECT 1 FROM evaluations v WHERE v.exam_id = x.id)"),
            None => {}
        }
        sql.push_str(" ORDER BY coalesce(x.performed_at, x.created_at) DESC, x.id DESC");
        if let Some(limit) = f.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter().map(|b| b.as_ref())), exam_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every evaluation, revisions included, in the order they were saved.
    pub fn evaluations(&self) -> Result<Vec<EvaluationRecord>, StoreError> {
        self.query_evaluations("1 = 1", params![])
    }

    /// The evaluations of one exam, revisions included.
    pub fn evaluations_of(
        &self,
        site: Option<&SiteCode>,
        accession: &str,
    ) -> Result<Vec<EvaluationRecord>, StoreError> {
        let site = site.unwrap_or(&self.site);
        self.query_evaluations("x.site = ?1 AND x.accession = ?2", params![site.as_str(), accession])
    }

    pub fn evaluation(&self, id: &str) -> Result<Option<EvaluationRecord>, StoreError> {
        Ok(self.query_evaluations("e.id = ?1", params![id])?.pop())
    }

    fn query_evaluations(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<EvaluationRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations e JOIN exams x ON x.id = e.exam_id WHERE {filter} ORDER BY e.rowid"
        ))?;
        let rows = stmt.query_map(args, evaluation_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every exam event, in the order recorded.
    pub fn events(&self) -> Result<Vec<ExamEventRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT ev.id, x.site, x.accession, ev.kind, ev.staff, ev.at FROM exam_events ev JOIN exams x ON x.id = ev.exam_id ORDER BY ev.rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ExamEventRecord {
                id: r.get(0)?,
                site: parse_col(&r.get::<_, String>(1)?)?,
                accession: r.get(2)?,
                kind: parse_col(&r.get::<_, String>(3)?)?,
                staff: parse_col(&r.get::<_, String>(4)?)?,
                at: parse_ts(&r.get::<_, String>(5)?)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Pending outbox entries in sequence order, at most `limit`.
    pub fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_pending_after(self.seq_base()?, limit)
    }

    /// Entries the center refused, with its reasons.
    pub fn rejected_outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_outbox("o.state = 'rejected'", u32::MAX)
    }

    /// The whole outbox in sequence order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_outbox("1 = 1", u32::MAX)
    }

    pub(crate) fn query_pending_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.seq, o.kind, o.ref_id, p.payload, o.state, o.reason, o.created_at
             FROM outbox o JOIN outbox_payload p ON p.seq = o.seq
             WHERE o.state = 'pending' AND o.seq > ?1 ORDER BY o.seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq, limit], outbox_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn query_outbox_from(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT o.seq, o.kind, o.ref_id, p.payload, o.state, o.reason, o.created_at
             FROM outbox o JOIN outbox_payload p ON p.seq = o.seq WHERE o.seq >= ?1 ORDER BY o.seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq, limit], outbox_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn query_outbox(&self, filter: &str, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT o.seq, o.kind, o.ref_id, p.payload, o.state, o.reason, o.created_at
             FROM outbox o JOIN outbox_payload p ON p.seq = o.seq WHERE {filter} ORDER BY o.seq LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], outbox_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks entries as accepted by the center. Entries already sent are left as they are (a
    /// repeated acknowledgement is harmless); an unknown or rejected entry is an error and
    /// nothing is marked.
    pub fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let now = ts(now);
        {
            // Acknowledgements come in runs of consecutive numbers: one statement per run.
            let mut set = tx.prepare_cached(
                "UPDATE outbox SET state = 'sent', state_at = ?3 WHERE seq BETWEEN ?1 AND ?2 AND state = 'pending'",
            )?;
            let mut check = tx.prepare_cached(
                "SELECT seq FROM outbox WHERE seq BETWEEN ?1 AND ?2 AND state <> 'sent' ORDER BY seq LIMIT 1",
            )?;
            let mut count = tx.prepare_cached("SELECT count(*) FROM outbox WHERE seq BETWEEN ?1 AND ?2")?;
            let mut i = 0;
            while i < sorted.len() {
                let mut j = i;
                while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
                    j += 1;
                }
                let (from, to) = (sorted[i], sorted[j]);
                set.execute(params![from, to, now])?;
                if let Some(bad) = check.query_row(params![from, to], |r| r.get::<_, i64>(0)).optional()? {
                    return Err(StoreError::NotPending(bad));
                }
                let n: i64 = count.query_row(params![from, to], |r| r.get(0))?;
                if n != to - from + 1 {
                    let missing = (from..=to).find(|s| *s > from + n - 1).unwrap_or(to);
                    return Err(StoreError::NotPending(missing));
                }
                i = j + 1;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves an entry to the dead letter with the center's reason; the entries behind it go on.
    pub fn mark_rejected(&mut self, seq: i64, reason: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE outbox SET state = 'rejected', reason = ?2, state_at = ?3 WHERE seq = ?1 AND state = 'pending'",
            params![seq, reason, ts(now)],
        )?;
        if n == 0 {
            return Err(StoreError::NotPending(seq));
        }
        Ok(())
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut counts = OutboxCounts::default();
        let mut stmt = self.conn.prepare("SELECT state, count(*) FROM outbox GROUP BY state")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let n: u64 = r.get(1)?;
            match r.get::<_, String>(0)?.as_str() {
                "pending" => counts.pending = n,
                "sent" => counts.sent = n,
                _ => counts.rejected = n,
            }
        }
        Ok(counts)
    }
}

/// Whether `item` may be scored for `exam`: refused when its fact is false (no film printed, no
/// reconstruction: `ITEM_NOT_APPLICABLE`) and when it is not known (`FACT_UNKNOWN`). An unknown
/// fact is never taken as done: FL or TR of an exam nobody said was filmed or reconstructed
/// would be a 5 for work nobody did. The reviewer states the fact with the evaluation.
pub fn check_applies(item: &radqc_domain::Item, exam: &ExamRecord) -> Result<(), StoreError> {
    let (fact, why, known) = match item.applies {
        Applicability::Always => return Ok(()),
        Applicability::FilmPrinted => ("film_printed", "no film was printed", exam.film_printed),
        Applicability::Reconstruction => {
            ("reconstruction", "no 3D reconstruction was requested or made", exam.reconstruction)
        }
    };
    match known {
        Some(true) => Ok(()),
        Some(false) => Err(StoreError::NotApplicable {
            item: item.code.to_string(),
            accession: exam.accession.clone(),
            why: why.into(),
        }),
        None => Err(StoreError::FactUnknown {
            item: item.code.to_string(),
            accession: exam.accession.clone(),
            fact: fact.into(),
        }),
    }
}

/// Items that may apply to an exam as far as the store knows (FL needs film, TR a
/// reconstruction). An unknown fact keeps its item in the list, so nothing is hidden from a
/// reviewer by missing data, but it is not taken as done: saving FL or TR needs the fact stated
/// (`FACT_UNKNOWN` otherwise), and the panel leaves such an item out unless the reviewer says so.
pub fn applicable_items(rubric: &Rubric, exam: &ExamRecord) -> Vec<ItemCode> {
    rubric
        .items
        .iter()
        .filter(|i| match i.applies {
            Applicability::Always => true,
            Applicability::FilmPrinted => exam.film_printed != Some(false),
            Applicability::Reconstruction => exam.reconstruction != Some(false),
        })
        .map(|i| i.code)
        .collect()
}
