//! The PostgreSQL backend, for regions with several stateless center processes on one database.
//! A push locks its device's row (`FOR UPDATE`), so concurrent pushes of one device serialise
//! across processes while different devices proceed in parallel.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Config, Pool, Runtime};
use radqc_protocol::{
    ErrorBody, ErrorCode, EvaluationRecord, FeedItem, FeedKind, FeedPage, PushEntry, PushResponse, StaffMember,
};
use tokio_postgres::NoTls;

use radqc_domain::report::{EvaluationFact, WorkFact};
use radqc_protocol::MonitoringNotice;

use super::notice_step::{self, NoticeStep};
use super::{
    parse_roles, parse_ts, sql, ts, Backend, DbFuture, Device, DeviceStats, ExportLine, GoldJob, Person, RubricSet,
};
use crate::error::ApiError;
use crate::gold::{self, CaseDoc, CaseState, GoldBook, GoldScope};
use crate::push::{self, Write};
use crate::rollups::{self, ExamState};
use radqc_domain::rollup::Rollup;
use radqc_protocol::{DeviceRecordsPage, DeviceState};

/// The one lock of gold-standard work across center processes (a transaction's advisory lock).
const GOLD_LOCK: &str = "SELECT pg_advisory_xact_lock(7301)";

/// Reads a gold book for `scope` inside `tx`, under the gold lock (see `Backend::gold_run`).
async fn load_book(tx: &tokio_postgres::Transaction<'_>, scope: &GoldScope) -> Result<GoldBook, ApiError> {
    tx.execute(GOLD_LOCK, &[]).await?;
    let mut book = GoldBook::default();
    for r in tx.query(sql::GOLD_OPEN_CASES, &[]).await? {
        let doc = super::gold_doc(r.try_get(0)?)?;
        book.cases.insert(doc.id.clone(), doc);
    }
    for id in &scope.case_ids {
        if !book.cases.contains_key(id) {
            if let Some(r) = tx.query_opt(sql::GOLD_CASE, &[id]).await? {
                let doc = super::gold_doc(r.try_get(0)?)?;
                book.cases.insert(doc.id.clone(), doc);
            }
        }
    }
    for id in &scope.evaluation_ids {
        if book.case_of(id).is_none() {
            if let Some(r) = tx.query_opt(sql::GOLD_CASE_OF_EVALUATION, &[id]).await? {
                let doc = super::gold_doc(r.try_get(0)?)?;
                book.cases.insert(doc.id.clone(), doc);
            }
        }
        if let Some(r) = tx.query_opt(sql::STORED_EVALUATION, &[id]).await? {
            let (site, accession, body, superseded_by): (String, String, String, Option<String>) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            let Some(exam) = tx.query_opt(sql::EXAM_BODY, &[&site, &accession]).await? else { continue };
            book.evaluations.insert(
                id.clone(),
                gold::KnownEvaluation {
                    record: super::evaluation_record(&body, superseded_by.clone())?,
                    superseded_by,
                    exam: super::exam_body(exam.try_get(0)?)?,
                },
            );
        }
    }
    for r in tx.query(sql::ACTIVE_STAFF, &[]).await? {
        book.staff.push(StaffMember {
            site: r.try_get(0)?,
            code: r.try_get(1)?,
            name: r.try_get(2)?,
            roles: parse_roles(r.try_get(3)?)?,
            active: r.try_get(4)?,
        });
    }
    let settings = tx.query_opt(sql::SETTING, &[&gold::SETTINGS_NAME]).await?;
    let settings: Option<String> = settings.map(|r| r.try_get(0)).transpose()?;
    book.settings = gold::parse_settings(settings.as_deref())?;
    Ok(book)
}

/// Writes what a gold book changed inside `tx`.
async fn flush_book(tx: &tokio_postgres::Transaction<'_>, book: &GoldBook, now: DateTime<Utc>) -> Result<(), ApiError> {
    let at = ts(now);
    for id in &book.changed {
        let c = &book.cases[id];
        tx.execute(
            sql::UPSERT_GOLD_CASE,
            &[&c.id, &c.site, &c.evaluation_id, &c.state.as_str(), &ts(c.created_at), &at, &c.body()],
        )
        .await?;
    }
    for (kind, site, body) in &book.publish {
        tx.query_one(sql::PUBLISH, &[&kind.as_str(), site, body, &at]).await?;
    }
    Ok(())
}

#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
    rollups_at_ingest: bool,
}

impl PgDb {
    pub async fn connect(url: &str) -> Result<PgDb, ApiError> {
        let config = Config { url: Some(url.to_owned()), ..Config::default() };
        let pool = config
            .create_pool(Some(Runtime::Tokio1), NoTls)
            .map_err(|e| ApiError::storage(format!("invalid PostgreSQL URL: {e}")))?;
        let db = PgDb { pool, rollups_at_ingest: super::rollups_at_ingest() };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), ApiError> {
        self.migrate_with(sql::MIGRATIONS).await
    }

