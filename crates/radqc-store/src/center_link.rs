//! What the store keeps about its regional center: the link (URL, device token and the pin of
//! the center's key, inside the encrypted file), what the center published, and how the last
//! sync went.

use chrono::{DateTime, Utc};
use radqc_domain::SiteCode;
use radqc_protocol::{FeedItem, FeedKind};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, StoreError};
use crate::model::{OutboxCounts, OutboxEntry};
use crate::store::{parse_ts, ts, Store};

/// Where this store syncs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterLink {
    pub url: String,
    pub token: String,
    /// The pin of the center's key (`sha256/<base64>`) taken at enrollment over HTTPS; every
    /// call checks it. `None` for plain HTTP, and for a store enrolled before pins were taken.
    pub pin: Option<String>,
}

/// How this store knows its center, read from the link: what the 同步 screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CenterTrust {
    /// HTTPS, and the center's key is the one pinned at enrollment.
    Pinned,
    /// HTTPS checked against the system's roots only: enrolled before pins were taken (enroll
    /// again with the center's enrollment string to pin it).
    NotPinned,
    /// Plain HTTP to this machine.
    Loopback,
    /// Plain HTTP over the network, accepted with `--insecure-http`: anyone on the way can read
    /// and change what is sent.
    InsecureHttp,
}

impl CenterTrust {
    /// The trust as the audit log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CenterTrust::Pinned => "pinned",
            CenterTrust::NotPinned => "not_pinned",
            CenterTrust::Loopback => "loopback",
            CenterTrust::InsecureHttp => "insecure_http",
        }
    }

    /// The trust of a link: a pin, else HTTPS, else where plain HTTP goes.
    pub fn of(url: &str, pin: Option<&str>) -> CenterTrust {
        let lower = url.trim().to_ascii_lowercase();
        match (pin, lower.strip_prefix("https://")) {
            (Some(_), _) => CenterTrust::Pinned,
            (None, Some(_)) => CenterTrust::NotPinned,
            (None, None) if url_host(&lower).is_some_and(is_loopback_host) => CenterTrust::Loopback,
            (None, None) => CenterTrust::InsecureHttp,
        }
    }
}

/// The host of a URL's text (`[::1]` keeps its brackets), without a full URL parser.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        host_port.find(']').map(|end| &host_port[..=end])
    } else {
        host_port.split(':').next()
    }
}

/// Whether a host is this machine: 127.0.0.0/8, ::1 (or ::ffff:127.x) or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    })
}

/// What the app shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub center: Option<String>,
    /// How the center is known (`None` when not enrolled).
    pub center_trust: Option<CenterTrust>,
    /// The pin of the center's key, when one was taken.
    pub center_pin: Option<String>,
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
            (Some(url), Some(token)) => Some(CenterLink { url, token, pin: self.meta("center_pin")? }),
            _ => None,
        })
    }

    /// Records a successful enrollment: the center, the token, the pin of its key (none: removed),
    /// and the site the center says this device acts for. Refused when the outbox holds entries of another site: they would all be
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
        Self::set_meta(&tx, "center_pin", link.pin.as_deref())?;
        Self::set_meta(&tx, "site", Some(site.as_str()))?;
        let trust = match (CenterTrust::of(&link.url, link.pin.as_deref()), &link.pin) {
            (_, Some(pin)) => format!("pinned {pin}"),
            (other, None) => other.as_str().to_owned(),
        };
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, 'sync', 'enrolled', ?2, ?3)",
            params![ts(now), link.url, format!("{site} ({trust})")],
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

    /// Keeps what the center published; an item received twice is kept once. A gold-standard
    /// case's final result for this site is applied in the same transaction (its gold
    /// evaluation kept as a revision, once per case).
    pub fn save_feed_items(&mut self, items: &[FeedItem], now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for item in items {
            let new = tx.execute(
                "INSERT INTO center_feed (kind, cursor, site, body, published_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, cursor) DO NOTHING",
                params![item.kind.as_str(), item.cursor, item.site, item.body.to_string(), ts(item.published_at), ts(now)],
            )? == 1;
            if new && item.kind == FeedKind::Gold && item.site.as_deref() == Some(self.site.as_str()) {
                if let Ok(radqc_protocol::GoldMessage::Final { result }) =
                    radqc_protocol::GoldMessage::deserialize(&item.body)
                {
                    self.apply_gold_final(&tx, &result, now)?;
                }
            }
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
        let center = self.meta("center_url")?;
        let center_pin = self.meta("center_pin")?;
        Ok(SyncStatus {
            center_trust: center.as_deref().map(|url| CenterTrust::of(url, center_pin.as_deref())),
            center_pin,
            center,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_links_trust_is_read_from_its_url_and_pin() {
        let pin = Some("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_eq!(CenterTrust::of("https://qc.region.example:8443", pin), CenterTrust::Pinned);
        assert_eq!(CenterTrust::of("https://qc.region.example:8443", None), CenterTrust::NotPinned);
        assert_eq!(CenterTrust::of("HTTPS://10.0.0.2", None), CenterTrust::NotPinned);
        for url in ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9/x", "http://u:p@127.2.3.4:80/?a"] {
            assert_eq!(CenterTrust::of(url, None), CenterTrust::Loopback, "{url}");
        }
        for url in ["http://10.0.0.2:8080", "http://center.example", "http://127.0.0.1.example", "http://[::2]"] {
            assert_eq!(CenterTrust::of(url, None), CenterTrust::InsecureHttp, "{url}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]", "::1", "[::ffff:127.0.0.1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["10.0.0.1", "192.168.1.5", "center.example", "localhost.example", "[::2]", "128.0.0.1", ""] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
