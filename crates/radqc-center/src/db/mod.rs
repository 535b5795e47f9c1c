//! The center's database: embedded SQLite by default, PostgreSQL for regions that run several
//! center processes. Both run the same statements (`sql.rs`) and the same test suite.

mod migrate;
#[cfg(test)]
mod migration_tests;
mod notice_step;
#[cfg(test)]
mod plan_tests;
mod postgres;
mod sql;
mod sqlite;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use radqc_domain::{Grants, Rubric};
use radqc_protocol::{
    DeviceRecordsPage, DeviceState, ErrorBody, ErrorCode, EvaluationRecord, ExamRecord, FeedKind, FeedPage, PushEntry,
    PushResponse, StaffMember,
};
use serde::Serialize;

use radqc_domain::report::Report;
use radqc_domain::report::{
    CaseCell, DeductionCell, EvaluationFact, Period, ReportCells, ReportFilter, ScoreCell, WorkCell, WorkFact,
};
use radqc_domain::rollup::{CaseKey, Rollup};

use crate::error::ApiError;
use crate::gold::{CaseDoc, CaseState, GoldBook, GoldScope};
use crate::push::Rubrics;

pub use postgres::PgDb;
pub use sqlite::SqliteDb;

/// A time as the center stores it (RFC 3339, milliseconds, UTC).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A stored time; one that does not parse is a storage error, never a default time.
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ApiError::storage(format!("a stored time does not parse ({s:?}): {e}")))
}

/// A staff member's roles as stored (a JSON list); a list that does not parse is a storage
/// error, never a person without roles.
pub(crate) fn parse_roles(s: &str) -> Result<Vec<String>, ApiError> {
    serde_json::from_str(s).map_err(|e| ApiError::storage(format!("a staff member's stored roles do not parse: {e}")))
}

/// A stored JSON body (a feed message, a record); one that does not parse is a storage error.
pub(crate) fn parse_body(s: &str, what: &str) -> Result<serde_json::Value, ApiError> {
    serde_json::from_str(s).map_err(|e| ApiError::storage(format!("a stored {what} does not parse: {e}")))
}

/// A fork request seen before: the same parent, id and token answer the same device; anything
/// else is refused.
fn check_fork_retry(
    parent: &Device,
    device_id: &str,
    token_hash: &str,
    (site, stored_hash, forked_from): (String, String, Option<String>),
) -> Result<(), ApiError> {
    if site == parent.site && stored_hash == token_hash && forked_from.as_deref() == Some(parent.id.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::DeviceExists, format!("device {device_id} already exists; choose a new device id")))
}

/// A rejected entry's reason as stored: its code must be one of the catalogue's (503 otherwise,
/// like every other value read back).
fn stored_reason(code: &str, message: String) -> Result<ErrorBody, ApiError> {
    let code = code.parse::<ErrorCode>().map_err(|e| ApiError::storage(format!("rejected_entries.code: {e}")))?;
    Ok(ErrorBody::new(code, message))
}

/// A page of device records from `(seq, kind, record body, exam body)` rows (one more than
/// `limit` asked, to tell whether more wait).
fn records_page(
    rows: Vec<(i64, String, String, String)>,
    after: i64,
    limit: i64,
) -> Result<DeviceRecordsPage, ApiError> {
    let more = rows.len() as i64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    for (seq, kind, body, exam) in rows.into_iter().take(limit as usize) {
        let bad = |e: serde_json::Error| ApiError::storage(format!("a stored record does not parse: {e}"));
        let exam = serde_json::from_str(&exam).map_err(bad)?;
        let payload = if kind == "evaluation" {
            radqc_protocol::SyncPayload::Evaluation {
                exam,
                evaluation: Box::new(serde_json::from_str(&body).map_err(bad)?),
            }
        } else {
            radqc_protocol::SyncPayload::ExamEvent { exam, event: serde_json::from_str(&body).map_err(bad)? }
        };
        items.push(radqc_protocol::DeviceRecord { seq, payload });
    }
    let after = items.last().map_or(after, |r| r.seq);
    Ok(DeviceRecordsPage { items, after, more })
}

/// A device as authentication finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub site: String,
    pub revoked: bool,
}

