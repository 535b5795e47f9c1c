//! The sync protocol between a site's desktop app and the regional center: the records that
//! travel, the push / pull / enrollment messages, and the one error envelope.
//!
//! Architecture Invariant: wire types only; no I/O. The center (`radqc-center`) and the sync
//! client (`radqc-sync`) both speak exactly these types, and the OpenAPI document is generated
//! from them.

use chrono::{DateTime, Utc};
/// The one error-code catalogue (it lives in the domain, whose engine names its codes with it).
pub use radqc_domain::ErrorCode;
use radqc_domain::{
    CriterionCode, ExamEventKind, ExamStaff, Grade, ItemCode, Modality, PatientSource, QcMode, Score, Sex, SiteCode,
    StaffCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The version of the push format; every push carries it and the center refuses others.
pub const SCHEMA_VERSION: u32 = 1;

/// The most entries one push may carry.
pub const MAX_PUSH_ENTRIES: usize = 1000;

/// An exam as it travels: its site and accession identify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamRecord {
    #[schema(value_type = String)]
    pub site: SiteCode,
    pub accession: String,
    #[schema(value_type = String)]
    pub modality: Modality,
    /// 检查部位, as the RIS names it.
    pub exam_item: String,
    pub department: Option<String>,
    #[schema(value_type = Option<String>)]
    pub patient_source: Option<PatientSource>,
    pub follow_up: bool,
    pub film_printed: Option<bool>,
    pub reconstruction: Option<bool>,
    #[schema(value_type = Object)]
    pub staff: ExamStaff,
    /// SHA-256 of the site's salt and the patient id, hex.
    pub patient_hash: Option<String>,
    #[schema(value_type = Option<String>)]
    pub patient_sex: Option<Sex>,
    pub patient_age: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_name: Option<String>,
    pub performed_at: Option<DateTime<Utc>>,
    /// Where `performed_at` came from when it is not the exam's own data: `signed`, the time the
    /// report was signed through the gate (the app knew no performing time). Absent when the
    /// performing time came with the exam (RIS, workstation, import); a later one replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_at_source: Option<PerformedAtSource>,
    /// How many current (not superseded) evaluations the exam has, where it was read.
    pub evaluations: u32,
    /// The RIS cancelled the order (ORC-1 `CA`, ORC-5 `CA`): not workload, no performing time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
}

/// An exam's report as the RIS sent it last (ORU^R01): what centralized QC at the center and the
/// report checks read. Sent only as the site's sharing policy allows (`report_text`, on by
/// default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportRecord {
    /// OBR-25: `P` preliminary, `F` final, `C` corrected (another status as sent).
    pub status: String,
    /// 影像所见.
    pub findings: Option<String>,
    /// 诊断意见.
    pub impression: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
}

/// The longest report text (findings or impression, in characters) an entry may carry.
pub const MAX_REPORT_CHARS: usize = 20_000;

/// Where an exam's performing time came from, when not from the exam's own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PerformedAtSource {
    /// The report's signing time: the best time known until the RIS gives the performing time.
    Signed,
}

impl PerformedAtSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
        }
    }

    /// Parses the stored text (`signed`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        (s == "signed").then_some(Self::Signed)
    }
}

