//! The desktop app's application layer: who is signed in and what their roles let them score
//! and see, random QC at signing (the held signature and its release), the panels' saves,
//! centralized queues, and sync. The Tauri shell turns each call into an IPC command; nothing
//! here knows Tauri.
//!
//! Architecture Invariant: time comes in as arguments (`now`); randomness only from the OS for
//! keys and ids, never for a sampling decision (those are keyed draws from the domain crate).

mod demo;
mod drill;
mod error;
mod gate;
pub mod gate_http;
mod grants;
mod scope;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use radqc_domain::{
    CriterionCode, ExamEventKind, Findings, ItemCode, QcMode, SamplingRules, SiteCode, StaffCode, Verdict,
};
use radqc_protocol::{EvaluationRecord, ExamRecord, FeedKind, NoticeMessage, StaffMember};
use radqc_store::{ExamFilter, ExamInput, Key, NewEvaluation, Store};
use serde::{Deserialize, Serialize};

pub use demo::seed_demo;
pub use drill::Drill;
pub use error::{AppError, ErrorCode};
pub use gate::{GateAnswer, GateView, PanelClosedPolicy, Released, SignRequest, SignResponse, Waiter};
pub use grants::Grants;
pub use scope::ReportScope;

const DEFAULT_SAMPLING: &str = include_str!("../../../assets/sampling.json");
const DEMO_ROSTER: &str = include_str!("../../../assets/demo/roster.json");

/// Where the app keeps its files and how it behaves.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    /// Seed a demo department on a new database.
    pub demo: bool,
    /// What a closed panel does to the held signature.
    pub when_panel_closed: PanelClosedPolicy,
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
}

/// An exam as the UI shows it; blind reviews get no staff.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamView {
    #[serde(flatten)]
    pub exam: ExamRecord,
}

impl ExamView {
    fn new(mut exam: ExamRecord, blind: bool) -> ExamView {
        exam.patient_hash = None;
        exam.patient_name = None;
        if blind {
            exam.staff = Default::default();
        }
        ExamView { exam }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FindExams {
    #[serde(flatten)]
    pub filter: ExamFilter,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub blind: bool,
}

/// One item of a panel save.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PanelItem {
    pub item: ItemCode,
    pub findings: Vec<CriterionCode>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub not_applicable: Vec<CriterionCode>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub note: String,
}

/// A panel's save: every item of one exam, all or nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PanelSave {
    pub accession: String,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub site: Option<SiteCode>,
    pub mode: QcMode,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub gate_id: Option<String>,
    pub items: Vec<PanelItem>,
    /// What the reviewer states about the exam where it was not known: an item that applies
    /// only to filmed or reconstructed exams (FL, TR) is scored only when the fact is known.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub facts: StatedFacts,
}