/// A person with an API token: what they may read follows from their roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub site: String,
    pub staff: String,
    pub roles: Vec<String>,
}

impl Person {
    /// Roles the grants let read the region read every site; others only their own site.
    pub fn may_read_site(&self, grants: &Grants, site: &str) -> bool {
        grants.reads_every_site(&self.roles) || self.site == site
    }
    /// Roles the grants let see a whole site's scores (7.2.2); others see only their own.
    pub fn sees_all_of_site(&self, grants: &Grants) -> bool {
        grants.sees_whole_site(&self.roles)
    }
    /// Roles the grants let read the region's report.
    pub fn reads_region(&self, grants: &Grants) -> bool {
        grants.reads_every_site(&self.roles)
    }
    /// Roles the grants let set people's secrets (region administrators).
    pub fn administers_region(&self, grants: &Grants) -> bool {
        grants.sets_secrets(&self.roles)
    }
}

/// A secret to store: who, the verifier (checked before), and who set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretWrite {
    pub site: String,
    pub staff: String,
    pub verifier: String,
    pub must_change: bool,
    /// `admin:<staff>`, `cli`, or `device:<id>`.
    pub set_by: String,
    pub at: DateTime<Utc>,
    pub based_on: Option<i64>,
}

/// What [`Backend::set_staff_secret`] decides from the stored version.
pub(crate) fn secret_step(w: &SecretWrite, stored: Option<i64>) -> Result<radqc_protocol::SecretChangeAnswer, i64> {
    use radqc_protocol::{SecretChangeAnswer, SecretChangeStatus};
    let current = stored.unwrap_or(0);
    match w.based_on {
        Some(b) if b != current => Ok(SecretChangeAnswer { status: SecretChangeStatus::Superseded, version: current }),
        _ => Err(current + 1),
    }
}

/// Per site and device: what the center holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStats {
    pub site: String,
    pub device: String,
    pub revoked: bool,
    pub last_seq: i64,
    pub evaluations: i64,
    pub exam_events: i64,
    pub rejected: i64,
}

/// One line of `radqc center export`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportLine {
    pub kind: &'static str,
    pub site: String,
    pub device: String,
    pub seq: i64,
    pub record: serde_json::Value,
}

impl ExportLine {
    /// A line of the export; an evaluation's record with `superseded_by` as the center knows it.
    pub fn new(
        kind: &str,
        site: String,
        device: String,
        seq: i64,
        body: &str,
        superseded_by: Option<String>,
    ) -> Result<Self, ApiError> {
        let mut record = parse_body(body, "record")?;
        let kind = if kind == "evaluation" { "evaluation" } else { "exam_event" };
        if let (serde_json::Value::Object(fields), "evaluation") = (&mut record, kind) {
            fields.insert("superseded_by".to_owned(), superseded_by.into());
        }
        Ok(ExportLine { kind, site, device, seq, record })
    }
}

/// A stored evaluation's record, with the revision that corrected it (if one has).
fn evaluation_record(body: &str, superseded_by: Option<String>) -> Result<EvaluationRecord, ApiError> {
    let mut record: EvaluationRecord = serde_json::from_str(body)
        .map_err(|e| ApiError::storage(format!("a stored evaluation does not parse: {e}")))?;
    record.superseded_by = superseded_by;
    Ok(record)
}

/// The rubric versions the center accepts evaluations under: the bundled one and every one
/// published through the rubric feed; the last published is the current one.
#[derive(Debug, Clone)]
pub struct RubricSet {
    by_version: HashMap<String, Rubric>,
    latest: String,
}

impl Default for RubricSet {
    fn default() -> Self {
        Self::with_bundled()
    }
}