/// An evaluation: every revision travels and stays readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvaluationRecord {
    /// UUIDv7 made on the device.
    pub id: String,
    #[schema(value_type = String)]
    pub site: SiteCode,
    pub accession: String,
    #[schema(value_type = String)]
    pub item: ItemCode,
    #[schema(value_type = String)]
    pub reviewer: StaffCode,
    /// The person scored: the exam's staff member in the item's scored role.
    #[schema(value_type = Option<String>)]
    pub scored_person: Option<StaffCode>,
    #[schema(value_type = String)]
    pub mode: QcMode,
    #[schema(value_type = Vec<String>)]
    pub findings: Vec<CriterionCode>,
    #[schema(value_type = Vec<String>)]
    pub not_applicable: Vec<CriterionCode>,
    #[schema(value_type = Option<u8>)]
    pub score: Option<Score>,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub pass: bool,
    #[schema(value_type = Vec<String>)]
    pub severe: Vec<CriterionCode>,
    #[schema(value_type = Vec<String>)]
    pub unmet: Vec<CriterionCode>,
    pub rubric_version: String,
    pub note: String,
    pub at: DateTime<Utc>,
    pub supersedes: Option<String>,
    /// The revision that corrected this one, if any (as far as the sender knows).
    pub superseded_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExamEventRecord {
    pub id: String,
    #[schema(value_type = String)]
    pub site: SiteCode,
    pub accession: String,
    #[schema(value_type = String)]
    pub kind: ExamEventKind,
    #[schema(value_type = String)]
    pub staff: StaffCode,
    pub at: DateTime<Utc>,
}

/// The correction (整改) recorded for a monitoring notice, which closes it (7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeClosure {
    pub notice_id: String,
    #[schema(value_type = String)]
    pub site: SiteCode,
    /// What was done about the failure.
    pub correction: String,
    #[schema(value_type = String)]
    pub closed_by: StaffCode,
    pub at: DateTime<Utc>,
}

/// What travels for one outbox entry: the record and its exam, so the center needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncPayload {
    Evaluation {
        exam: ExamRecord,
        evaluation: Box<EvaluationRecord>,
    },
    ExamEvent {
        exam: ExamRecord,
        event: ExamEventRecord,
    },
    NoticeClosed {
        closure: NoticeClosure,
    },
    /// A gold-standard reader's blind read (or the adjudicator's decision) of a case (7.3.1).
    GoldRead {
        read: Box<GoldReadRecord>,
    },
    /// The person scored disputes a failed evaluation: it becomes a gold-standard case.
    Dispute {
        dispute: DisputeRecord,
    },
    /// The exam as the site's systems describe it now (the RIS's messages and imported
    /// worklists, merged): sent each time that changes, so the region's workload and general
    /// data count every exam performed, not only those scored or signed through the gate.
    Exam {
        exam: ExamRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        report: Option<ReportRecord>,
    },
}

impl SyncPayload {
    /// The site the entry speaks for: every part of it must agree.
    pub fn sites(&self) -> Vec<&SiteCode> {
        match self {
            Self::Evaluation { exam, evaluation } => vec![&exam.site, &evaluation.site],
            Self::ExamEvent { exam, event } => vec![&exam.site, &event.site],
            Self::NoticeClosed { closure } => vec![&closure.site],
            Self::GoldRead { read } => vec![&read.site],
            Self::Dispute { dispute } => vec![&dispute.site],
            Self::Exam { exam, .. } => vec![&exam.site],
        }
    }
    /// The id of the record carried.
    pub fn record_id(&self) -> &str {
        match self {
            Self::Evaluation { evaluation, .. } => &evaluation.id,
            Self::ExamEvent { event, .. } => &event.id,
            Self::NoticeClosed { closure } => &closure.notice_id,
            Self::GoldRead { read } => &read.id,
            Self::Dispute { dispute } => &dispute.id,
            Self::Exam { exam, .. } => &exam.accession,
        }
    }
}

/// A monitoring notice (7.1): a failed evaluation, for the person scored and their department
/// head, open until someone records the correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonitoringNotice {
    pub id: String,
    pub site: String,
    pub evaluation_id: String,
    pub accession: String,
    pub item: String,
    /// The person scored.
    pub to: Option<String>,
    /// The site's department heads.
    pub also_to: Vec<String>,
    pub department: Option<String>,
    pub grade: String,
    pub score: Option<u8>,
    pub created_at: DateTime<Utc>,
    pub closed: bool,
    pub correction: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A monitoring notice's message in the notices feed (a `FeedItem` body of kind `notices`),