    /// Migrates with `migrations` as this build's (tests pass an edited copy), in one
    /// transaction: a database this build refuses (a newer schema, another migration history) is
    /// left as it was.
    pub(super) async fn migrate_with(&self, migrations: &[&str]) -> Result<(), ApiError> {
        use super::migrate;
        let mut client = self.pool.get().await?;
        let mut tx = client.transaction().await?;
        // One migrating process at a time when several centers start together.
        tx.execute("SELECT pg_advisory_xact_lock(5241445143)", &[]).await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS center_schema (version BIGINT NOT NULL)").await?;
        let version: i64 = match tx.query_opt("SELECT version FROM center_schema", &[]).await? {
            Some(row) => row.try_get(0)?,
            None => {
                tx.execute("INSERT INTO center_schema (version) VALUES (0)", &[]).await?;
                0
            }
        };
        if version > migrations.len() as i64 {
            return Err(ApiError::storage(format!(
                "the database was written by a newer RadQC center (schema {version}); update RadQC"
            )));
        }
        let now = ts(Utc::now());
        let has_history: bool = tx.query_one("SELECT to_regclass('center_migrations') IS NOT NULL", &[]).await?.get(0);
        if has_history {
            let rows = tx.query(migrate::RECORDED, &[]).await?;
            let recorded: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            migrate::check_recorded(version, &recorded, migrations)
                .map_err(|d| migrate::refused("the database", &d))?;
        } else {
            if version > 0 {
                // Made before the record was kept: its schema must be what the migrations up to its
                // version make, here in this session's temporary schema, rolled back.
                let schema: String = tx.query_one("SELECT current_schema()::text", &[]).await?.get(0);
                let have = migrate::pg_objects(&tx, &schema).await?;
                let scratch = tx.savepoint("radqc_expected_schema").await?;
                scratch.batch_execute("CREATE TEMP TABLE radqc_probe (x INT); DROP TABLE radqc_probe").await?;
                scratch.batch_execute("SET LOCAL search_path = pg_temp").await?;
                for m in &migrations[..version as usize] {
                    scratch.batch_execute(&m.replace("{serial}", "BIGSERIAL")).await?;
                }
                let temp: String = scratch
                    .query_one("SELECT nspname::text FROM pg_namespace WHERE oid = pg_my_temp_schema()", &[])
                    .await?
                    .get(0);
                let want = migrate::pg_objects(&scratch, &temp).await?;
                scratch.rollback().await?;
                migrate::check_schema(version, &want, &have).map_err(|d| migrate::refused("the database", &d))?;
            }
            tx.batch_execute(migrate::HISTORY_TABLE).await?;
            for (i, m) in migrations.iter().enumerate().take(version as usize) {
                tx.execute(migrate::RECORD, &[&(i as i64 + 1), &migrate::digest(m), &"inferred", &now]).await?;
            }
        }
        let rebuild_at_end = sql::rebuilds_rollups(version as usize);
        for (i, m) in migrations.iter().enumerate().skip(version as usize) {
            tx.batch_execute(&m.replace("{serial}", "BIGSERIAL")).await?;
            if rebuild_at_end && i + 1 == migrations.len() {
                rebuild(&tx).await?;
            }
            tx.execute(migrate::RECORD, &[&(i as i64 + 1), &migrate::digest(m), &"applied", &now]).await?;
            tx.execute("UPDATE center_schema SET version = $1", &[&(i as i64 + 1)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn device_state(r: &tokio_postgres::Row) -> Result<DeviceState, ApiError> {
    Ok(DeviceState {
        device_id: r.try_get(0)?,
        site: r.try_get(1)?,
        last_seq: r.try_get(2)?,
        forked_from: r.try_get(3)?,
    })
}

/// The push plan's lookups, read before planning (PostgreSQL calls are async, the plan is not).
#[derive(Default)]
struct PgKnown {
    digests: std::collections::HashMap<i64, String>,
    reasons: std::collections::HashMap<i64, ErrorBody>,
    notice_sites: std::collections::HashMap<String, String>,
    evaluations: std::collections::HashMap<String, push::StoredRecord>,
    events: std::collections::HashMap<String, push::StoredRecord>,
}

/// The stored evaluations (with the one superseding each) and events a batch names.
const STORED_EVALUATIONS: &str = "SELECT e.id, e.site, e.accession, e.body, \
     (SELECT s.id FROM evaluations s WHERE s.supersedes = e.id LIMIT 1) FROM evaluations e WHERE e.id = ANY($1)";
const STORED_EVENTS: &str = "SELECT id, site, accession, body FROM exam_events WHERE id = ANY($1)";

impl push::Known for PgKnown {
    fn digest(&mut self, seq: i64) -> Result<Option<String>, ApiError> {
        Ok(self.digests.get(&seq).cloned())
    }
    fn rejected_reason(&mut self, seq: i64) -> Result<Option<ErrorBody>, ApiError> {
        Ok(self.reasons.get(&seq).cloned())
    }
    fn notice_site(&mut self, id: &str) -> Result<Option<String>, ApiError> {
        Ok(self.notice_sites.get(id).cloned())
    }
    fn evaluation(&mut self, id: &str) -> Result<Option<push::StoredRecord>, ApiError> {
        Ok(self.evaluations.get(id).cloned())
    }
    fn event(&mut self, id: &str) -> Result<Option<push::StoredRecord>, ApiError> {
        Ok(self.events.get(id).cloned())
    }
}

const EXAM_STATES: &str = "SELECT accession, modality, department, technologist, reporting_doctor, performed_at, \
     auditing_doctor, patient_known FROM exams WHERE site = $1 AND accession = ANY($2)";
const CURRENT_EVALUATIONS: &str = "SELECT accession, id, item, scored_person, mode, rubric_version, at, score, grade, \
     body FROM evaluations WHERE site = $1 AND accession = ANY($2) AND current";

fn exam_state(r: &tokio_postgres::Row, first: usize) -> Result<ExamState, ApiError> {
    Ok(ExamState {
        modality: r.try_get(first)?,
        department: r.try_get(first + 1)?,
        technologist: r.try_get(first + 2)?,
        reporting_doctor: r.try_get(first + 3)?,
        performed_at: r.try_get(first + 4)?,
        auditing_doctor: r.try_get(first + 5)?,
        patient_known: r.try_get(first + 6)?,
    })
}

/// A stored evaluation as the rollups count it: id, item, scored_person, mode, rubric_version,
/// at, score, grade, body from column `first` on.
fn counted(r: &tokio_postgres::Row, first: usize) -> Result<(String, radqc_domain::rollup::Counted), ApiError> {
    let row = crate::rows::EvaluationRow {
        id: r.try_get(first)?,
        item: r.try_get(first + 1)?,
        scored_person: r.try_get(first + 2)?,
        mode: r.try_get(first + 3)?,
        rubric_version: r.try_get(first + 4)?,
        at: r.try_get(first + 5)?,
        score: r.try_get(first + 6)?,
        grade: r.try_get(first + 7)?,
        deductions: rollups::body_deductions(r.try_get(first + 8)?)?.iter().map(|c| c.to_string()).collect(),
        ..crate::rows::EvaluationRow::default()
    };
    Ok((row.id.clone(), rollups::counted(&row)?))
}

/// A rollup as the parameters of its upserts (owned, so the statements can borrow them).
struct RollupRows {
    scores: Vec<([String; 8], [i64; 6])>,
    deductions: Vec<([String; 9], i64)>,
    cases: Vec<([String; 5], [i64; 2])>,
    work: Vec<([String; 5], i64)>,
    spans: Vec<([String; 6], [i64; 3])>,
}

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

impl RollupRows {
    fn of(r: &Rollup) -> RollupRows {
        let key = |k: &radqc_domain::rollup::EvalKey| {
            [
                k.month.clone(),
                k.site.clone(),
                k.department.clone(),
                k.modality.clone(),
                k.item.to_string(),
                k.person.clone(),
                k.mode.to_string(),
                k.rubric_version.clone(),
            ]
        };
        let case = |k: &radqc_domain::rollup::CaseKey| {
            [k.month.clone(), k.site.clone(), k.department.clone(), k.modality.clone(), k.person.clone()]
        };
        RollupRows {
            scores: r.scores.iter().map(|(k, v)| (key(k), *v)).collect(),
            deductions: r
                .deductions
                .iter()
                .map(|((k, c), n)| {
                    let [a, b, c2, d, e, f, g, h] = key(k);
                    ([a, b, c2, d, e, f, g, h, c.to_string()], *n)
                })
                .collect(),
            cases: r.cases.iter().map(|(k, v)| (case(k), *v)).collect(),
            work: r.work.iter().map(|(k, n)| (case(k), *n)).collect(),
            spans: r
                .spans
                .iter()
                .map(|(k, v)| {
                    let key = [
                        k.site.clone(),
                        k.accession.clone(),
                        k.month.clone(),
                        k.department.clone(),
                        k.modality.clone(),
                        k.person.clone(),
                    ];
                    (key, *v)
                })
                .collect(),
        }
    }

    /// Writes the rollup: one multi-row upsert per table that changes (`sql::ADD_*_MANY`),
    /// pipelined.
    async fn write(&self, tx: &tokio_postgres::Transaction<'_>) -> Result<(), ApiError> {
        let scores = Arrays::of(self.scores.iter().map(|(k, v)| (&k[..], &v[..])));
        let deductions = Arrays::of(self.deductions.iter().map(|(k, n)| (&k[..], std::slice::from_ref(n))));
        let cases = Arrays::of(self.cases.iter().map(|(k, v)| (&k[..], &v[..])));
        let work = Arrays::of(self.work.iter().map(|(k, n)| (&k[..], std::slice::from_ref(n))));
        let spans = Arrays::of(self.spans.iter().map(|(k, v)| (&k[..], &v[..])));
        let tables = [
            (sql::ADD_SCORES_MANY, &scores),
            (sql::ADD_DEDUCTIONS_MANY, &deductions),
            (sql::ADD_CASES_MANY, &cases),
            (sql::ADD_WORK_MANY, &work),
            (sql::ADD_SPANS_MANY, &spans),
        ];
        let params: Vec<(&str, Vec<Param>)> =
            tables.iter().filter(|(_, a)| !a.is_empty()).map(|(text, a)| (*text, a.params())).collect();
        futures_util::future::try_join_all(params.iter().map(|(text, p)| tx.execute(*text, p))).await?;
        Ok(())
    }
}

/// Rollup rows as one array per column: the key's texts, then the counts.
struct Arrays<'a> {
    keys: Vec<Vec<&'a str>>,
    counts: Vec<Vec<i64>>,
}

impl<'a> Arrays<'a> {
    fn of(rows: impl Iterator<Item = (&'a [String], &'a [i64])>) -> Arrays<'a> {
        let mut a = Arrays { keys: Vec::new(), counts: Vec::new() };
        for (key, counts) in rows {
            a.keys.resize_with(key.len(), Vec::new);
            a.counts.resize_with(counts.len(), Vec::new);
            for (column, k) in a.keys.iter_mut().zip(key) {
                column.push(k);
            }
            for (column, n) in a.counts.iter_mut().zip(counts) {
                column.push(*n);
            }
        }
        a
    }
    fn is_empty(&self) -> bool {
        self.keys.first().is_none_or(Vec::is_empty)
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.keys.iter().map(|c| c as Param).chain(self.counts.iter().map(|c| c as Param)).collect()
    }
}

/// Rows as one array per column, the parameters of a multi-row `unnest` statement: a struct
/// with `push` (a row, and the push's receiving time) and `params` (in the statement's order).
macro_rules! columns {
    ($(#[$doc:meta])* $name:ident<$lt:lifetime> for $row:ty, |$r:ident, $received:ident| {
        $($field:ident: $ty:ty = $get:expr),* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Default)]
        struct $name<$lt> {
            $($field: Vec<$ty>,)*
        }

        impl<$lt> $name<$lt> {
            #[allow(unused_variables)]
            fn push(&mut self, $r: &$lt $row, $received: &$lt str) {
                $(self.$field.push($get);)*
            }
            fn params(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
                vec![$(&self.$field),*]
            }
        }
    };
}

columns!(
    /// A round of exams, as `sql::UPSERT_EXAMS` takes them.
    ExamColumns<'a> for crate::rows::ExamRow, |e, received| {
        site: &'a str = &e.site,
        accession: &'a str = &e.accession,
        modality: &'a str = &e.modality,
        exam_item: &'a str = &e.exam_item,
        department: Option<&'a str> = e.department.as_deref(),
        technologist: Option<&'a str> = e.technologist.as_deref(),
        reporting_doctor: Option<&'a str> = e.reporting_doctor.as_deref(),
        auditing_doctor: Option<&'a str> = e.auditing_doctor.as_deref(),
        ordering_clinician: Option<&'a str> = e.ordering_clinician.as_deref(),
        performed_at: Option<&'a str> = e.performed_at.as_deref(),
        body: &'a str = &e.body,
        patient_known: bool = e.patient_known,
        cancelled: bool = e.cancelled,
    }
);

columns!(
    /// A push's evaluations, as `sql::INSERT_EVALUATIONS` takes them.
    EvaluationColumns<'a> for crate::rows::EvaluationRow, |v, received| {
        id: &'a str = &v.id,
        site: &'a str = &v.site,
        device: &'a str = &v.device,
        seq: i64 = v.seq,
        accession: &'a str = &v.accession,
        item: &'a str = &v.item,
        reviewer: &'a str = &v.reviewer,
        scored_person: Option<&'a str> = v.scored_person.as_deref(),
        mode: &'a str = &v.mode,
        score: Option<i32> = v.score,
        grade: &'a str = &v.grade,
        pass: bool = v.pass,
        rubric_version: &'a str = &v.rubric_version,
        at: &'a str = &v.at,
        supersedes: Option<&'a str> = v.supersedes.as_deref(),
        body: &'a str = &v.body,
        received_at: &'a str = received,
        deducted: bool = v.deducted,
    }
);