impl RubricSet {
    pub fn with_bundled() -> Self {
        let bundled = Rubric::bundled().clone();
        let latest = bundled.version.clone();
        RubricSet { by_version: HashMap::from([(latest.clone(), bundled)]), latest }
    }
    /// Adds a version; the last one inserted is the current one (insert in publishing order).
    pub fn insert(&mut self, rubric: Rubric) {
        self.latest = rubric.version.clone();
        self.by_version.insert(rubric.version.clone(), rubric);
    }
    pub fn contains(&self, version: &str) -> bool {
        self.by_version.contains_key(version)
    }
    /// The version published last (the bundled one when none was): reports are laid out by it.
    pub fn latest(&self) -> &Rubric {
        &self.by_version[&self.latest]
    }
    /// Every version the center knows, the current one first, then by version (report filters
    /// are checked against them all).
    pub fn all(&self) -> Vec<&Rubric> {
        let mut others: Vec<&Rubric> = self.by_version.values().filter(|r| r.version != self.latest).collect();
        others.sort_by(|a, b| a.version.cmp(&b.version));
        std::iter::once(self.latest()).chain(others).collect()
    }
}

impl Rubrics for RubricSet {
    fn get(&self, version: &str) -> Option<&Rubric> {
        self.by_version.get(version)
    }
}

/// Whether pushes keep the report rollups current: always, except when the environment sets
/// `RADQC_CENTER_ROLLUPS=off` to measure what keeping them costs (reports are then stale until
/// `radqc center rebuild-rollups`).
fn rollups_at_ingest() -> bool {
    std::env::var("RADQC_CENTER_ROLLUPS").as_deref() != Ok("off")
}