/// tagged by `type`: the center writes these, the app reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NoticeMessage {
    /// A failed evaluation opened a notice; a correction closes it.
    FailedEvaluation {
        notice_id: String,
        /// The person scored.
        to: Option<String>,
        /// The site's department heads.
        also_to: Vec<String>,
        text: String,
        accession: String,
        item: String,
        evaluation_id: String,
    },
    /// The notice was closed (a correction recorded, or the evaluation revised).
    NoticeClosed { notice_id: String, to: Option<String>, also_to: Vec<String>, text: String, accession: String },
    /// A gold-standard case the person scored disputed is final: its outcome.
    GoldOutcome {
        case_id: String,
        /// The person scored, who disputed.
        to: Option<String>,
        also_to: Vec<String>,
        text: String,
        accession: String,
        item: String,
        /// The evaluation disputed.
        evaluation_id: String,
        /// The gold result's evaluation, which supersedes it.
        gold_evaluation_id: String,
    },
}

/// A plain message of the notices feed (`radqc center notice`): no `type`; no `to` is for
/// everyone at the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainNotice {
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub also_to: Vec<String>,
    pub text: String,
}

/// What a notices-feed item's body holds: a monitoring notice's message or a plain message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeBody {
    Monitoring(NoticeMessage),
    Plain(PlainNotice),
}

impl NoticeBody {
    /// Reads a notices-feed body: one with a `type` is a [`NoticeMessage`], else a plain message.
    pub fn parse(body: &serde_json::Value) -> Result<NoticeBody, serde_json::Error> {
        if body.get("type").is_some() {
            NoticeMessage::deserialize(body).map(NoticeBody::Monitoring)
        } else {
            PlainNotice::deserialize(body).map(NoticeBody::Plain)
        }
    }
    /// The person it is for; none for everyone at the site.
    pub fn to(&self) -> Option<&str> {
        match self {
            NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { to, .. })
            | NoticeBody::Monitoring(NoticeMessage::NoticeClosed { to, .. })
            | NoticeBody::Monitoring(NoticeMessage::GoldOutcome { to, .. })
            | NoticeBody::Plain(PlainNotice { to, .. }) => to.as_deref(),
        }
    }
    pub fn also_to(&self) -> &[String] {
        match self {
            NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { also_to, .. })
            | NoticeBody::Monitoring(NoticeMessage::NoticeClosed { also_to, .. })
            | NoticeBody::Monitoring(NoticeMessage::GoldOutcome { also_to, .. })
            | NoticeBody::Plain(PlainNotice { also_to, .. }) => also_to,
        }
    }
    pub fn text(&self) -> &str {
        match self {
            NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { text, .. })
            | NoticeBody::Monitoring(NoticeMessage::NoticeClosed { text, .. })
            | NoticeBody::Monitoring(NoticeMessage::GoldOutcome { text, .. })
            | NoticeBody::Plain(PlainNotice { text, .. }) => text,
        }
    }
    /// The monitoring notice it is about.
    pub fn notice_id(&self) -> Option<&str> {
        match self {
            NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { notice_id, .. })
            | NoticeBody::Monitoring(NoticeMessage::NoticeClosed { notice_id, .. }) => Some(notice_id),
            NoticeBody::Monitoring(NoticeMessage::GoldOutcome { .. }) | NoticeBody::Plain(_) => None,
        }
    }
    /// `failed_evaluation`, `notice_closed`, or none for a plain message.
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { .. }) => Some("failed_evaluation"),
            NoticeBody::Monitoring(NoticeMessage::NoticeClosed { .. }) => Some("notice_closed"),
            NoticeBody::Monitoring(NoticeMessage::GoldOutcome { .. }) => Some("gold_outcome"),
            NoticeBody::Plain(_) => None,
        }
    }
}

