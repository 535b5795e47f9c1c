//! The facts the reports are computed from, read from the local store: current evaluations
//! (a corrected one counts only in its latest revision) and exams performed.

use radqc_domain::report::{EvaluationFact, WorkFact};
use rusqlite::params;

use crate::error::StoreError;
use crate::store::Store;

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

impl Store {
    /// Current evaluations scored in `[from, to)` (RFC 3339 UTC text).
    pub fn evaluation_facts(&self, from: &str, to: &str) -> Result<Vec<EvaluationFact>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT x.site, x.department, x.accession, x.modality, x.exam_item, e.item, e.scored_person, e.reviewer,
                    e.score, e.grade, e.severe, e.unmet, e.note, e.id, x.reporting_doctor, e.mode, e.rubric_version,
                    e.at, x.patient_hash IS NOT NULL, x.patient_sex, x.patient_age, x.performed_at IS NOT NULL,
                    x.auditing_doctor IS NOT NULL
             FROM evaluations e JOIN exams x ON x.id = e.exam_id
             WHERE e.at >= ?1 AND e.at < ?2 AND NOT EXISTS (SELECT 1 FROM evaluations s WHERE s.supersedes = e.id)
             ORDER BY e.at, e.id",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            let text = |i: usize| r.get::<_, String>(i);
            let staff = |i: usize| -> rusqlite::Result<Option<radqc_domain::StaffCode>> {
                r.get::<_, Option<String>>(i)?.map(|s| s.parse()).transpose().map_err(conversion)
            };
            let sex: Option<radqc_domain::Sex> =
                r.get::<_, Option<String>>(19)?.map(|s| s.parse()).transpose().map_err(conversion)?;
            let department: Option<String> = r.get(1)?;
            let reporting_doctor = staff(14)?;
            let patient = radqc_domain::rollup::patient_known(r.get(18)?, sex, r.get(20)?);
            let general_data_complete = radqc_domain::rollup::general_data_complete(
                patient,
                department.as_deref(),
                r.get(21)?,
                reporting_doctor.is_some(),
                r.get(22)?,
            );
            Ok(EvaluationFact {
                id: text(13)?,
                general_data_complete,
                site: text(0)?,
                department,
                accession: text(2)?,
                modality: text(3)?.parse().map_err(conversion)?,
                exam_item: text(4)?,
                reporting_doctor,
                item: text(5)?.parse().map_err(conversion)?,
                scored_person: staff(6)?,
                reviewer: text(7)?.parse().map_err(conversion)?,
                mode: text(15)?.parse().map_err(conversion)?,
                rubric_version: text(16)?,
                at: text(17)?,
                score: r.get::<_, Option<u8>>(8)?.map(radqc_domain::Score::new).transpose().map_err(conversion)?,
                grade: text(9)?.parse().map_err(conversion)?,
                severe: serde_json::from_str(&text(10)?).map_err(conversion)?,
                unmet: serde_json::from_str(&text(11)?).map_err(conversion)?,
                note: text(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Exams performed in `[from, to)` with their technologist: the workload of figure 5. (An
    /// exam without a performing time is not counted: the center, which has no other time for
    /// it, must count the same.)
    pub fn work_facts(&self, from: &str, to: &str) -> Result<Vec<WorkFact>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT technologist, modality, site, department, performed_at FROM exams
             WHERE technologist IS NOT NULL AND performed_at >= ?1 AND performed_at < ?2 AND cancelled = 0",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(WorkFact {
                person: r.get::<_, String>(0)?.parse().map_err(conversion)?,
                modality: r.get::<_, String>(1)?.parse().map_err(conversion)?,
                site: r.get(2)?,
                department: r.get(3)?,
                performed_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
