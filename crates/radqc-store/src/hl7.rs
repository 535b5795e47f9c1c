//! Exams as the hospital's RIS sends them (HL7 v2, read by `radqc-hl7`; a worklist file's rows,
//! `import.rs`, are merged the same way): each message is kept
//! whole, with the answer it got, in the transaction that applies it, so an `AA` is sent only
//! for a message on disk; a message repeated (the same sender and MSH-10) is answered as the
//! first time and applied once. Each message's facts about an exam are one row of
//! `exam_sources`; the exam row is their merge, field by field, the latest source time (MSH-7)
//! winning, so messages out of order converge to the same exam.
//!
//! Architecture Invariant: report text (findings, impression) and patient ids live only in the
//! encrypted file; the audit log names the message, never its content.

use chrono::{DateTime, Datelike, Utc};
use radqc_hl7::{AckCode, ExamFacts, Inbound, Kind, PatientFacts, Refusal, ResultStatus};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::{ts, Store};

/// One exam's facts from one message, as `exam_sources` keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SourceFacts {
    pub(crate) exam: ExamFacts,
    pub(crate) patient: PatientFacts,
}

/// What the store did with a message: the answer to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hl7Receipt {
    /// `AA`, `AE` or `AR`: as this message was first answered.
    pub code: &'static str,
    pub reason: Option<String>,
    /// The same sender and control id came before: nothing was applied again.
    pub duplicate: bool,
    /// The accessions of the exams the message is about (when accepted).
    pub accessions: Vec<String>,
}

/// An exam's report text as the RIS sent it last (OBR-25 status `P`, `F`, `C`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExamReport {
    pub status: String,
    /// 影像所见.
    pub findings: Option<String>,
    /// 诊断意见.
    pub impression: Option<String>,
    pub reported_at: Option<String>,
}

/// A message the store kept, for support (`radqc local hl7 messages`), without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hl7Logged {
    pub sender: String,
    pub control_id: String,
    pub message_type: String,
    pub received_at: String,
    pub ack_code: String,
    pub reason: Option<String>,
    pub times_seen: i64,
}

/// How a listener reads and answers messages: the mapping, the charset of a message that names
/// none, and who answers.
#[derive(Debug, Clone)]
pub struct Hl7Intake {
    pub mapping: radqc_hl7::Mapping,
    pub unnamed: radqc_hl7::Charset,
    pub responder: radqc_hl7::Responder,
}

impl Store {
    /// One frame's payload read, kept and applied, and its answer (the ACK's bytes): `AA` only
    /// once the message is on disk; a store that cannot keep it (a full disk) answers `AE` with
    /// the reason, so the sender keeps the message and sends it again.
    pub fn answer_hl7(&mut self, payload: &[u8], intake: &Hl7Intake, now: DateTime<Utc>) -> Vec<u8> {
        use radqc_hl7::ErrorCondition;
        let saved = self.time_zone().and_then(|zone| {
            let (message, read) = radqc_hl7::read(payload, intake.unnamed, &intake.mapping, zone);
            let receipt = self.save_hl7(payload, message.as_ref(), read.as_ref(), now)?;
            Ok((message, read, receipt))
        });
        let (message, refusal) = match saved {
            Ok((message, read, receipt)) => {
                let refusal = (receipt.code != "AA").then(|| Refusal {
                    code: if receipt.code == "AE" { AckCode::Error } else { AckCode::Reject },
                    condition: read.as_ref().err().map_or(ErrorCondition::ApplicationInternalError, |r| r.condition),
                    location: read.as_ref().err().and_then(|r| r.location.clone()),
                    reason: receipt.reason.unwrap_or_default(),
                });
                (message, refusal)
            }
            // Not stored (a full disk, a site zone that does not read): the sender keeps the
            // message and sends it again.
            Err(e) => (
                None,
                Some(Refusal::error(
                    ErrorCondition::ApplicationInternalError,
                    None,
                    format!("not stored, send it again ({}): {e}", e.code()),
                )),
            ),
        };
        radqc_hl7::ack(
            message.as_ref(),
            payload,
            refusal.as_ref(),
            &intake.responder,
            now,
            &radqc_hl7::listen::answer_id(),
        )
    }

