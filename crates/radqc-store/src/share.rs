//! What of the RIS's exams leaves the site, and the staff codes the QC officer maps.
//!
//! An exam the RIS brings (HL7, an imported worklist) is queued for the center as it stands
//! after each change (`SyncPayload::Exam`), exactly once like every outbox entry, so the region's
//! workload (figure 5) and general data (5.3 a) count every exam performed. What it carries is
//! the site's sharing policy ([`Sharing`]): never the patient's name nor id (the id only as the
//! site's salted hash); the report's text (findings, impression) by default, since centralized
//! QC at the center and the report checks read it, unless the site turns it off.
//!
//! A staff code the RIS sends that is not in the roster is kept on the exam as sent and listed
//! (`Store::unknown_staff`) until the QC officer maps it to a roster member
//! ([`Store::map_staff`]): from then on the merged exams name that member (the sources keep the
//! code as sent), and the exams it changed are queued again.

use chrono::{DateTime, Utc};
use radqc_protocol::{ReportRecord, SyncPayload};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, StoreError};
use crate::store::{exam_from_row, parse_ts, ts, Store, EXAM_COLUMNS};

/// What the site sends the center about the RIS's exams, beyond the exam itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    /// The report's findings and impression (on by default).
    pub report_text: bool,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing { report_text: true }
    }
}

/// A staff code of the RIS mapped to a roster member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAlias {
    /// As the RIS sends it.
    pub code: String,
    /// The roster member it names.
    pub staff: String,
    pub mapped_by: String,
    pub at: String,
}

const SHARE_REPORT_TEXT: &str = "share_report_text";

impl Store {
    /// The site's sharing policy.
    pub fn sharing(&self) -> Result<Sharing, StoreError> {
        Ok(Sharing { report_text: self.meta(SHARE_REPORT_TEXT)?.as_deref() != Some("0") })
    }

    /// Sets the sharing policy; it applies to what is queued from now on (what was queued is
    /// sent as it was).
    pub fn set_sharing(&mut self, sharing: Sharing, by: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        Self::set_meta(&tx, SHARE_REPORT_TEXT, Some(if sharing.report_text { "1" } else { "0" }))?;
        let detail = format!("report_text={}", sharing.report_text);
        Self::log(&tx, by, "sharing_set", None, Some(&detail), now)?;
        tx.commit()?;
        Ok(())
    }

