//! The scoring engine: from an item and a reviewer's findings to a score, a grade and the
//! deductions (figures 3 and 4 of the standard list them as severe and unmet).
//!
//! Findings that make no sense are refused, never ignored: a score is evidence about a person.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::codes::{CriterionCode, CriterionKind, Grade, ItemCode, ItemKind, Score};
use crate::error_code::ErrorCode;
use crate::rubric::Rubric;

/// What a reviewer found for one item of one exam.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Findings {
    pub item: ItemCode,
    /// The severe criteria present and the compliance criteria unmet. Every criterion not listed
    /// here is absent (severe) or met (compliance).
    pub findings: Vec<CriterionCode>,
    /// Criteria that do not apply to this exam (e.g. an enhancement pattern on a plain scan):
    /// neither met nor unmet, they do not count.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub not_applicable: Vec<CriterionCode>,
}

/// The result of scoring one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verdict {
    pub item: ItemCode,
    /// 1-5 for scored items; `None` for the normative application form.
    pub score: Option<Score>,
    pub grade: Grade,
    pub pass: bool,
    /// Severe criteria present (严重扣分项), in rubric order.
    pub severe: Vec<CriterionCode>,
    /// Compliance criteria unmet (不符合项), in rubric order.
    pub unmet: Vec<CriterionCode>,
    /// Criteria marked not applicable, in rubric order.
    pub not_applicable: Vec<CriterionCode>,
}

/// Findings refused by the scoring engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoringError {
    #[error("{code} belongs to item {}, not to item {item}", code.item())]
    OtherItem { code: CriterionCode, item: ItemCode },
    #[error("{code} is not a criterion of item {item} in rubric {version}")]
    UnknownCriterion { code: CriterionCode, item: ItemCode, version: String },
    #[error("{code} is listed twice in `{list}`")]
    Duplicate { code: CriterionCode, list: &'static str },
    #[error(
        "{code} is listed both in `findings` and in `not_applicable`: a criterion is either found or not applicable"
    )]
    FoundAndNotApplicable { code: CriterionCode },
}

impl ScoringError {
    /// A stable machine code for error envelopes; the UI branches on it.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::OtherItem { .. } => ErrorCode::CriterionOfOtherItem,
            Self::UnknownCriterion { .. } => ErrorCode::UnknownCriterion,
            Self::Duplicate { .. } => ErrorCode::DuplicateCriterion,
            Self::FoundAndNotApplicable { .. } => ErrorCode::FoundAndNotApplicable,
        }
    }
}

impl Rubric {
    /// Scores one item. Severe criteria present give 1 (normative items: fail); otherwise the
    /// item's table gives the score for the number of unmet applicable compliance criteria.
    pub fn score(&self, findings: &Findings) -> Result<Verdict, ScoringError> {
        let item = self.item(findings.item);
        let check = |list: &[CriterionCode], name: &'static str| -> Result<HashSet<CriterionCode>, ScoringError> {
            let mut set = HashSet::new();
            for code in list {
                if code.item() != item.code {
                    return Err(ScoringError::OtherItem { code: code.clone(), item: item.code });
                }
                if item.criterion(code).is_none() {
                    return Err(ScoringError::UnknownCriterion {
                        code: code.clone(),
                        item: item.code,
                        version: self.version.clone(),
                    });
                }
                if !set.insert(code.clone()) {
                    return Err(ScoringError::Duplicate { code: code.clone(), list: name });
                }
            }
            Ok(set)
        };
        let found = check(&findings.findings, "findings")?;
        let not_applicable = check(&findings.not_applicable, "not_applicable")?;
        if let Some(code) = findings.findings.iter().find(|c| not_applicable.contains(*c)) {
            return Err(ScoringError::FoundAndNotApplicable { code: code.clone() });
        }

        let in_order = |kind: Option<CriterionKind>, set: &HashSet<CriterionCode>| -> Vec<CriterionCode> {
            item.criteria
                .iter()
                .filter(|c| kind.is_none_or(|k| c.kind == k) && set.contains(&c.code))
                .map(|c| c.code.clone())
                .collect()
        };
        let severe = in_order(Some(CriterionKind::Severe), &found);
        let unmet = in_order(Some(CriterionKind::Compliance), &found);
        let not_applicable = in_order(None, &not_applicable);

        let (score, grade) = match (&item.score_table, item.kind) {
            (Some(table), ItemKind::Scored) => {
                let score = if severe.is_empty() { table[unmet.len()] } else { Score::MIN };
                (Some(score), score.grade())
            }
            _ => (None, if severe.is_empty() { Grade::Pass } else { Grade::Fail }),
        };
        Ok(Verdict { item: item.code, score, grade, pass: grade.passes(), severe, unmet, not_applicable })
    }
}
