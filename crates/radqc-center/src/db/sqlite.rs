//! The embedded SQLite backend: one connection behind a mutex, used from blocking threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use radqc_protocol::{
    ErrorBody, ErrorCode, EvaluationRecord, FeedItem, FeedKind, FeedPage, PushEntry, PushResponse, StaffMember,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use radqc_domain::report::{EvaluationFact, WorkFact};
use radqc_domain::rollup::Rollup;
use radqc_protocol::{MonitoringNotice, SyncPayload};

use super::notice_step::{self, NoticeStep};
use super::{
    parse_roles, parse_ts, sql, ts, Backend, DbFuture, Device, DeviceStats, ExportLine, GoldJob, Person, RubricSet,
};
use crate::error::ApiError;
use crate::gold::{self, CaseDoc, CaseState, GoldBook, GoldScope};
use crate::push::{self, Write};
use crate::rollups::{self, ExamState, StoredEvaluations};
use radqc_protocol::{DeviceRecordsPage, DeviceState};

#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
    rollups_at_ingest: bool,
    /// Pushes since the planner's statistics were last refreshed.
    pushes: Arc<std::sync::atomic::AtomicU64>,
}

/// How often (in pushes) `PRAGMA optimize` refreshes the planner's statistics as data grows:
/// the rollup queries need them to pick their indexes (a site's all-time report reads 24 short
/// ranges instead of a whole index).
const OPTIMIZE_EVERY: u64 = 500;

impl SqliteDb {
    pub fn open(path: &Path) -> Result<SqliteDb, ApiError> {
        Self::open_with(path, sql::MIGRATIONS)
    }

    /// Opens with `migrations` as this build's (tests pass an edited copy). An existing file is
    /// inspected read-only first: one this build refuses (a newer schema, another migration
    /// history) is never written to.
    pub(super) fn open_with(path: &Path, migrations: &[&str]) -> Result<SqliteDb, ApiError> {
        let newer = |version: i64| {
            ApiError::storage(format!(
                "{} was written by a newer RadQC center (schema {version}); update RadQC",
                path.display()
            ))
        };
        if std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false) {
            let ro = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            let version: i64 = ro.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > migrations.len() as i64 {
                return Err(newer(version));
            }
            super::migrate::check_sqlite(&ro, version, migrations)?;
        }
        let conn = Connection::open(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ApiError::storage(format!("{}: cannot use WAL (got {mode})", path.display())));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > migrations.len() as i64 {
            return Err(newer(version));
        }
        let now = ts(Utc::now());
        let record = |tx: &rusqlite::Transaction, i: usize, m: &str, how: &str| {
            tx.execute(super::migrate::RECORD, params![i as i64 + 1, super::migrate::digest(m), how, now])
        };
        if !super::migrate::sqlite_has_history(&conn)? {
            // Made before the record was kept (its schema was checked above): the record of what it ran.
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(super::migrate::HISTORY_TABLE)?;
            for (i, m) in migrations.iter().enumerate().take(version as usize) {
                record(&tx, i, m, "inferred")?;
            }
            tx.commit()?;
        }
        let rebuild_at_end = sql::rebuilds_rollups(version as usize);
        for (i, m) in migrations.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(&m.replace("{serial}", "INTEGER"))?;
            if rebuild_at_end && i + 1 == migrations.len() {
                rebuild(&tx)?;
            }
            record(&tx, i, m, "applied")?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        // Statistics for the query planner where they are missing or stale (cheap when not).
        conn.execute_batch("PRAGMA optimize = 0x10002")?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(conn)),
            rollups_at_ingest: super::rollups_at_ingest(),
            pushes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// Runs `f` on the connection in a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::storage(format!("database task failed: {e}")))?
    }
}

/// Lookups of the push's plan, inside its transaction.
struct SqliteKnown<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    device: &'a str,
}

impl push::Known for SqliteKnown<'_> {
    fn digest(&mut self, seq: i64) -> Result<Option<String>, ApiError> {
        Ok(self.tx.prepare_cached(sql::ENTRY_DIGEST)?.query_row(params![self.device, seq], |r| r.get(0)).optional()?)
    }
    fn rejected_reason(&mut self, seq: i64) -> Result<Option<ErrorBody>, ApiError> {
        let row: Option<(String, String)> = self
            .tx
            .prepare_cached(sql::REJECTED_REASON)?
            .query_row(params![self.device, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(code, message)| super::stored_reason(&code, message)).transpose()
    }
    fn notice_site(&mut self, id: &str) -> Result<Option<String>, ApiError> {
        Ok(self.tx.prepare_cached(sql::NOTICE_SITE)?.query_row([id], |r| r.get(0)).optional()?)
    }
    fn evaluation(&mut self, id: &str) -> Result<Option<push::StoredRecord>, ApiError> {
        Ok(self
            .tx
            .prepare_cached(sql::STORED_EVALUATION)?
            .query_row([id], |r| {
                Ok(push::StoredRecord {
                    site: r.get(0)?,
                    accession: r.get(1)?,
                    body: r.get(2)?,
                    superseded_by: r.get(3)?,
                })
            })
            .optional()?)
    }
    fn event(&mut self, id: &str) -> Result<Option<push::StoredRecord>, ApiError> {
        Ok(self
            .tx
            .prepare_cached(sql::STORED_EVENT)?
            .query_row([id], |r| {
                Ok(push::StoredRecord { site: r.get(0)?, accession: r.get(1)?, body: r.get(2)?, superseded_by: None })
            })
            .optional()?)
    }
}

