//! What goes into the store and what comes out: the wire shapes of exams, evaluations, events and
//! outbox entries (JSON at the CLI, IPC and sync boundaries).

use chrono::{DateTime, Utc};
use radqc_domain::{CriterionCode, ExamStaff, ItemCode, Modality, PatientSource, QcMode, Sex, SiteCode, StaffCode};
pub use radqc_protocol::{EvaluationRecord, ExamEventRecord, ExamRecord, PerformedAtSource, SyncPayload};
use serde::{Deserialize, Serialize};

/// An exam as a caller describes it. Saved (or updated) with the evaluation or event that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamInput {
    /// The site the exam belongs to; the store's own site when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteCode>,
    /// 检查号 / accession number, unique within a site.
    pub accession: String,
    pub modality: Modality,
    /// 检查部位 / exam item, as the RIS names it (e.g. "CT胸部平扫").
    pub exam_item: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_source: Option<PatientSource>,
    /// 随访病例 / follow-up case.
    #[serde(default)]
    pub follow_up: bool,
    /// Whether film was printed (item FL applies only then); unknown when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub film_printed: Option<bool>,
    /// Whether a 3D reconstruction was requested or made (item TR applies only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconstruction: Option<bool>,
    #[serde(default)]
    pub staff: ExamStaff,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_at: Option<DateTime<Utc>>,
}

/// The least patient data QC needs. The id is hashed with the site's salt before it is stored;
/// the name is dropped unless the site turned name storage on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A new evaluation: the findings as `radqc score` reads them, plus the exam, reviewer and mode.
/// The score is never taken from the caller: the scoring engine computes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    pub item: ItemCode,
    pub findings: Vec<CriterionCode>,
    #[serde(default)]
    pub not_applicable: Vec<CriterionCode>,
    pub exam: ExamInput,
    pub reviewer: StaffCode,
    pub mode: QcMode,
    /// 问题说明: the reviewer's note.
    #[serde(default)]
    pub note: String,
    /// Set when this evaluation corrects an earlier one (a new revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// When it was scored; now when absent (imports of historical data give it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Sent,
    /// Refused by the center (dead letter), with its reason.
    Rejected,
}

/// One entry of the outbox, in the device's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub kind: String,
    pub ref_id: String,
    /// The JSON the center receives: a [`SyncPayload`].
    pub payload: String,
    pub state: OutboxState,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxCounts {
    pub pending: u64,
    pub sent: u64,
    pub rejected: u64,
}

/// Filters for finding exams (active and centralized QC). Every field narrows; none means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct ExamFilter {
    /// Performed at or after (or created, when the performing time is unknown).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Performed before.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub site: Option<SiteCode>,
    #[serde(default)]
    pub modality: Option<Modality>,
    #[serde(default)]
    pub exam_item: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    /// Any of the exam's staff.
    #[serde(default)]
    pub staff: Option<StaffCode>,
    /// Only exams with (true) or without (false) a current evaluation.
    #[serde(default)]
    pub evaluated: Option<bool>,
    /// Only exams with a current evaluation of this score (1-5): e.g. the morning meeting's
    /// review of yesterday's failing scores.
    #[serde(default)]
    pub score: Option<radqc_domain::Score>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}
