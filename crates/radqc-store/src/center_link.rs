//! What the store keeps about its regional center: the link (URL and device token, inside the
//! encrypted file), what the center published, and how the last sync went.

use chrono::{DateTime, Utc};
use radqc_domain::SiteCode;
use radqc_protocol::{FeedItem, FeedKind};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use crate::error::{invalid, StoreError};
use crate::model::{OutboxCounts, OutboxEntry};
use crate::store::{parse_ts, ts, Store};

/// Where this store syncs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterLink {
    pub url: String,
    pub token: String,
}

/// What the app shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub center: Option<String>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub outbox: OutboxCounts,
    /// This store was found to be a restored or copied copy and became a device of its own.
    pub copy: Option<crate::ForkRecord>,
}

impl Store {
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub(crate) fn set_meta(tx: &Transaction, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(v) => tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => tx.execute("DELETE FROM meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// An app setting kept in the encrypted file (e.g. the sampling key).
    pub fn meta_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.meta(&format!("app.{key}"))
    }

    pub fn set_meta_value(&mut self, key: &str, value: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        Self::set_meta(&tx, &format!("app.{key}"), Some(value))?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject) VALUES (?1, 'app', 'setting', ?2)",
            params![ts(now), key],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The site's time zone, which every month and day boundary uses: the one the center
    /// published with the site's roster, else the site's own setting (`time_zone`), else
    /// `Asia/Shanghai`.
    pub fn time_zone(&self) -> Result<radqc_domain::SiteZone, StoreError> {
        // The newest roster of this site that names a zone, read in SQL: every signing asks.
        let from_center: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(body, '$.time_zone') FROM center_feed
                 WHERE kind = 'roster' AND site = ?1 AND json_extract(body, '$.time_zone') IS NOT NULL
                 ORDER BY cursor DESC LIMIT 1",
            )?
            .query_row([self.site().as_str()], |r| r.get(0))
            .optional()?;
        let zone = match from_center {
            Some(z) => Some(z),
            None => self.meta_value("time_zone")?,
        };
        match zone {
            Some(z) => z.parse().map_err(|e: radqc_domain::CodeError| invalid("time_zone", e.to_string())),
            None => Ok(radqc_domain::SiteZone::default()),
        }
    }

    pub fn center_link(&self) -> Result<Option<CenterLink>, StoreError> {
        Ok(match (self.meta("center_url")?, self.meta("device_token")?) {
            (Some(url), Some(token)) => Some(CenterLink { url, token }),
            _ => None,
        })
    }

