//! The report checks (`radqc-precheck`) at signing and in the QC panel: `App::sign` reads the
//! signing's report (the request's, else the RIS's) against its exam with the checks this site
//! runs (the sampling rules' `precheck` modes, else each check's default), keeps every proposal,
//! and holds the signature on a `warn` one; the doctor answers it (`precheck_choose`: 返回修改 is
//! `blocked` / `PRECHECK`, 仍然签发 is go and the exam sampled for QC); the QC reviewer accepts or
//! dismisses each proposal in the panel (`decide_proposal`), and `precheck_stats` counts them.

use chrono::{DateTime, Utc};
use radqc_domain::precheck::{Check, Mode};
use radqc_domain::{ItemCode, SamplingRules, SiteCode};
use radqc_precheck::{Prechecker, Report};
use radqc_protocol::{ExamEventRecord, ExamRecord};
use radqc_store::{
    NewPrecheckRun, NewProposal, PrecheckRun, PrecheckStatsRow, ProposalOutcome, ReportSource, SignerChoice,
    StoredProposal,
};
use serde::Serialize;

use crate::gate::ReportText;
use crate::{App, AppError, ErrorCode, GateAnswer, GateView, Released, SignRequest};

/// The reason of a signature blocked because the doctor went back to correct the report.
pub const PRECHECK_BLOCKED: &str = "PRECHECK";

/// What the doctor's answer to a warning did: the signature answered (`released`), or, when the
/// exam was also drawn for QC, the hold goes on as the QC panel (`gate`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrecheckChosen {
    pub released: Option<Released>,
    pub gate: Option<GateView>,
}

/// The report checks' part of an exam in the panel: the latest signing's run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExamPrecheck {
    pub run: Option<PrecheckRun>,
}

/// What a check does at this site: the published rules' mode, else the check's default.
pub fn mode_of(rules: &SamplingRules, check: Check) -> Mode {
    rules.precheck.get(&check).copied().unwrap_or_else(|| Prechecker::bundled().default_mode(check))
}

impl App {
    /// Runs the checks on a signing's report (nothing when no report is known) and keeps the
    /// run; returns the warnings (mode `warn`) and, with them, the text they are about.
    pub(crate) fn precheck_signing(
        &mut self,
        req: &SignRequest,
        exam: &ExamRecord,
        event: &ExamEventRecord,
        rules: &SamplingRules,
        now: DateTime<Utc>,
    ) -> Result<(Vec<StoredProposal>, Option<ReportText>), AppError> {
        let (source, findings, impression, history, prior) = match &req.report {
            Some(r) => (
                ReportSource::Request,
                r.findings.clone(),
                r.impression.clone(),
                r.history.clone().unwrap_or_default(),
                r.prior_available,
            ),
            None => match self.store.exam_report(&exam.accession)? {
                Some(r) if r.findings.is_some() || r.impression.is_some() => (
                    ReportSource::Ris,
                    r.findings.unwrap_or_default(),
                    r.impression.unwrap_or_default(),
                    String::new(),
                    None,
                ),
                _ => return Ok((Vec::new(), None)),
            },
        };
        let run_checks: Vec<Check> = Check::ALL.into_iter().filter(|c| mode_of(rules, *c) != Mode::Off).collect();
        let report = Report {
            modality: exam.modality.as_str().to_owned(),
            exam_item: exam.exam_item.clone(),
            patient_sex: exam.patient_sex,
            patient_age: exam.patient_age.map(u32::from),
            history: history.clone(),
            is_followup: exam.follow_up,
            // Unknown: no comparison is asked for (the standard excepts a prior not available).
            prior_available: prior.unwrap_or(false),
            findings: findings.clone(),
            impression: impression.clone(),
        };
        let checker = Prechecker::bundled();
        let proposals: Vec<NewProposal> = checker
            .check_only(&report, &run_checks)
            .into_iter()
            .map(|p| NewProposal {
                check: p.check,
                twin: checker.twin(p.check).clone(),
                criterion: p.criterion,
                evidence: p.evidence,
                message_zh: p.message_zh,
                message_en: p.message_en,
                mode: mode_of(rules, p.check),
            })
            .collect();
        let run = NewPrecheckRun {
            accession: exam.accession.clone(),
            signing: event.id.clone(),
            signer: req.signer.to_string(),
            source,
            findings: findings.clone(),
            impression: impression.clone(),
            history: history.clone(),
        };
        let stored = self.store.save_precheck(&run, &proposals, now)?;
        let warnings: Vec<StoredProposal> = stored.into_iter().filter(|p| p.mode == Mode::Warn).collect();
        let text = (!warnings.is_empty()).then_some(ReportText { findings, impression, history });
        Ok((warnings, text))
    }

