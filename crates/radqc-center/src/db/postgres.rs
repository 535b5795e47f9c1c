//! The PostgreSQL backend, for regions with several stateless center processes on one database.
//! A push locks its device's row (`FOR UPDATE`), so concurrent pushes of one device serialise
//! across processes while different devices proceed in parallel.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Config, Pool, Runtime};
use radqc_protocol::{
    ErrorBody, EvaluationRecord, ExamEventRecord, FeedItem, FeedKind, FeedPage, PushEntry, PushResponse, StaffMember,
};
use tokio_postgres::NoTls;

use radqc_domain::report::{EvaluationFact, WorkFact};
use radqc_protocol::{MonitoringNotice, SyncPayload};

use super::{sql, Device, DeviceStats, ExportLine, Person, RubricSet};
use crate::error::ApiError;
use crate::push::{self, Write};

#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

impl PgDb {
    pub async fn connect(url: &str) -> Result<PgDb, ApiError> {
        let config = Config { url: Some(url.to_owned()), ..Config::default() };
        let pool = config
            .create_pool(Some(Runtime::Tokio1), NoTls)
            .map_err(|e| ApiError::storage(format!("invalid PostgreSQL URL: {e}")))?;
        let db = PgDb { pool };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), ApiError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // One migrating process at a time when several centers start together.
        tx.execute("SELECT pg_advisory_xact_lock(5241445143)", &[]).await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS center_schema (version BIGINT NOT NULL)").await?;
        let version: i64 = match tx.query_opt("SELECT version FROM center_schema", &[]).await? {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO center_schema (version) VALUES (0)", &[]).await?;
                0
            }
        };
        if version > sql::MIGRATIONS.len() as i64 {
            return Err(ApiError::storage(format!(
                "the database was written by a newer RadQC center (schema {version}); update RadQC"
            )));
        }
        for (i, m) in sql::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(&m.replace("{serial}", "BIGSERIAL")).await?;
            tx.execute("UPDATE center_schema SET version = $1", &[&(i as i64 + 1)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_site(&self, code: &str, name: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        let n: i64 = client.query_one(sql::SITE_EXISTS, &[&code]).await?.get(0);
        if n > 0 {
            return Err(ApiError::conflict("SITE_EXISTS", format!("site {code} already exists")));
        }
        client.execute(sql::ADD_SITE, &[&code, &name, &ts(now)]).await?;
        Ok(())
    }

    pub async fn create_enrollment_code(
        &self,
        site: &str,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        let n: i64 = client.query_one(sql::SITE_EXISTS, &[&site]).await?.get(0);
        if n == 0 {
            return Err(ApiError::not_found("UNKNOWN_SITE", format!("no site {site}; add it first")));
        }
        client.execute(sql::ADD_CODE, &[&code_hash, &site, &ts(now), &ts(expires_at)]).await?;
        Ok(())
    }

    pub async fn enroll(
        &self,
        code_hash: &str,
        device_id: &str,
        name: Option<&str>,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, i64), ApiError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let code = tx
            .query_opt(&format!("{} FOR UPDATE", sql::FIND_CODE), &[&code_hash])
            .await?
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, Option<String>>(2)));
        let site = crate::enrollment::check_code(code, now)?;
        let existing = tx
            .query_opt(&format!("{} FOR UPDATE", sql::FIND_DEVICE), &[&device_id])
            .await?
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
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
    }

    pub async fn revoke_device(&self, device_id: &str) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        if client.execute(sql::REVOKE_DEVICE, &[&device_id]).await? == 0 {
            return Err(ApiError::not_found("UNKNOWN_DEVICE", format!("no device {device_id}")));
        }
        Ok(())
    }

    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client.query_opt(sql::DEVICE_BY_TOKEN, &[&token_hash]).await?.map(|r| Device {
            id: r.get(0),
            site: r.get(1),
            revoked: r.get(2),
        }))
    }

    pub async fn person_by_token(&self, token_hash: &str) -> Result<Option<Person>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client.query_opt(sql::PERSON_BY_TOKEN, &[&token_hash]).await?.map(|r| Person {
            site: r.get(0),
            staff: r.get(1),
            roles: serde_json::from_str(r.get::<_, &str>(2)).unwrap_or_default(),
        }))
    }

    pub async fn issue_person_token(
        &self,
        site: &str,
        staff: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        let n: i64 = client.query_one(sql::STAFF_EXISTS, &[&site, &staff]).await?.get(0);
        if n == 0 {
            return Err(ApiError::not_found("UNKNOWN_STAFF", format!("no staff member {staff} at site {site}")));
        }
        client.execute(sql::ADD_PERSON_TOKEN, &[&token_hash, &site, &staff, &ts(now)]).await?;
        Ok(())
    }

    pub async fn upsert_staff(&self, m: &StaffMember) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        let n: i64 = client.query_one(sql::SITE_EXISTS, &[&m.site]).await?.get(0);
        if n == 0 {
            return Err(ApiError::not_found("UNKNOWN_SITE", format!("no site {}", m.site)));
        }
        let roles = serde_json::to_string(&m.roles).expect("roles serialize");
        client.execute(sql::UPSERT_STAFF, &[&m.site, &m.code, &m.name, &roles, &m.active]).await?;
        Ok(())
    }

    pub async fn staff(&self, site: &str) -> Result<Vec<StaffMember>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client
            .query(sql::STAFF_OF_SITE, &[&site])
            .await?
            .iter()
            .map(|r| StaffMember {
                site: r.get(0),
                code: r.get(1),
                name: r.get(2),
                roles: serde_json::from_str(r.get::<_, &str>(3)).unwrap_or_default(),
                active: r.get(4),
            })
            .collect())
    }

    pub async fn push(
        &self,
        device: &Device,
        entries: Vec<PushEntry>,
        rubrics: &RubricSet,
        now: DateTime<Utc>,
    ) -> Result<PushResponse, ApiError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx.query_one(&format!("{} FOR UPDATE", sql::FIND_DEVICE), &[&device.id]).await?;
        let (site, last_seq): (String, i64) = (row.get(0), row.get(1));
        // Reasons of earlier rejections within reach of this batch, for answering duplicates.
        let mut reasons = std::collections::HashMap::new();
        if let (Some(first), true) = (entries.first(), entries.first().is_some_and(|e| e.seq <= last_seq)) {
            for r in tx
                .query(
                    "SELECT seq, code, message FROM rejected_entries WHERE device = $1 AND seq >= $2 AND seq <= $3",
                    &[&device.id, &first.seq, &last_seq],
                )
                .await?
            {
                reasons.insert(r.get::<_, i64>(0), ErrorBody::new(r.get::<_, &str>(1), r.get::<_, String>(2)));
            }
        }
        let mut notice_sites = std::collections::HashMap::new();
        for id in push::notice_ids(&entries) {
            if let Some(r) = tx.query_opt(sql::NOTICE_SITE, &[&id]).await? {
                notice_sites.insert(id, r.get::<_, String>(0));
            }
        }
        let mut known = PgKnown { reasons, notice_sites };
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
        let upsert = tx.prepare(sql::UPSERT_EXAM).await?;
        let insert_evaluation = tx.prepare(sql::INSERT_EVALUATION).await?;
        let insert_event = tx.prepare(sql::INSERT_EVENT).await?;
        let insert_rejected = tx.prepare(sql::INSERT_REJECTED).await?;
        type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
        let mut statements: Vec<(&tokio_postgres::Statement, Vec<P>)> = Vec::new();
        for r in &rows {
            let e = &r.exam;
            statements.push((
                &upsert,
                vec![
                    &e.site,
                    &e.accession,
                    &e.modality,
                    &e.exam_item,
                    &e.department,
                    &e.technologist,
                    &e.reporting_doctor,
                    &e.auditing_doctor,
                    &e.ordering_clinician,
                    &e.performed_at,
                    &e.body,
                ],
            ));
            if let Some(v) = &r.evaluation {
                statements.push((
                    &insert_evaluation,
                    vec![
                        &v.id,
                        &v.site,
                        &v.device,
                        &v.seq,
                        &v.accession,
                        &v.item,
                        &v.reviewer,
                        &v.scored_person,
                        &v.mode,
                        &v.score,
                        &v.grade,
                        &v.pass,
                        &v.rubric_version,
                        &v.at,
                        &v.supersedes,
                        &v.body,
                        &received,
                    ],
                ));
            }
            if let Some(v) = &r.event {
                statements.push((
                    &insert_event,
                    vec![&v.id, &v.site, &v.device, &v.seq, &v.accession, &v.kind, &v.staff, &v.at, &v.body, &received],
                ));
            }
        }
        for (seq, reason, payload) in &rejected {
            statements
                .push((&insert_rejected, vec![&device.id, seq, &reason.code, &reason.message, payload, &received]));
        }
        futures_util::future::try_join_all(statements.iter().map(|(stmt, params)| tx.execute(*stmt, params))).await?;

        // Monitoring notices: rare, and each depends on what the database says, so one by one.
        for write in &plan.writes {
            let Write::Apply { payload, .. } = write else { continue };
            match payload.as_ref() {
                SyncPayload::NoticeClosed { closure: c } => {
                    let at = ts(c.at);
                    let changed = tx
                        .execute(sql::CLOSE_NOTICE, &[&c.correction, &c.closed_by.as_str(), &at, &c.notice_id])
                        .await?;
                    if changed == 1 {
                        let body: String = tx.query_one(sql::NOTICE_BODY, &[&c.notice_id]).await?.get(0);
                        if let Ok(n) = serde_json::from_str::<MonitoringNotice>(&body) {
                            let feed = crate::notices::closed_feed_body(&n, c).to_string();
                            tx.query_one(sql::PUBLISH, &[&"notices", &n.site, &feed, &received]).await?;
                        }
                    }
                }
                SyncPayload::Evaluation { .. }
                    if crate::notices::closure_by_revision(payload).is_some() || !is_pass(payload) =>
                {
                    if let Some((previous, c)) = crate::notices::closure_by_revision(payload) {
                        let at = ts(c.at);
                        let row = tx
                            .query_opt(
                                sql::CLOSE_SUPERSEDED_NOTICE,
                                &[&c.correction, &c.closed_by.as_str(), &at, &previous],
                            )
                            .await?;
                        if let Some(n) =
                            row.and_then(|r| serde_json::from_str::<MonitoringNotice>(r.get::<_, &str>(0)).ok())
                        {
                            let feed = crate::notices::closed_feed_body(&n, &c).to_string();
                            tx.query_one(sql::PUBLISH, &[&"notices", &n.site, &feed, &received]).await?;
                        }
                    }
                    if is_pass(payload) {
                        continue;
                    }
                    let SyncPayload::Evaluation { evaluation, .. } = payload.as_ref() else { continue };
                    let site = evaluation.site.to_string();
                    let staff: Vec<(String, String)> =
                        tx.query(sql::STAFF_ROLES, &[&site]).await?.iter().map(|r| (r.get(0), r.get(1))).collect();
                    if let Some(n) = crate::notices::for_failed(payload, crate::notices::heads(staff), now) {
                        let body = serde_json::to_string(&n).expect("a notice serializes");
                        let inserted = tx
                            .execute(
                                sql::INSERT_NOTICE,
                                &[&n.id, &n.site, &n.evaluation_id, &n.department, &received, &body],
                            )
                            .await?;
                        if inserted == 1 {
                            let feed = crate::notices::opened_feed_body(&n).to_string();
                            tx.query_one(sql::PUBLISH, &[&"notices", &n.site, &feed, &received]).await?;
                        }
                    }
                }
                _ => {}
            }
        }
        tx.execute(sql::SET_LAST_SEQ, &[&plan.last_seq, &received, &device.id]).await?;
        tx.commit().await?;
        Ok(PushResponse { last_seq: plan.last_seq, results: plan.results })
    }

    pub async fn publish(
        &self,
        kind: FeedKind,
        site: Option<&str>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i64, ApiError> {
        let client = self.pool.get().await?;
        Ok(client.query_one(sql::PUBLISH, &[&kind.as_str(), &site, &body.to_string(), &ts(now)]).await?.get(0))
    }

    pub async fn feed(&self, kind: FeedKind, site: &str, after: i64, limit: i64) -> Result<FeedPage, ApiError> {
        let client = self.pool.get().await?;
        let items = client
            .query(sql::FEED, &[&kind.as_str(), &after, &site, &(limit + 1)])
            .await?
            .iter()
            .map(|r| FeedItem {
                cursor: r.get(0),
                kind,
                site: r.get(1),
                body: serde_json::from_str(r.get::<_, &str>(2)).unwrap_or(serde_json::Value::Null),
                published_at: parse_ts(r.get::<_, &str>(3)),
            })
            .collect();
        Ok(crate::feed::page(items, after, limit))
    }

    pub async fn published_rubrics(&self) -> Result<Vec<String>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client.query(sql::RUBRIC_TEXTS, &[]).await?.iter().map(|r| r.get(0)).collect())
    }

    pub async fn evaluations(&self, site: Option<&str>) -> Result<Vec<EvaluationRecord>, ApiError> {
        self.bodies(sql::EVALUATIONS, site).await
    }

    pub async fn events(&self, site: Option<&str>) -> Result<Vec<ExamEventRecord>, ApiError> {
        self.bodies(sql::EVENTS, site).await
    }

    async fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        site: Option<&str>,
    ) -> Result<Vec<T>, ApiError> {
        let client = self.pool.get().await?;
        client
            .query(query, &[&site])
            .await?
            .iter()
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|e| ApiError::storage(format!("a stored record does not parse: {e}")))
            })
            .collect()
    }

    pub async fn export(&self) -> Result<Vec<ExportLine>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client
            .query(sql::EXPORT, &[])
            .await?
            .iter()
            .map(|r| ExportLine {
                kind: if r.get::<_, &str>(0) == "evaluation" { "evaluation" } else { "exam_event" },
                site: r.get(1),
                device: r.get(2),
                seq: r.get(3),
                record: serde_json::from_str(r.get::<_, &str>(4)).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    pub async fn stats(&self) -> Result<Vec<DeviceStats>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client
            .query(sql::STATS, &[])
            .await?
            .iter()
            .map(|r| DeviceStats {
                site: r.get(0),
                device: r.get(1),
                revoked: r.get(2),
                last_seq: r.get(3),
                evaluations: r.get(4),
                exam_events: r.get(5),
                rejected: r.get(6),
            })
            .collect())
    }
}