/// Reads a gold book for `scope` inside `tx` (see `Backend::gold_run`).
fn load_book(tx: &rusqlite::Transaction, scope: &GoldScope) -> Result<GoldBook, ApiError> {
    let mut book = GoldBook::default();
    let add = |body: String, book: &mut GoldBook| -> Result<(), ApiError> {
        let doc = super::gold_doc(&body)?;
        book.cases.insert(doc.id.clone(), doc);
        Ok(())
    };
    let open: Vec<String> =
        tx.prepare_cached(sql::GOLD_OPEN_CASES)?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    for body in open {
        add(body, &mut book)?;
    }
    for id in &scope.case_ids {
        if !book.cases.contains_key(id) {
            if let Some(body) = tx.prepare_cached(sql::GOLD_CASE)?.query_row([id], |r| r.get(0)).optional()? {
                add(body, &mut book)?;
            }
        }
    }
    for id in &scope.evaluation_ids {
        if book.case_of(id).is_none() {
            if let Some(body) =
                tx.prepare_cached(sql::GOLD_CASE_OF_EVALUATION)?.query_row([id], |r| r.get(0)).optional()?
            {
                add(body, &mut book)?;
            }
        }
        let row: Option<(String, String, String, Option<String>)> = tx
            .prepare_cached(sql::STORED_EVALUATION)?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        if let Some((site, accession, body, superseded_by)) = row {
            let exam: Option<String> =
                tx.prepare_cached(sql::EXAM_BODY)?.query_row([&site, &accession], |r| r.get(0)).optional()?;
            let Some(exam) = exam else { continue };
            book.evaluations.insert(
                id.clone(),
                gold::KnownEvaluation {
                    record: super::evaluation_record(&body, superseded_by.clone())?,
                    superseded_by,
                    exam: super::exam_body(&exam)?,
                },
            );
        }
    }
    let mut stmt = tx.prepare_cached(sql::ACTIVE_STAFF)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        book.staff.push(StaffMember {
            site: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            roles: parse_roles(&r.get::<_, String>(3)?)?,
            active: r.get(4)?,
        });
    }
    let settings: Option<String> =
        tx.prepare_cached(sql::SETTING)?.query_row([gold::SETTINGS_NAME], |r| r.get(0)).optional()?;
    book.settings = gold::parse_settings(settings.as_deref())?;
    Ok(book)
}

/// Writes what a gold book changed inside `tx`.
fn flush_book(tx: &rusqlite::Transaction, book: &GoldBook, now: DateTime<Utc>) -> Result<(), ApiError> {
    let at = ts(now);
    for id in &book.changed {
        let c = &book.cases[id];
        tx.prepare_cached(sql::UPSERT_GOLD_CASE)?.execute(params![
            c.id,
            c.site,
            c.evaluation_id,
            c.state.as_str(),
            ts(c.created_at),
            at,
            c.body()
        ])?;
    }
    for (kind, site, body) in &book.publish {
        tx.prepare_cached(sql::PUBLISH)?.query_row(params![kind.as_str(), site, body, at], |_| Ok(()))?;
    }
    Ok(())
}

/// A `sql::DEVICE_STATE` row.
fn device_state_row(r: &rusqlite::Row) -> rusqlite::Result<DeviceState> {
    Ok(DeviceState { device_id: r.get(0)?, site: r.get(1)?, last_seq: r.get(2)?, forked_from: r.get(3)? })
}

/// Runs an applied entry's notice steps (`notice_step.rs` decides them).
fn notice_steps(
    tx: &rusqlite::Transaction,
    payload: &SyncPayload,
    staff: &mut Option<Vec<(String, String)>>,
    grants: &radqc_domain::Grants,
    received: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for step in notice_step::steps(payload) {
        let publish = match step {
            NoticeStep::Close { statement, params, closure } => {
                let body: Option<String> = tx
                    .prepare_cached(statement)?
                    .query_row(rusqlite::params_from_iter(&params), |r| r.get(0))
                    .optional()?;
                notice_step::closed(body.as_deref(), &closure)?
            }
            NoticeStep::Open { site, payload } => {
                // The push's site's roster, read once for the push's first failed evaluation.
                if staff.is_none() {
                    *staff = Some(
                        tx.prepare_cached(sql::STAFF_ROLES)?
                            .query_map([&site], |r| Ok((r.get(0)?, r.get(1)?)))?
                            .collect::<Result<_, _>>()?,
                    );
                }
                match notice_step::opening(payload, staff.clone().unwrap_or_default(), grants, now)? {
                    Some(o) => {
                        let n = &o.notice;
                        let inserted = tx.prepare_cached(sql::INSERT_NOTICE)?.execute(params![
                            n.id,
                            n.site,
                            n.evaluation_id,
                            n.department,
                            received,
                            o.body
                        ])?;
                        (inserted == 1).then_some(o.publish)
                    }
                    None => None,
                }
            }
        };
        if let Some(p) = publish {
            tx.prepare_cached(sql::PUBLISH)?.query_row(params!["notices", p.site, p.body, received], |_| Ok(()))?;
        }
    }
    Ok(())
}

fn fact_row(r: &rusqlite::Row) -> rusqlite::Result<super::FactRow> {
    Ok(super::FactRow {
        site: r.get(0)?,
        department: r.get(1)?,
        accession: r.get(2)?,
        modality: r.get(3)?,
        exam_item: r.get(4)?,
        item: r.get(5)?,
        scored_person: r.get(6)?,
        reviewer: r.get(7)?,
        score: r.get(8)?,
        grade: r.get(9)?,
        body: r.get(10)?,
        id: r.get(11)?,
        reporting_doctor: r.get(12)?,
        mode: r.get(13)?,
        rubric_version: r.get(14)?,
        at: r.get(15)?,
        patient_known: r.get(16)?,
        performed_at: r.get(17)?,
        auditing_doctor: r.get(18)?,
    })
}

fn exam_state(r: &rusqlite::Row, first: usize) -> rusqlite::Result<ExamState> {
    Ok(ExamState {
        modality: r.get(first)?,
        department: r.get(first + 1)?,
        technologist: r.get(first + 2)?,
        reporting_doctor: r.get(first + 3)?,
        performed_at: r.get(first + 4)?,
        auditing_doctor: r.get(first + 5)?,
        patient_known: r.get(first + 6)?,
    })
}