    /// The signing doctor's answer to the checks' warning of a held signature: return to correct
    /// the report (`blocked`, reason `PRECHECK`, with the proposals), or sign anyway (the choice
    /// recorded on the proposals and audited, the exam sampled for QC; go, or the QC panel next
    /// when the draw held it for scoring too). The held signer answers without signing in here.
    pub fn precheck_choose(
        &mut self,
        gate_id: &str,
        sign_anyway: bool,
        now: DateTime<Utc>,
    ) -> Result<PrecheckChosen, AppError> {
        let Some((view, decision)) = self.gates.held(gate_id).map(|(v, d)| (v.clone(), d)) else {
            return Err(AppError::new(ErrorCode::UnknownGate, "没有这个待签发的签名", "no such held signature"));
        };
        if view.precheck.is_empty() {
            return Err(AppError::invalid("gate_id", "this held signature has no report warning to answer".into()));
        }
        let ids: Vec<i64> = view.precheck.iter().map(|p| p.id).collect();
        if !sign_anyway {
            self.store.record_signer_choice(&ids, SignerChoice::Returned, &view.signer, &view.accession, now)?;
            let proposals =
                ids.iter().filter_map(|id| self.store.proposal(*id).transpose()).collect::<Result<_, _>>()?;
            let answer = GateAnswer::Blocked { reason: PRECHECK_BLOCKED.into(), proposals };
            let released = self.gates.release(gate_id, answer).expect("held above");
            return Ok(PrecheckChosen { released: Some(released), gate: None });
        }
        self.store.record_signer_choice(&ids, SignerChoice::SignedAnyway, &view.signer, &view.accession, now)?;
        if !decision.sampled {
            // Signed against the checks' warning: the exam is sampled for QC (and counts among
            // the doctor's sampled reports), whatever the draw said.
            let detail =
                serde_json::json!({ "why": "precheck", "proposals": ids, "decision": decision, "gate": gate_id });
            self.store.audit(&view.signer, "sampled", Some(&view.accession), Some(&detail.to_string()), now)?;
        }
        if view.items.is_empty() {
            let released = self.gates.release(gate_id, GateAnswer::Go { evaluations: vec![] }).expect("held above");
            return Ok(PrecheckChosen { released: Some(released), gate: None });
        }
        Ok(PrecheckChosen { released: None, gate: self.gates.warnings_answered(gate_id) })
    }

    /// Whether the doctor signed these warned proposals anyway (the gate API's `sampled`).
    pub fn signed_anyway(&self, proposals: &[StoredProposal]) -> Result<bool, AppError> {
        for p in proposals {
            if self.store.proposal(p.id)?.is_some_and(|p| p.signer_choice == Some(SignerChoice::SignedAnyway)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The items of `exam` the signed-in person may score that hold one of the checks'
    /// criteria (in the rubric: RQ holds the criterion, AR its twin).
    fn report_items(&self, exam: &ExamRecord) -> Result<Vec<ItemCode>, AppError> {
        let user = self.user()?;
        let items = self.items_for(&user.roles, exam)?;
        let checker = Prechecker::bundled();
        let codes: Vec<&radqc_domain::CriterionCode> =
            Check::ALL.iter().flat_map(|c| [checker.criterion(*c), checker.twin(*c)]).collect();
        let rubric = self.store.rubric();
        Ok(items.into_iter().filter(|i| rubric.item(*i).criteria.iter().any(|c| codes.contains(&&c.code))).collect())
    }

    /// Whether the signed-in person's roles score any item holding a check's criterion at all.
    fn may_decide_proposals(&self) -> Result<(), AppError> {
        let user = self.user()?;
        let (rubric, grants) = (self.store.rubric(), self.store.grants()?);
        let checker = Prechecker::bundled();
        let codes: Vec<&radqc_domain::CriterionCode> =
            Check::ALL.iter().flat_map(|c| [checker.criterion(*c), checker.twin(*c)]).collect();
        let may = rubric.items.iter().any(|item| {
            grants.may_score(rubric, &user.roles, item.code) && item.criteria.iter().any(|c| codes.contains(&&c.code))
        });
        if may {
            return Ok(());
        }
        Err(AppError::new(
            ErrorCode::NotPermitted,
            "您的角色不评报告质量，不能处理报告预检的提示",
            "your roles do not score the report, so they do not decide the report checks' proposals",
        ))
    }

    /// The report checks' run of the exam's latest signing, for a person who may score the
    /// report on it (RQ, AR); none for anyone else.
    pub fn exam_precheck(&self, site: Option<&SiteCode>, accession: &str) -> Result<ExamPrecheck, AppError> {
        let exam = self.exam(site, accession)?;
        if self.report_items(&exam)?.is_empty() {
            return Ok(ExamPrecheck { run: None });
        }
        Ok(ExamPrecheck { run: self.store.latest_precheck(&exam.accession)? })
    }

    /// The QC reviewer accepts (the panel ticks its criterion) or dismisses a proposal: for a
    /// person who may score the report on its exam; kept and audited.
    pub fn decide_proposal(&mut self, id: i64, accept: bool, now: DateTime<Utc>) -> Result<StoredProposal, AppError> {
        self.may_decide_proposals()?;
        let Some(proposal) = self.store.proposal(id)? else {
            return Err(AppError::invalid("proposal", format!("no proposal {id} at this site")));
        };
        let exam = self.exam(None, &proposal.accession)?;
        if self.report_items(&exam)?.is_empty() {
            return Err(AppError::new(
                ErrorCode::NotPermitted,
                format!("您的角色不能评检查 {} 的报告", exam.accession),
                format!("your roles may not score the report of exam {}", exam.accession),
            ));
        }
        let code = self.user()?.code.clone();
        let outcome = if accept { ProposalOutcome::Accepted } else { ProposalOutcome::Dismissed };
        Ok(self.store.decide_proposal(id, outcome, &code, now)?)
    }

    /// Precision in real use: each check's proposals accepted, dismissed and open, by the site's
    /// local month; for the roles that see the site's scores.
    pub fn precheck_stats(&self) -> Result<Vec<PrecheckStatsRow>, AppError> {
        self.may_see_site_scores()?;
        Ok(self.store.precheck_stats(self.store.time_zone()?)?)
    }
}