    /// Records a successful enrollment: the center, the token, and the site the center says this
    /// device acts for. Refused when the outbox holds entries of another site: they would all be
    /// rejected.
    pub fn set_center_link(
        &mut self,
        link: &CenterLink,
        site: &SiteCode,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let other: Option<String> = tx
            .query_row(
                "SELECT x.site FROM exams x WHERE x.site <> ?1 AND (
                     EXISTS (SELECT 1 FROM evaluations e WHERE e.exam_id = x.id)
                     OR EXISTS (SELECT 1 FROM exam_events v WHERE v.exam_id = x.id)) LIMIT 1",
                [site.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = other {
            return Err(invalid(
                "site",
                format!("this store already holds data of site {other}; it cannot sync as site {site}. Use a new store for site {site}"),
            ));
        }
        Self::set_meta(&tx, "center_url", Some(&link.url))?;
        Self::set_meta(&tx, "device_token", Some(&link.token))?;
        Self::set_meta(&tx, "site", Some(site.as_str()))?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, 'sync', 'enrolled', ?2, ?3)",
            params![ts(now), link.url, site.as_str()],
        )?;
        tx.commit()?;
        self.site = site.clone();
        Ok(())
    }

    /// Outbox entries from `seq` on, whatever their state: what a center that lost data (restored
    /// from a backup) asks for again.
    pub fn outbox_from(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_outbox_from(seq, limit)
    }

    /// Pending entries after `seq`, in order: the next batch while one is in flight.
    pub fn pending_outbox_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_pending_after(seq, limit)
    }

    /// The last cursor received from a feed (0 when nothing yet).
    pub fn feed_cursor(&self, kind: FeedKind) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(cursor), 0) FROM center_feed WHERE kind = ?1",
            [kind.as_str()],
            |r| r.get(0),
        )?)
    }

    /// Keeps what the center published; an item received twice is kept once.
    pub fn save_feed_items(&mut self, items: &[FeedItem], now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for item in items {
            tx.execute(
                "INSERT INTO center_feed (kind, cursor, site, body, published_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, cursor) DO NOTHING",
                params![item.kind.as_str(), item.cursor, item.site, item.body.to_string(), ts(item.published_at), ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Everything received from one feed, in cursor order.
    pub fn feed_items(&self, kind: FeedKind) -> Result<Vec<FeedItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT cursor, site, body, published_at FROM center_feed WHERE kind = ?1 ORDER BY cursor")?;
        let rows = stmt.query_map([kind.as_str()], |r| {
            let body: String = r.get(2)?;
            Ok(FeedItem {
                cursor: r.get(0)?,
                kind,
                site: r.get(1)?,
                body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                published_at: parse_ts(&r.get::<_, String>(3)?)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The grants in force: the latest document the center published (the `grants` feed), else
    /// the bundled one (before the first sync, and in the demo). A published document that does
    /// not read is an error (`GRANTS_UNREADABLE`), never a fallback to the bundled one.
    pub fn grants(&self) -> Result<radqc_domain::Grants, StoreError> {
        let published = self.feed_items(FeedKind::Grants)?;
        let Some(latest) = published.iter().rev().find(|i| i.site.is_none()) else {
            return Ok(radqc_domain::Grants::bundled().clone());
        };
        radqc_domain::Grants::from_value(&latest.body, "the grants the center published")
            .map_err(|e| StoreError::GrantsUnreadable { cursor: latest.cursor, message: e.to_string() })
    }

    /// Notes how a sync pass ended, for the status the app shows.
    pub fn record_sync(&mut self, now: DateTime<Utc>, error: Option<&str>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        if error.is_none() {
            Self::set_meta(&tx, "last_sync_at", Some(&ts(now)))?;
        }
        Self::set_meta(&tx, "last_sync_error", error)?;
        tx.commit()?;
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus, StoreError> {
        Ok(SyncStatus {
            center: self.meta("center_url")?,
            last_sync_at: self.meta("last_sync_at")?.map(|s| parse_ts(&s)).transpose()?,
            last_error: self.meta("last_sync_error")?,
            outbox: self.outbox_counts()?,
            copy: self.last_fork()?,
        })
    }
}

impl Store {
    /// Records the correction (整改) that closes a monitoring notice, and queues it for the
    /// center. A notice is closed once; closing it again is refused.
    pub fn close_notice(
        &mut self,
        notice_id: &str,
        correction: &str,
        by: &radqc_domain::StaffCode,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let chars = correction.trim().chars().count();
        if chars == 0 || chars > 2000 {
            return Err(invalid("correction", "must say what was done, in 1-2000 characters"));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let done: Option<String> = tx
            .query_row("SELECT closed_by FROM notice_closures WHERE notice_id = ?1", [notice_id], |r| r.get(0))
            .optional()?;
        if let Some(by) = done {
            return Err(invalid("notice", format!("notice {notice_id} was already closed by {by}")));
        }
        tx.execute(
            "INSERT INTO notice_closures (notice_id, correction, closed_by, at) VALUES (?1, ?2, ?3, ?4)",
            params![notice_id, correction.trim(), by.as_str(), ts(now)],
        )?;
        let closure = radqc_protocol::NoticeClosure {
            notice_id: notice_id.to_owned(),
            site: self.site.clone(),
            correction: correction.trim().to_owned(),
            closed_by: by.clone(),
            at: parse_ts(&ts(now))?,
        };
        Self::enqueue(&tx, "notice_closure", notice_id, &radqc_protocol::SyncPayload::NoticeClosed { closure }, now)?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, 'corrected_notice', ?3, ?4)",
            params![ts(now), by.as_str(), notice_id, correction.trim()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The notices closed here: id → (correction, who).
    pub fn notice_closures(&self) -> Result<std::collections::BTreeMap<String, (String, String)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT notice_id, correction, closed_by FROM notice_closures")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
