//! A sync payload flattened into the rows both backends write: typed columns for querying and
//! the whole record as JSON (`body`) for reading back exactly what the site sent.

use radqc_protocol::SyncPayload;

pub struct ExamRow {
    pub site: String,
    pub accession: String,
    pub modality: String,
    pub exam_item: String,
    pub department: Option<String>,
    pub technologist: Option<String>,
    pub reporting_doctor: Option<String>,
    pub auditing_doctor: Option<String>,
    pub ordering_clinician: Option<String>,
    pub performed_at: Option<String>,
    /// The patient identified as 5.3 a asks (id, sex, age): part of the general data.
    pub patient_known: bool,
    /// The RIS cancelled it: no performing time, not workload.
    pub cancelled: bool,
    pub body: String,
}

/// An exam's report text, as the site's sharing policy sent it.
pub struct ReportRow {
    pub site: String,
    pub accession: String,
    pub status: String,
    pub findings: Option<String>,
    pub impression: Option<String>,
    pub reported_at: Option<String>,
}

#[derive(Default)]
pub struct EvaluationRow {
    pub id: String,
    pub site: String,
    pub device: String,
    pub seq: i64,
    pub accession: String,
    pub item: String,
    pub reviewer: String,
    pub scored_person: Option<String>,
    pub mode: String,
    pub score: Option<i32>,
    pub grade: String,
    pub pass: bool,
    pub rubric_version: String,
    pub at: String,
    pub supersedes: Option<String>,
    pub body: String,
    /// Severe and unmet criteria (figure 4), and whether there is any (figure 3).
    pub deductions: Vec<String>,
    pub deducted: bool,
}

pub struct EventRow {
    pub id: String,
    pub site: String,
    pub device: String,
    pub seq: i64,
    pub accession: String,
    pub kind: String,
    pub staff: String,
    pub at: String,
    pub body: String,
}

pub struct Rows {
    pub exam: ExamRow,
    pub evaluation: Option<EvaluationRow>,
    pub event: Option<EventRow>,
    pub report: Option<ReportRow>,
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether a payload is stored as rows (an evaluation, an exam event, an exam from the RIS); the
/// others update or add other records (a notice's closure, a gold read, a dispute).
pub fn has_rows(payload: &SyncPayload) -> bool {
    matches!(payload, SyncPayload::Evaluation { .. } | SyncPayload::ExamEvent { .. } | SyncPayload::Exam { .. })
}

/// The rows of an evaluation, an exam event or an exam (a notice's closure has none: it updates
/// a notice).
pub fn rows(payload: &SyncPayload, device: &str, seq: i64) -> Option<Rows> {
    let x = match payload {
        SyncPayload::Evaluation { exam, .. } | SyncPayload::ExamEvent { exam, .. } | SyncPayload::Exam { exam, .. } => {
            exam
        }
        SyncPayload::NoticeClosed { .. } | SyncPayload::GoldRead { .. } | SyncPayload::Dispute { .. } => return None,
    };
    let s = &x.staff;
    let name = |c: &Option<radqc_domain::StaffCode>| c.as_ref().map(|c| c.to_string());
    let exam = ExamRow {
        site: x.site.to_string(),
        accession: x.accession.clone(),
        modality: x.modality.to_string(),
        exam_item: x.exam_item.clone(),
        department: x.department.clone(),
        technologist: name(&s.technologist),
        reporting_doctor: name(&s.reporting_doctor),
        auditing_doctor: name(&s.auditing_doctor),
        ordering_clinician: name(&s.ordering_clinician),
        performed_at: x.performed_at.filter(|_| !x.cancelled).map(ts),
        cancelled: x.cancelled,
        patient_known: radqc_domain::rollup::patient_known(x.patient_hash.is_some(), x.patient_sex, x.patient_age),
        body: serde_json::to_string(x).expect("exam serializes"),
    };
    let mut rows = Rows { exam, evaluation: None, event: None, report: None };
    match payload {
        SyncPayload::Evaluation { evaluation: e, .. } => {
            rows.evaluation = Some(EvaluationRow {
                id: e.id.clone(),
                site: e.site.to_string(),
                device: device.to_owned(),
                seq,
                accession: e.accession.clone(),
                item: e.item.to_string(),
                reviewer: e.reviewer.to_string(),
                scored_person: e.scored_person.as_ref().map(|p| p.to_string()),
                mode: e.mode.to_string(),
                score: e.score.map(|s| i32::from(s.get())),
                grade: e.grade.to_string(),
                pass: e.pass,
                rubric_version: e.rubric_version.clone(),
                at: ts(e.at),
                supersedes: e.supersedes.clone(),
                body: serde_json::to_string(e.as_ref()).expect("evaluation serializes"),
                deductions: e.severe.iter().chain(&e.unmet).map(|c| c.to_string()).collect(),
                deducted: !e.severe.is_empty() || !e.unmet.is_empty(),
            })
        }
        SyncPayload::NoticeClosed { .. } | SyncPayload::GoldRead { .. } | SyncPayload::Dispute { .. } => {}
        SyncPayload::Exam { exam, report } => {
            rows.report = report.as_ref().map(|r| ReportRow {
                site: exam.site.to_string(),
                accession: exam.accession.clone(),
                status: r.status.clone(),
                findings: r.findings.clone(),
                impression: r.impression.clone(),
                reported_at: r.reported_at.map(ts),
            })
        }
        SyncPayload::ExamEvent { event: v, .. } => {
            rows.event = Some(EventRow {
                id: v.id.clone(),
                site: v.site.to_string(),
                device: device.to_owned(),
                seq,
                accession: v.accession.clone(),
                kind: v.kind.to_string(),
                staff: v.staff.to_string(),
                at: ts(v.at),
                body: serde_json::to_string(v).expect("event serializes"),
            })
        }
    }
    Some(rows)
}