/// The one error envelope of every failed HTTP call: a stable code the client branches on and
/// a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, one of [`ErrorCode`]'s texts, e.g. `SEQUENCE_GAP`, `TOKEN_REVOKED`,
    /// `SITE_MISMATCH`. A string on the wire, so a client reads a code a newer center adds.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    pub message: String,
    /// For `SEQUENCE_GAP`: the sequence number the center expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code: code.as_str().to_owned(), message: message.into(), expected_seq: None }
    }
    /// Whether the body carries `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code
    }
}

/// `ErrorBody.code` in the OpenAPI document: a string, one of the catalogue's codes.
fn error_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("Stable machine code (`radqc_protocol::ErrorCode`), e.g. `SEQUENCE_GAP`."))
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

/// `POST /api/v1/enroll`: a device exchanges a one-time enrollment code for its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub code: String,
    /// The device id the local store made at creation.
    #[schema(format = "uuid")]
    pub device_id: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollResponse {
    #[schema(format = "uuid")]
    pub device_id: String,
    /// The site the device now acts for.
    pub site: String,
    /// The bearer token for every later call; shown once, stored hashed at the center.
    pub token: String,
    /// The sequence number the center expects next from this device (1 for a new device).
    pub next_seq: i64,
}

/// One outbox entry in a push.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushEntry {
    /// The device's sequence number: consecutive, from 1.
    #[schema(minimum = 1)]
    pub seq: i64,
    /// A [`SyncPayload`] as JSON; parsed by the center so that a malformed entry (any JSON
    /// value that is not a payload) is rejected on its own, without failing the batch.
    #[schema(value_type = Value)]
    pub payload: Box<serde_json::value::RawValue>,
}

/// `POST /api/v1/push`: a batch of consecutive outbox entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// Must be [`SCHEMA_VERSION`] (the document's `minimum` and `maximum`).
    #[schema(minimum = 1, maximum = 1)]
    pub schema: u32,
    /// At most [`MAX_PUSH_ENTRIES`], consecutive.
    #[schema(max_items = 1000)]
    pub entries: Vec<PushEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Applied now.
    Applied,
    /// Applied (or rejected) before: acknowledged again, not applied twice. Also an entry whose
    /// record the center already holds with the same content (resent under another device).
    Duplicate,
    /// Refused for its content; its sequence number is consumed all the same.
    Rejected,
    /// The center applied other content under this sequence number (`SEQUENCE_REUSED`): the
    /// store is a restored or copied copy. Nothing of the entry was applied; the planning of the
    /// batch stopped here (later entries have no result). The client forks a device of its own
    /// and sends the entry again there.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryResult {
    pub seq: i64,
    pub status: EntryStatus,
    /// Why the entry was rejected (on `rejected`, and on a `duplicate` of a rejected entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ErrorBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushResponse {
    /// The last sequence number the center has applied or rejected for this device.
    pub last_seq: i64,
    pub results: Vec<EntryResult>,
}

/// What a site pulls from the center, each kind by its own cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Rubric versions (the TOML text).
    Rubric,
    /// Sampling rules.
    Sampling,
    /// The staff roster with roles.
    Roster,
    /// Notices for the site's staff.
    Notices,
    /// Who may do what, by role (`radqc_domain::Grants`), for the whole region.
    Grants,
    /// Gold-standard assignments for the site's readers and final results of its exams'
    /// cases (a [`GoldMessage`] body).
    Gold,
}

impl FeedKind {
    pub const ALL: [FeedKind; 6] =
        [Self::Rubric, Self::Sampling, Self::Roster, Self::Notices, Self::Grants, Self::Gold];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rubric => "rubric",
            Self::Sampling => "sampling",
            Self::Roster => "roster",
            Self::Notices => "notices",
            Self::Grants => "grants",
            Self::Gold => "gold",
        }
    }
}

impl std::str::FromStr for FeedKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown feed `{s}` (known: rubric, sampling, roster, notices, grants, gold)"))
    }
}

/// One published item of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedItem {
    /// Increasing; pass the last one seen as `after` to get only what is new.
    pub cursor: i64,
    pub kind: FeedKind,
    /// The site it is for; none when it is for the whole region.
    pub site: Option<String>,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    pub published_at: DateTime<Utc>,
}

