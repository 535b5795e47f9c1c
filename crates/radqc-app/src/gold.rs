//! The gold standard at a workstation (7.3.1): a senior reader's open tasks (assigned by the
//! center through sync, read blind, offline like any other QC), their read, and the person
//! scored's view of their own scores: which ones a gold result replaced, which they disputed,
//! and until when a failed one may still be disputed (申诉).
//!
//! Architecture Invariant: what a reader is shown is what the center published to them (the
//! center decides the blindness); nothing here adds the original score or the other read.

use chrono::{DateTime, Utc};
use radqc_domain::{CriterionCode, Grade, Item, Score, StaffCode};
use radqc_protocol::{DisputeRecord, EvaluationRecord, GoldAssignment, GoldReadRecord, GoldTask};
use radqc_store::NewGoldRead;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, ErrorCode};

/// One of the signed-in reader's gold-standard tasks, as the 金标准 screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldTaskView {
    /// What the center assigned: the case, the task, the item, the exam as the reader may see
    /// it and, for a third read, the two blind reads as 甲 and 乙.
    #[serde(flatten)]
    pub assignment: GoldAssignment,
    /// The item's criteria under the assignment's rubric version (the panel's checkboxes).
    pub rubric_item: Item,
    /// The read saved here, once given (it syncs to the center like every other entry).
    pub read: Option<GoldReadRecord>,
}

/// A reader's read of one task, as the panel sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldReadInput {
    pub case_id: String,
    pub task: GoldTask,
    pub findings: Vec<CriterionCode>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub not_applicable: Vec<CriterionCode>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub note: String,
}

/// A person's dispute of a failed score of theirs, with the reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeInput {
    pub evaluation_id: String,
    pub reason: String,
}

/// The gold result that replaced an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GoldChange {
    pub case_id: String,
    /// The gold result's evaluation (mode `gold`).
    pub evaluation_id: String,
    pub score: Option<Score>,
    pub grade: Grade,
    pub pass: bool,
    pub closed_at: DateTime<Utc>,
}

/// One of the signed-in person's scores in 我的质控.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MyScore {
    #[serde(flatten)]
    pub evaluation: EvaluationRecord,
    /// For a gold result: its case (the evaluation it replaced stays listed, and readable).
    pub gold_case: Option<String>,
    /// For an evaluation a gold result replaced: that result.
    pub replaced_by_gold: Option<GoldChange>,
    /// The person's dispute of it, once made (its case closes with a notice of the outcome).
    pub dispute: Option<DisputeRecord>,
    /// Until when it may be disputed: a failed, current score, not itself a gold result, not
    /// disputed yet, within the region's days; none otherwise (or once that time has passed).
    pub disputable_until: Option<DateTime<Utc>>,
}

impl App {
    /// The signed-in reader's open gold-standard tasks, in the order assigned. Only roles the
    /// grants name as gold readers (`gold_readers`, 高级职称 by default) have any.
    pub fn gold_tasks(&self) -> Result<Vec<GoldTaskView>, AppError> {
        let user = self.may_read_gold()?;
        let mut out = Vec::new();
        // Each version looked up once (one may be parsed from the feed).
        let mut rubrics: std::collections::HashMap<String, radqc_domain::Rubric> = Default::default();
        for open in self.store.gold_assignments(user.as_str())? {
            let version = &open.assignment.rubric_version;
            if !rubrics.contains_key(version) {
                if let Some(r) = self.store.rubric_of_version(version)? {
                    rubrics.insert(version.clone(), r);
                }
            }
            let rubric = rubrics.get(version).ok_or_else(|| {
                AppError::new(
                    ErrorCode::UnknownRubricVersion,
                    format!("金标准任务（病例 {}）使用的评分标准版本 {version} 尚未同步到本机：请先同步", open.assignment.case_id),
                    format!("the task of case {} is scored under rubric {version}, which this workstation does not have yet: sync first", open.assignment.case_id),
                )
            })?;
            let rubric_item = rubric.item(open.assignment.item).clone();
            out.push(GoldTaskView { assignment: open.assignment, rubric_item, read: open.read });
        }
        Ok(out)
    }

    /// Saves the signed-in reader's read of a task of theirs, scored by the engine under the
    /// assignment's rubric version, with its outbox entry, in one durable transaction.
    pub fn save_gold_read(&mut self, input: &GoldReadInput, now: DateTime<Utc>) -> Result<GoldReadRecord, AppError> {
        let reader = self.may_read_gold()?;
        let read = NewGoldRead {
            case_id: input.case_id.clone(),
            task: input.task,
            reader,
            findings: input.findings.clone(),
            not_applicable: input.not_applicable.clone(),
            note: input.note.clone(),
        };
        Ok(self.store.save_gold_read(&read, now)?)
    }

    /// The signed-in person disputes a failed score of theirs, saying why; the center makes it a
    /// gold-standard case when the dispute reaches it.
    pub fn dispute(&mut self, input: &DisputeInput, now: DateTime<Utc>) -> Result<DisputeRecord, AppError> {
        let by = self.user_code()?;
        Ok(self.store.save_dispute(&input.evaluation_id, &by, &input.reason, now)?)
    }

    /// The signed-in person's scores (every revision, gold results included), each with what
    /// the gold standard did to it and whether it may still be disputed at `now`.
    pub fn my_scores(&self, now: DateTime<Utc>) -> Result<Vec<MyScore>, AppError> {
        let user = self.user()?;
        let settings = self.store.gold_settings()?;
        let disputes = self.store.disputes()?;
        let finals = self.store.gold_finals()?;
        let evaluations = self.store.evaluations()?;
        let change_of = |id: &str| {
            let f = finals.iter().find(|f| f.original_id == id || f.superseded == id)?;
            let gold = evaluations.iter().find(|e| e.id == f.gold_evaluation_id)?;
            Some(GoldChange {
                case_id: f.case_id.clone(),
                evaluation_id: gold.id.clone(),
                score: gold.score,
                grade: gold.grade,
                pass: gold.pass,
                closed_at: f.closed_at,
            })
        };
        Ok(evaluations
            .iter()
            .filter(|e| e.scored_person.as_ref().is_some_and(|p| p.as_str() == user.code))
            .map(|e| {
                let dispute = disputes.iter().find(|d| d.evaluation_id == e.id).cloned();
                let disputable_until =
                    self.store.disputable_until(e, &settings, dispute.is_some()).filter(|until| now <= *until);
                MyScore {
                    evaluation: e.clone(),
                    gold_case: finals.iter().find(|f| f.gold_evaluation_id == e.id).map(|f| f.case_id.clone()),
                    replaced_by_gold: change_of(&e.id),
                    dispute,
                    disputable_until,
                }
            })
            .collect())
    }

    /// The signed-in person's code, when their roles read gold-standard cases.
    fn may_read_gold(&self) -> Result<StaffCode, AppError> {
        let user = self.user()?;
        let grants = self.store.grants()?;
        if !grants.reads_gold(&user.roles) {
            let zh: Vec<&str> = grants.gold_readers.iter().map(|r| r.label_zh()).collect();
            let en: Vec<&str> = grants.gold_readers.iter().map(|r| r.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::NotPermitted,
                format!("只有以下角色可以做金标准复核：{}", zh.join("、")),
                format!("only these roles read gold-standard cases: {}", en.join(", ")),
            ));
        }
        self.user_code()
    }

    /// The signed-in person's staff code.
    fn user_code(&self) -> Result<StaffCode, AppError> {
        self.user()?.code.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("user", e.to_string()))
    }
}
