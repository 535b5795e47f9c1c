//! The standard's indicators and report views (sections 5 and 6), computed from facts the
//! caller reads from a store or the center. The same functions run at a site and at the center,
//! so both give the same numbers for the same data.
//!
//! Counts are exact integers; rates are computed from counts (never averaged from rates) and
//! rounded to one decimal half to even, as figure 7 of the standard does (1 of 16 → 6.2).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{CriterionCode, CriterionKind, Grade, ItemCode, Score};
use crate::exam::{Modality, StaffCode};
use crate::CodeError;

/// A percentage with one decimal, held exactly as tenths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// `part / whole × 100 %`, rounded half to even to one decimal; `None` when `whole` is 0
    /// (shown as "—", never 0 % or 100 %).
    pub fn of(part: u64, whole: u64) -> Option<Rate> {
        if whole == 0 {
            return None;
        }
        let scaled = part * 1000;
        let (q, r) = (scaled / whole, scaled % whole);
        let up = match (2 * r).cmp(&whole) {
            Ordering::Greater => true,
            Ordering::Equal => q % 2 == 1,
            Ordering::Less => false,
        };
        Some(Rate((q + u64::from(up)) as u32))
    }

    pub fn tenths(self) -> u32 {
        self.0
    }
}

/// As the standard's tables print it: `94.7`, `6.2`, and whole numbers without `.0` (`100`, `0`).
impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 % 10 == 0 {
            write!(f, "{}", self.0 / 10)
        } else {
            write!(f, "{}.{}", self.0 / 10, self.0 % 10)
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(self.0) / 10.0)
    }
}

/// One evaluation as the reports need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationFact {
    pub site: String,
    pub department: Option<String>,
    pub accession: String,
    pub modality: Modality,
    pub exam_item: String,
    pub item: ItemCode,
    pub scored_person: Option<StaffCode>,
    pub reviewer: StaffCode,
    pub score: Option<Score>,
    pub grade: Grade,
    pub severe: Vec<CriterionCode>,
    pub unmet: Vec<CriterionCode>,
    pub note: String,
}

/// Staff codes in natural order: `A2` before `A10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let split = |s: &str| {
        let digits = s.trim_end_matches(|c: char| !c.is_ascii_digit());
        let start = digits.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        (s[..start].to_owned(), s[start..digits.len()].parse::<u64>().ok(), s[digits.len()..].to_owned())
    };
    let (pa, na, ra) = split(a);
    let (pb, nb, rb) = split(b);
    pa.cmp(&pb).then(na.cmp(&nb)).then(ra.cmp(&rb)).then(a.cmp(b))
}

/// Figure 2 (质控评分统计): per person and modality, how many evaluations at each score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreCounts {
    pub modalities: Vec<String>,
    pub rows: Vec<ScoreCountRow>,
    /// Per modality: counts of scores 5, 4, 3, 2, 1.
    pub totals: BTreeMap<String, [u64; 5]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreCountRow {
    pub person: String,
    /// Per modality: counts of scores 5, 4, 3, 2, 1 (absent: no evaluation of that modality).
    pub cells: BTreeMap<String, [u64; 5]>,
    /// Modalities where the person has a failing score (2 or 1): the red cells of figure 2.
    pub flagged: Vec<String>,
}

/// Figure 2 for scored items (the application form has no score and is left out).
pub fn score_counts(facts: &[EvaluationFact]) -> ScoreCounts {
    let mut rows: BTreeMap<String, BTreeMap<String, [u64; 5]>> = BTreeMap::new();
    let mut totals: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for f in facts {
        let (Some(score), Some(person)) = (f.score, &f.scored_person) else {
            continue;
        };
        let slot = 5 - score.get() as usize;
        let m = f.modality.to_string();
        rows.entry(person.to_string()).or_default().entry(m.clone()).or_default()[slot] += 1;
        totals.entry(m).or_default()[slot] += 1;
    }
    let mut rows: Vec<ScoreCountRow> = rows
        .into_iter()
        .map(|(person, cells)| {
            let flagged = cells.iter().filter(|(_, c)| c[3] + c[4] > 0).map(|(m, _)| m.clone()).collect();
            ScoreCountRow { person, cells, flagged }
        })
        .collect();
    rows.sort_by(|a, b| natural_cmp(&a.person, &b.person));
    ScoreCounts { modalities: totals.keys().cloned().collect(), rows, totals }
}