/// Facts about an exam that the reviewer states in the panel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct StatedFacts {
    #[serde(default)]
    pub film_printed: Option<bool>,
    #[serde(default)]
    pub reconstruction: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamDetail {
    pub exam: ExamView,
    pub evaluations: Vec<EvaluationRecord>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub cursor: i64,
    /// Set for monitoring notices (a failed evaluation): what a correction closes.
    pub notice_id: Option<String>,
    /// `failed_evaluation`, `notice_closed`, or none for a plain message.
    pub kind: Option<String>,
    pub to: Option<String>,
    pub also_to: Vec<String>,
    pub text: String,
    pub published_at: DateTime<Utc>,
    /// For a monitoring notice: still waiting for its correction (整改).
    pub open: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedEntry {
    pub seq: i64,
    pub kind: String,
    pub ref_id: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncView {
    #[serde(flatten)]
    pub status: radqc_store::SyncStatus,
    pub rejected: Vec<RejectedEntry>,
}

/// The running app's state.
pub struct App {
    store: Store,
    config: AppConfig,
    user: Option<StaffMember>,
    grants: Grants,
    gates: gate::Gates,
    gate_url: String,
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
        let mut app = App {
            store,
            config,
            user: None,
            grants: Grants::bundled(),
            gates: gate::Gates::default(),
            gate_url: String::new(),
        };
        app.apply_published_rubric()?;
        Ok(app)
    }

    /// Scores with the newest rubric version the center published, once it arrived by sync
    /// (the bundled one until then). Every evaluation records the version it was scored under.
    pub fn apply_published_rubric(&mut self) -> Result<(), AppError> {
        let published = self.store.feed_items(FeedKind::Rubric)?;
        if let Some(text) = published.iter().rev().find_map(|i| i.body["toml"].as_str().map(str::to_owned)) {
            let rubric = radqc_domain::Rubric::from_toml_str(&text, "the rubric the center published")
                .map_err(|e| AppError::invalid("published rubric", e.to_string()))?;
            if rubric.version != self.store.rubric().version {
                self.store.set_rubric(rubric);
            }
        }
        Ok(())
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
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
            site_score_roles: self.grants.sees_site_scores.clone(),
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

    fn user(&self) -> Result<&StaffMember, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "请先登录", "sign in first"))
    }

    fn exam(&self, site: Option<&SiteCode>, accession: &str) -> Result<ExamRecord, AppError> {
        self.store.exam(site, accession)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownExam,
                format!("找不到检查号 {accession}"),
                format!("no exam with accession {accession}"),
            )
        })
    }

    /// Items the signed-in user may score for this exam: their roles' grants, among the items
    /// that apply to the exam, in rubric order.
    pub fn scorable_items(&self, site: Option<&SiteCode>, accession: &str) -> Result<Vec<ItemCode>, AppError> {
        let user = self.user()?;
        let exam = self.exam(site, accession)?;
        Ok(self.items_for(&user.roles, &exam))
    }

    fn items_for(&self, roles: &[String], exam: &ExamRecord) -> Vec<ItemCode> {
        let rubric = self.store.rubric();
        radqc_store::applicable_items(rubric, exam)
            .into_iter()
            .filter(|item| self.grants.may_score(rubric, roles, *item))
            .collect()
    }

    /// The live score of a panel item, from the engine.
    pub fn preview(&self, findings: &Findings) -> Result<Verdict, AppError> {
        Ok(self.store.rubric().score(findings)?)
    }

    /// Saves a panel: every item or none, each only if the user's roles let them score it.
    /// With a gate id, the held signature is released.
    pub fn save_panel(&mut self, save: &PanelSave, now: DateTime<Utc>) -> Result<Vec<EvaluationRecord>, AppError> {
        let user = self.user()?.clone();
        let exam = self.exam(save.site.as_ref(), &save.accession)?;
        if save.items.is_empty() {
            return Err(AppError::new(ErrorCode::EmptyPanel, "没有要保存的质控项目", "nothing to save"));
        }
        // A held signature is scored on the items the sampling gave its signer (whoever is signed
        // in at the workstation records the score); otherwise the user's own grants decide.
        let allowed = match save.gate_id.as_deref().and_then(|id| self.gates.items_of(id)) {
            Some(items) => items,
            None => self.items_for(&user.roles, &exam),
        };
        let reviewer: StaffCode =
            user.code.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("user", e.to_string()))?;
        // The exam as the reviewer states it: an unknown fact stated in the panel.
        let mut exam = exam;
        exam.film_printed = save.facts.film_printed.or(exam.film_printed);
        exam.reconstruction = save.facts.reconstruction.or(exam.reconstruction);
        let input = exam_input(&exam);
        let mut batch = Vec::new();
        for item in &save.items {
            if !allowed.contains(&item.item) {
                return Err(AppError::new(
                    ErrorCode::NotPermitted,
                    format!("您的角色不能评 {} 项，或该项不适用于本检查", item.item),
                    format!("your roles may not score {} for this exam, or it does not apply", item.item),
                ));
            }
            let findings = Findings {
                item: item.item,
                findings: item.findings.clone(),
                not_applicable: item.not_applicable.clone(),
            };
            self.store.rubric().score(&findings)?;
            radqc_store::check_applies(self.store.rubric().item(item.item), &exam)?;
            batch.push(NewEvaluation {
                item: item.item,
                findings: item.findings.clone(),
                not_applicable: item.not_applicable.clone(),
                exam: input.clone(),
                reviewer: reviewer.clone(),
                mode: save.mode,
                note: item.note.clone(),
                supersedes: None,
                at: None,
            });
        }
        // Every item was checked above, so the batch is all or nothing.
        let results = self.store.save_batch(&batch, now)?;
        let saved = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        if let Some(id) = &save.gate_id {
            let answer = GateAnswer::Go { evaluations: saved.iter().map(|e| e.id.clone()).collect() };
            if let Some(released) = self.gates.release(id, answer) {
                if released.delivered == 0 {
                    // Saved and counted, but nobody was waiting: say so in the audit log.
                    self.store.audit(reviewer.as_str(), "gate_answer_undelivered", Some(id), None, now)?;
                }
            }
        }
        Ok(saved)
    }

    pub fn find_exams(&self, query: &FindExams) -> Result<Vec<ExamView>, AppError> {
        Ok(self.store.find_exams(&query.filter)?.into_iter().map(|e| ExamView::new(e, query.blind)).collect())
    }

    pub fn exam_detail(&self, accession: &str, blind: bool) -> Result<ExamDetail, AppError> {
        let exam = self.exam(None, accession)?;
        let mut evaluations = self.store.evaluations_of(None, accession)?;
        if blind {
            for e in &mut evaluations {
                e.scored_person = None;
            }
        }
        Ok(ExamDetail { exam: ExamView::new(exam, blind), evaluations })
    }

    /// A reading workstation asks before committing a signature: the signing is recorded, the
    /// sampling rules decide, and the answer is go, or hold until the panel is saved.
    pub fn sign(&mut self, req: &SignRequest, now: DateTime<Utc>) -> Result<SignResponse, AppError> {
        // A workstation that retries a signing while it is held (its own timeout, a second
        // click) joins that hold: one signing is one panel and one QC, never a second draw.
        let site = req.exam.site.clone().unwrap_or_else(|| self.store.site().clone());
        if let Some((view, waiter, decision)) = self.gates.join(site.as_str(), &req.exam.accession, req.signer.as_str())
        {
            self.store.audit(req.signer.as_str(), "sign_retried", Some(&req.exam.accession), Some(&view.id), now)?;
            return Ok(SignResponse::Hold { gate: Box::new(view), waiter, decision, retry: true });
        }
        let event = self.store.record_event(&req.exam, ExamEventKind::ReportSigned, &req.signer, now, now)?;
        let exam = self.exam(req.exam.site.as_ref(), &req.exam.accession)?;
        let rules = self.sampling_rules()?;
        let key = self.sampling_key(now)?;
        // The monthly minimum and maximum count the site's local month.
        let zone = self.store.time_zone()?;
        let month_start = zone.month_start(zone.month_at(now));
        let sampled_this_month = self.store.count_audit("sampled", req.signer.as_str(), month_start)? as u32;
        let (day, days_in_month) = zone.day_of_month(now);
        let month = radqc_domain::StaffMonth { sampled: sampled_this_month, day, days_in_month };
        let signing = radqc_domain::Signing {
            accession: &exam.accession,
            modality: &exam.modality,
            exam_item: &exam.exam_item,
            department: exam.department.as_deref(),
            patient_source: exam.patient_source,
            follow_up: exam.follow_up,
            signer: &req.signer,
        };
        let decision = radqc_domain::decide(&rules, &signing, month, &key);
        let rule = match decision.why {
            radqc_domain::Why::Rule { index } | radqc_domain::Why::CatchUp { index: Some(index) } => {
                Some(rules.rules[index].name.clone())
            }
            _ => None,
        };
        let detail = serde_json::json!({ "rules_version": rules.version, "decision": decision, "rule": rule, "event": event.id });
        let action = if decision.sampled { "sampled" } else { "not_sampled" };
        self.store.audit(req.signer.as_str(), action, Some(&exam.accession), Some(&detail.to_string()), now)?;
        if !decision.sampled {
            return Ok(SignResponse::Go { decision });
        }
        // The signer scores what their roles allow (at signing: the technologist's work).
        let signer_roles = self
            .roster()?
            .into_iter()
            .find(|m| m.code == req.signer.as_str())
            .map(|m| m.roles)
            .unwrap_or_else(|| vec!["reporting_doctor".into()]);
        let items = self.items_for(&signer_roles, &exam);
        if items.is_empty() {
            // Nothing this signer may score on this exam: holding the signature would only block it.
            self.store.audit(req.signer.as_str(), "sampled_nothing_to_score", Some(&exam.accession), None, now)?;
            return Ok(SignResponse::Go { decision });
        }
        let view = GateView {
            id: String::new(),
            accession: exam.accession.clone(),
            exam: ExamView::new(exam, false),
            signer: req.signer.to_string(),
            items,
            rule,
            waiting_since: now,
            workstation_waiting: true,
        };
        let (view, waiter) = self.gates.hold(site.as_str(), view, decision);
        Ok(SignResponse::Hold { gate: Box::new(view), waiter, decision, retry: false })
    }

    /// A request waiting on a held signature gave up (its connection closed). When it was the
    /// last one, the gate's view comes back with `workstation_waiting: false` for the panel to
    /// show: a score saved now still counts, but no signature waits for it.
    pub fn gate_gave_up(&mut self, waiter: &Waiter, now: DateTime<Utc>) -> Result<Option<GateView>, AppError> {
        let view = self.gates.gave_up(&waiter.gate, waiter.id);
        if let Some(v) = &view {
            self.store.audit(&v.signer, "workstation_gave_up", Some(&v.id), Some(&v.accession), now)?;
        }
        Ok(view)
    }

    /// A request that got its gate's answer found its workstation gone before writing it. When
    /// no request is left that got it, the gate's view comes back for the panel: whatever it
    /// said about the signature reached nobody (the score, if saved, still counts).
    pub fn gate_answer_lost(&mut self, waiter: &Waiter, now: DateTime<Utc>) -> Result<Option<GateView>, AppError> {
        let view = self.gates.answer_lost(&waiter.gate);
        if let Some(v) = &view {
            self.store.audit(&v.signer, "gate_answer_undelivered", Some(&v.id), Some(&v.accession), now)?;
        }
        Ok(view)
    }

    /// The gate API's timeout: the held signature is answered go, for every waiting request,
    /// and dropped from the panel.
    pub fn gate_timed_out(&mut self, id: &str, now: DateTime<Utc>) -> Result<Option<Released>, AppError> {
        let released = self.gates.release(id, GateAnswer::Go { evaluations: vec![] });
        if released.is_some() {
            self.store.audit("app", "gate_timed_out", Some(id), None, now)?;
        }
        Ok(released)
    }

    pub fn pending_gates(&self) -> Vec<GateView> {
        self.gates.pending()
    }

    /// The panel of a held signature was closed without a score. The answer says how many
    /// waiting requests got it (none when the workstation had stopped waiting).
    pub fn close_gate(&mut self, id: &str, now: DateTime<Utc>) -> Result<Released, AppError> {
        let answer = match self.config.when_panel_closed {
            PanelClosedPolicy::Block => GateAnswer::Blocked {
                reason: "评分未完成，签名已拦截 / the QC score was not completed: signature held back".into(),
            },
            PanelClosedPolicy::Allow => GateAnswer::Go { evaluations: vec![] },
        };
        let Some(released) = self.gates.release(id, answer) else {
            return Err(AppError::new(ErrorCode::UnknownGate, "没有这个待评分的签名", "no such held signature"));
        };
        let actor = self.user.as_ref().map_or("app".to_owned(), |u| u.code.clone());
        self.store.audit(&actor, "panel_closed", Some(id), Some(&format!("{released:?}")), now)?;
        Ok(released)
    }

    /// The rules the center published last for this site (or the region), else the defaults.
    pub fn sampling_rules(&self) -> Result<SamplingRules, AppError> {
        let site = self.store.site().to_string();
        let published = self.store.feed_items(FeedKind::Sampling)?;
        let latest = published.iter().rev().find(|i| i.site.is_none() || i.site.as_deref() == Some(&site));
        let text = latest.map_or_else(|| DEFAULT_SAMPLING.to_owned(), |i| i.body.to_string());
        SamplingRules::from_json(&text).map_err(|e| AppError::invalid("sampling rules", e.to_string()))
    }

    /// The site's secret for sampling draws, made once per store.
    fn sampling_key(&mut self, now: DateTime<Utc>) -> Result<Vec<u8>, AppError> {
        if let Some(hex_key) = self.store.meta_value("sampling_key")? {
            return hex::decode(hex_key).map_err(|e| AppError::invalid("sampling_key", e.to_string()));
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| AppError::invalid("sampling_key", e.to_string()))?;
        self.store.set_meta_value("sampling_key", &hex::encode(key), now)?;
        Ok(key.to_vec())
    }

    pub fn my_scores(&self) -> Result<Vec<EvaluationRecord>, AppError> {
        let user = self.user()?;
        Ok(self
            .store
            .evaluations()?
            .into_iter()
            .filter(|e| e.scored_person.as_ref().is_some_and(|p| p.as_str() == user.code))
            .collect())
    }

    /// Notices for the signed-in person: addressed to them, to their role as department head
    /// (`also_to`), or to everyone at the site. A monitoring notice is open until a correction is
    /// recorded here or the center reports it closed.
    pub fn my_notices(&self) -> Result<Vec<Notice>, AppError> {
        let user = self.user()?;
        let items = self.store.feed_items(FeedKind::Notices)?;
        let closed_here = self.store.notice_closures()?;
        let bodies: Vec<(radqc_protocol::FeedItem, radqc_protocol::NoticeBody)> =
            items.into_iter().filter_map(|i| radqc_protocol::NoticeBody::parse(&i.body).ok().map(|b| (i, b))).collect();
        let closed_at_center: std::collections::HashSet<&str> = bodies
            .iter()
            .filter(|(_, b)| b.kind() == Some("notice_closed"))
            .filter_map(|(_, b)| b.notice_id())
            .collect();
        Ok(bodies
            .iter()
            .filter_map(|(i, b)| {
                let mine = b.to().is_none_or(|t| t == user.code) || b.also_to().contains(&user.code);
                if !mine {
                    return None;
                }
                let notice_id = b.notice_id().map(str::to_owned);
                let open = matches!(b, radqc_protocol::NoticeBody::Monitoring(NoticeMessage::FailedEvaluation { .. }))
                    && notice_id
                        .as_deref()
                        .is_some_and(|id| !closed_here.contains_key(id) && !closed_at_center.contains(id));
                Some(Notice {
                    cursor: i.cursor,
                    notice_id,
                    kind: b.kind().map(str::to_owned),
                    to: b.to().map(str::to_owned),
                    also_to: b.also_to().to_vec(),
                    text: b.text().to_owned(),
                    published_at: i.published_at,
                    open,
                })
            })
            .collect())
    }

    /// The evaluations behind one number of a report (a figure-2 cell, a figure-4 count, a
    /// figure-7 count or rate, figure 3) of `scope`'s period and filters, from the same facts
    /// the report counts: the list has exactly as many rows as the number. Same permission as
    /// the report.
    pub fn report_evaluations(
        &self,
        scope: &ReportScope,
        drill: &Drill,
    ) -> Result<Vec<radqc_domain::report::EvaluationFact>, AppError> {
        self.may_see_site_scores()?;
        let rubric = self.store.rubric();
        let (period, filter) = scope::parse(scope, rubric)?;
        let clicked = drill::DrillFilter::parse(drill, rubric)?;
        let (from, to) = period.range(self.store.time_zone()?);
        Ok(self
            .store
            .evaluation_facts(&from, &to)?
            .into_iter()
            .filter(|f| filter.matches_fact(f, rubric) && clicked.keeps(rubric, f))
            .collect())
    }

    /// The exams behind a workload number of figure 5: performed in `scope`'s period by
    /// `person` (any technologist when none), of `modality` (any when none), within the scope's
    /// filters as figure 5 applies them (`ReportFilter::matches_work`: department, modality,
    /// the technologist; nothing for a doctor's role). Workload counts exams, not evaluations,
    /// by their performing time, as `Store::work_facts` does.
    pub fn report_workload_exams(
        &self,
        scope: &ReportScope,
        person: Option<&str>,
        modality: Option<&str>,
    ) -> Result<Vec<ExamView>, AppError> {
        self.may_see_site_scores()?;
        let (period, filter) = scope::parse(scope, self.store.rubric())?;
        let person: Option<StaffCode> = person
            .map(|p| p.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("person", e.to_string())))
            .transpose()?;
        let modality: Option<radqc_domain::Modality> = modality
            .map(|m| m.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("modality", e.to_string())))
            .transpose()?;
        let zone = self.store.time_zone()?;
        let (from, to) = period.range(zone);
        let instant = |t: &str| {
            DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).expect("a period's bounds are RFC 3339")
        };
        let (from, to) = (instant(&from), instant(&to));
        let key_of = |e: &ExamRecord| -> Option<radqc_domain::rollup::WorkKey> {
            let performed = e.performed_at.filter(|t| from <= *t && *t < to)?;
            Some(radqc_domain::rollup::WorkKey {
                month: zone.month_at(performed).to_string(),
                site: e.site.to_string(),
                department: e.department.clone().unwrap_or_default(),
                modality: e.modality.to_string(),
                person: e.staff.technologist.as_ref()?.to_string(),
            })
        };
        let exams =
            ExamFilter { from: Some(from), to: Some(to), modality, staff: person.clone(), ..ExamFilter::default() };
        Ok(self
            .store
            .find_exams(&exams)?
            .into_iter()
            // The store's filter matches any of the exam's staff and a creation time; the
            // workload is the technologist's, by the performing time, within the report's filter.
            .filter(|e| {
                key_of(e)
                    .is_some_and(|k| filter.matches_work(&k) && person.as_ref().is_none_or(|p| p.as_str() == k.person))
            })
            .map(|e| ExamView::new(e, false))
            .collect())
    }

    /// Reports name people: only roles that see the site's scores may read them.
    fn may_see_site_scores(&self) -> Result<(), AppError> {
        let user = self.user()?;
        if !user.roles.iter().any(|r| self.grants.sees_site_scores.contains(r)) {
            return Err(AppError::new(
                ErrorCode::NotPermitted,
                "只有质控员和科主任可以查看科室报表",
                "only QC officers and department heads see the site's reports",
            ));
        }
        Ok(())
    }

    /// The site's indicators and figures for a month (5.1, figures 2-7, 6.5).
    pub fn report(&self, month: &str) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let month: radqc_domain::report::Month =
            month.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("month", e.to_string()))?;
        self.report_filtered(radqc_domain::report::Period::month(month), radqc_domain::report::ReportFilter::default())
    }

    /// The report of the 报表 screen: `scope`'s period and filters, as text, parsed here.
    pub fn report_view(&self, scope: &ReportScope) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let (period, filter) = scope::parse(scope, self.store.rubric())?;
        self.report_filtered(period, filter)
    }

    /// The site's report of a period (months, both ends included), restricted to `filter`.
    pub fn report_filtered(
        &self,
        period: radqc_domain::report::Period,
        filter: radqc_domain::report::ReportFilter,
    ) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let zone = self.store.time_zone()?;
        let (from, to) = period.range(zone);
        let facts = self.store.evaluation_facts(&from, &to)?;
        let work = self.store.work_facts(&from, &to)?;
        let rubric = self.store.rubric();
        let zones = radqc_domain::Zones::one(zone);
        Ok(radqc_domain::report::Report::build_in(&zones, rubric, period.to_string(), filter, &facts, &work, None))
    }

    /// Records the correction that closes a monitoring notice; it reaches the center by sync.
    pub fn close_notice(&mut self, notice_id: &str, correction: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        let by: StaffCode =
            self.user()?.code.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("user", e.to_string()))?;
        let known = self.store.feed_items(FeedKind::Notices)?.iter().any(|i| {
            matches!(NoticeMessage::deserialize(&i.body),
                    Ok(NoticeMessage::FailedEvaluation { notice_id: id, .. }) if id == notice_id)
        });
        if !known {
            return Err(AppError::new(
                ErrorCode::UnknownNotice,
                format!("没有通知 {notice_id}"),
                format!("no notice {notice_id}"),
            ));
        }
        Ok(self.store.close_notice(notice_id, correction, &by, now)?)
    }

    pub fn sync_view(&self) -> Result<SyncView, AppError> {
        Ok(SyncView {
            status: self.store.sync_status()?,
            rejected: self
                .store
                .rejected_outbox()?
                .into_iter()
                .map(|e| RejectedEntry { seq: e.seq, kind: e.kind, ref_id: e.ref_id, reason: e.reason })
                .collect(),
        })
    }
}

/// The exam as the store takes it back (saving with an evaluation updates nothing it knows).
fn exam_input(e: &ExamRecord) -> ExamInput {
    ExamInput {
        site: Some(e.site.clone()),
        accession: e.accession.clone(),
        modality: e.modality.clone(),
        exam_item: e.exam_item.clone(),
        department: e.department.clone(),
        patient_source: e.patient_source,
        follow_up: e.follow_up,
        film_printed: e.film_printed,
        reconstruction: e.reconstruction,
        staff: e.staff.clone(),
        patient: None,
        // A signing time stands in for an unknown performing time: sending it back as the
        // exam's own would erase the mark.
        performed_at: e.performed_at.filter(|_| e.performed_at_source.is_none()),
    }
}