/// `GET /api/v1/feed/{kind}?after=CURSOR&limit=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// The cursor to ask from next time (the last item's, or `after` when nothing is new).
    pub cursor: i64,
    /// More items wait beyond this page.
    pub more: bool,
}

/// A staff member of the roster, as published to the sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffMember {
    pub site: String,
    pub code: String,
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
}

/// `GET /api/v1/device`: what the center holds of the calling device. A store whose own copy
/// ends below `last_seq` is a restored or copied copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceState {
    /// The store's device UUID.
    #[schema(format = "uuid")]
    pub device_id: String,
    pub site: String,
    /// The last sequence number the center applied for this device.
    pub last_seq: i64,
    /// The device this one was forked from, if it was.
    #[schema(format = "uuid")]
    pub forked_from: Option<String>,
}

/// `POST /api/v1/device/fork`, authenticated by the parent device's token: a restored or
/// copied store becomes a device of its own, with its own sequence. The store chooses the new
/// device id and token (and keeps them before it asks), so a retried request is answered the
/// same way and never makes a second device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkRequest {
    #[schema(format = "uuid")]
    pub device_id: String,
    /// The new device's token: `rq_` and 64 hex characters from the OS's randomness.
    #[schema(pattern = "^rq_[0-9a-f]{64}$")]
    pub token: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

/// One record a device pushed, as the center holds it now (its exam as last stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceRecord {
    pub seq: i64,
    pub payload: SyncPayload,
}

/// `GET /api/v1/device/records?device=ID&after=SEQ&limit=N`: what a device of the caller's
/// site pushed after a sequence number, in order (a restored store pulls back what it lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceRecordsPage {
    pub items: Vec<DeviceRecord>,
    /// The sequence number to ask after next time.
    pub after: i64,
    /// More records wait beyond this page.
    pub more: bool,
}

/// A person's secret as the center publishes it to their site: an argon2id verifier (a PHC
/// string, `radqc_domain::credential`), never the secret. The site signs people in offline with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffCredential {
    pub code: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    pub verifier: String,
    /// Increases by one each time the secret is set, at the center or (sent by a site) at a
    /// workstation.
    pub version: i64,
    /// Set by an administrator: the person chooses their own at the next sign-in.
    pub must_change: bool,
    pub set_at: DateTime<Utc>,
}

/// The roster feed's body: the site's staff, its time zone, and the region's secrets of its staff
/// with the policy for them. Bodies published before secrets existed read with none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RosterBody {
    pub staff: Vec<StaffMember>,
    /// The site's IANA time zone.
    pub time_zone: Option<String>,
    #[serde(default)]
    pub credentials: Vec<StaffCredential>,
    /// The region's secret policy; none in a body published before secrets existed.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub policy: Option<radqc_domain::credential::SecretPolicy>,
}

/// `POST /api/v1/device/secret`, authenticated by the device's token: a person of the device's
/// site chose a new secret at the workstation (at a forced change, or when it expired). It
/// carries the verifier only, made at the workstation; the center checks its cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretChange {
    #[schema(min_length = 1, max_length = 64)]
    pub staff: String,
    #[schema(min_length = 1, max_length = 512)]
    pub verifier: String,
    /// The version of the secret the person changed from; the center applies the change only
    /// when it still holds that version (an administrator's reset since wins).
    pub based_on: i64,
    pub changed_at: DateTime<Utc>,
}

/// The answer to a [`SecretChange`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretChangeAnswer {
    /// `applied`, or `superseded` when the center's secret changed since (the site keeps the
    /// center's, from the roster it publishes).
    pub status: SecretChangeStatus,
    /// The version the center holds now.
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretChangeStatus {
    Applied,
    Superseded,
}