/// Figure 4 (质控扣分项目): how often each criterion was deducted, severe and compliance apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeductionCount {
    pub kind: &'static str,
    pub criterion: String,
    pub count: u64,
}

pub fn deduction_counts(facts: &[EvaluationFact]) -> Vec<DeductionCount> {
    let mut counts: BTreeMap<CriterionCode, u64> = BTreeMap::new();
    for f in facts {
        for c in f.severe.iter().chain(&f.unmet) {
            *counts.entry(c.clone()).or_default() += 1;
        }
    }
    let mut list: Vec<(CriterionCode, u64)> = counts.into_iter().collect();
    // Severe first, then by count (most first), then by code.
    list.sort_by(|(a, na), (b, nb)| {
        (a.kind() == CriterionKind::Compliance)
            .cmp(&(b.kind() == CriterionKind::Compliance))
            .then(nb.cmp(na))
            .then(a.cmp(b))
    });
    list.into_iter()
        .map(|(c, count)| DeductionCount { kind: c.kind().as_str(), criterion: c.to_string(), count })
        .collect()
}

/// One exam performed, for workload (figure 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkFact {
    pub person: StaffCode,
    pub modality: Modality,
}

/// Figure 5 (技师工作量统计): exams per person and modality, with totals, most work first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub modalities: Vec<String>,
    pub rows: Vec<WorkloadRow>,
    pub totals: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadRow {
    pub person: String,
    pub total: u64,
    pub by_modality: BTreeMap<String, u64>,
}

pub fn workload(facts: &[WorkFact]) -> Workload {
    let mut rows: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for f in facts {
        *rows.entry(f.person.to_string()).or_default().entry(f.modality.to_string()).or_default() += 1;
        *totals.entry(f.modality.to_string()).or_default() += 1;
    }
    let mut rows: Vec<WorkloadRow> = rows
        .into_iter()
        .map(|(person, by_modality)| WorkloadRow { person, total: by_modality.values().sum(), by_modality })
        .collect();
    rows.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| natural_cmp(&a.person, &b.person)));
    let total = totals.values().sum();
    Workload { modalities: totals.keys().cloned().collect(), rows, totals, total }
}

/// Figure 7 (技师质量统计) and 6.5 for doctors: per person, evaluations received and the shares
/// of each grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityRow {
    pub person: String,
    pub evaluations: u64,
    /// Counts of excellent, good, pass, fail.
    pub counts: [u64; 4],
    pub excellent: Rate,
    pub good: Rate,
    pub pass: Rate,
    pub fail: Rate,
}

pub fn quality(facts: &[EvaluationFact]) -> Vec<QualityRow> {
    let mut counts: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for f in facts {
        let (Some(_), Some(person)) = (f.score, &f.scored_person) else {
            continue;
        };
        let slot = Grade::ALL.iter().position(|g| *g == f.grade).expect("a grade");
        counts.entry(person.to_string()).or_default()[slot] += 1;
    }
    let mut rows: Vec<QualityRow> = counts
        .into_iter()
        .map(|(person, c)| {
            let n: u64 = c.iter().sum();
            let rate = |k: u64| Rate::of(k, n).expect("a person with evaluations");
            QualityRow {
                person,
                evaluations: n,
                counts: c,
                excellent: rate(c[0]),
                good: rate(c[1]),
                pass: rate(c[2]),
                fail: rate(c[3]),
            }
        })
        .collect();
    // Highest excellent share first on exact values (7/8 before 14/16 at 87.5 %), then good,
    // then pass, then the most evaluations.
    let share = |r: &QualityRow, k: usize| (r.counts[k], r.evaluations);
    let cmp_share =
        |a: (u64, u64), b: (u64, u64)| (u128::from(b.0) * u128::from(a.1)).cmp(&(u128::from(a.0) * u128::from(b.1)));
    rows.sort_by(|a, b| {
        cmp_share(share(a, 0), share(b, 0))
            .then(cmp_share(share(a, 1), share(b, 1)))
            .then(cmp_share(share(a, 2), share(b, 2)))
            .then(b.evaluations.cmp(&a.evaluations))
            .then_with(|| natural_cmp(&a.person, &b.person))
    });
    rows
}

