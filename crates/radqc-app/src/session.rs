//! Who is signed in and what their roles let them do: opening the store, the session the front-end
//! shows, the roster (the center's or the demo one), signing in and out, and the grants' checks
//! (which items a person's roles may score, who sees the site's scores: the grants the center
//! published, `Store::grants`, read at each check).

use std::path::Path;

use chrono::{DateTime, Utc};
use radqc_domain::credential::SecretPolicy;
use radqc_domain::{ItemCode, SiteCode};
use radqc_protocol::{ExamRecord, FeedKind, RosterBody, StaffMember};
use radqc_store::{Key, Store};
use serde::Serialize;

use crate::{gate, seed_demo, App, AppConfig, AppError, ErrorCode, GateToken, GATE_TOKEN_FILE};

const DEMO_ROSTER: &str = include_str!("../../../assets/demo/roster.json");
/// The demo department's verifiers, all of [`DEMO_SECRET`] (each with its own salt).
const DEMO_CREDENTIALS: &str = include_str!("../../../assets/demo/credentials.json");
/// Every demo person's secret (the sign-in page shows it in the demo).
pub const DEMO_SECRET: &str = "radqc-demo";

/// The site's roster as the center published it last (its staff, their verifiers and the
/// region's policy), or the demo department's in the demo until the center names staff.
pub(crate) fn roster_body(store: &Store, demo: bool) -> Result<Option<RosterBody>, AppError> {
    let site = store.site().to_string();
    let published = store.feed_items(FeedKind::Roster)?;
    let latest = published.iter().rev().find(|i| i.site.as_deref() == Some(&site));
    let body: Option<RosterBody> = match latest {
        // A roster that does not read is an error to show, never an empty roster (nobody
        // could sign in, and it would look like the center's doing).
        Some(item) => Some(serde_json::from_value(item.body.clone()).map_err(|e| {
            AppError::new(
                ErrorCode::RosterUnreadable,
                format!("中心发布的人员名单（第 {} 条）无法读取：{e}；请联系区域中心", item.cursor),
                format!("the roster the center published (feed item {}) does not read: {e}", item.cursor),
            )
        })?),
        None => None,
    };
    // A site the center made but whose staff it has not entered yet publishes an empty
    // roster (with its time zone): the demo department keeps its own people until then.
    if demo && body.as_ref().is_none_or(|b| b.staff.is_empty()) {
        let demo_policy = SecretPolicy { expiry_days: 0, ..SecretPolicy::default() };
        return Ok(Some(RosterBody {
            staff: serde_json::from_str(DEMO_ROSTER).expect("the demo roster parses"),
            time_zone: body.and_then(|b| b.time_zone),
            credentials: serde_json::from_str(DEMO_CREDENTIALS).expect("the demo credentials parse"),
            policy: Some(demo_policy),
        }));
    }
    Ok(body)
}

/// What the front-end shows about the session.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    pub site: String,
    pub device_id: String,
    pub demo: bool,
    pub user: Option<StaffMember>,
    pub gate_url: String,
    /// Roles that see the site's scores and reports (质控员, 科主任, …), from the grants: the UI
    /// shows the 报表 screen to whoever holds one.
    pub site_score_roles: Vec<String>,
    /// Signed in, but locked to a prompt for the same person's secret.
    pub locked: bool,
    /// The signed-in person's roles read gold-standard cases (grants `gold_readers`): the UI
    /// shows the 金标准 screen.
    pub reads_gold: bool,
    /// Seconds without a key or the mouse before the session locks.
    pub idle_lock_secs: u64,
    /// The region's rules for a new secret (the change form shows them).
    pub policy: SecretPolicy,
    /// In the demo, every demo person's secret (shown on the sign-in page); otherwise none.
    pub demo_secret: Option<String>,
}