/// `PUT /api/v1/staff/{site}/{code}/secret`, by a center administrator: sets or resets a person's
/// secret. The site's roster is published again with its verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSecretRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub secret: String,
    /// Whether the person must choose their own at the next sign-in (default true).
    #[serde(default = "yes")]
    pub must_change: bool,
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------------
// The gold standard (7.3.1): two senior radiologists read a case blind, a third decides when
// they differ. The center makes the cases and assigns the readers; reads travel as push entries;
// assignments and results as the `gold` feed.

/// A reader's part in a gold-standard case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GoldTask {
    /// The first blind read.
    First,
    /// The second blind read.
    Second,
    /// The adjudication, when the two blind reads differ: sees both, without the readers' names.
    Third,
}

impl GoldTask {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Third => "third",
        }
    }
}

/// How a case came into the gold standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GoldSource {
    /// Put in by a QC officer.
    Hand,
    /// A random share of a period's evaluations.
    Sample,
    /// Disputed by the person scored.
    Dispute,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GoldState {
    /// Waiting for one or both blind reads.
    Reading,
    /// The two reads differ: waiting for the third reader.
    Adjudicating,
    /// Decided: the result supersedes the original evaluation.
    Final,
}

/// A gold reader's read of a case, made at their workstation (offline like any QC) and pushed
/// as an outbox entry. The score is the engine's, checked again at the center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldReadRecord {
    /// UUIDv7 made on the device.
    pub id: String,
    pub case_id: String,
    /// The reader's site (the device's).
    #[schema(value_type = String)]
    pub site: SiteCode,
    #[schema(value_type = String)]
    pub reader: StaffCode,
    pub task: GoldTask,
    #[schema(value_type = String)]
    pub item: ItemCode,
    #[schema(value_type = Vec<String>)]
    pub findings: Vec<CriterionCode>,
    #[schema(value_type = Vec<String>)]
    pub not_applicable: Vec<CriterionCode>,
    #[schema(value_type = Option<u8>)]
    pub score: Option<Score>,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub pass: bool,
    #[schema(value_type = Vec<String>)]
    pub severe: Vec<CriterionCode>,
    #[schema(value_type = Vec<String>)]
    pub unmet: Vec<CriterionCode>,
    pub rubric_version: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// The person scored disputes a failed evaluation (from 我的质控, with a reason), within the
/// region's window: the center makes it a gold-standard case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeRecord {
    /// UUIDv7 made on the device.
    pub id: String,
    #[schema(value_type = String)]
    pub site: SiteCode,
    pub evaluation_id: String,
    /// The person scored, who disputes.
    #[schema(value_type = String)]
    pub by: StaffCode,
    /// Why, in 1-2000 characters.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The exam of a case as its readers see it: without the staff when the region blinds names
/// (the default), and never with the original score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldExam {
    pub site: String,
    pub accession: String,
    #[schema(value_type = String)]
    pub modality: Modality,
    pub exam_item: String,
    pub department: Option<String>,
    #[schema(value_type = Option<String>)]
    pub patient_source: Option<PatientSource>,
    pub follow_up: bool,
    #[schema(value_type = Option<String>)]
    pub patient_sex: Option<Sex>,
    pub patient_age: Option<u8>,
    pub performed_at: Option<DateTime<Utc>>,
    /// The exam's staff; none while the region hides the person scored (the default).
    #[schema(value_type = Option<Object>)]
    pub staff: Option<ExamStaff>,
}

/// One of the two blind reads, as the third reader sees it: without the reader's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BlindRead {
    /// `甲` or `乙`: which read, not whose.
    pub label: String,
    #[schema(value_type = Vec<String>)]
    pub findings: Vec<CriterionCode>,
    #[schema(value_type = Vec<String>)]
    pub not_applicable: Vec<CriterionCode>,
    #[schema(value_type = Option<u8>)]
    pub score: Option<Score>,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub pass: bool,
    pub note: String,
}