/// A database call's future, boxed: the center holds its backend as `dyn Backend`, and an
/// `async fn` in a trait cannot be called through `dyn`.
pub type DbFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// What the center asks of its database; SQLite and PostgreSQL implement it with the same
/// statements (`sql.rs`).
pub trait Backend: Send + Sync {
    fn add_site<'a>(&'a self, code: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()>;
    /// Each stored site's time zone.
    fn site_zones<'a>(&'a self) -> DbFuture<'a, radqc_domain::Zones>;
    /// Sets a site's time zone and, when it changes, rebuilds the rollups (their months are the
    /// site's).
    fn set_site_zone<'a>(&'a self, code: &'a str, zone: radqc_domain::SiteZone) -> DbFuture<'a, ()>;
    fn create_enrollment_code<'a>(
        &'a self,
        site: &'a str,
        code_hash: &'a str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, ()>;
    /// Exchanges a one-time code for a device registration; returns the site and the next
    /// sequence number expected from the device.
    fn enroll<'a>(
        &'a self,
        code_hash: &'a str,
        device_id: &'a str,
        name: Option<&'a str>,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, (String, i64)>;
    fn revoke_device<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, ()>;
    fn device_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Device>>;
    fn person_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Person>>;
    fn issue_person_token<'a>(
        &'a self,
        site: &'a str,
        staff: &'a str,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, ()>;
    fn upsert_staff<'a>(&'a self, member: &'a StaffMember) -> DbFuture<'a, ()>;
    fn staff<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<StaffMember>>;
    /// The verifiers of a site's staff (active or not; the roster publishes the active ones').
    fn staff_secrets<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<radqc_protocol::StaffCredential>>;
    /// Sets a staff member's secret (`version` + 1) in one transaction; with `based_on`, only
    /// when the stored version is still that one (else `Superseded`, nothing written).
    fn set_staff_secret<'a>(&'a self, change: &'a SecretWrite) -> DbFuture<'a, radqc_protocol::SecretChangeAnswer>;
    /// A region setting's stored text (the secret policy's JSON).
    fn setting<'a>(&'a self, name: &'a str) -> DbFuture<'a, Option<String>>;
    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> DbFuture<'a, ()>;
    /// Every site's code.
    fn sites<'a>(&'a self) -> DbFuture<'a, Vec<String>>;
    /// Applies a checked batch exactly once (see `push.rs`).
    fn push<'a>(
        &'a self,
        device: &'a Device,
        entries: Vec<PushEntry>,
        rubrics: &'a RubricSet,
        grants: &'a Grants,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, PushResponse>;
    /// What the center holds of a device.
    fn device_state<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, Option<DeviceState>>;
    /// Makes a device of its own for a restored or copied store of `parent` (same site, sequence
    /// from 1). A retry with the same id and token answers the same device.
    fn fork_device<'a>(
        &'a self,
        parent: &'a Device,
        device_id: &'a str,
        name: Option<&'a str>,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, DeviceState>;
    /// The evaluations and events a device pushed after `after`, in sequence order.
    fn device_records<'a>(&'a self, device_id: &'a str, after: i64, limit: i64) -> DbFuture<'a, DeviceRecordsPage>;
    fn publish<'a>(
        &'a self,
        kind: FeedKind,
        site: Option<&'a str>,
        body: &'a serde_json::Value,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, i64>;
    fn feed<'a>(&'a self, kind: FeedKind, site: &'a str, after: i64, limit: i64) -> DbFuture<'a, FeedPage>;
    /// Every rubric text ever published, oldest first.
    fn published_rubrics<'a>(&'a self) -> DbFuture<'a, Vec<String>>;
    /// The grants document published last for the region (its feed cursor and body), if any.
    fn latest_grants<'a>(&'a self) -> DbFuture<'a, Option<(i64, String)>>;
    fn evaluations<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<EvaluationRecord>>;
    fn export<'a>(&'a self) -> DbFuture<'a, Vec<ExportLine>>;
    fn stats<'a>(&'a self) -> DbFuture<'a, Vec<DeviceStats>>;
    /// Monitoring notices of a site (or the region), oldest first.
    fn notices<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<radqc_protocol::MonitoringNotice>>;
    /// Current evaluations scored in `[from, to)` at one site or (None) the whole region.
    fn evaluation_facts<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        site: Option<&'a str>,
    ) -> DbFuture<'a, Vec<EvaluationFact>>;
    /// Exams performed in `[from, to)` with their technologist.
    fn work_facts<'a>(&'a self, from: &'a str, to: &'a str, site: Option<&'a str>) -> DbFuture<'a, Vec<WorkFact>>;
    /// Recomputes every rollup from the stored exams and evaluations (after the migration that
    /// adds them, or by `radqc center rebuild-rollups`). Returns the exams counted.
    fn rebuild_rollups<'a>(&'a self) -> DbFuture<'a, u64>;
    /// Every rollup count as stored, for checking them against a rebuild.
    fn rollups<'a>(&'a self) -> DbFuture<'a, Rollup>;
    /// The rollup rows of a report's five statements (`ReportParams::rollup_queries`).
    fn report_rows<'a>(&'a self, queries: [sql::Query; 5]) -> DbFuture<'a, CellRows>;
    /// Figure 3's rows (`ReportParams::details_query`).
    fn report_details<'a>(&'a self, q: sql::Query) -> DbFuture<'a, Vec<EvaluationFact>>;
    /// Whether figure 3's statement names its index (SQLite: with the statistics of some months
    /// its planner sorts the whole month instead of reading the index in order up to the limit).
    fn names_indexes(&self) -> bool {
        false
    }
    /// Runs gold-standard work in one transaction, one such transaction at a time in the region:
    /// reads what `scope` names with every case not final, the region's active staff and the gold
    /// settings into a [`GoldBook`], runs `job`, then stores the cases it changed and publishes
    /// what it published. Answers the cases whose ids the job returns.
    fn gold_run<'a>(&'a self, scope: GoldScope, now: DateTime<Utc>, job: GoldJob) -> DbFuture<'a, Vec<CaseDoc>>;
    /// Every gold case, or those in one state, oldest first.
    fn gold_cases<'a>(&'a self, state: Option<CaseState>) -> DbFuture<'a, Vec<CaseDoc>>;
    fn gold_case<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<CaseDoc>>;
    /// The current revision of an evaluation's chain of corrections (itself when uncorrected).
    fn evaluation_head<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<EvaluationRecord>>;
    /// An exam as last stored.
    fn exam_record<'a>(&'a self, site: &'a str, accession: &'a str) -> DbFuture<'a, Option<ExamRecord>>;
    /// Makes the center's own device `id` of `site` (its gold device) when it does not exist: a
    /// token hash no token has, so nothing can sign in as it.
    fn ensure_device<'a>(&'a self, id: &'a str, site: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()>;
}

/// Gold-standard work run by [`Backend::gold_run`].
pub type GoldJob = Box<dyn FnOnce(&mut GoldBook) -> Result<Vec<String>, ApiError> + Send>;

/// A stored gold case body.
pub(crate) fn gold_doc(body: &str) -> Result<CaseDoc, ApiError> {
    CaseDoc::parse(body)
}