impl PgDb {
    pub async fn evaluation_facts(
        &self,
        from: &str,
        to: &str,
        site: Option<&str>,
    ) -> Result<Vec<EvaluationFact>, ApiError> {
        let client = self.pool.get().await?;
        client
            .query(sql::EVALUATION_FACTS, &[&from, &to, &site])
            .await?
            .into_iter()
            .map(|r| {
                super::FactRow {
                    site: r.get(0),
                    department: r.get(1),
                    accession: r.get(2),
                    modality: r.get(3),
                    exam_item: r.get(4),
                    item: r.get(5),
                    scored_person: r.get(6),
                    reviewer: r.get(7),
                    score: r.get(8),
                    grade: r.get(9),
                    body: r.get(10),
                }
                .into_fact()
            })
            .collect()
    }

    pub async fn work_facts(&self, from: &str, to: &str, site: Option<&str>) -> Result<Vec<WorkFact>, ApiError> {
        let client = self.pool.get().await?;
        client
            .query(sql::WORK_FACTS, &[&from, &to, &site])
            .await?
            .into_iter()
            .map(|r| super::work_fact(r.get(0), r.get(1)))
            .collect()
    }
}

/// The push plan's lookups, read before planning (PostgreSQL calls are async, the plan is not).
struct PgKnown {
    reasons: std::collections::HashMap<i64, ErrorBody>,
    notice_sites: std::collections::HashMap<String, String>,
}

impl push::Known for PgKnown {
    fn rejected_reason(&mut self, seq: i64) -> Option<ErrorBody> {
        self.reasons.get(&seq).cloned()
    }
    fn notice_site(&mut self, id: &str) -> Option<String> {
        self.notice_sites.get(id).cloned()
    }
}

impl PgDb {
    pub async fn notices(&self, site: Option<&str>) -> Result<Vec<MonitoringNotice>, ApiError> {
        let client = self.pool.get().await?;
        Ok(client
            .query(sql::NOTICES, &[&site])
            .await?
            .iter()
            .filter_map(|r| crate::notices::with_closure(r.get::<_, &str>(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }
}

fn is_pass(payload: &SyncPayload) -> bool {
    !matches!(payload, SyncPayload::Evaluation { evaluation, .. } if !evaluation.pass)
}