/// A reader's task: what they read, blind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldAssignment {
    pub case_id: String,
    pub task: GoldTask,
    /// The reader (a staff code of the site the assignment is published to).
    pub to: String,
    #[schema(value_type = String)]
    pub item: ItemCode,
    /// The rubric version the original evaluation was scored under: the reads use the same.
    pub rubric_version: String,
    pub exam: GoldExam,
    /// For the third reader: the two blind reads. Empty for the first and second.
    pub reads: Vec<BlindRead>,
    pub assigned_at: DateTime<Utc>,
}

/// A read of a final case, as the reports count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FinalRead {
    pub task: GoldTask,
    /// `SITE/CODE`.
    pub reader: String,
    #[schema(value_type = Option<u8>)]
    pub score: Option<Score>,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub pass: bool,
}

/// A final case's result for the exam's site: the gold evaluation that supersedes the original
/// (the site keeps it, so its reports and 我的质控 count it), and the reads behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldFinal {
    pub case_id: String,
    pub source: GoldSource,
    #[schema(value_type = String)]
    pub modality: Modality,
    /// The original evaluation, as it was when the case was made.
    #[schema(value_type = Object)]
    pub original: Box<EvaluationRecord>,
    /// The gold result: mode `gold`, superseding the exam's current evaluation of the item.
    #[schema(value_type = Object)]
    pub gold: Box<EvaluationRecord>,
    pub reads: Vec<FinalRead>,
    pub decided_by: GoldTask,
    pub closed_at: DateTime<Utc>,
}

impl GoldFinal {
    /// The case as the agreement figures count it (7.3.1): the two blind reads, the third when
    /// there was one, the final result and the original evaluation (its reviewer as the
    /// reader). `None` when a blind read is missing (a result without its reads counts nothing).
    /// The center and a site's app count the same cases by this one function.
    pub fn outcome(&self) -> Option<radqc_domain::agreement::GoldOutcome> {
        use radqc_domain::agreement::{GoldOutcome, GoldReadOutcome};
        let of = |r: &FinalRead| GoldReadOutcome { reader: r.reader.clone(), score: r.score, pass: r.pass };
        let read = |task: GoldTask| self.reads.iter().find(|r| r.task == task).map(of);
        Some(GoldOutcome {
            case_id: self.case_id.clone(),
            site: self.original.site.to_string(),
            modality: self.modality.clone(),
            item: self.original.item,
            first: read(GoldTask::First)?,
            second: read(GoldTask::Second)?,
            third: read(GoldTask::Third),
            final_score: self.gold.score,
            final_pass: self.gold.pass,
            original: GoldReadOutcome {
                reader: format!("{}/{}", self.original.site, self.original.reviewer),
                score: self.original.score,
                pass: self.original.pass,
            },
        })
    }
}

/// An evaluation's result in words, Chinese and English: `2 分（不合格）` and `2 (fail)`, or for
/// the application form (pass / fail only) `不合格` and `fail`.
pub fn result_words(score: Option<Score>, grade: Grade) -> (String, String) {
    match score {
        Some(s) => (format!("{} 分（{}）", s.get(), grade.label_zh()), format!("{} ({grade})", s.get())),
        None => (grade.label_zh().to_owned(), grade.to_string()),
    }
}

/// The note of a gold result: the case, how it was decided, and the original score it replaces
/// (so the change shows wherever the result is listed, figure 3 and the exports included), in
/// Chinese, then in English.
pub fn gold_note(case_id: &str, decided_by: GoldTask, original: &EvaluationRecord) -> String {
    let (how_zh, how_en) = if decided_by == GoldTask::Third {
        ("第三读裁定", "adjudicated")
    } else {
        ("两读一致", "the two reads agreed")
    };
    let (zh, en) = result_words(original.score, original.grade);
    format!(
        "金标准复核 {case_id}（{how_zh}），原评分 {zh}，评分人 {r}。Gold standard case {case_id} ({how_en}); the original {en} by {r}.",
        r = original.reviewer
    )
}