/// A stored exam's record.
pub(crate) fn exam_body(body: &str) -> Result<ExamRecord, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::storage(format!("a stored exam does not parse: {e}")))
}

/// The center's database: either backend, its methods those of [`Backend`] (through `Deref`).
#[derive(Clone)]
pub struct Db(Arc<dyn Backend>);

impl std::ops::Deref for Db {
    type Target = dyn Backend;
    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.0
    }
}

impl Db {
    pub fn open_sqlite(path: &Path) -> Result<Db, ApiError> {
        Ok(Db(Arc::new(SqliteDb::open(path)?)))
    }

    pub async fn connect_postgres(url: &str) -> Result<Db, ApiError> {
        Ok(Db(Arc::new(PgDb::connect(url).await?)))
    }

    /// A report of a period from the rollups; figure 3 lists at most `details_limit` evaluations.
    pub async fn report(
        &self,
        period: Period,
        filter: ReportFilter,
        rubric: &Rubric,
        details_limit: Option<u32>,
    ) -> Result<Report, ApiError> {
        let zones = self.site_zones().await?;
        let p = ReportParams::new(period, &filter, rubric, &zones);
        let work_applies = filter.role.is_none_or(|r| r == radqc_domain::Role::Technologist);
        let mut rows = self.0.report_rows(p.rollup_queries()).await?;
        if !work_applies {
            rows.work.clear();
        }
        let (cells, total) = rows.into_cells()?;
        let details = p.details_query(details_limit.unwrap_or(u32::MAX), self.0.names_indexes());
        let details = self.0.report_details(details).await?;
        Ok(Report::from_cells(rubric, period.to_string(), filter, &cells, details, total))
    }
}

/// The columns of `sql::EVALUATION_FACTS` and `sql::REPORT_DETAILS`, typed; the deductions
/// and note come from the body.
pub(crate) struct FactRow {
    pub site: String,
    pub department: Option<String>,
    pub accession: String,
    pub modality: String,
    pub exam_item: String,
    pub item: String,
    pub scored_person: Option<String>,
    pub reviewer: String,
    pub score: Option<i32>,
    pub grade: String,
    pub body: String,
    pub id: String,
    pub reporting_doctor: Option<String>,
    pub mode: String,
    pub rubric_version: String,
    pub at: String,
    pub patient_known: bool,
    pub performed_at: Option<String>,
    pub auditing_doctor: Option<String>,
}

impl FactRow {
    pub fn into_fact(self) -> Result<EvaluationFact, ApiError> {
        let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a stored evaluation does not parse: {e}"));
        #[derive(serde::Deserialize)]
        struct Body {
            severe: Vec<radqc_domain::CriterionCode>,
            unmet: Vec<radqc_domain::CriterionCode>,
            note: String,
        }
        let body: Body = serde_json::from_str(&self.body).map_err(|e| bad(&e))?;
        let staff = |p: Option<String>| p.map(|p| p.parse()).transpose().map_err(|e| bad(&e));
        let general_data_complete = radqc_domain::rollup::general_data_complete(
            self.patient_known,
            self.department.as_deref(),
            self.performed_at.is_some(),
            self.reporting_doctor.is_some(),
            self.auditing_doctor.is_some(),
        );
        Ok(EvaluationFact {
            general_data_complete,
            id: self.id,
            site: self.site,
            department: self.department,
            accession: self.accession,
            modality: self.modality.parse().map_err(|e| bad(&e))?,
            exam_item: self.exam_item,
            reporting_doctor: staff(self.reporting_doctor)?,
            item: self.item.parse().map_err(|e| bad(&e))?,
            scored_person: staff(self.scored_person)?,
            reviewer: self.reviewer.parse().map_err(|e| bad(&e))?,
            mode: self.mode.parse().map_err(|e| bad(&e))?,
            rubric_version: self.rubric_version,
            at: self.at,
            score: self.score.map(|s| radqc_domain::Score::new(s as u8)).transpose().map_err(|e| bad(&e))?,
            grade: self.grade.parse().map_err(|e| bad(&e))?,
            severe: body.severe,
            unmet: body.unmet,
            note: body.note,
        })
    }
}