columns!(
    /// A push's exam events, as `sql::INSERT_EVENTS` takes them.
    EventColumns<'a> for crate::rows::EventRow, |v, received| {
        id: &'a str = &v.id,
        site: &'a str = &v.site,
        device: &'a str = &v.device,
        seq: i64 = v.seq,
        accession: &'a str = &v.accession,
        kind: &'a str = &v.kind,
        staff: &'a str = &v.staff,
        at: &'a str = &v.at,
        body: &'a str = &v.body,
        received_at: &'a str = received,
    }
);

/// Writes a rollup with its multi-row upserts.
async fn add_rollup(tx: &tokio_postgres::Transaction<'_>, r: &Rollup) -> Result<(), ApiError> {
    RollupRows::of(r).write(tx).await
}

/// Recomputes the rollups (and the `current` and `deducted` columns) from the stored data,
/// reading exams and their evaluations through a cursor.
async fn rebuild(tx: &tokio_postgres::Transaction<'_>) -> Result<u64, ApiError> {
    let set = tx.prepare(sql::SET_PATIENT_KNOWN).await?;
    for r in tx.query(sql::EXAMS_PATIENT_UNKNOWN, &[]).await? {
        if rollups::body_patient_known(r.try_get(2)?) {
            tx.execute(&set, &[&r.try_get::<_, &str>(0)?, &r.try_get::<_, &str>(1)?]).await?;
        }
    }
    tx.execute(sql::MARK_NOT_CURRENT, &[]).await?;
    tx.execute(sql::MARK_CURRENT, &[]).await?;
    tx.batch_execute(&format!("DECLARE rebuild_scan NO SCROLL CURSOR FOR {}", sql::REBUILD_SCAN)).await?;
    let mut scan = rollups::Rebuild::new(site_zones(tx).await?);
    loop {
        let rows = tx.query("FETCH 10000 FROM rebuild_scan", &[]).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let evaluation = match r.get::<_, Option<String>>(9) {
                Some(_) => Some(counted(r, 9)?),
                None => None,
            };
            scan.row((r.try_get(0)?, r.try_get(1)?), exam_state(r, 2)?, evaluation);
        }
    }
    tx.batch_execute("CLOSE rebuild_scan").await?;
    let (rollup, deducted, n) = scan.finish();
    for chunk in deducted.chunks(10_000) {
        tx.execute("UPDATE evaluations SET deducted = TRUE WHERE id = ANY($1) AND NOT deducted", &[&chunk]).await?;
    }
    tx.batch_execute(sql::CLEAR_ROLLUPS).await?;
    add_rollup(tx, &rollup).await?;
    Ok(n)
}

