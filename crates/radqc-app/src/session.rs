//! Who is signed in and what their roles let them do: opening the store, the session the front-end
//! shows, the roster (the center's or the demo one), signing in and out, and the grants' checks
//! (which items a person's roles may score, who sees the site's scores: the grants the center
//! published, `Store::grants`, read at each check).

use std::path::Path;

use chrono::{DateTime, Utc};
use radqc_domain::{ItemCode, SiteCode};
use radqc_protocol::{ExamRecord, FeedKind, StaffMember};
use radqc_store::{Key, Store};
use serde::Serialize;

use crate::{gate, seed_demo, App, AppConfig, AppError, ErrorCode, GateToken, GATE_TOKEN_FILE};

const DEMO_ROSTER: &str = include_str!("../../../assets/demo/roster.json");

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
        let key = Key::load_or_create(&config.data_dir.join("radqc.db.key"))?;
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
        let mut app =
            App { store, config, user: None, gates: gate::Gates::default(), gate_url: String::new(), gate_token };
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
        Session {
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
        let published = self.store.feed_items(FeedKind::Roster)?;
        let latest = published.iter().rev().find(|i| i.site.as_deref() == Some(&site));
        let list: Vec<StaffMember> = match latest {
            // A roster that does not read is an error to show, never an empty roster (nobody
            // could sign in, and it would look like the center's doing).
            Some(item) => serde_json::from_value(item.body["staff"].clone()).map_err(|e| {
                AppError::new(
                    ErrorCode::RosterUnreadable,
                    format!("中心发布的人员名单（第 {} 条）无法读取：{e}；请联系区域中心", item.cursor),
                    format!("the roster the center published (feed item {}) does not read: {e}", item.cursor),
                )
            })?,
            None => Vec::new(),
        };
        // A site the center made but whose staff it has not entered yet publishes an empty
        // roster (with its time zone): the demo department keeps its own people until then.
        let list = if list.is_empty() && self.config.demo {
            serde_json::from_str(DEMO_ROSTER).expect("the demo roster parses")
        } else {
            list
        };
        Ok(list.into_iter().filter(|m| m.active && m.site == site).collect())
    }

    pub fn sign_in(&mut self, code: &str, now: DateTime<Utc>) -> Result<StaffMember, AppError> {
        let member = self.roster()?.into_iter().find(|m| m.code == code).ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownStaff,
                format!("名册中没有工号 {code}"),
                format!("no staff member {code} in the roster"),
            )
        })?;
        self.store.audit(&member.code, "signed_in", None, None, now)?;
        self.user = Some(member.clone());
        Ok(member)
    }

    pub fn sign_out(&mut self) {
        self.user = None;
    }

    pub(crate) fn user(&self) -> Result<&StaffMember, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "请先登录", "sign in first"))
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
        let user = self.user()?;
        let grants = self.store.grants()?;
        if !grants.sees_whole_site(&user.roles) {
            let zh: Vec<&str> = grants.sees_site_scores.iter().map(|r| r.label_zh()).collect();
            let en: Vec<&str> = grants.sees_site_scores.iter().map(|r| r.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::NotPermitted,
                format!("只有以下角色可以查看科室报表：{}", zh.join("、")),
                format!("only these roles see the site's reports: {}", en.join(", ")),
            ));
        }
        Ok(())
    }
}