pub(crate) fn work_fact(
    person: String,
    modality: String,
    site: String,
    department: Option<String>,
    performed_at: String,
) -> Result<WorkFact, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a stored exam does not parse: {e}"));
    Ok(WorkFact {
        person: person.parse().map_err(|e| bad(&e))?,
        modality: modality.parse().map_err(|e| bad(&e))?,
        site,
        department,
        performed_at,
    })
}

/// A report's period and filter, as the statements that read it need them.
#[derive(Clone)]
pub(crate) struct ReportParams {
    pub first_month: Option<String>,
    pub last_month: Option<String>,
    pub period: Period,
    /// Each site's zone: figure 3 reads evaluations by time, each site's months its own.
    pub zones: radqc_domain::Zones,
    pub site: Option<String>,
    pub department: Option<String>,
    pub modality: Option<String>,
    pub person: Option<String>,
    pub mode: Option<String>,
    pub rubric_version: Option<String>,
    /// The role's items; `None` without a role filter.
    pub items: Option<Vec<String>>,
}

impl ReportParams {
    pub fn new(period: Period, f: &ReportFilter, rubric: &Rubric, zones: &radqc_domain::Zones) -> ReportParams {
        ReportParams {
            first_month: period.from.map(|m| m.to_string()),
            last_month: period.to.map(|m| m.to_string()),
            period,
            zones: zones.clone(),
            site: f.site.clone(),
            department: f.department.clone(),
            modality: f.modality.as_ref().map(|m| m.to_string()),
            person: f.person.as_ref().map(|p| p.to_string()),
            mode: f.mode.map(|m| m.to_string()),
            rubric_version: f.rubric_version.clone(),
            items: f.role.map(|_| f.items(rubric).iter().map(|i| i.to_string()).collect()),
        }
    }

    fn rollup_conditions(&self, evaluations: bool) -> sql::Conditions {
        let mut c = sql::Conditions::default();
        c.cmp("month", ">=", self.first_month.as_deref())
            .cmp("month", "<=", self.last_month.as_deref())
            .cmp("site", "=", self.site.as_deref())
            .cmp("department", "=", self.department.as_deref())
            .cmp("modality", "=", self.modality.as_deref())
            .cmp("person", "=", self.person.as_deref());
        if evaluations {
            c.cmp("mode", "=", self.mode.as_deref())
                .cmp("rubric_version", "=", self.rubric_version.as_deref())
                .one_of("item", self.items.as_deref());
        }
        c
    }

    /// The five rollup statements: scores, deductions, cases, work, case spans.
    pub fn rollup_queries(&self) -> [sql::Query; 5] {
        [
            self.rollup_conditions(true).query(sql::REPORT_SCORES, sql::REPORT_SCORES_GROUP),
            self.rollup_conditions(true).query(sql::REPORT_DEDUCTIONS, sql::REPORT_DEDUCTIONS_GROUP),
            self.rollup_conditions(false).query(sql::REPORT_CASES, sql::REPORT_CASES_GROUP),
            self.rollup_conditions(false).query(sql::REPORT_WORK, sql::REPORT_WORK_GROUP),
            self.rollup_conditions(false).fixed("present > 0").query(sql::REPORT_SPANS, sql::REPORT_SPANS_ORDER),
        ]
    }

