//! Random QC at signing: `App::sign` refuses a signer who is not in the roster
//! (`UNKNOWN_SIGNER`), records the signing, decides with the sampling rules, and answers go or
//! holds the signature (`gate.rs`); the held gates' other ends (a workstation that gave up, an
//! answer lost, the gate API's timeout, a panel closed) and the sampling rules and key.

use chrono::{DateTime, Utc};
use radqc_domain::{ExamEventKind, SamplingRules};
use radqc_protocol::FeedKind;

use crate::{
    App, AppError, ErrorCode, ExamView, GateAnswer, GateView, PanelClosedPolicy, Released, SignRequest, SignResponse,
    Waiter,
};

const DEFAULT_SAMPLING: &str = include_str!("../../../assets/sampling.json");

impl App {
    /// A reading workstation asks before committing a signature: for a signer in the roster the
    /// signing is recorded, the sampling rules decide, and the answer is go, or hold until the
    /// panel is saved; anyone else is refused (`UNKNOWN_SIGNER`) with nothing recorded.
    pub fn sign(&mut self, req: &SignRequest, now: DateTime<Utc>) -> Result<SignResponse, AppError> {
        // The signer must be in the site's roster: their roles decide what they score, and an
        // unknown one is refused, never guessed. Nothing is recorded, drawn or held.
        let Some(signer) = self.roster()?.into_iter().find(|m| m.code == req.signer.as_str()) else {
            return Err(AppError::new(
                ErrorCode::UnknownSigner,
                format!("签名人 {} 不在本站点的人员名单中：未记录签名，也未抽样；请在区域中心登记后重试", req.signer),
                format!(
                    "the signer {} is not in the site's roster: nothing was recorded or drawn; \
                     enter them at the center (radqc center staff add) and sync, then sign again",
                    req.signer
                ),
            ));
        };
        // A workstation that retries a signing while it is held (its own timeout, a second
        // click) joins that hold: one signing is one panel and one QC, never a second draw.
        let site = req.exam.site().cloned().unwrap_or_else(|| self.store.site().clone());
        let accession = req.exam.accession();
        if let Some((view, waiter, decision)) = self.gates.join(site.as_str(), accession, req.signer.as_str()) {
            self.store.audit(req.signer.as_str(), "sign_retried", Some(accession), Some(&view.id), now)?;
            return Ok(SignResponse::Hold { gate: Box::new(view), waiter, decision, retry: true });
        }
        // Only the accession: the exam as the RIS sent it (HL7, a worklist), else refused.
        let input = match &req.exam {
            crate::gate::SignExam::Full(e) => (**e).clone(),
            crate::gate::SignExam::Known { accession, site } => match self.store.exam(site.as_ref(), accession)? {
                Some(known) => {
                    let mut input = crate::panel::exam_input(&known);
                    // The doctor signing the report is its reporting doctor, when the RIS has not
                    // said (a result message names them later, and wins by its time).
                    input.staff.reporting_doctor.get_or_insert_with(|| req.signer.clone());
                    input
                }
                None => {
                    return Err(AppError::new(
                        ErrorCode::UnknownExam,
                        format!(
                        "检查 {accession} 尚未从 RIS 收到：请在签名请求中发送完整的检查信息（设备类型、检查部位等）"
                    ),
                        format!(
                        "exam {accession} has not arrived from the RIS: send the whole exam (modality, exam_item, …) \
                             with the signing"
                    ),
                    ))
                }
            },
        };
        let event = self.store.record_event(&input, ExamEventKind::ReportSigned, &req.signer, now, now)?;
        let exam = self.exam(input.site.as_ref(), &input.accession)?;
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
        // The report checks, after the signing and the draw are recorded: every proposal is
        // kept; those of checks in `warn` mode hold the signature for the doctor to answer.
        let (warnings, report) = self.precheck_signing(req, &exam, &event, &rules, now)?;
        let mut items = Vec::new();
        if decision.sampled {
            // The signer scores what their roles allow (at signing: the technologist's work).
            items = self.items_for(&signer.roles, &exam)?;
            if items.is_empty() {
                // Nothing this signer may score on this exam: holding the signature would only block it.
                self.store.audit(req.signer.as_str(), "sampled_nothing_to_score", Some(&exam.accession), None, now)?;
            }
        }
        if items.is_empty() && warnings.is_empty() {
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
            precheck: warnings,
            report,
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

    /// The gate API refused `count` requests without the gate token since its last such line
    /// (`token_given`: the last one carried a wrong token rather than none).
    pub fn gate_refused(&mut self, count: u64, token_given: bool, now: DateTime<Utc>) -> Result<(), AppError> {
        let detail =
            serde_json::json!({ "refused": count, "last": if token_given { "wrong_token" } else { "no_token" } });
        self.store.audit("app", "gate_unauthenticated", Some("/v1/sign"), Some(&detail.to_string()), now)?;
        Ok(())
    }

    pub fn pending_gates(&self) -> Vec<GateView> {
        self.gates.pending()
    }

    /// The panel of a held signature was closed without a score. The answer says how many
    /// waiting requests got it (none when the workstation had stopped waiting).
    pub fn close_gate(&mut self, id: &str, now: DateTime<Utc>) -> Result<Released, AppError> {
        // Closing the report checks' warning is 返回修改: the doctor did not sign it as it is.
        if self.gates.held(id).is_some_and(|(v, _)| !v.precheck.is_empty()) {
            let chosen = self.precheck_choose(id, false, now)?;
            return chosen.released.ok_or_else(|| AppError::invalid("gate_id", "the warning was not answered".into()));
        }
        let answer = match self.config.when_panel_closed {
            PanelClosedPolicy::Block => GateAnswer::Blocked {
                reason: "评分未完成，签名已拦截 / the QC score was not completed: signature held back".into(),
                proposals: vec![],
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
}
