//! The QC panel: the items the signed-in person may score on an exam, the live score of an item,
//! and the save of every item of one exam, all or nothing (releasing a held signature with it).

use chrono::{DateTime, Utc};
use radqc_domain::{CriterionCode, Findings, ItemCode, QcMode, SiteCode, StaffCode, Verdict};
use radqc_protocol::{EvaluationRecord, ExamRecord};
use radqc_store::{ExamInput, NewEvaluation};
use serde::Deserialize;

use crate::{App, AppError, ErrorCode, GateAnswer};

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

impl App {
    /// Items the signed-in user may score for this exam: their roles' grants, among the items
    /// that apply to the exam, in rubric order.
    pub fn scorable_items(&self, site: Option<&SiteCode>, accession: &str) -> Result<Vec<ItemCode>, AppError> {
        let user = self.user()?;
        let exam = self.exam(site, accession)?;
        self.items_for(&user.roles, &exam)
    }

    /// The live score of a panel item, from the engine.
    pub fn preview(&self, findings: &Findings) -> Result<Verdict, AppError> {
        Ok(self.store.rubric().score(findings)?)
    }

    /// Saves a panel: every item or none, each only if the user's roles let them score it.
    /// With a gate id, the held signature is released.
    pub fn save_panel(&mut self, save: &PanelSave, now: DateTime<Utc>) -> Result<Vec<EvaluationRecord>, AppError> {
        let held = save.gate_id.as_deref().and_then(|id| self.gates.items_of(id).zip(self.gates.signer_of(id)));
        // A held signature's signer scores it without signing in here: the gate API took their
        // name only from the workstation's own client (the gate token), after the RIS
        // authenticated them. Anyone else scores it only when signed in.
        if held.is_none() {
            self.user()?;
        }
        let exam = self.exam(save.site.as_ref(), &save.accession)?;
        if save.items.is_empty() {
            return Err(AppError::new(ErrorCode::EmptyPanel, "没有要保存的质控项目", "nothing to save"));
        }
        // A held signature is scored on the items its signer's roles grant (whoever is signed in
        // at the workstation records the score); otherwise the user's own grants decide.
        // A locked session's person is not at the keyboard: the held signer scores it then.
        let present = self.user.as_ref().filter(|_| !self.locked);
        let (allowed, reviewer) = match (held, present) {
            (Some((items, _)), Some(user)) => (items, user.code.clone()),
            (Some((items, signer)), None) => (items, signer),
            (None, _) => {
                let user = self.user()?;
                (self.items_for(&user.roles, &exam)?, user.code.clone())
            }
        };
        let reviewer: StaffCode =
            reviewer.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("user", e.to_string()))?;
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
}

/// The exam as the store takes it back (saving with an evaluation updates nothing it knows).
pub(crate) fn exam_input(e: &ExamRecord) -> ExamInput {
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