    /// `e.at` within the period, each site's months in its zone: one range when the report
    /// is of one site or every site has the default zone, else one per zone.
    fn at_in_period(&self, c: &mut sql::Conditions) {
        let range = |c: &mut sql::Conditions, zone: radqc_domain::SiteZone| {
            let (from, to) = self.period.range(zone);
            format!("e.at >= {} AND e.at < {}", c.param(&from), c.param(&to))
        };
        let groups = self.zones.groups();
        if let Some(site) = &self.site {
            let r = range(c, self.zones.of(site));
            c.fixed(&r);
        } else if groups.is_empty() {
            let r = range(c, self.zones.default);
            c.fixed(&r);
        } else {
            // The zones' ranges together, as one range an index on `at` can seek to (its
            // parameters first: SQLite numbers `$n` in the order they appear).
            let ranges: Vec<(String, String)> = groups
                .values()
                .map(|(zone, _)| *zone)
                .chain([self.zones.default])
                .map(|z| self.period.range(z))
                .collect();
            let from = ranges.iter().map(|r| &r.0).min().expect("the default zone's range");
            let to = ranges.iter().map(|r| &r.1).max().expect("the default zone's range");
            let bound = format!("e.at >= {} AND e.at < {}", c.param(from), c.param(to));
            c.fixed(&bound);
            let mut parts = Vec::new();
            let mut others = Vec::new();
            for (zone, sites) in groups.values() {
                let list: Vec<String> = sites.iter().map(|s| c.param(s)).collect();
                others.extend(list.iter().cloned());
                let r = range(c, *zone);
                parts.push(format!("(e.site IN ({}) AND {r})", list.join(", ")));
            }
            let r = range(c, self.zones.default);
            parts.push(format!("(e.site NOT IN ({}) AND {r})", others.join(", ")));
            c.fixed(&format!("({})", parts.join(" OR ")));
        }
    }

    /// Figure 3's statement, at most `limit` rows, read in `at` order from the index of the
    /// deducted current evaluations (`indexed_by`: naming it, for SQLite).
    pub fn details_query(&self, limit: u32, indexed_by: bool) -> sql::Query {
        let select = match (indexed_by, self.site.is_some()) {
            (false, _) => sql::REPORT_DETAILS,
            (true, false) => sql::REPORT_DETAILS_BY_AT,
            (true, true) => sql::REPORT_DETAILS_BY_SITE_AT,
        };
        let mut c = sql::Conditions::default();
        c.fixed("e.deducted AND e.current");
        self.at_in_period(&mut c);
        c.cmp("e.site", "=", self.site.as_deref())
            .cmp("x.department", "=", self.department.as_deref())
            .cmp("x.modality", "=", self.modality.as_deref())
            .cmp("e.scored_person", "=", self.person.as_deref())
            .cmp("e.mode", "=", self.mode.as_deref())
            .cmp("e.rubric_version", "=", self.rubric_version.as_deref())
            .one_of("e.item", self.items.as_deref());
        c.query(select, &format!("ORDER BY e.at, e.id LIMIT {limit}"))
    }
}

/// Rows of the rollup queries, gathered into a report's cells. Counts that reach zero (a
/// corrected score moved elsewhere) are left out, as a site's own computation leaves them out.
#[derive(Default)]
#[doc(hidden)]
pub struct CellRows {
    pub scores: Vec<(String, String, String, String, [i64; 6])>,
    pub deductions: Vec<(String, String, String, i64)>,
    pub cases: Vec<(CaseKey, i64, i64)>,
    pub work: Vec<(String, String, String, i64)>,
    pub spans: Vec<(radqc_domain::rollup::SpanKey, [i64; 3])>,
}

impl CellRows {
    pub fn into_cells(self) -> Result<(ReportCells, u64), ApiError> {
        let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a rollup row does not parse: {e}"));
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut cells = ReportCells::default();
        let mut deducted = 0;
        for (site, person, modality, item, c) in self.scores {
            deducted += n(c[5]);
            if c[..5].iter().all(|v| *v == 0) || person.is_empty() {
                continue;
            }
            let counts = [n(c[0]), n(c[1]), n(c[2]), n(c[3]), n(c[4])];
            cells.scores.push(ScoreCell { site, person, modality, item: item.parse().map_err(|e| bad(&e))?, counts });
        }
        for (rubric_version, criterion, _, count) in self.deductions {
            let criterion = criterion.parse().map_err(|e| bad(&e))?;
            cells.deductions.push(DeductionCell { rubric_version, criterion, count: n(count) });
        }
        cells.cases =
            self.cases.into_iter().map(|(key, s, q)| CaseCell { key, sampled: n(s), qualified: n(q) }).collect();
        cells.work = self
            .work
            .into_iter()
            .map(|(site, person, modality, count)| WorkCell { site, person, modality, count: n(count) })
            .collect();
        cells.cases_counted_twice = radqc_domain::rollup::case_corrections(self.spans.iter().map(|(k, v)| (k, v)));
        Ok((cells, deducted))
    }
}