impl App {
    /// Opens (or creates, seeding demo data when asked) the store in `config.data_dir`.
    pub fn open(config: AppConfig, now: DateTime<Utc>) -> Result<App, AppError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            AppError::new(
                ErrorCode::DataDir,
                format!("数据目录无法创建：{e}"),
                format!("cannot create {}: {e}", config.data_dir.display()),
            )
        })?;
        // Made at first start, before the store: the gate API refuses every request without it.
        let gate_token = GateToken::load_or_create(&config.data_dir.join(GATE_TOKEN_FILE))?;
        let db = config.data_dir.join("radqc.db");
        // The OS keystore when one answers (or as RADQC_KEY_IN says), else the key file.
        let loaded =
            Key::load_or_create(&config.data_dir.join("radqc.db.key"), radqc_store::KeyPlacement::from_env()?)?;
        if let Some(note) = &loaded.note {
            eprintln!("radqc: {note}");
        }
        let key = loaded.key;
        let store = if db.exists() {
            Store::open(&db, &key)?
        } else {
            let site: SiteCode = if config.demo { "DEMO-RAD" } else { "LOCAL" }.parse().expect("a valid site code");
            let mut store = Store::create(&db, &key, &site, now)?;
            if config.demo {
                seed_demo(&mut store, now)?;
            }
            store
        };
        let config_demo = config.demo;
        let mut app = App {
            store,
            config,
            user: None,
            gates: gate::Gates::default(),
            gate_url: String::new(),
            gate_token,
            directory: Box::new(crate::RosterDirectory { demo: config_demo }),
            locked: false,
            last_activity: now,
        };
        app.apply_published_rubric()?;
        Ok(app)
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The installation's gate token: the gate API acts only on requests that carry it.
    pub fn gate_token(&self) -> &GateToken {
        &self.gate_token
    }

    /// Where the gate API listens, for the session view.
    pub fn set_gate_url(&mut self, url: String) {
        self.gate_url = url;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn session(&self) -> Session {
        // A roster that does not read shows as the default policy here; signing in names it.
        let policy = self.secret_policy().unwrap_or_default();
        let reads_gold = self.user.as_ref().is_some_and(|u| self.store.grants().is_ok_and(|g| g.reads_gold(&u.roles)));
        Session {
            locked: self.locked,
            reads_gold,
            idle_lock_secs: self.config.idle_lock.as_secs(),
            policy,
            demo_secret: self.config.demo.then(|| DEMO_SECRET.to_owned()),
            site: self.store.site().to_string(),
            device_id: self.store.device_id().to_owned(),
            demo: self.config.demo,
            user: self.user.clone(),
            gate_url: self.gate_url.clone(),
            // Grants that do not read show no 报表; the report itself answers why.
            site_score_roles: self.store.grants().map(|g| g.site_score_roles()).unwrap_or_default(),
        }
    }

    /// The site's staff: the roster the center published last, or the demo roster.
    pub fn roster(&self) -> Result<Vec<StaffMember>, AppError> {
        let site = self.store.site().to_string();
        let list = roster_body(&self.store, self.config.demo)?.map(|b| b.staff).unwrap_or_default();
        Ok(list.into_iter().filter(|m| m.active && m.site == site).collect())
    }

    pub fn sign_out(&mut self, now: DateTime<Utc>) -> Result<(), AppError> {
        if let Some(user) = self.user.take() {
            self.store.audit(&user.code, "signed_out", Some(&user.code), None, now)?;
        }
        self.locked = false;
        Ok(())
    }

    /// The signed-in person, while the session is not locked.
    pub(crate) fn user(&self) -> Result<&StaffMember, AppError> {
        match (&self.user, self.locked) {
            (None, _) => Err(AppError::new(ErrorCode::NotSignedIn, "请先登录", "sign in first")),
            (Some(_), true) => Err(AppError::new(
                ErrorCode::SessionLocked,
                "会话已锁定：请输入您的密码解锁",
                "the session is locked: enter your secret to open it",
            )),
            (Some(user), false) => Ok(user),
        }
    }

    /// The items of `exam` that `roles` may score, by the grants in force (the center's latest).
    pub(crate) fn items_for(&self, roles: &[String], exam: &ExamRecord) -> Result<Vec<ItemCode>, AppError> {
        let rubric = self.store.rubric();
        let grants = self.store.grants()?;
        Ok(radqc_store::applicable_items(rubric, exam)
            .into_iter()
            .filter(|item| grants.may_score(rubric, roles, *item))
            .collect())
    }

    /// Reports name people: only roles that see the site's scores may read them.
    pub(crate) fn may_see_site_scores(&self) -> Result<(), AppError> {
        self.only_site_roles("查看科室报表", "see the site's reports")
    }

    /// Only the roles that see the whole site (grants `sees_site_scores`) may do `what`; the
    /// refusal names them.
    pub(crate) fn only_site_roles(&self, what_zh: &str, what_en: &str) -> Result<(), AppError> {
        let user = self.user()?;
        let grants = self.store.grants()?;
        if !grants.sees_whole_site(&user.roles) {
            let zh: Vec<&str> = grants.sees_site_scores.iter().map(|r| r.label_zh()).collect();
            let en: Vec<&str> = grants.sees_site_scores.iter().map(|r| r.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::NotPermitted,
                format!("只有以下角色可以{what_zh}：{}", zh.join("、")),
                format!("only these roles {what_en}: {}", en.join(", ")),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every demo person has a verifier of the demo secret, of the product's cost. Regenerate
    /// with `RADQC_UPDATE_DEMO=1 cargo test -p radqc-app --lib demo_credentials`.
    #[test]
    fn demo_credentials_are_of_the_demo_secret() {
        let staff: Vec<StaffMember> = serde_json::from_str(DEMO_ROSTER).unwrap();
        if std::env::var_os("RADQC_UPDATE_DEMO").is_some() {
            let set_at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
            let creds: Vec<radqc_protocol::StaffCredential> = staff
                .iter()
                .map(|m| {
                    let mut salt = [0u8; 16];
                    getrandom::fill(&mut salt).unwrap();
                    radqc_protocol::StaffCredential {
                        code: m.code.clone(),
                        verifier: radqc_domain::credential::make_verifier(DEMO_SECRET, &salt),
                        version: 1,
                        must_change: false,
                        set_at,
                    }
                })
                .collect();
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/demo/credentials.json");
            std::fs::write(path, serde_json::to_string_pretty(&creds).unwrap() + "\n").unwrap();
            return;
        }
        let creds: Vec<radqc_protocol::StaffCredential> = serde_json::from_str(DEMO_CREDENTIALS).unwrap();
        assert_eq!(creds.len(), staff.len());
        for (c, m) in creds.iter().zip(&staff) {
            assert_eq!(c.code, m.code);
            assert_eq!(radqc_domain::credential::verify(&c.verifier, DEMO_SECRET), Ok(true), "{}", c.code);
            assert!(c.verifier.contains("m=19456,t=2,p=1"), "{}", c.verifier);
        }
    }
}