/// Section 5.1: sampled cases (exams with a report-quality evaluation), qualified cases (every
/// RQ and AR evaluation of the exam passes), and the rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicators {
    pub sampled: u64,
    pub qualified: u64,
    /// `None` when nothing was sampled ("—").
    pub rate: Option<Rate>,
}

pub fn indicators(facts: &[EvaluationFact]) -> Indicators {
    let mut cases: BTreeMap<(&str, &str), (bool, bool)> = BTreeMap::new();
    for f in facts {
        if !matches!(f.item, ItemCode::RQ | ItemCode::AR) {
            continue;
        }
        let entry = cases.entry((f.site.as_str(), f.accession.as_str())).or_insert((false, true));
        if f.item == ItemCode::RQ {
            entry.0 = true;
        }
        entry.1 &= f.grade.passes();
    }
    let sampled = cases.values().filter(|(has_rq, _)| *has_rq).count() as u64;
    let qualified = cases.values().filter(|(has_rq, ok)| *has_rq && *ok).count() as u64;
    Indicators { sampled, qualified, rate: Rate::of(qualified, sampled) }
}

/// A calendar month, `YYYY-MM`, the default period of every indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl std::str::FromStr for Month {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CodeError::new(format!("invalid month `{s}`: expected YYYY-MM, e.g. 2026-11"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let (year, month): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Month {
    /// The first instant of the month and of the next, UTC, as RFC 3339 text (a half-open range).
    pub fn range(self) -> (String, String) {
        let next = if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        };
        (format!("{self}-01T00:00:00.000Z"), format!("{next}-01T00:00:00.000Z"))
    }
}

/// All views of one period: the indicators, figures 2-4 and 5-8, and 6.5 for doctors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub period: String,
    pub indicators: Indicators,
    /// Figure 2 for the technologists' items (IQ, FL, TR) and for the doctors' (RQ, AR).
    pub scores_technologists: ScoreCounts,
    pub scores_doctors: ScoreCounts,
    /// Figure 3: every evaluation with a deduction.
    pub deduction_details: Vec<EvaluationFact>,
    /// Figure 4.
    pub deductions: Vec<DeductionCount>,
    /// Figures 5 and 6.
    pub workload: Workload,
    /// Figures 7 and 8, and 6.5 for doctors.
    pub quality_technologists: Vec<QualityRow>,
    pub quality_doctors: Vec<QualityRow>,
}

impl Report {
    /// Builds every view from the facts of one period. Who counts as a technologist's or a
    /// doctor's evaluation follows the rubric's `scored_role` of the item, not a list in code.
    pub fn build(rubric: &crate::Rubric, period: String, evaluations: &[EvaluationFact], work: &[WorkFact]) -> Report {
        use crate::codes::Role;
        let of_role = |roles: &[Role]| -> Vec<EvaluationFact> {
            evaluations.iter().filter(|f| roles.contains(&rubric.item(f.item).scored_role)).cloned().collect()
        };
        let technologists = of_role(&[Role::Technologist]);
        let doctors = of_role(&[Role::ReportingDoctor, Role::AuditingDoctor]);
        Report {
            period,
            indicators: indicators(evaluations),
            scores_technologists: score_counts(&technologists),
            scores_doctors: score_counts(&doctors),
            deduction_details: evaluations
                .iter()
                .filter(|f| !f.severe.is_empty() || !f.unmet.is_empty())
                .cloned()
                .collect(),
            deductions: deduction_counts(evaluations),
            workload: workload(work),
            quality_technologists: quality(&technologists),
            quality_doctors: quality(&doctors),
        }
    }
}