    /// Keeps a message and applies what it says, in one durable transaction; the receipt is the
    /// answer to send once this returns. `message` and `read` are what `radqc_hl7::read` made of
    /// `raw`: a
    /// refused message is kept (with its reason) and changes no exam.
    pub fn save_hl7(
        &mut self,
        raw: &[u8],
        message: Option<&radqc_hl7::Message>,
        read: Result<&Inbound, &Refusal>,
        now: DateTime<Utc>,
    ) -> Result<Hl7Receipt, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (sender, control_id, message_type, sent_at) = match read {
            Ok(m) => (m.sender.clone(), m.control_id.clone(), m.message_type.clone(), m.sent_at.map(ts)),
            Err(_) => {
                // The header of a message refused for its content still names its sender and type
                // (so a corrected one sent again under the same id is known); bytes that are not a
                // message have only what `control_id_of` finds.
                let header = message;
                let id = radqc_hl7::message::control_id_of(raw).unwrap_or_default();
                match header {
                    Some(m) => {
                        let (ty, trigger) = m.message_type();
                        let sender = format!("{}^{}", m.header(3).unwrap_or_default(), m.header(4).unwrap_or_default());
                        (sender, m.control_id().unwrap_or(id), format!("{ty}^{trigger}"), None)
                    }
                    None => (String::from("?"), id, String::from("?"), None),
                }
            }
        };
        // A refused message without a control id cannot be told apart from the next: kept under
        // a key of its own.
        let key = if control_id.is_empty() { format!("unnamed-{}", uuid::Uuid::now_v7()) } else { control_id.clone() };
        let earlier: Option<(String, Option<String>, bool)> = tx
            .query_row(
                "SELECT ack_code, reason, raw = ?3 FROM hl7_messages WHERE sender = ?1 AND control_id = ?2",
                params![sender, key, raw],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        // A message applied (AA) is applied once, whatever comes again under its id. One refused
        // is answered the same while it comes again unchanged; sent again corrected under the
        // same id (as some systems do after an AE), it is read anew.
        let refused_then_corrected = earlier.as_ref().is_some_and(|(code, _, same)| code != "AA" && !same);
        if let Some((code, reason, _)) = earlier.filter(|_| !refused_then_corrected) {
            tx.execute(
                "UPDATE hl7_messages SET times_seen = times_seen + 1 WHERE sender = ?1 AND control_id = ?2",
                params![sender, key],
            )?;
            tx.commit()?;
            let code = match code.as_str() {
                "AA" => "AA",
                "AE" => "AE",
                _ => "AR",
            };
            let accessions = read.map(|m| m.exams.iter().map(|e| e.accession.clone()).collect()).unwrap_or_default();
            return Ok(Hl7Receipt { code, reason, duplicate: true, accessions });
        }
        // Apply first (a failure here is a refusal of the message, nothing of it kept but the log).
        let applied = match read {
            Ok(m) => self.apply_hl7(&tx, m, now).map(|()| m.exams.iter().map(|e| e.accession.clone()).collect()),
            Err(r) => Err(r.clone()),
        };
        let (code, reason, accessions) = match applied {
            Ok(accessions) => ("AA", None, accessions),
            Err(r) => (r.code.as_str(), Some(r.reason.clone()), Vec::new()),
        };
        if code != "AA" {
            // Whatever the apply wrote is undone with the transaction: start again for the log.
            drop(tx);
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO hl7_messages (sender, control_id, message_type, sent_at, received_at, raw, ack_code, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (sender, control_id) DO UPDATE SET message_type = excluded.message_type,
                     sent_at = excluded.sent_at, received_at = excluded.received_at, raw = excluded.raw,
                     ack_code = excluded.ack_code, reason = excluded.reason, times_seen = times_seen + 1",
                params![sender, key, message_type, sent_at, ts(now), raw, code, reason],
            )?;
            Self::log(&tx, "hl7", "hl7_refused", Some(&key), Some(&format!("{message_type} {code}")), now)?;
            tx.commit()?;
            return Ok(Hl7Receipt { code, reason, duplicate: false, accessions });
        }
        tx.execute(
            "INSERT INTO hl7_messages (sender, control_id, message_type, sent_at, received_at, raw, ack_code, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'AA', NULL)
             ON CONFLICT (sender, control_id) DO UPDATE SET message_type = excluded.message_type,
                 sent_at = excluded.sent_at, received_at = excluded.received_at, raw = excluded.raw,
                 ack_code = 'AA', reason = NULL, times_seen = times_seen + 1",
            params![sender, key, message_type, sent_at, ts(now), raw],
        )?;
        tx.commit()?;
        Ok(Hl7Receipt { code, reason, duplicate: false, accessions })
    }