    /// Queues exam `accession` for the center as it now stands, unless the entry queued last
    /// for it says the same. Nothing for an exam not yet made (its modality or item unknown).
    pub(crate) fn share_exam(&self, tx: &Transaction<'_>, accession: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
        let found = tx
            .prepare_cached(&format!(
                "SELECT {EXAM_COLUMNS}, x.report_status, x.report_findings, x.report_impression, x.reported_at
                 FROM exams x WHERE x.site = ?1 AND x.accession = ?2"
            ))?
            .query_row(params![self.site.as_str(), accession], |r| {
                let exam = exam_from_row(r)?;
                let status: Option<String> = r.get(21)?;
                let report = match status {
                    Some(status) => Some(ReportRecord {
                        status,
                        findings: r.get(22)?,
                        impression: r.get(23)?,
                        reported_at: r.get::<_, Option<String>>(24)?.map(|s| parse_ts(&s)).transpose()?,
                    }),
                    None => None,
                };
                Ok((exam, report))
            })
            .optional()?;
        let Some((mut exam, report)) = found else { return Ok(()) };
        // The center never needs the patient's name.
        exam.patient_name = None;
        let sharing = self
            .sharing()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?;
        let report = report.filter(|_| sharing.report_text);
        let payload = SyncPayload::Exam { exam, report };
        let json = serde_json::to_string(&payload).expect("a payload serializes");
        let last: Option<String> = tx
            .prepare_cached(
                "SELECT p.payload FROM outbox o JOIN outbox_payload p ON p.seq = o.seq
                 WHERE o.kind = 'exam' AND o.ref_id = ?1 ORDER BY o.seq DESC LIMIT 1",
            )?
            .query_row([accession], |r| r.get(0))
            .optional()?;
        if last.as_deref() == Some(json.as_str()) {
            return Ok(());
        }
        Self::enqueue(tx, "exam", accession, &payload, now).map_err(|e| match e {
            StoreError::Sqlite(e) => e,
            other => rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(other)),
        })?;
        Ok(())
    }

    /// The roster member a RIS staff code names, when the QC officer mapped it.
    pub(crate) fn alias_of(tx: &Transaction<'_>, code: &str) -> rusqlite::Result<Option<String>> {
        tx.prepare_cached("SELECT staff FROM staff_aliases WHERE code = ?1")?.query_row([code], |r| r.get(0)).optional()
    }

    /// Maps the RIS's staff code `code` to roster member `staff` (one of `roster`, the codes of
    /// the site's roster): the exams naming the code are merged again, so they name the member,
    /// and queued for the center. Returns how many exams changed. A code already in the roster,
    /// or a member not in it, is refused.
    pub fn map_staff(
        &mut self,
        code: &str,
        staff: &str,
        roster: &[String],
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let code = code.trim();
        if code.is_empty() || code.chars().count() > 64 {
            return Err(invalid("code", "the RIS's staff code must be 1-64 characters"));
        }
        if roster.iter().any(|m| m == code) {
            return Err(invalid(
                "code",
                format!("{code} is already a roster member; only the RIS's own codes are mapped"),
            ));
        }
        if !roster.iter().any(|m| m == staff) {
            return Err(invalid(
                "staff",
                format!("{staff} is not in the site's roster (the roster the center published last)"),
            ));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO staff_aliases (code, staff, mapped_by, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (code) DO UPDATE SET staff = excluded.staff, mapped_by = excluded.mapped_by, at = excluded.at",
            params![code, staff, by, ts(now)],
        )?;
        // The exams whose sources name the code, in any role: merged again from their sources.
        let accessions: Vec<String> = {
            // The code as the facts' JSON writes a string value, quotes included.
            let needle = serde_json::to_string(code).expect("a string serializes");
            let mut stmt =
                tx.prepare("SELECT DISTINCT accession FROM exam_sources WHERE site = ?1 AND instr(facts, ?2) > 0")?;
            let rows = stmt.query_map(params![self.site.as_str(), needle], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut changed = 0;
        for accession in &accessions {
            let before: Option<String> = tx
                .query_row(
                    "SELECT coalesce(technologist, '') || '|' || coalesce(reporting_doctor, '') || '|' ||
                         coalesce(auditing_doctor, '') || '|' || coalesce(ordering_clinician, '')
                     FROM exams WHERE site = ?1 AND accession = ?2",
                    params![self.site.as_str(), accession],
                    |r| r.get(0),
                )
                .optional()?;
            self.merge_exam(&tx, accession, now)?;
            let after: Option<String> = tx
                .query_row(
                    "SELECT coalesce(technologist, '') || '|' || coalesce(reporting_doctor, '') || '|' ||
                         coalesce(auditing_doctor, '') || '|' || coalesce(ordering_clinician, '')
                     FROM exams WHERE site = ?1 AND accession = ?2",
                    params![self.site.as_str(), accession],
                    |r| r.get(0),
                )
                .optional()?;
            if before != after {
                changed += 1;
            }
        }
        let detail = format!("{code} → {staff}, {changed} exams");
        Self::log(&tx, by, "staff_mapped", Some(code), Some(&detail), now)?;
        tx.commit()?;
        Ok(changed)
    }

    /// The staff codes mapped so far.
    pub fn staff_aliases(&self) -> Result<Vec<StaffAlias>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT code, staff, mapped_by, at FROM staff_aliases ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok(StaffAlias { code: r.get(0)?, staff: r.get(1)?, mapped_by: r.get(2)?, at: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