fn fact_row(r: &tokio_postgres::Row) -> Result<super::FactRow, ApiError> {
    Ok(super::FactRow {
        site: r.try_get(0)?,
        department: r.try_get(1)?,
        accession: r.try_get(2)?,
        modality: r.try_get(3)?,
        exam_item: r.try_get(4)?,
        item: r.try_get(5)?,
        scored_person: r.try_get(6)?,
        reviewer: r.try_get(7)?,
        score: r.try_get(8)?,
        grade: r.try_get(9)?,
        body: r.try_get(10)?,
        id: r.try_get(11)?,
        reporting_doctor: r.try_get(12)?,
        mode: r.try_get(13)?,
        rubric_version: r.try_get(14)?,
        at: r.try_get(15)?,
        patient_known: r.try_get(16)?,
        performed_at: r.try_get(17)?,
        auditing_doctor: r.try_get(18)?,
    })
}

/// The columns of `sql::SPAN_KEY`, first.
fn span_key(r: &tokio_postgres::Row) -> Result<radqc_domain::rollup::SpanKey, ApiError> {
    Ok(radqc_domain::rollup::SpanKey {
        site: r.try_get(0)?,
        accession: r.try_get(1)?,
        month: r.try_get(2)?,
        department: r.try_get(3)?,
        modality: r.try_get(4)?,
        person: r.try_get(5)?,
    })
}

async fn site_zones(c: &impl tokio_postgres::GenericClient) -> Result<radqc_domain::Zones, ApiError> {
    let rows = c.query(sql::SITE_ZONES, &[]).await?;
    let rows = rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, ApiError>>()?;
    rollups::zones(rows)
}