/// The stored rows of the batch's exams (those the center has).
fn exam_states(
    tx: &rusqlite::Transaction,
    site: &str,
    accessions: &[String],
) -> Result<std::collections::HashMap<String, ExamState>, ApiError> {
    let mut stmt = tx.prepare_cached(sql::EXAM_STATE)?;
    let mut out = std::collections::HashMap::new();
    for a in accessions {
        if let Some(state) = stmt.query_row(params![site, a], |r| exam_state(r, 0)).optional()? {
            out.insert(a.clone(), state);
        }
    }
    Ok(out)
}

/// One stored evaluation as the rollups count it; the columns of `sql::CURRENT_EVALUATIONS`
/// from `first` on.
fn counted(r: &rusqlite::Row, first: usize) -> Result<(String, radqc_domain::rollup::Counted), ApiError> {
    let row = crate::rows::EvaluationRow {
        id: r.get(first)?,
        item: r.get(first + 1)?,
        scored_person: r.get(first + 2)?,
        mode: r.get(first + 3)?,
        rubric_version: r.get(first + 4)?,
        at: r.get(first + 5)?,
        score: r.get(first + 6)?,
        grade: r.get(first + 7)?,
        deductions: rollups::body_deductions(&r.get::<_, String>(first + 8)?)?.iter().map(|c| c.to_string()).collect(),
        ..crate::rows::EvaluationRow::default()
    };
    Ok((row.id.clone(), rollups::counted(&row)?))
}

fn current_evaluations(
    tx: &rusqlite::Transaction,
    site: &str,
    accessions: &[String],
) -> Result<std::collections::HashMap<String, StoredEvaluations>, ApiError> {
    let mut stmt = tx.prepare_cached(sql::CURRENT_EVALUATIONS)?;
    let mut out = std::collections::HashMap::new();
    for a in accessions {
        let mut list = Vec::new();
        let mut rows = stmt.query(params![site, a])?;
        while let Some(r) = rows.next()? {
            list.push(counted(r, 0)?);
        }
        out.insert(a.clone(), list);
    }
    Ok(out)
}

/// Adds a rollup (a batch's delta, or a rebuild's counts) to the rollup tables.
fn add_rollup(tx: &rusqlite::Transaction, r: &Rollup) -> Result<(), ApiError> {
    let mut scores = tx.prepare_cached(sql::ADD_SCORES)?;
    for (k, v) in &r.scores {
        scores.execute(params![
            k.month,
            k.site,
            k.department,
            k.modality,
            k.item.as_str(),
            k.person,
            k.mode.as_str(),
            k.rubric_version,
            v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            v[5]
        ])?;
    }
    let mut deductions = tx.prepare_cached(sql::ADD_DEDUCTIONS)?;
    for ((k, c), n) in &r.deductions {
        deductions.execute(params![
            k.month,
            k.site,
            k.department,
            k.modality,
            k.item.as_str(),
            k.person,
            k.mode.as_str(),
            k.rubric_version,
            c.to_string(),
            n
        ])?;
    }
    let mut cases = tx.prepare_cached(sql::ADD_CASES)?;
    for (k, v) in &r.cases {
        cases.execute(params![k.month, k.site, k.department, k.modality, k.person, v[0], v[1]])?;
    }
    let mut work = tx.prepare_cached(sql::ADD_WORK)?;
    for (k, n) in &r.work {
        work.execute(params![k.month, k.site, k.department, k.modality, k.person, n])?;
    }
    let mut spans = tx.prepare_cached(sql::ADD_SPANS)?;
    for (k, v) in &r.spans {
        spans.execute(params![k.site, k.accession, k.month, k.department, k.modality, k.person, v[0], v[1], v[2]])?;
    }
    Ok(())
}

fn site_zones(c: &rusqlite::Connection) -> Result<radqc_domain::Zones, ApiError> {
    let mut stmt = c.prepare_cached(sql::SITE_ZONES)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<(String, String)>, _>>()?;
    rollups::zones(rows)
}

/// Recomputes the rollups (and the `current` and `deducted` columns) from the stored data.
fn rebuild(tx: &rusqlite::Transaction) -> Result<u64, ApiError> {
    {
        let mut set = tx.prepare(sql::SET_PATIENT_KNOWN)?;
        let mut unknown = tx.prepare(sql::EXAMS_PATIENT_UNKNOWN)?;
        let mut rows = unknown.query([])?;
        while let Some(r) = rows.next()? {
            if rollups::body_patient_known(&r.get::<_, String>(2)?) {
                set.execute(params![r.get::<_, String>(0)?, r.get::<_, String>(1)?])?;
            }
        }
    }
    tx.execute(sql::MARK_NOT_CURRENT, [])?;
    tx.execute(sql::MARK_CURRENT, [])?;
    let mut scan = rollups::Rebuild::new(site_zones(tx)?);
    let mut stmt = tx.prepare(sql::REBUILD_SCAN)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let evaluation = match r.get::<_, Option<String>>(9)? {
            Some(_) => Some(counted(r, 9)?),
            None => None,
        };
        scan.row((r.get(0)?, r.get(1)?), exam_state(r, 2)?, evaluation);
    }
    let (rollup, deducted, n) = scan.finish();
    let mut set = tx.prepare(sql::SET_DEDUCTED)?;
    for id in deducted {
        set.execute([id])?;
    }
    tx.execute_batch(sql::CLEAR_ROLLUPS)?;
    add_rollup(tx, &rollup)?;
    Ok(n)
}

/// The columns of `sql::SPAN_KEY`, first.
fn span_key(r: &rusqlite::Row) -> rusqlite::Result<radqc_domain::rollup::SpanKey> {
    Ok(radqc_domain::rollup::SpanKey {
        site: r.get(0)?,
        accession: r.get(1)?,
        month: r.get(2)?,
        department: r.get(3)?,
        modality: r.get(4)?,
        person: r.get(5)?,
    })
}