/// A `gold` feed item's body, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GoldMessage {
    /// A reader of this site is assigned a task.
    Assigned {
        #[serde(flatten)]
        assignment: Box<GoldAssignment>,
    },
    /// A case of this site's exam is final.
    Final {
        #[serde(flatten)]
        result: Box<GoldFinal>,
    },
    /// The region's gold-standard settings (for the whole region): the last one is in force.
    Settings {
        #[serde(flatten)]
        settings: GoldSettings,
    },
}

/// `POST /api/v1/gold/cases`: a QC officer puts an evaluation into the gold standard by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoldCaseRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub evaluation_id: String,
}

/// `POST /api/v1/gold/draw`: a random share of a period's current evaluations, with filters,
/// becomes gold-standard cases. The draw is keyed (the seed and each evaluation's id decide),
/// so an auditor can recompute it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoldDrawRequest {
    /// The first month (`YYYY-MM`, the site's local months), included.
    pub from: String,
    /// The last month, included.
    pub to: String,
    /// The share drawn, in (0, 1].
    pub share: f64,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub modality: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    /// Only failed evaluations.
    #[serde(default)]
    pub failed_only: bool,
    /// At most this many cases.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub max: Option<u32>,
    /// The draw's key; one from the OS's randomness when none is given (answered back).
    #[serde(default)]
    #[schema(max_length = 128)]
    pub seed: Option<String>,
}

/// The answer to a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GoldDrawAnswer {
    pub seed: String,
    /// The evaluations the filters and period matched.
    pub considered: u64,
    pub cases: Vec<GoldCaseView>,
    /// Drawn evaluations already in a case, left out.
    pub already_in_case: u64,
}

/// One reader's assignment of a case, as a QC officer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldReaderView {
    pub task: GoldTask,
    pub site: String,
    pub reader: String,
    pub assigned_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A read of a case, shown once the case is final (or to a QC officer who is not one of its
/// readers, nor the person scored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldReadView {
    pub task: GoldTask,
    pub site: String,
    pub reader: String,
    #[schema(value_type = Vec<String>)]
    pub findings: Vec<CriterionCode>,
    #[schema(value_type = Option<u8>)]
    pub score: Option<Score>,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub pass: bool,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// The dispute behind a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeView {
    pub id: String,
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A gold-standard case, as the caller may see it: readers see their own task only (use
/// `/api/v1/gold/assignments`); the original score and the reads are left out for anyone who may
/// not see them yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldCaseView {
    pub id: String,
    pub site: String,
    pub accession: String,
    #[schema(value_type = String)]
    pub item: ItemCode,
    #[schema(value_type = String)]
    pub modality: Modality,
    pub evaluation_id: String,
    pub source: GoldSource,
    pub dispute: Option<DisputeView>,
    pub state: GoldState,
    pub created_at: DateTime<Utc>,
    /// `staff:SITE/CODE`, `cli`, `draw:SEED` or `dispute:ID`.
    pub created_by: String,
    pub readers: Vec<GoldReaderView>,
    /// The original evaluation; none for a caller who may not see it yet.
    #[schema(value_type = Option<Object>)]
    pub original: Option<Box<EvaluationRecord>>,
    /// The reads; empty for a caller who may not see them yet.
    pub reads: Vec<GoldReadView>,
    /// The gold evaluation, once final.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Box<EvaluationRecord>>,
    pub decided_by: Option<GoldTask>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The region's gold-standard settings (`PUT /api/v1/gold/settings`, `radqc center gold
/// settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldSettings {
    /// How many days after a failed evaluation the person scored may dispute it.
    #[schema(minimum = 1, maximum = 365)]
    pub dispute_days: u32,
    /// Whether readers see the exam's staff (the person scored). Off by default: blind.
    pub show_names: bool,
}

impl Default for GoldSettings {
    fn default() -> Self {
        GoldSettings { dispute_days: 14, show_names: false }
    }
}