impl Backend for PgDb {
    fn add_site<'a>(&'a self, code: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let n: i64 = client.query_one(sql::SITE_EXISTS, &[&code]).await?.try_get(0)?;
            if n > 0 {
                return Err(ApiError::new(ErrorCode::SiteExists, format!("site {code} already exists")));
            }
            client.execute(sql::ADD_SITE, &[&code, &name, &ts(now), &radqc_domain::SiteZone::default().name()]).await?;
            Ok(())
        })
    }

    fn site_zones<'a>(&'a self) -> DbFuture<'a, radqc_domain::Zones> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            site_zones(&**client).await
        })
    }

    /// Sets the zone and rebuilds the rollups, the tables locked against writes meanwhile (a
    /// push reads its site's zone `FOR SHARE` after its writes, so it sees the old zone and
    /// rollups or the new).
    fn set_site_zone<'a>(&'a self, code: &'a str, zone: radqc_domain::SiteZone) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock(5241445143)", &[]).await?;
            // The tables first: pushes in flight finish (they read the zone after their writes),
            // later ones wait for the new zone and rollups.
            tx.execute("LOCK TABLE evaluations, exams IN SHARE MODE", &[]).await?;
            let stored = tx.query_opt(&format!("{} FOR UPDATE", sql::SITE_ZONE), &[&code]).await?;
            match stored.map(|r| r.try_get::<_, String>(0)).transpose()? {
                None => return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {code}"))),
                Some(z) if z == zone.name() => return Ok(()),
                Some(_) => {}
            }
            tx.execute(sql::SET_SITE_ZONE, &[&zone.name(), &code]).await?;
            rebuild(&tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn create_enrollment_code<'a>(
        &'a self,
        site: &'a str,
        code_hash: &'a str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let n: i64 = client.query_one(sql::SITE_EXISTS, &[&site]).await?.try_get(0)?;
            if n == 0 {
                return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {site}; add it first")));
            }
            client.execute(sql::ADD_CODE, &[&code_hash, &site, &ts(now), &ts(expires_at)]).await?;
            Ok(())
        })
    }

    fn enroll<'a>(
        &'a self,
        code_hash: &'a str,
        device_id: &'a str,
        name: Option<&'a str>,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, (String, i64)> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let code = tx
                .query_opt(&format!("{} FOR UPDATE", sql::FIND_CODE), &[&code_hash])
                .await?
                .map(|r| Ok::<_, ApiError>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()?;
            let site = crate::enrollment::check_code(code, now)?;
            let existing = tx
                .query_opt(&format!("{} FOR UPDATE", sql::FIND_DEVICE), &[&device_id])
                .await?
                .map(|r| Ok::<(String, i64), ApiError>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?;
            let next_seq = match existing {
                Some((old_site, last_seq)) => {
                    crate::enrollment::check_same_site(device_id, &old_site, &site)?;
                    tx.execute(sql::REENROLL_DEVICE, &[&token_hash, &name, &ts(now), &device_id]).await?;
                    last_seq + 1
                }
                None => {
                    tx.execute(sql::ADD_DEVICE, &[&device_id, &site, &name, &token_hash, &ts(now)]).await?;
                    1
                }
            };
            tx.execute(sql::USE_CODE, &[&device_id, &ts(now), &code_hash]).await?;
            tx.commit().await?;
            Ok((site, next_seq))
        })
    }

    fn revoke_device<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            if client.execute(sql::REVOKE_DEVICE, &[&device_id]).await? == 0 {
                return Err(ApiError::new(ErrorCode::UnknownDevice, format!("no device {device_id}")));
            }
            Ok(())
        })
    }

    fn device_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Device>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query_opt(sql::DEVICE_BY_TOKEN, &[&token_hash])
                .await?
                .map(|r| Ok(Device { id: r.try_get(0)?, site: r.try_get(1)?, revoked: r.try_get(2)? }))
                .transpose()
        })
    }

    fn person_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Person>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query_opt(sql::PERSON_BY_TOKEN, &[&token_hash])
                .await?
                .map(|r| Ok(Person { site: r.try_get(0)?, staff: r.try_get(1)?, roles: parse_roles(r.try_get(2)?)? }))
                .transpose()
        })
    }

    fn issue_person_token<'a>(
        &'a self,
        site: &'a str,
        staff: &'a str,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let n: i64 = client.query_one(sql::STAFF_EXISTS, &[&site, &staff]).await?.try_get(0)?;
            if n == 0 {
                return Err(ApiError::new(ErrorCode::UnknownStaff, format!("no staff member {staff} at site {site}")));
            }
            client.execute(sql::ADD_PERSON_TOKEN, &[&token_hash, &site, &staff, &ts(now)]).await?;
            Ok(())
        })
    }

    fn upsert_staff<'a>(&'a self, m: &'a StaffMember) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let n: i64 = client.query_one(sql::SITE_EXISTS, &[&m.site]).await?.try_get(0)?;
            if n == 0 {
                return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {}", m.site)));
            }
            let roles = serde_json::to_string(&m.roles).expect("roles serialize");
            client.execute(sql::UPSERT_STAFF, &[&m.site, &m.code, &m.name, &roles, &m.active]).await?;
            Ok(())
        })
    }

    fn staff_secrets<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<radqc_protocol::StaffCredential>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::STAFF_SECRETS_OF_SITE, &[&site])
                .await?
                .iter()
                .map(|r| {
                    Ok(radqc_protocol::StaffCredential {
                        code: r.try_get(0)?,
                        verifier: r.try_get(1)?,
                        version: r.try_get(2)?,
                        must_change: r.try_get(3)?,
                        set_at: parse_ts(r.try_get(4)?)?,
                    })
                })
                .collect()
        })
    }

    fn set_staff_secret<'a>(&'a self, w: &'a super::SecretWrite) -> DbFuture<'a, radqc_protocol::SecretChangeAnswer> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // The staff row locked: two centers setting one person's secret take turns.
            let n = tx
                .query("SELECT code FROM staff WHERE site = $1 AND code = $2 FOR UPDATE", &[&w.site, &w.staff])
                .await?;
            if n.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::UnknownStaff,
                    format!("no staff member {} at site {}", w.staff, w.site),
                ));
            }
            let stored: Option<i64> = match tx.query_opt(sql::STAFF_SECRET_VERSION, &[&w.site, &w.staff]).await? {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            };
            let version = match super::secret_step(w, stored) {
                Ok(answer) => return Ok(answer),
                Err(version) => version,
            };
            tx.execute(
                sql::UPSERT_STAFF_SECRET,
                &[&w.site, &w.staff, &w.verifier, &version, &w.must_change, &ts(w.at), &w.set_by],
            )
            .await?;
            tx.commit().await?;
            Ok(radqc_protocol::SecretChangeAnswer { status: radqc_protocol::SecretChangeStatus::Applied, version })
        })
    }

    fn setting<'a>(&'a self, name: &'a str) -> DbFuture<'a, Option<String>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            match client.query_opt(sql::SETTING, &[&name]).await? {
                Some(r) => Ok(Some(r.try_get(0)?)),
                None => Ok(None),
            }
        })
    }

    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> DbFuture<'a, ()> {
        Box::pin(async move {
            self.pool.get().await?.execute(sql::PUT_SETTING, &[&name, &value]).await?;
            Ok(())
        })
    }

    fn sites<'a>(&'a self) -> DbFuture<'a, Vec<String>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.query(sql::SITES, &[]).await?.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn staff<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<StaffMember>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::STAFF_OF_SITE, &[&site])
                .await?
                .iter()
                .map(|r| {
                    Ok(StaffMember {
                        site: r.try_get(0)?,
                        code: r.try_get(1)?,
                        name: r.try_get(2)?,
                        roles: parse_roles(r.try_get(3)?)?,
                        active: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }

    fn push<'a>(
        &'a self,
        device: &'a Device,
        entries: Vec<PushEntry>,
        rubrics: &'a RubricSet,
        grants: &'a radqc_domain::Grants,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, PushResponse> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let row = tx.query_one(&format!("{} FOR UPDATE", sql::FIND_DEVICE), &[&device.id]).await?;
            let (site, last_seq): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            // What the plan looks up, read first (PostgreSQL calls are async, the plan is not): the
            // digests and rejection reasons of entries within reach of this batch, the notices it
            // closes, the evaluations and events it names.
            let mut known = PgKnown::default();
            if let (Some(first), true) = (entries.first(), entries.first().is_some_and(|e| e.seq <= last_seq)) {
                for r in tx
                    .query(
                        "SELECT seq, code, message FROM rejected_entries WHERE device = $1 AND seq >= $2 AND seq <= $3",
                        &[&device.id, &first.seq, &last_seq],
                    )
                    .await?
                {
                    known.reasons.insert(
                        r.try_get::<_, i64>(0)?,
                        super::stored_reason(r.try_get::<_, &str>(1)?, r.try_get::<_, String>(2)?)?,
                    );
                }
                for r in tx
                    .query(
                        "SELECT seq, digest FROM entry_digests WHERE device = $1 AND seq >= $2 AND seq <= $3",
                        &[&device.id, &first.seq, &last_seq],
                    )
                    .await?
                {
                    known.digests.insert(r.try_get::<_, i64>(0)?, r.try_get::<_, String>(1)?);
                }
            }
            let (evaluation_ids, event_ids, notice_ids) = push::named_ids(&entries);
            if !notice_ids.is_empty() {
                for r in tx.query("SELECT id, site FROM notices WHERE id = ANY($1)", &[&notice_ids]).await? {
                    known.notice_sites.insert(r.try_get(0)?, r.try_get::<_, String>(1)?);
                }
            }
            if !evaluation_ids.is_empty() {
                for r in tx.query(STORED_EVALUATIONS, &[&evaluation_ids]).await? {
                    let record = push::StoredRecord {
                        site: r.try_get(1)?,
                        accession: r.try_get(2)?,
                        body: r.try_get(3)?,
                        superseded_by: r.try_get(4)?,
                    };
                    known.evaluations.insert(r.try_get(0)?, record);
                }
            }
            if !event_ids.is_empty() {
                for r in tx.query(STORED_EVENTS, &[&event_ids]).await? {
                    let record = push::StoredRecord {
                        site: r.try_get(1)?,
                        accession: r.try_get(2)?,
                        body: r.try_get(3)?,
                        superseded_by: None,
                    };
                    known.events.insert(r.try_get(0)?, record);
                }
            }
            let plan = push::plan(&site, last_seq, &entries, rubrics, &mut known)?;
            let received = ts(now);
            // The bulk of a push (exams, evaluations, events, rejections) goes out pipelined: every
            // statement is sent before the first answer is awaited, in order on the one connection.
            let mut rows = Vec::new();
            let mut rejected = Vec::new();
            for write in &plan.writes {
                match write {
                    Write::Apply { seq, payload } => {
                        if let Some(r) = crate::rows::rows(payload, &device.id, *seq) {
                            rows.push(r);
                        }
                    }
                    Write::Reject { seq, reason, payload } => rejected.push((*seq, reason, payload)),
                }
            }
            // The stored state of the batch's exams, before any write: the rollups change by the
            // difference the batch makes to it.
            let accessions = if self.rollups_at_ingest { rollups::accessions(&rows) } else { Vec::new() };
            let mut stored = std::collections::HashMap::new();
            for r in tx.query(EXAM_STATES, &[&site, &accessions]).await? {
                stored.insert(r.try_get::<_, String>(0)?, exam_state(&r, 1)?);
            }
            let need = rollups::needing_evaluations(&stored, &rows);
            let mut evaluations: std::collections::HashMap<String, rollups::StoredEvaluations> =
                need.iter().map(|a| (a.clone(), Vec::new())).collect();
            if !need.is_empty() {
                for r in tx.query(CURRENT_EVALUATIONS, &[&site, &need]).await? {
                    let acc: String = r.try_get(0)?;
                    let c = counted(&r, 1)?;
                    evaluations.entry(acc).or_default().push(c);
                }
            }
            // The rows go out as a handful of multi-row statements, pipelined (every statement is
            // sent before the first answer is awaited): the exams in rounds (an exam's n-th
            // snapshot of this push in the n-th, so each merges in order as one at a time would),
            // then the evaluations and the events; report texts and rejections, few, one by one.
            let mut round_of: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
            let mut rounds: Vec<ExamColumns> = Vec::new();
            let mut evaluations_in = EvaluationColumns::default();
            let mut events_in = EventColumns::default();
            for r in &rows {
                let e = &r.exam;
                let n = round_of.entry((e.site.as_str(), e.accession.as_str())).or_insert(0);
                if rounds.len() <= *n {
                    rounds.push(ExamColumns::default());
                }
                rounds[*n].push(e, &received);
                *n += 1;
                if let Some(v) = &r.evaluation {
                    evaluations_in.push(v, &received);
                }
                if let Some(v) = &r.event {
                    events_in.push(v, &received);
                }
            }
            let upsert_exams = tx.prepare_cached(sql::UPSERT_EXAMS).await?;
            let insert_evaluations = tx.prepare_cached(sql::INSERT_EVALUATIONS).await?;
            let insert_events = tx.prepare_cached(sql::INSERT_EVENTS).await?;
            let upsert_report = tx.prepare_cached(sql::UPSERT_REPORT).await?;
            let insert_rejected = tx.prepare_cached(sql::INSERT_REJECTED).await?;
            type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
            let exam_params: Vec<Vec<P>> = rounds.iter().map(ExamColumns::params).collect();
            let mut others: Vec<(&tokio_postgres::Statement, Vec<P>)> = Vec::new();
            for x in rows.iter().filter_map(|r| r.report.as_ref()) {
                others.push((
                    &upsert_report,
                    vec![&x.site, &x.accession, &x.status, &x.findings, &x.impression, &x.reported_at, &received],
                ));
            }
            for (seq, reason, payload) in &rejected {
                others
                    .push((&insert_rejected, vec![&device.id, seq, &reason.code, &reason.message, payload, &received]));
            }
            let evaluation_params = evaluations_in.params();
            let event_params = events_in.params();
            let (_, stored_ids, _, _) = futures_util::try_join!(
                futures_util::future::try_join_all(exam_params.iter().map(|p| tx.execute(&upsert_exams, p))),
                async {
                    if evaluations_in.id.is_empty() {
                        Ok(Vec::new())
                    } else {
                        tx.query(&insert_evaluations, &evaluation_params).await
                    }
                },
                async {
                    if events_in.id.is_empty() {
                        Ok(0)
                    } else {
                        tx.execute(&insert_events, &event_params).await
                    }
                },
                futures_util::future::try_join_all(others.iter().map(|(stmt, params)| tx.execute(*stmt, params))),
            )?;
            // Which evaluations were new: an id already stored, or twice in this push, counts once.
            let mut stored_now = std::collections::HashSet::with_capacity(stored_ids.len());
            for r in &stored_ids {
                stored_now.insert(r.try_get::<_, String>(0)?);
            }
            let mut inserted = Vec::with_capacity(rows.len());
            let mut superseded = Vec::new();
            for r in &rows {
                let new = r.evaluation.as_ref().is_some_and(|v| stored_now.remove(&v.id));
                if let (true, Some(previous)) = (new, r.evaluation.as_ref().and_then(|v| v.supersedes.as_ref())) {
                    superseded.push(previous.clone());
                }
                inserted.push(new);
            }
            let delta = if self.rollups_at_ingest {
                let zone = tx.query_opt(&format!("{} FOR SHARE", sql::SITE_ZONE), &[&site]).await?;
                let zone = rollups::zone(&site, zone.map(|r| r.try_get(0)).transpose()?)?;
                rollups::delta(&site, zone, &stored, &evaluations, &rows, &inserted)?
            } else {
                Rollup::default()
            };
            let supersede = tx.prepare_cached(sql::SUPERSEDE).await?;
            let mut writes: Vec<(&tokio_postgres::Statement, Vec<P>)> = Vec::new();
            for previous in &superseded {
                writes.push((&supersede, vec![previous]));
            }
            futures_util::future::try_join_all(writes.iter().map(|(stmt, params)| tx.execute(*stmt, params))).await?;
            RollupRows::of(&delta).write(&tx).await?;

            // Monitoring notices: rare, and each depends on what the database says, so one by one.
            // The push's site's roster is read once, for its first failed evaluation.
            let mut staff: Option<Vec<(String, String)>> = None;
            for write in &plan.writes {
                let Write::Apply { payload, .. } = write else { continue };
                for step in notice_step::steps(payload) {
                    let publish = match step {
                        NoticeStep::Close { statement, params, closure } => {
                            let params: Vec<P> = params.iter().map(|p| p as P).collect();
                            let row = tx.query_opt(statement, &params).await?;
                            let body: Option<&str> = row.as_ref().map(|r| r.try_get(0)).transpose()?;
                            notice_step::closed(body, &closure)?
                        }
                        NoticeStep::Open { site, payload } => {
                            if staff.is_none() {
                                staff = Some(
                                    tx.query(sql::STAFF_ROLES, &[&site])
                                        .await?
                                        .iter()
                                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                                        .collect::<Result<Vec<(String, String)>, ApiError>>()?,
                                );
                            }
                            match notice_step::opening(payload, staff.clone().unwrap_or_default(), grants, now)? {
                                Some(o) => {
                                    let n = &o.notice;
                                    let inserted = tx
                                        .execute(
                                            sql::INSERT_NOTICE,
                                            &[&n.id, &n.site, &n.evaluation_id, &n.department, &received, &o.body],
                                        )
                                        .await?;
                                    (inserted == 1).then_some(o.publish)
                                }
                                None => None,
                            }
                        }
                    };
                    if let Some(p) = publish {
                        tx.query_one(sql::PUBLISH, &[&"notices", &p.site, &p.body, &received]).await?;
                    }
                }
            }
            // Gold-standard entries (rare), one by one on a book read after the batch's other
            // writes, so a dispute sees the evaluation the batch stored before it.
            let mut results = plan.results.clone();
            let scope = gold::GoldScope::of_payloads(plan.writes.iter().filter_map(|w| match w {
                Write::Apply { payload, .. } => Some(payload.as_ref()),
                Write::Reject { .. } => None,
            }));
            if !scope.is_empty() {
                let mut book = load_book(&tx, &scope).await?;
                for write in &plan.writes {
                    let Write::Apply { seq, payload } = write else { continue };
                    if let Some(Err(why)) = gold::apply_entry(&mut book, payload, grants, now) {
                        let text = serde_json::to_string(payload.as_ref()).expect("a payload serializes");
                        tx.execute(sql::INSERT_REJECTED, &[&device.id, seq, &why.code, &why.message, &text, &received])
                            .await?;
                        gold::refuse(&mut results, *seq, why);
                    }
                }
                flush_book(&tx, &book, now).await?;
            }
            if !plan.digests.is_empty() {
                let (seqs, digests): (Vec<i64>, Vec<&str>) = plan.digests.iter().map(|(s, d)| (*s, d.as_str())).unzip();
                tx.execute(
                "INSERT INTO entry_digests (device, seq, digest) SELECT $1, s, d FROM unnest($2::BIGINT[], $3::TEXT[]) AS t (s, d) \
                 ON CONFLICT (device, seq) DO UPDATE SET digest = excluded.digest",
                &[&device.id, &seqs, &digests],
            )
            .await?;
            }
            tx.execute(sql::SET_LAST_SEQ, &[&plan.last_seq, &received, &device.id]).await?;
            tx.commit().await?;
            Ok(PushResponse { last_seq: plan.last_seq, results })
        })
    }

    fn device_state<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, Option<DeviceState>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.query_opt(sql::DEVICE_STATE, &[&device_id]).await?.map(|r| device_state(&r)).transpose()
        })
    }

    fn fork_device<'a>(
        &'a self,
        parent: &'a Device,
        device_id: &'a str,
        name: Option<&'a str>,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, DeviceState> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // The parent's row, locked: forks of one device are made one at a time.
            tx.query_one(&format!("{} FOR UPDATE", sql::FIND_DEVICE), &[&parent.id]).await?;
            match tx.query_opt(sql::FIND_FORK, &[&device_id]).await? {
                Some(r) => super::check_fork_retry(
                    parent,
                    device_id,
                    token_hash,
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?),
                )?,
                None => {
                    tx.execute(sql::FORK_DEVICE, &[&device_id, &parent.site, &name, &token_hash, &ts(now), &parent.id])
                        .await?;
                }
            }
            let state = device_state(&tx.query_one(sql::DEVICE_STATE, &[&device_id]).await?)?;
            tx.commit().await?;
            Ok(state)
        })
    }

    fn device_records<'a>(&'a self, device_id: &'a str, after: i64, limit: i64) -> DbFuture<'a, DeviceRecordsPage> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let rows = client.query(sql::DEVICE_RECORDS, &[&device_id, &after, &(limit + 1)]).await?;
            let rows = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<Result<Vec<_>, ApiError>>()?;
            super::records_page(rows, after, limit)
        })
    }

    fn publish<'a>(
        &'a self,
        kind: FeedKind,
        site: Option<&'a str>,
        body: &'a serde_json::Value,
        now: DateTime<Utc>,
    ) -> DbFuture<'a, i64> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            Ok(client
                .query_one(sql::PUBLISH, &[&kind.as_str(), &site, &body.to_string(), &ts(now)])
                .await?
                .try_get(0)?)
        })
    }

    fn feed<'a>(&'a self, kind: FeedKind, site: &'a str, after: i64, limit: i64) -> DbFuture<'a, FeedPage> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let items = client
                .query(sql::FEED, &[&kind.as_str(), &after, &site, &(limit + 1)])
                .await?
                .iter()
                .map(|r| {
                    Ok(FeedItem {
                        cursor: r.try_get(0)?,
                        kind,
                        site: r.try_get(1)?,
                        body: super::parse_body(r.try_get(2)?, "feed message")?,
                        published_at: parse_ts(r.try_get(3)?)?,
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            Ok(crate::feed::page(items, after, limit))
        })
    }

    fn published_rubrics<'a>(&'a self) -> DbFuture<'a, Vec<String>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.query(sql::RUBRIC_TEXTS, &[]).await?.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn latest_grants<'a>(&'a self) -> DbFuture<'a, Option<(i64, String)>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let row = client.query_opt(sql::LATEST_GRANTS, &[]).await?;
            row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
        })
    }

    fn evaluations<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<EvaluationRecord>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::EVALUATIONS, &[&site])
                .await?
                .iter()
                .map(|r| super::evaluation_record(r.try_get::<_, &str>(0)?, r.try_get(1)?))
                .collect()
        })
    }

    fn export<'a>(&'a self) -> DbFuture<'a, Vec<ExportLine>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::EXPORT, &[])
                .await?
                .iter()
                .map(|r| {
                    ExportLine::new(
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                    )
                })
                .collect()
        })
    }

    fn stats<'a>(&'a self) -> DbFuture<'a, Vec<DeviceStats>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::STATS, &[])
                .await?
                .iter()
                .map(|r| {
                    Ok(DeviceStats {
                        site: r.try_get(0)?,
                        device: r.try_get(1)?,
                        revoked: r.try_get(2)?,
                        last_seq: r.try_get(3)?,
                        evaluations: r.try_get(4)?,
                        exam_events: r.try_get(5)?,
                        rejected: r.try_get(6)?,
                    })
                })
                .collect()
        })
    }

    fn evaluation_facts<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        site: Option<&'a str>,
    ) -> DbFuture<'a, Vec<EvaluationFact>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::EVALUATION_FACTS, &[&from, &to, &site])
                .await?
                .into_iter()
                .map(|r| fact_row(&r)?.into_fact())
                .collect()
        })
    }

    fn work_facts<'a>(&'a self, from: &'a str, to: &'a str, site: Option<&'a str>) -> DbFuture<'a, Vec<WorkFact>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::WORK_FACTS, &[&from, &to, &site])
                .await?
                .into_iter()
                .map(|r| super::work_fact(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
                .collect()
        })
    }

    fn notices<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<MonitoringNotice>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query(sql::NOTICES, &[&site])
                .await?
                .iter()
                .map(|r| crate::notices::with_closure(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
                .collect()
        })
    }

    fn report_rows<'a>(&'a self, queries: [sql::Query; 5]) -> DbFuture<'a, super::CellRows> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            fn params(q: &sql::Query) -> Vec<Param<'_>> {
                q.params.iter().map(|p| p as Param).collect()
            }
            let [q_scores, q_deductions, q_cases, q_work, q_spans] = &queries;
            let (p_scores, p_deductions, p_cases, p_work, p_spans) =
                (params(q_scores), params(q_deductions), params(q_cases), params(q_work), params(q_spans));
            let (scores, deductions, cases, work, spans) = futures_util::try_join!(
                client.query(&q_scores.text, &p_scores),
                client.query(&q_deductions.text, &p_deductions),
                client.query(&q_cases.text, &p_cases),
                client.query(&q_work.text, &p_work),
                client.query(&q_spans.text, &p_spans),
            )?;
            let mut out = super::CellRows::default();
            for r in scores {
                let counts = [r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?];
                out.scores.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, counts));
            }
            for r in deductions {
                out.deductions.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
            }
            for r in cases {
                let key = radqc_domain::rollup::CaseKey {
                    month: r.try_get(0)?,
                    site: r.try_get(1)?,
                    department: r.try_get(2)?,
                    modality: r.try_get(3)?,
                    person: r.try_get(4)?,
                };
                out.cases.push((key, r.try_get(5)?, r.try_get(6)?));
            }
            for r in work {
                out.work.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
            }
            for r in spans {
                out.spans.push((span_key(&r)?, [r.try_get(6)?, r.try_get(7)?, r.try_get(8)?]));
            }
            Ok(out)
        })
    }

    fn report_details<'a>(&'a self, q: sql::Query) -> DbFuture<'a, Vec<EvaluationFact>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let params: Vec<Param> = q.params.iter().map(|p| p as Param).collect();
            client.query(&q.text, &params).await?.into_iter().map(|r| fact_row(&r)?.into_fact()).collect()
        })
    }

    fn rebuild_rollups<'a>(&'a self) -> DbFuture<'a, u64> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock(5241445143)", &[]).await?;
            tx.execute("LOCK TABLE evaluations, exams IN SHARE MODE", &[]).await?;
            let n = rebuild(&tx).await?;
            tx.commit().await?;
            Ok(n)
        })
    }

    fn gold_run<'a>(&'a self, scope: GoldScope, now: DateTime<Utc>, job: GoldJob) -> DbFuture<'a, Vec<CaseDoc>> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let mut book = load_book(&tx, &scope).await?;
            let ids = job(&mut book)?;
            flush_book(&tx, &book, now).await?;
            tx.commit().await?;
            Ok(ids.iter().filter_map(|id| book.cases.get(id).cloned()).collect())
        })
    }

    fn gold_cases<'a>(&'a self, state: Option<CaseState>) -> DbFuture<'a, Vec<CaseDoc>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let rows = match state {
                Some(s) => client.query(sql::GOLD_CASES_IN_STATE, &[&s.as_str()]).await?,
                None => client.query(sql::GOLD_CASES, &[]).await?,
            };
            rows.iter().map(|r| super::gold_doc(r.try_get(0)?)).collect()
        })
    }

    fn gold_case<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<CaseDoc>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.query_opt(sql::GOLD_CASE, &[&id]).await?.map(|r| super::gold_doc(r.try_get(0)?)).transpose()
        })
    }

    fn evaluation_head<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<EvaluationRecord>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let mut current = id.to_owned();
            // A chain of corrections is short; the bound only stops a cycle no write makes.
            for _ in 0..10_000 {
                match client.query_opt(sql::SUPERSEDED_BY, &[&current]).await? {
                    Some(r) => current = r.try_get(0)?,
                    None => {
                        let body = client.query_opt(sql::EVALUATION_BODY, &[&current]).await?;
                        return body.map(|r| super::evaluation_record(r.try_get(0)?, None)).transpose();
                    }
                }
            }
            Err(ApiError::storage(format!("evaluation {current}'s corrections do not end")))
        })
    }

    fn exam_record<'a>(
        &'a self,
        site: &'a str,
        accession: &'a str,
    ) -> DbFuture<'a, Option<radqc_protocol::ExamRecord>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .query_opt(sql::EXAM_BODY, &[&site, &accession])
                .await?
                .map(|r| super::exam_body(r.try_get(0)?))
                .transpose()
        })
    }

    fn ensure_device<'a>(&'a self, id: &'a str, site: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.execute(sql::ENSURE_DEVICE, &[&id, &site, &name, &format!("internal:{id}"), &ts(now)]).await?;
            Ok(())
        })
    }

    fn rollups<'a>(&'a self) -> DbFuture<'a, Rollup> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a rollup row does not parse: {e}"));
            let key = |r: &tokio_postgres::Row| -> Result<radqc_domain::rollup::EvalKey, ApiError> {
                Ok(radqc_domain::rollup::EvalKey {
                    month: r.try_get(0)?,
                    site: r.try_get(1)?,
                    department: r.try_get(2)?,
                    modality: r.try_get(3)?,
                    item: r.try_get::<_, &str>(4)?.parse().map_err(|e| bad(&e))?,
                    person: r.try_get(5)?,
                    mode: r.try_get::<_, &str>(6)?.parse().map_err(|e| bad(&e))?,
                    rubric_version: r.try_get(7)?,
                })
            };
            let case_key = |r: &tokio_postgres::Row| -> Result<radqc_domain::rollup::CaseKey, ApiError> {
                Ok(radqc_domain::rollup::CaseKey {
                    month: r.try_get(0)?,
                    site: r.try_get(1)?,
                    department: r.try_get(2)?,
                    modality: r.try_get(3)?,
                    person: r.try_get(4)?,
                })
            };
            let mut out = Rollup::default();
            let q = format!("SELECT {}, s5, s4, s3, s2, s1, deducted FROM rollup_scores", sql::EVAL_KEY);
            for r in client.query(&q, &[]).await? {
                out.scores.insert(
                    key(&r)?,
                    [r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?, r.try_get(12)?, r.try_get(13)?],
                );
            }
            let q = format!("SELECT {}, criterion, n FROM rollup_deductions", sql::EVAL_KEY);
            for r in client.query(&q, &[]).await? {
                let criterion = r.try_get::<_, &str>(8)?.parse().map_err(|e| bad(&e))?;
                out.deductions.insert((key(&r)?, criterion), r.try_get(9)?);
            }
            let q = format!("SELECT {}, sampled, qualified FROM rollup_cases", sql::CASE_KEY);
            for r in client.query(&q, &[]).await? {
                out.cases.insert(case_key(&r)?, [r.try_get(5)?, r.try_get(6)?]);
            }
            let q = format!("SELECT {}, n FROM rollup_work", sql::CASE_KEY);
            for r in client.query(&q, &[]).await? {
                out.work.insert(case_key(&r)?, r.try_get(5)?);
            }
            let q = format!("SELECT {}, present, sampled, passing FROM rollup_case_spans", sql::SPAN_KEY);
            for r in client.query(&q, &[]).await? {
                out.spans.insert(span_key(&r)?, [r.try_get(6)?, r.try_get(7)?, r.try_get(8)?]);
            }
            out.prune();
            Ok(out)
        })
    }
}