    /// Every message kept, oldest first, without content.
    pub fn hl7_messages(&self) -> Result<Vec<Hl7Logged>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT sender, control_id, message_type, received_at, ack_code, reason, times_seen FROM hl7_messages ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Hl7Logged {
                sender: r.get(0)?,
                control_id: r.get(1)?,
                message_type: r.get(2)?,
                received_at: r.get(3)?,
                ack_code: r.get(4)?,
                reason: r.get(5)?,
                times_seen: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The report of an exam, as the RIS sent it last.
    pub fn exam_report(&self, accession: &str) -> Result<Option<ExamReport>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT report_status, report_findings, report_impression, reported_at FROM exams
                 WHERE site = ?1 AND accession = ?2 AND report_status IS NOT NULL",
                params![self.site.as_str(), accession],
                |r| {
                    Ok(ExamReport {
                        status: r.get(0)?,
                        findings: r.get(1)?,
                        impression: r.get(2)?,
                        reported_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Staff codes the RIS named on this site's exams that are not in `roster`: kept on the
    /// exams, listed for the QC officer to map, never dropped nor made into people.
    pub fn unknown_staff(&self, roster: &[String]) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT role, code, count(*) FROM (
                 SELECT 'technologist' AS role, technologist AS code FROM exams WHERE technologist IS NOT NULL
                 UNION ALL SELECT 'reporting_doctor', reporting_doctor FROM exams WHERE reporting_doctor IS NOT NULL
                 UNION ALL SELECT 'auditing_doctor', auditing_doctor FROM exams WHERE auditing_doctor IS NOT NULL
                 UNION ALL SELECT 'ordering_clinician', ordering_clinician FROM exams WHERE ordering_clinician IS NOT NULL)
             GROUP BY role, code ORDER BY role, code",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            if !roster.contains(&row.1) {
                out.push(row);
            }
        }
        Ok(out)
    }

    fn apply_hl7(&self, tx: &Transaction<'_>, m: &Inbound, now: DateTime<Utc>) -> Result<(), Refusal> {
        let internal = |e: rusqlite::Error| {
            Refusal::error(
                radqc_hl7::ErrorCondition::ApplicationInternalError,
                None,
                format!("the store could not apply the message: {e}"),
            )
        };
        let source_time = ts(m.sent_at.unwrap_or(now));
        let source_ref = format!("{}|{}", m.sender, m.control_id);
        match m.kind {
            Kind::Order | Kind::Result => {
                for exam in &m.exams {
                    let facts = SourceFacts { exam: exam.clone(), patient: m.patient.clone() };
                    tx.execute(
                        "INSERT INTO exam_sources (site, accession, source, source_ref, source_time, facts, received_at)
                         VALUES (?1, ?2, 'hl7', ?3, ?4, ?5, ?6)
                         ON CONFLICT (source, source_ref, accession) DO NOTHING",
                        params![
                            self.site.as_str(),
                            exam.accession,
                            source_ref,
                            source_time,
                            serde_json::to_string(&facts).expect("facts serialize"),
                            ts(now)
                        ],
                    )
                    .map_err(internal)?;
                    self.merge_exam(tx, &exam.accession, now).map_err(internal)?;
                }
            }
            Kind::PatientUpdate => {
                let Some(id) = &m.patient.id else {
                    return Err(Refusal::error(
                        radqc_hl7::ErrorCondition::RequiredFieldMissing,
                        Some("PID-3"),
                        "a patient update names no patient id",
                    ));
                };
                let hash = self.merged_hash(tx, &self.patient_hash(id)).map_err(internal)?;
                self.update_patient(tx, &hash, &m.patient).map_err(internal)?;
                self.share_patient_exams(tx, &hash, now).map_err(internal)?;
            }
            Kind::PatientMerge => {
                let (Some(to), Some(from)) = (&m.patient.id, &m.merge_from) else {
                    return Err(Refusal::error(
                        radqc_hl7::ErrorCondition::RequiredFieldMissing,
                        Some("MRG-1"),
                        "a merge names both patient ids",
                    ));
                };
                let (from, to) = (self.patient_hash(from), self.patient_hash(to));
                let to = self.merged_hash(tx, &to).map_err(internal)?;
                if from != to {
                    tx.execute(
                        "INSERT INTO patient_merges (from_hash, to_hash, at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (from_hash) DO UPDATE SET to_hash = excluded.to_hash",
                        params![from, to, ts(now)],
                    )
                    .map_err(internal)?;
                    // Earlier merges into the old id now lead to the new one.
                    tx.execute("UPDATE patient_merges SET to_hash = ?2 WHERE to_hash = ?1", params![from, to])
                        .map_err(internal)?;
                    tx.execute("UPDATE exams SET patient_hash = ?2 WHERE patient_hash = ?1", params![from, to])
                        .map_err(internal)?;
                    self.share_patient_exams(tx, &to, now).map_err(internal)?;
                }
            }
        }
        let detail = format!("{} {}", m.message_type, m.exams.len());
        Self::log(tx, "hl7", "hl7_applied", Some(&m.control_id), Some(&detail), now)
            .map_err(|e| Refusal::error(radqc_hl7::ErrorCondition::ApplicationInternalError, None, e.to_string()))?;
        Ok(())
    }

    /// The hash a patient id's exams are kept under, after merges.
    fn merged_hash(&self, tx: &Transaction<'_>, hash: &str) -> rusqlite::Result<String> {
        Ok(tx
            .query_row("SELECT to_hash FROM patient_merges WHERE from_hash = ?1", [hash], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| hash.to_owned()))
    }

    /// A patient's sex and age (from the birth date, at each exam's time) on all their exams.
    fn update_patient(&self, tx: &Transaction<'_>, hash: &str, p: &PatientFacts) -> rusqlite::Result<()> {
        if let Some(sex) = p.sex {
            tx.execute("UPDATE exams SET patient_sex = ?2 WHERE patient_hash = ?1", params![hash, sex.as_str()])?;
        }
        let exams: Vec<(i64, String)> = {
            let mut stmt =
                tx.prepare("SELECT id, coalesce(performed_at, created_at) FROM exams WHERE patient_hash = ?1")?;
            let rows = stmt.query_map([hash], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, at) in exams {
            let age = match (p.birth_date, p.age) {
                (Some(b), _) => at
                    .get(..10)
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .and_then(|d| years(b, d)),
                (None, age) => age,
            };
            if let Some(age) = age {
                tx.execute("UPDATE exams SET patient_age = ?2 WHERE id = ?1", params![id, age])?;
            }
        }
        Ok(())
    }

    /// Writes the exam row from every source's facts about it: each field the latest source
    /// (by source time, then by source) that has it; an exam is made once its modality and
    /// item are known (a result may come before its order).
    pub(crate) fn merge_exam(&self, tx: &Transaction<'_>, accession: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
        let rows: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT facts FROM exam_sources WHERE site = ?1 AND accession = ?2 ORDER BY source_time, source_ref",
            )?;
            let rows = stmt.query_map(params![self.site.as_str(), accession], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut e = ExamFacts { accession: accession.to_owned(), ..ExamFacts::default() };
        let mut p = PatientFacts::default();
        let mut performed = false;
        let mut performed_at = None;
        for text in &rows {
            let f: SourceFacts = serde_json::from_str(text).map_err(|err| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(err))
            })?;
            let x = f.exam;
            macro_rules! take { ($($field:ident),*) => { $( if x.$field.is_some() { e.$field = x.$field.clone(); } )* }; }
            take!(
                exam_item,
                exam_code,
                modality,
                department,
                patient_source,
                follow_up,
                ordering_clinician,
                technologist,
                reporting_doctor,
                auditing_doctor,
                report
            );
            if x.order_control.is_some() || x.order_status.is_some() {
                e.cancelled = x.cancelled;
                e.order_control = x.order_control.clone();
                e.order_status = x.order_status.clone();
            }
            if x.performed {
                performed = true;
                if x.performed_at.is_some() {
                    performed_at = x.performed_at;
                }
            }
            let q = f.patient;
            macro_rules! take_p { ($($field:ident),*) => { $( if q.$field.is_some() { p.$field = q.$field.clone(); } )* }; }
            take_p!(id, name, sex, birth_date, age);
        }
        // A staff code the QC officer mapped names the roster member (the sources keep the code).
        for code in [&mut e.technologist, &mut e.reporting_doctor, &mut e.auditing_doctor, &mut e.ordering_clinician] {
            if let Some(c) = code.as_deref() {
                if let Some(member) = Self::alias_of(tx, c)? {
                    *code = Some(member);
                }
            }
        }
        let performed_at = performed_at.filter(|_| performed && !e.cancelled);
        let hash = match &p.id {
            Some(id) => Some(self.merged_hash(tx, &self.patient_hash(id))?),
            None => None,
        };
        let age = p.age.or_else(|| {
            let at = performed_at.unwrap_or(now).date_naive();
            p.birth_date.and_then(|b| years(b, at))
        });
        let name = if self.store_patient_names { p.name.clone() } else { None };
        let report = e.report.as_ref();
        let status = report.map(|r| match &r.status {
            ResultStatus::Preliminary => "P".to_owned(),
            ResultStatus::Final => "F".to_owned(),
            ResultStatus::Corrected => "C".to_owned(),
            ResultStatus::Other(s) => s.clone(),
        });
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM exams WHERE site = ?1 AND accession = ?2",
                params![self.site.as_str(), accession],
                |r| r.get(0),
            )
            .optional()?;
        let values = params![
            self.site.as_str(),
            accession,
            e.modality.as_ref().map(|m| m.as_str().to_owned()),
            e.exam_item,
            e.department,
            e.patient_source.map(|s| s.as_str()),
            e.follow_up,
            e.technologist,
            e.reporting_doctor,
            e.auditing_doctor,
            e.ordering_clinician,
            hash,
            p.sex.map(|s| s.as_str()),
            age,
            name,
            performed_at.map(ts),
            e.cancelled,
            status,
            report.and_then(|r| r.findings.clone()),
            report.and_then(|r| r.impression.clone()),
            report.and_then(|r| r.reported_at).map(ts),
            ts(now),
        ];
        if exists.is_some() {
            tx.execute(
                "UPDATE exams SET
                     modality = coalesce(?3, modality), exam_item = coalesce(?4, exam_item),
                     department = coalesce(?5, department), patient_source = coalesce(?6, patient_source),
                     follow_up = coalesce(?7, follow_up), technologist = coalesce(?8, technologist),
                     reporting_doctor = coalesce(?9, reporting_doctor), auditing_doctor = coalesce(?10, auditing_doctor),
                     ordering_clinician = coalesce(?11, ordering_clinician), patient_hash = coalesce(?12, patient_hash),
                     patient_sex = coalesce(?13, patient_sex), patient_age = coalesce(?14, patient_age),
                     patient_name = coalesce(?15, patient_name),
                     performed_at = CASE WHEN ?17 THEN NULL ELSE coalesce(?16, performed_at) END,
                     performed_at_source = CASE WHEN ?16 IS NOT NULL OR ?17 THEN NULL ELSE performed_at_source END,
                     cancelled = ?17, report_status = coalesce(?18, report_status),
                     report_findings = CASE WHEN ?18 IS NULL THEN report_findings ELSE ?19 END,
                     report_impression = CASE WHEN ?18 IS NULL THEN report_impression ELSE ?20 END,
                     reported_at = coalesce(?21, reported_at)
                 WHERE site = ?1 AND accession = ?2",
                &values[..21],
            )?;
        } else if e.modality.is_some() && e.exam_item.is_some() {
            tx.execute(
                "INSERT INTO exams (site, accession, modality, exam_item, department, patient_source, follow_up,
                     technologist, reporting_doctor, auditing_doctor, ordering_clinician, patient_hash, patient_sex,
                     patient_age, patient_name, performed_at, cancelled, report_status, report_findings,
                     report_impression, reported_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, 0), ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22)",
                values,
            )?;
        }
        self.share_exam(tx, accession, now)
    }

    /// Queues again every exam of a patient (their sex, age or id changed).
    fn share_patient_exams(&self, tx: &Transaction<'_>, hash: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
        let accessions: Vec<String> = {
            let mut stmt = tx.prepare_cached("SELECT accession FROM exams WHERE site = ?1 AND patient_hash = ?2")?;
            let rows = stmt.query_map(params![self.site.as_str(), hash], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for accession in &accessions {
            self.share_exam(tx, accession, now)?;
        }
        Ok(())
    }
}

/// Whole years from `birth` to `at`.
fn years(birth: chrono::NaiveDate, at: chrono::NaiveDate) -> Option<u8> {
    let mut y = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    u8::try_from(y).ok().filter(|y| *y <= 150)
}