impl Backend for SqliteDb {
    fn add_site<'a>(&'a self, code: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let (code, name) = (code.to_owned(), name.to_owned());
            self.with(move |c| {
                let n: i64 = c.query_row(sql::SITE_EXISTS, [&code], |r| r.get(0))?;
                if n > 0 {
                    return Err(ApiError::new(ErrorCode::SiteExists, format!("site {code} already exists")));
                }
                c.execute(sql::ADD_SITE, params![code, name, ts(now), radqc_domain::SiteZone::default().name()])?;
                Ok(())
            })
            .await
        })
    }

    fn site_zones<'a>(&'a self) -> DbFuture<'a, radqc_domain::Zones> {
        Box::pin(async move { self.with(|c| site_zones(c)).await })
    }

    fn set_site_zone<'a>(&'a self, code: &'a str, zone: radqc_domain::SiteZone) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let code = code.to_owned();
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let stored: Option<String> = tx.query_row(sql::SITE_ZONE, [&code], |r| r.get(0)).optional()?;
                match stored {
                    None => return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {code}"))),
                    Some(z) if z == zone.name() => return Ok(()),
                    Some(_) => {}
                }
                tx.execute(sql::SET_SITE_ZONE, params![zone.name(), code])?;
                rebuild(&tx)?;
                tx.commit()?;
                Ok(())
            })
            .await
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
            let (site, code_hash) = (site.to_owned(), code_hash.to_owned());
            self.with(move |c| {
                let n: i64 = c.query_row(sql::SITE_EXISTS, [&site], |r| r.get(0))?;
                if n == 0 {
                    return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {site}; add it first")));
                }
                c.execute(sql::ADD_CODE, params![code_hash, site, ts(now), ts(expires_at)])?;
                Ok(())
            })
            .await
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
            let (code_hash, device_id, name, token_hash) =
                (code_hash.to_owned(), device_id.to_owned(), name.map(str::to_owned), token_hash.to_owned());
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let code: Option<(String, String, Option<String>)> =
                    tx.query_row(sql::FIND_CODE, [&code_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
                let site = crate::enrollment::check_code(code, now)?;
                let existing: Option<(String, i64)> =
                    tx.query_row(sql::FIND_DEVICE, [&device_id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                let next_seq = match existing {
                    Some((old_site, last_seq)) => {
                        crate::enrollment::check_same_site(&device_id, &old_site, &site)?;
                        tx.execute(sql::REENROLL_DEVICE, params![token_hash, name, ts(now), device_id])?;
                        last_seq + 1
                    }
                    None => {
                        tx.execute(sql::ADD_DEVICE, params![device_id, site, name, token_hash, ts(now)])?;
                        1
                    }
                };
                tx.execute(sql::USE_CODE, params![device_id, ts(now), code_hash])?;
                tx.commit()?;
                Ok((site, next_seq))
            })
            .await
        })
    }

    fn revoke_device<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let device_id = device_id.to_owned();
            self.with(move |c| {
                if c.execute(sql::REVOKE_DEVICE, [&device_id])? == 0 {
                    return Err(ApiError::new(ErrorCode::UnknownDevice, format!("no device {device_id}")));
                }
                Ok(())
            })
            .await
        })
    }

    fn device_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Device>> {
        Box::pin(async move {
            let token_hash = token_hash.to_owned();
            self.with(move |c| {
                Ok(c.query_row(sql::DEVICE_BY_TOKEN, [&token_hash], |r| {
                    Ok(Device { id: r.get(0)?, site: r.get(1)?, revoked: r.get(2)? })
                })
                .optional()?)
            })
            .await
        })
    }

    fn person_by_token<'a>(&'a self, token_hash: &'a str) -> DbFuture<'a, Option<Person>> {
        Box::pin(async move {
            let token_hash = token_hash.to_owned();
            self.with(move |c| {
                let row: Option<(String, String, String)> = c
                    .query_row(sql::PERSON_BY_TOKEN, [&token_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                row.map(|(site, staff, roles)| Ok(Person { site, staff, roles: parse_roles(&roles)? })).transpose()
            })
            .await
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
            let (site, staff, token_hash) = (site.to_owned(), staff.to_owned(), token_hash.to_owned());
            self.with(move |c| {
                let n: i64 = c.query_row(sql::STAFF_EXISTS, params![site, staff], |r| r.get(0))?;
                if n == 0 {
                    return Err(ApiError::new(
                        ErrorCode::UnknownStaff,
                        format!("no staff member {staff} at site {site}"),
                    ));
                }
                c.execute(sql::ADD_PERSON_TOKEN, params![token_hash, site, staff, ts(now)])?;
                Ok(())
            })
            .await
        })
    }

    fn upsert_staff<'a>(&'a self, m: &'a StaffMember) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let m = m.clone();
            self.with(move |c| {
                let n: i64 = c.query_row(sql::SITE_EXISTS, [&m.site], |r| r.get(0))?;
                if n == 0 {
                    return Err(ApiError::new(ErrorCode::UnknownSite, format!("no site {}", m.site)));
                }
                let roles = serde_json::to_string(&m.roles).expect("roles serialize");
                c.execute(sql::UPSERT_STAFF, params![m.site, m.code, m.name, roles, m.active])?;
                Ok(())
            })
            .await
        })
    }

    fn staff_secrets<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<radqc_protocol::StaffCredential>> {
        Box::pin(async move {
            let site = site.to_owned();
            self.with(move |c| {
                let mut stmt = c.prepare_cached(sql::STAFF_SECRETS_OF_SITE)?;
                let mut rows = stmt.query([&site])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(radqc_protocol::StaffCredential {
                        code: r.get(0)?,
                        verifier: r.get(1)?,
                        version: r.get(2)?,
                        must_change: r.get(3)?,
                        set_at: parse_ts(&r.get::<_, String>(4)?)?,
                    });
                }
                Ok(out)
            })
            .await
        })
    }

    fn set_staff_secret<'a>(&'a self, w: &'a super::SecretWrite) -> DbFuture<'a, radqc_protocol::SecretChangeAnswer> {
        Box::pin(async move {
            let w = w.clone();
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let n: i64 = tx.query_row(sql::STAFF_EXISTS, params![w.site, w.staff], |r| r.get(0))?;
                if n == 0 {
                    return Err(ApiError::new(
                        ErrorCode::UnknownStaff,
                        format!("no staff member {} at site {}", w.staff, w.site),
                    ));
                }
                let stored: Option<i64> =
                    tx.query_row(sql::STAFF_SECRET_VERSION, params![w.site, w.staff], |r| r.get(0)).optional()?;
                let version = match super::secret_step(&w, stored) {
                    Ok(answer) => return Ok(answer),
                    Err(version) => version,
                };
                tx.execute(
                    sql::UPSERT_STAFF_SECRET,
                    params![w.site, w.staff, w.verifier, version, w.must_change, ts(w.at), w.set_by],
                )?;
                tx.commit()?;
                Ok(radqc_protocol::SecretChangeAnswer { status: radqc_protocol::SecretChangeStatus::Applied, version })
            })
            .await
        })
    }

    fn setting<'a>(&'a self, name: &'a str) -> DbFuture<'a, Option<String>> {
        Box::pin(async move {
            let name = name.to_owned();
            self.with(move |c| Ok(c.query_row(sql::SETTING, [&name], |r| r.get(0)).optional()?)).await
        })
    }

    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let (name, value) = (name.to_owned(), value.to_owned());
            self.with(move |c| {
                c.execute(sql::PUT_SETTING, params![name, value])?;
                Ok(())
            })
            .await
        })
    }

    fn sites<'a>(&'a self) -> DbFuture<'a, Vec<String>> {
        Box::pin(async move {
            self.with(|c| {
                let mut stmt = c.prepare(sql::SITES)?;
                let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
                Ok(rows)
            })
            .await
        })
    }

    fn staff<'a>(&'a self, site: &'a str) -> DbFuture<'a, Vec<StaffMember>> {
        Box::pin(async move {
            let site = site.to_owned();
            self.with(move |c| {
                let mut stmt = c.prepare(sql::STAFF_OF_SITE)?;
                let mut rows = stmt.query([&site])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(StaffMember {
                        site: r.get(0)?,
                        code: r.get(1)?,
                        name: r.get(2)?,
                        roles: parse_roles(&r.get::<_, String>(3)?)?,
                        active: r.get(4)?,
                    });
                }
                Ok(out)
            })
            .await
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
            let device = device.clone();
            let rubrics = rubrics.clone();
            let grants = grants.clone();
            let keep_rollups = self.rollups_at_ingest;
            let optimize =
                self.pushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % OPTIMIZE_EVERY == OPTIMIZE_EVERY - 1;
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let (site, last_seq): (String, i64) =
                    tx.prepare_cached(sql::FIND_DEVICE)?.query_row([&device.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let mut known = SqliteKnown { tx: &tx, device: &device.id };
                let plan = push::plan(&site, last_seq, &entries, &rubrics, &mut known)?;
                let received = ts(now);
                // The stored state of the batch's exams, before any write: the rollups change by
                // the difference the batch makes to it.
                let applied: Vec<crate::rows::Rows> = plan
                    .writes
                    .iter()
                    .filter_map(|w| match w {
                        Write::Apply { seq, payload } => crate::rows::rows(payload, &device.id, *seq),
                        Write::Reject { .. } => None,
                    })
                    .collect();
                let (stored, evaluations) = if keep_rollups {
                    let stored = exam_states(&tx, &site, &rollups::accessions(&applied))?;
                    let evaluations =
                        current_evaluations(&tx, &site, &rollups::needing_evaluations(&stored, &applied))?;
                    (stored, evaluations)
                } else {
                    Default::default()
                };
                let mut inserted = Vec::with_capacity(applied.len());
                let mut applied_rows = applied.iter();
                // The gold-standard entries' cases, read once for the batch (see `gold.rs`).
                let scope = GoldScope::of_payloads(plan.writes.iter().filter_map(|w| match w {
                    Write::Apply { payload, .. } => Some(payload.as_ref()),
                    Write::Reject { .. } => None,
                }));
                // Read at the batch's first gold entry, so it sees the evaluations the batch
                // stored before it (a dispute right after its evaluation).
                let mut book: Option<GoldBook> = None;
                let mut results = plan.results.clone();
                // The push's site's roster, read once for its first failed evaluation.
                let mut staff = None;
                for write in &plan.writes {
                    match write {
                        Write::Apply { seq, payload } => {
                            if gold::is_gold(payload) {
                                if book.is_none() {
                                    book = Some(load_book(&tx, &scope)?);
                                }
                                let book = book.as_mut().expect("read above");
                                if let Some(Err(why)) = gold::apply_entry(book, payload, &grants, now) {
                                    tx.prepare_cached(sql::INSERT_REJECTED)?.execute(params![
                                        device.id,
                                        seq,
                                        why.code,
                                        why.message,
                                        serde_json::to_string(payload.as_ref()).expect("a payload serializes"),
                                        received
                                    ])?;
                                    gold::refuse(&mut results, *seq, why);
                                    continue;
                                }
                            }
                            notice_steps(&tx, payload, &mut staff, &grants, &received, now)?;
                            if !crate::rows::has_rows(payload) {
                                continue;
                            }
                            let rows = applied_rows.next().expect("evaluations, events and exams have rows");
                            let e = &rows.exam;
                            tx.prepare_cached(sql::UPSERT_EXAM)?.execute(params![
                                e.site,
                                e.accession,
                                e.modality,
                                e.exam_item,
                                e.department,
                                e.technologist,
                                e.reporting_doctor,
                                e.auditing_doctor,
                                e.ordering_clinician,
                                e.performed_at,
                                e.body,
                                e.patient_known,
                                e.cancelled
                            ])?;
                            if let Some(r) = &rows.report {
                                tx.prepare_cached(sql::UPSERT_REPORT)?.execute(params![
                                    r.site,
                                    r.accession,
                                    r.status,
                                    r.findings,
                                    r.impression,
                                    r.reported_at,
                                    received
                                ])?;
                            }
                            let mut new_evaluation = false;
                            if let Some(v) = &rows.evaluation {
                                new_evaluation = tx.prepare_cached(sql::INSERT_EVALUATION)?.execute(params![
                                    v.id,
                                    v.site,
                                    v.device,
                                    v.seq,
                                    v.accession,
                                    v.item,
                                    v.reviewer,
                                    v.scored_person,
                                    v.mode,
                                    v.score,
                                    v.grade,
                                    v.pass,
                                    v.rubric_version,
                                    v.at,
                                    v.supersedes,
                                    v.body,
                                    received,
                                    v.deducted
                                ])? == 1;
                                if let (true, Some(previous)) = (new_evaluation, &v.supersedes) {
                                    tx.prepare_cached(sql::SUPERSEDE)?.execute([previous])?;
                                }
                            }
                            inserted.push(new_evaluation);
                            if let Some(v) = &rows.event {
                                tx.prepare_cached(sql::INSERT_EVENT)?.execute(params![
                                    v.id,
                                    v.site,
                                    v.device,
                                    v.seq,
                                    v.accession,
                                    v.kind,
                                    v.staff,
                                    v.at,
                                    v.body,
                                    received
                                ])?;
                            }
                        }
                        Write::Reject { seq, reason, payload } => {
                            tx.prepare_cached(sql::INSERT_REJECTED)?.execute(params![
                                device.id,
                                seq,
                                reason.code,
                                reason.message,
                                payload,
                                received
                            ])?;
                        }
                    }
                }
                if keep_rollups {
                    let zone = rollups::zone(
                        &site,
                        tx.prepare_cached(sql::SITE_ZONE)?.query_row([&site], |r| r.get(0)).optional()?,
                    )?;
                    let delta = rollups::delta(&site, zone, &stored, &evaluations, &applied, &inserted)?;
                    add_rollup(&tx, &delta)?;
                }
                if let Some(book) = &book {
                    flush_book(&tx, book, now)?;
                }
                for (seq, digest) in &plan.digests {
                    tx.prepare_cached(sql::INSERT_DIGEST)?.execute(params![device.id, seq, digest])?;
                }
                tx.prepare_cached(sql::SET_LAST_SEQ)?.execute(params![plan.last_seq, received, device.id])?;
                tx.commit()?;
                if optimize {
                    c.execute_batch("PRAGMA optimize")?;
                }
                Ok(PushResponse { last_seq: plan.last_seq, results })
            })
            .await
        })
    }

    fn device_state<'a>(&'a self, device_id: &'a str) -> DbFuture<'a, Option<DeviceState>> {
        Box::pin(async move {
            let device_id = device_id.to_owned();
            self.with(move |c| Ok(c.query_row(sql::DEVICE_STATE, [&device_id], device_state_row).optional()?)).await
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
            let (parent, device_id, name, token_hash) =
                (parent.clone(), device_id.to_owned(), name.map(str::to_owned), token_hash.to_owned());
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let existing: Option<(String, String, Option<String>)> =
                    tx.query_row(sql::FIND_FORK, [&device_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
                match existing {
                    Some(found) => super::check_fork_retry(&parent, &device_id, &token_hash, found)?,
                    None => {
                        tx.execute(
                            sql::FORK_DEVICE,
                            params![device_id, parent.site, name, token_hash, ts(now), parent.id],
                        )?;
                    }
                }
                let state = tx.query_row(sql::DEVICE_STATE, [&device_id], device_state_row)?;
                tx.commit()?;
                Ok(state)
            })
            .await
        })
    }

    fn device_records<'a>(&'a self, device_id: &'a str, after: i64, limit: i64) -> DbFuture<'a, DeviceRecordsPage> {
        Box::pin(async move {
            let device_id = device_id.to_owned();
            self.with(move |c| {
                let mut stmt = c.prepare(sql::DEVICE_RECORDS)?;
                let rows = stmt.query_map(params![device_id, after, limit + 1], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                })?;
                let rows: Vec<(i64, String, String, String)> = rows.collect::<Result<_, _>>()?;
                super::records_page(rows, after, limit)
            })
            .await
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
            let (site, body) = (site.map(str::to_owned), body.to_string());
            self.with(
                move |c| Ok(c.query_row(sql::PUBLISH, params![kind.as_str(), site, body, ts(now)], |r| r.get(0))?),
            )
            .await
        })
    }

    fn feed<'a>(&'a self, kind: FeedKind, site: &'a str, after: i64, limit: i64) -> DbFuture<'a, FeedPage> {
        Box::pin(async move {
            let site = site.to_owned();
            self.with(move |c| {
                let mut stmt = c.prepare(sql::FEED)?;
                let mut rows = stmt.query(params![kind.as_str(), after, site, limit + 1])?;
                let mut items = Vec::new();
                while let Some(r) = rows.next()? {
                    items.push(FeedItem {
                        cursor: r.get(0)?,
                        kind,
                        site: r.get(1)?,
                        body: super::parse_body(&r.get::<_, String>(2)?, "feed message")?,
                        published_at: parse_ts(&r.get::<_, String>(3)?)?,
                    });
                }
                Ok(crate::feed::page(items, after, limit))
            })
            .await
        })
    }

    fn published_rubrics<'a>(&'a self) -> DbFuture<'a, Vec<String>> {
        Box::pin(async move {
            self.with(|c| {
                let mut stmt = c.prepare(sql::RUBRIC_TEXTS)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
        })
    }

    fn latest_grants<'a>(&'a self) -> DbFuture<'a, Option<(i64, String)>> {
        Box::pin(async move {
            self.with(|c| Ok(c.query_row(sql::LATEST_GRANTS, [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)).await
        })
    }

    fn evaluations<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<EvaluationRecord>> {
        Box::pin(async move {
            let site = site.map(str::to_owned);
            self.with(move |c| {
                let mut stmt = c.prepare(sql::EVALUATIONS)?;
                let rows = stmt.query_map([site], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
                let mut out = Vec::new();
                for row in rows {
                    let (body, superseded_by) = row?;
                    out.push(super::evaluation_record(&body, superseded_by)?);
                }
                Ok(out)
            })
            .await
        })
    }

    fn export<'a>(&'a self) -> DbFuture<'a, Vec<ExportLine>> {
        Box::pin(async move {
            self.with(|c| {
                let mut stmt = c.prepare(sql::EXPORT)?;
                let mut rows = stmt.query([])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let (kind, body): (String, String) = (r.get(0)?, r.get(4)?);
                    out.push(ExportLine::new(&kind, r.get(1)?, r.get(2)?, r.get(3)?, &body, r.get(5)?)?);
                }
                Ok(out)
            })
            .await
        })
    }

    fn stats<'a>(&'a self) -> DbFuture<'a, Vec<DeviceStats>> {
        Box::pin(async move {
            self.with(|c| {
                let mut stmt = c.prepare(sql::STATS)?;
                let rows = stmt.query_map([], |r| {
                    Ok(DeviceStats {
                        site: r.get(0)?,
                        device: r.get(1)?,
                        revoked: r.get(2)?,
                        last_seq: r.get(3)?,
                        evaluations: r.get(4)?,
                        exam_events: r.get(5)?,
                        rejected: r.get(6)?,
                    })
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
        })
    }

    fn evaluation_facts<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        site: Option<&'a str>,
    ) -> DbFuture<'a, Vec<EvaluationFact>> {
        Box::pin(async move {
            let (from, to, site) = (from.to_owned(), to.to_owned(), site.map(str::to_owned));
            self.with(move |c| {
                let mut stmt = c.prepare(sql::EVALUATION_FACTS)?;
                let rows = stmt.query_map(params![from, to, site], fact_row)?;
                rows.map(|row| row.map_err(ApiError::from).and_then(super::FactRow::into_fact)).collect()
            })
            .await
        })
    }

    fn work_facts<'a>(&'a self, from: &'a str, to: &'a str, site: Option<&'a str>) -> DbFuture<'a, Vec<WorkFact>> {
        Box::pin(async move {
            let (from, to, site) = (from.to_owned(), to.to_owned(), site.map(str::to_owned));
            self.with(move |c| {
                let mut stmt = c.prepare(sql::WORK_FACTS)?;
                let rows = stmt.query_map(params![from, to, site], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                rows.map(|row| {
                    row.map_err(ApiError::from).and_then(|(p, m, s, d, at)| super::work_fact(p, m, s, d, at))
                })
                .collect()
            })
            .await
        })
    }

    fn notices<'a>(&'a self, site: Option<&'a str>) -> DbFuture<'a, Vec<MonitoringNotice>> {
        Box::pin(async move {
            let site = site.map(str::to_owned);
            self.with(move |c| {
                let mut stmt = c.prepare(sql::NOTICES)?;
                let rows = stmt.query_map([site], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                let mut out = Vec::new();
                for row in rows {
                    let (body, correction, closed_by, closed_at) = row?;
                    out.push(crate::notices::with_closure(&body, correction, closed_by, closed_at)?);
                }
                Ok(out)
            })
            .await
        })
    }

    fn report_rows<'a>(&'a self, queries: [sql::Query; 5]) -> DbFuture<'a, super::CellRows> {
        Box::pin(async move {
            self.with(move |c| {
                let [scores, deductions, cases, work, spans] = queries;
                let mut out = super::CellRows::default();
                let run = |q: &sql::Query, each: &mut dyn FnMut(&rusqlite::Row) -> rusqlite::Result<()>| {
                    let mut stmt = c.prepare_cached(&q.text)?;
                    let mut rows = stmt.query(rusqlite::params_from_iter(&q.params))?;
                    while let Some(r) = rows.next()? {
                        each(r)?;
                    }
                    Ok::<_, ApiError>(())
                };
                run(&scores, &mut |r| {
                    let counts = [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?];
                    out.scores.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, counts));
                    Ok(())
                })?;
                run(&deductions, &mut |r| {
                    out.deductions.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
                    Ok(())
                })?;
                run(&cases, &mut |r| {
                    let key = radqc_domain::rollup::CaseKey {
                        month: r.get(0)?,
                        site: r.get(1)?,
                        department: r.get(2)?,
                        modality: r.get(3)?,
                        person: r.get(4)?,
                    };
                    out.cases.push((key, r.get(5)?, r.get(6)?));
                    Ok(())
                })?;
                run(&work, &mut |r| {
                    out.work.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
                    Ok(())
                })?;
                run(&spans, &mut |r| {
                    out.spans.push((span_key(r)?, [r.get(6)?, r.get(7)?, r.get(8)?]));
                    Ok(())
                })?;
                Ok(out)
            })
            .await
        })
    }

    fn names_indexes(&self) -> bool {
        true
    }

    fn report_details<'a>(&'a self, q: sql::Query) -> DbFuture<'a, Vec<EvaluationFact>> {
        Box::pin(async move {
            self.with(move |c| {
                let mut stmt = c.prepare_cached(&q.text)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(&q.params), fact_row)?;
                rows.map(|row| row.map_err(ApiError::from).and_then(super::FactRow::into_fact)).collect()
            })
            .await
        })
    }

    fn rebuild_rollups<'a>(&'a self) -> DbFuture<'a, u64> {
        Box::pin(async move {
            self.with(|c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let n = rebuild(&tx)?;
                tx.commit()?;
                c.execute_batch("ANALYZE")?;
                Ok(n)
            })
            .await
        })
    }

    fn gold_run<'a>(&'a self, scope: GoldScope, now: DateTime<Utc>, job: GoldJob) -> DbFuture<'a, Vec<CaseDoc>> {
        Box::pin(async move {
            self.with(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut book = load_book(&tx, &scope)?;
                let ids = job(&mut book)?;
                flush_book(&tx, &book, now)?;
                tx.commit()?;
                Ok(ids.iter().filter_map(|id| book.cases.get(id).cloned()).collect())
            })
            .await
        })
    }

    fn gold_cases<'a>(&'a self, state: Option<CaseState>) -> DbFuture<'a, Vec<CaseDoc>> {
        Box::pin(async move {
            self.with(move |c| {
                let bodies: Vec<String> = match state {
                    Some(s) => c
                        .prepare(sql::GOLD_CASES_IN_STATE)?
                        .query_map([s.as_str()], |r| r.get(0))?
                        .collect::<Result<_, _>>()?,
                    None => c.prepare(sql::GOLD_CASES)?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?,
                };
                bodies.iter().map(|b| super::gold_doc(b)).collect()
            })
            .await
        })
    }

    fn gold_case<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<CaseDoc>> {
        Box::pin(async move {
            let id = id.to_owned();
            self.with(move |c| {
                let body: Option<String> = c.query_row(sql::GOLD_CASE, [&id], |r| r.get(0)).optional()?;
                body.map(|b| super::gold_doc(&b)).transpose()
            })
            .await
        })
    }

    fn evaluation_head<'a>(&'a self, id: &'a str) -> DbFuture<'a, Option<EvaluationRecord>> {
        Box::pin(async move {
            let id = id.to_owned();
            self.with(move |c| {
                let mut current = id;
                // A chain of corrections is short; the bound only stops a cycle no write makes.
                for _ in 0..10_000 {
                    let next: Option<String> = c.query_row(sql::SUPERSEDED_BY, [&current], |r| r.get(0)).optional()?;
                    match next {
                        Some(n) => current = n,
                        None => {
                            let body: Option<String> =
                                c.query_row(sql::EVALUATION_BODY, [&current], |r| r.get(0)).optional()?;
                            return body.map(|b| super::evaluation_record(&b, None)).transpose();
                        }
                    }
                }
                Err(ApiError::storage(format!("evaluation {current}'s corrections do not end")))
            })
            .await
        })
    }

    fn exam_record<'a>(
        &'a self,
        site: &'a str,
        accession: &'a str,
    ) -> DbFuture<'a, Option<radqc_protocol::ExamRecord>> {
        Box::pin(async move {
            let (site, accession) = (site.to_owned(), accession.to_owned());
            self.with(move |c| {
                let body: Option<String> = c.query_row(sql::EXAM_BODY, [&site, &accession], |r| r.get(0)).optional()?;
                body.map(|b| super::exam_body(&b)).transpose()
            })
            .await
        })
    }

    fn ensure_device<'a>(&'a self, id: &'a str, site: &'a str, name: &'a str, now: DateTime<Utc>) -> DbFuture<'a, ()> {
        Box::pin(async move {
            let (id, site, name) = (id.to_owned(), site.to_owned(), name.to_owned());
            self.with(move |c| {
                c.execute(sql::ENSURE_DEVICE, params![id, site, name, format!("internal:{id}"), ts(now)])?;
                Ok(())
            })
            .await
        })
    }

    fn rollups<'a>(&'a self) -> DbFuture<'a, Rollup> {
        Box::pin(async move {
            self.with(|c| {
                let bad = |e: &dyn std::fmt::Display| ApiError::storage(format!("a rollup row does not parse: {e}"));
                let mut out = Rollup::default();
                let key = |r: &rusqlite::Row| -> Result<radqc_domain::rollup::EvalKey, ApiError> {
                    Ok(radqc_domain::rollup::EvalKey {
                        month: r.get(0)?,
                        site: r.get(1)?,
                        department: r.get(2)?,
                        modality: r.get(3)?,
                        item: r.get::<_, String>(4)?.parse().map_err(|e| bad(&e))?,
                        person: r.get(5)?,
                        mode: r.get::<_, String>(6)?.parse().map_err(|e| bad(&e))?,
                        rubric_version: r.get(7)?,
                    })
                };
                let mut stmt =
                    c.prepare(&format!("SELECT {}, s5, s4, s3, s2, s1, deducted FROM rollup_scores", sql::EVAL_KEY))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.scores.insert(key(r)?, [r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?]);
                }
                let mut stmt = c.prepare(&format!("SELECT {}, criterion, n FROM rollup_deductions", sql::EVAL_KEY))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let criterion = r.get::<_, String>(8)?.parse().map_err(|e| bad(&e))?;
                    out.deductions.insert((key(r)?, criterion), r.get(9)?);
                }
                let case_key = |r: &rusqlite::Row| -> rusqlite::Result<radqc_domain::rollup::CaseKey> {
                    Ok(radqc_domain::rollup::CaseKey {
                        month: r.get(0)?,
                        site: r.get(1)?,
                        department: r.get(2)?,
                        modality: r.get(3)?,
                        person: r.get(4)?,
                    })
                };
                let mut stmt = c.prepare(&format!("SELECT {}, sampled, qualified FROM rollup_cases", sql::CASE_KEY))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.cases.insert(case_key(r)?, [r.get(5)?, r.get(6)?]);
                }
                let mut stmt = c.prepare(&format!("SELECT {}, n FROM rollup_work", sql::CASE_KEY))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.work.insert(case_key(r)?, r.get(5)?);
                }
                let mut stmt =
                    c.prepare(&format!("SELECT {}, present, sampled, passing FROM rollup_case_spans", sql::SPAN_KEY))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.spans.insert(span_key(r)?, [r.get(6)?, r.get(7)?, r.get(8)?]);
                }
                out.prune();
                Ok(out)
            })
            .await
        })
    }
}
