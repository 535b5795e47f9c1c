//! The standard's indicators and report views (sections 5 and 6), computed from facts the
//! caller reads from a store or the center. The same functions run at a site and at the center,
//! so both give the same numbers for the same data.
//!
//! Counts are exact integers; rates are computed from counts (never averaged from rates) and
//! rounded to one decimal half to even, as figure 7 of the standard does (1 of 16 → 6.2).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agreement::AgreementReport;
use crate::codes::{CriterionCode, CriterionKind, Grade, ItemCode, Score};
use crate::exam::{Modality, QcMode, StaffCode};
pub use crate::rollup::{CaseCell, DeductionCell, ReportCells, ReportFilter, Rollup, ScoreCell, WorkCell};
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
        if self.0.is_multiple_of(10) {
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

/// One evaluation as the reports need it (the current revision of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvaluationFact {
    pub id: String,
    pub site: String,
    pub department: Option<String>,
    pub accession: String,
    pub modality: Modality,
    pub exam_item: String,
    /// The exam's reporting doctor: the person of its sampled case (5.1).
    pub reporting_doctor: Option<StaffCode>,
    /// Whether the exam's general data is complete (5.3 a; see `rollup::general_data_complete`).
    pub general_data_complete: bool,
    pub item: ItemCode,
    pub scored_person: Option<StaffCode>,
    pub reviewer: StaffCode,
    pub mode: QcMode,
    pub rubric_version: String,
    /// When it was scored, RFC 3339 UTC.
    pub at: String,
    pub score: Option<Score>,
    pub grade: Grade,
    pub severe: Vec<CriterionCode>,
    pub unmet: Vec<CriterionCode>,
    pub note: String,
}

impl EvaluationFact {
    pub fn deducted(&self) -> bool {
        !self.severe.is_empty() || !self.unmet.is_empty()
    }
}

/// One exam performed, for workload (figure 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkFact {
    pub site: String,
    pub department: Option<String>,
    pub person: StaffCode,
    pub modality: Modality,
    pub performed_at: String,
}

/// Staff codes in natural order, whatever their style: `A1`, `A2-1`, `A10`, `A10-1`, `B`,
/// `王技师` (digit runs compare as numbers, other characters by code point); a tie (`A2`, `A02`)
/// falls back to the text, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    alphanumeric_sort::compare_str(a, b).then_with(|| a.cmp(b))
}

/// People are named by site and staff code (codes are unique only within a site).
fn person_cmp(a: (&str, &str), b: (&str, &str)) -> Ordering {
    natural_cmp(a.0, b.0).then_with(|| natural_cmp(a.1, b.1))
}

/// Figure 2 (质控评分统计): per person and modality, how many evaluations at each score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScoreCounts {
    pub modalities: Vec<String>,
    pub rows: Vec<ScoreCountRow>,
    /// Per modality: counts of scores 5, 4, 3, 2, 1.
    pub totals: BTreeMap<String, [u64; 5]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScoreCountRow {
    pub site: String,
    pub person: String,
    /// Per modality: counts of scores 5, 4, 3, 2, 1 (absent: no evaluation of that modality).
    pub cells: BTreeMap<String, [u64; 5]>,
    /// Modalities where the person has a failing score (2 or 1): the red cells of figure 2.
    pub flagged: Vec<String>,
}

/// Figure 2 from score cells (all items given; the caller splits technologists and doctors).
pub fn score_counts_of(cells: &[&ScoreCell]) -> ScoreCounts {
    let mut rows: BTreeMap<(&str, &str), BTreeMap<String, [u64; 5]>> = BTreeMap::new();
    let mut totals: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for c in cells {
        let row = rows.entry((c.site.as_str(), c.person.as_str())).or_default().entry(c.modality.clone()).or_default();
        let total = totals.entry(c.modality.clone()).or_default();
        for i in 0..5 {
            row[i] += c.counts[i];
            total[i] += c.counts[i];
        }
    }
    let mut rows: Vec<ScoreCountRow> = rows
        .into_iter()
        .map(|((site, person), cells)| {
            let flagged = cells.iter().filter(|(_, c)| c[3] + c[4] > 0).map(|(m, _)| m.clone()).collect();
            ScoreCountRow { site: site.to_owned(), person: person.to_owned(), cells, flagged }
        })
        .collect();
    rows.sort_by(|a, b| person_cmp((&a.site, &a.person), (&b.site, &b.person)));
    ScoreCounts { modalities: totals.keys().cloned().collect(), rows, totals }
}

/// Figure 2 for scored items (the application form has no score and is left out).
pub fn score_counts(facts: &[EvaluationFact]) -> ScoreCounts {
    let cells = all_cells(facts, &[]);
    score_counts_of(&cells.scores.iter().collect::<Vec<_>>())
}

fn all_cells(facts: &[EvaluationFact], work: &[WorkFact]) -> ReportCells {
    Rollup::from_facts(facts, work, &crate::Zones::default()).cells(&ReportFilter::default(), crate::Rubric::bundled())
}

/// Figure 4 (质控扣分项目): how often each criterion was deducted, severe and compliance apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeductionCount {
    #[cfg_attr(feature = "ts", ts(type = "CriterionKind"))]
    pub kind: &'static str,
    pub criterion: String,
    /// The rubric version the criterion belongs to: counts of different versions are never
    /// added together.
    pub rubric_version: String,
    pub count: u64,
}

/// Figure 4 from deduction cells. With a rubric, its criteria (of `items`) that were never
/// deducted are listed too, with 0, so the table shows every criterion of the version.
pub fn deductions_of(cells: &[DeductionCell], all_of: Option<(&crate::Rubric, &[ItemCode])>) -> Vec<DeductionCount> {
    let mut counts: BTreeMap<(String, CriterionCode), u64> = BTreeMap::new();
    for c in cells {
        *counts.entry((c.rubric_version.clone(), c.criterion.clone())).or_default() += c.count;
    }
    if let Some((rubric, items)) = all_of {
        for item in rubric.items.iter().filter(|i| items.contains(&i.code)) {
            for c in &item.criteria {
                counts.entry((rubric.version.clone(), c.code.clone())).or_default();
            }
        }
    }
    let mut list: Vec<((String, CriterionCode), u64)> = counts.into_iter().collect();
    // Severe first, then by count (most first), then by code, then by version.
    list.sort_by(|((va, a), na), ((vb, b), nb)| {
        (a.kind() == CriterionKind::Compliance)
            .cmp(&(b.kind() == CriterionKind::Compliance))
            .then(nb.cmp(na))
            .then(a.cmp(b))
            .then(va.cmp(vb))
    });
    list.into_iter()
        .map(|((rubric_version, c), count)| DeductionCount {
            kind: c.kind().as_str(),
            criterion: c.to_string(),
            rubric_version,
            count,
        })
        .collect()
}

/// Figure 4 of the deducted criteria only.
pub fn deduction_counts(facts: &[EvaluationFact]) -> Vec<DeductionCount> {
    deductions_of(&all_cells(facts, &[]).deductions, None)
}

/// Figure 5 (技师工作量统计): exams per person and modality, with totals, most work first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Workload {
    pub modalities: Vec<String>,
    pub rows: Vec<WorkloadRow>,
    pub totals: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkloadRow {
    pub site: String,
    pub person: String,
    pub total: u64,
    pub by_modality: BTreeMap<String, u64>,
}

pub fn workload_of(cells: &[WorkCell]) -> Workload {
    let mut rows: BTreeMap<(&str, &str), BTreeMap<String, u64>> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.count > 0) {
        *rows.entry((&c.site, &c.person)).or_default().entry(c.modality.clone()).or_default() += c.count;
        *totals.entry(c.modality.clone()).or_default() += c.count;
    }
    let mut rows: Vec<WorkloadRow> = rows
        .into_iter()
        .map(|((site, person), by_modality)| WorkloadRow {
            site: site.to_owned(),
            person: person.to_owned(),
            total: by_modality.values().sum(),
            by_modality,
        })
        .collect();
    rows.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| person_cmp((&a.site, &a.person), (&b.site, &b.person))));
    let total = totals.values().sum();
    Workload { modalities: totals.keys().cloned().collect(), rows, totals, total }
}

pub fn workload(facts: &[WorkFact]) -> Workload {
    workload_of(&all_cells(&[], facts).work)
}

/// Figure 7 (技师质量统计) and 6.5 for doctors: per person, evaluations received and the shares
/// of each grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QualityRow {
    pub site: String,
    pub person: String,
    pub evaluations: u64,
    /// Counts of excellent, good, pass, fail.
    pub counts: [u64; 4],
    pub excellent: Rate,
    pub good: Rate,
    pub pass: Rate,
    pub fail: Rate,
}

pub fn quality_of(cells: &[&ScoreCell]) -> Vec<QualityRow> {
    let mut counts: BTreeMap<(&str, &str), [u64; 4]> = BTreeMap::new();
    for c in cells {
        let slot = counts.entry((&c.site, &c.person)).or_default();
        // Scores 5, 4, 3 are excellent, good, pass; 2 and 1 fail (6.4).
        slot[0] += c.counts[0];
        slot[1] += c.counts[1];
        slot[2] += c.counts[2];
        slot[3] += c.counts[3] + c.counts[4];
    }
    let mut rows: Vec<QualityRow> = counts
        .into_iter()
        .filter(|(_, c)| c.iter().sum::<u64>() > 0)
        .map(|((site, person), c)| {
            let n: u64 = c.iter().sum();
            let rate = |k: u64| Rate::of(k, n).expect("a person with evaluations");
            QualityRow {
                site: site.to_owned(),
                person: person.to_owned(),
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
            .then_with(|| person_cmp((&a.site, &a.person), (&b.site, &b.person)))
    });
    rows
}

pub fn quality(facts: &[EvaluationFact]) -> Vec<QualityRow> {
    let cells = all_cells(facts, &[]);
    quality_of(&cells.scores.iter().collect::<Vec<_>>())
}

/// Section 5.1: sampled cases (exams with a report-quality evaluation), qualified cases (every
/// RQ and AR evaluation of the exam passes and its general data is complete), and the rate; in
/// total and broken down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Indicators {
    pub sampled: u64,
    pub qualified: u64,
    /// `None` when nothing was sampled ("—").
    pub rate: Option<Rate>,
    pub by_month: Vec<IndicatorRow>,
    pub by_site: Vec<IndicatorRow>,
    /// Departments within their site.
    pub by_department: Vec<IndicatorRow>,
    pub by_modality: Vec<IndicatorRow>,
    /// The reporting doctor of each case, within their site.
    pub by_person: Vec<IndicatorRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IndicatorRow {
    /// The site, for departments and people (their names are unique only within it).
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The month, site, department, modality or person; empty when the exam has none.
    pub key: String,
    pub sampled: u64,
    pub qualified: u64,
    pub rate: Option<Rate>,
}

impl Indicators {
    /// The breakdowns worth printing, with their Chinese and English titles: by month when the
    /// period has several, by site when there are several, then by department, modality and
    /// reporting doctor (when there is anything to break down).
    pub fn breakdowns(&self) -> Vec<(&'static str, &'static str, &[IndicatorRow])> {
        let all: [(&'static str, &'static str, &[IndicatorRow], usize); 5] = [
            ("按月", "By month", &self.by_month, 2),
            ("按站点", "By site", &self.by_site, 2),
            ("按科室", "By department", &self.by_department, 1),
            ("按设备类型", "By modality", &self.by_modality, 1),
            ("按报告医生", "By reporting doctor", &self.by_person, 1),
        ];
        all.into_iter().filter(|(_, _, rows, min)| rows.len() >= *min).map(|(zh, en, rows, _)| (zh, en, rows)).collect()
    }
}

/// 5.1 from the cases of each month and the corrections for exams counted in several of them
/// (`counted_twice`, see [`crate::rollup::case_corrections`]): a case counts once in the totals
/// and in the breakdowns by site, department, modality and person, and in each of its months
/// in the breakdown by month.
pub fn indicators_of(cells: &[CaseCell], counted_twice: &[CaseCell]) -> Indicators {
    type Groups = BTreeMap<(Option<String>, String), (i64, i64)>;
    let mut groups: [Groups; 5] = Default::default();
    let (mut sampled, mut qualified) = (0i64, 0i64);
    let add = cells.iter().map(|c| (c, 1i64));
    let take = counted_twice.iter().map(|c| (c, -1i64));
    for (c, sign) in add.chain(take) {
        let (s, q) = (sign * c.sampled as i64, sign * c.qualified as i64);
        sampled += s;
        qualified += q;
        let k = &c.key;
        let keys = [
            (None, k.month.clone()),
            (None, k.site.clone()),
            (Some(k.site.clone()), k.department.clone()),
            (None, k.modality.clone()),
            (Some(k.site.clone()), k.person.clone()),
        ];
        for (i, (group, key)) in groups.iter_mut().zip(keys).enumerate() {
            if i == 0 && sign < 0 {
                continue; // by month, a case counts in each of its months
            }
            let slot = group.entry(key).or_default();
            slot.0 += s;
            slot.1 += q;
        }
    }
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let (sampled, qualified) = (n(sampled), n(qualified));
    let rows = |g: &Groups| -> Vec<IndicatorRow> {
        let mut rows: Vec<IndicatorRow> = g
            .iter()
            .filter(|(_, (s, _))| *s > 0)
            .map(|((site, key), (s, q))| IndicatorRow {
                site: site.clone(),
                key: key.clone(),
                sampled: n(*s),
                qualified: n(*q),
                rate: Rate::of(n(*q), n(*s)),
            })
            .collect();
        rows.sort_by(|a, b| {
            person_cmp((a.site.as_deref().unwrap_or(""), &a.key), (b.site.as_deref().unwrap_or(""), &b.key))
        });
        rows
    };
    Indicators {
        sampled,
        qualified,
        rate: Rate::of(qualified, sampled),
        by_month: rows(&groups[0]),
        by_site: rows(&groups[1]),
        by_department: rows(&groups[2]),
        by_modality: rows(&groups[3]),
        by_person: rows(&groups[4]),
    }
}

pub fn indicators(facts: &[EvaluationFact]) -> Indicators {
    let cells = all_cells(facts, &[]);
    indicators_of(&cells.cases, &cells.cases_counted_twice)
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
        if !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(bad()); // `parse` alone would take a sign: `+202-11`
        }
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
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    /// The first instant of the month and of the next in `zone`, as RFC 3339 UTC text (a
    /// half-open range).
    pub fn range(self, zone: crate::SiteZone) -> (String, String) {
        zone.month_range(self)
    }
}

/// The months a report covers, both ends included; `None` for all time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Option<Month>,
    pub to: Option<Month>,
}

impl Period {
    pub fn month(m: Month) -> Period {
        Period { from: Some(m), to: Some(m) }
    }

    pub fn all() -> Period {
        Period { from: None, to: None }
    }

    /// From and to months; an error names the reversed range.
    pub fn between(from: Option<Month>, to: Option<Month>) -> Result<Period, CodeError> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(CodeError::new(format!("the period starts ({f}) after it ends ({t})")));
            }
        }
        Ok(Period { from, to })
    }

    /// `[from, to)` as RFC 3339 UTC text, the months local to `zone`; the open ends are far
    /// past and far future.
    pub fn range(self, zone: crate::SiteZone) -> (String, String) {
        zone.period_range(self)
    }
}

/// `2026-11`, `2026-01..2026-11`, `..2026-11`, `2026-01..`, or `all`.
impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.from, self.to) {
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (None, None) => f.write_str("all"),
            (a, b) => write!(
                f,
                "{}..{}",
                a.map(|m| m.to_string()).unwrap_or_default(),
                b.map(|m| m.to_string()).unwrap_or_default()
            ),
        }
    }
}

/// How a report's views name people: the staff code, or `SITE/CODE` in a report of several
/// sites (codes are unique only within a site).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    pub several_sites: bool,
}

impl Names {
    pub fn person(self, site: &str, code: &str) -> String {
        if self.several_sites {
            format!("{site}/{code}")
        } else {
            code.to_owned()
        }
    }

    /// A breakdown row's key ("（未填写）" when the exam has none), within its site if it has one.
    pub fn breakdown(self, row: &IndicatorRow) -> String {
        let key = if row.key.is_empty() { "（未填写）" } else { row.key.as_str() };
        match &row.site {
            Some(site) => self.person(site, key),
            None => key.to_owned(),
        }
    }
}

/// All views of one period: the indicators, figures 2-4 and 5-8, and 6.5 for doctors, and the
/// gold standard's agreement figures when the caller adds them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    pub period: String,
    pub filter: ReportFilter,
    pub indicators: Indicators,
    /// Figure 2 for the technologists' items (IQ, FL, TR) and for the doctors' (RQ, AR).
    pub scores_technologists: ScoreCounts,
    pub scores_doctors: ScoreCounts,
    /// Figure 3: the evaluations with a deduction, oldest first (at most the limit asked for).
    pub deduction_details: Vec<EvaluationFact>,
    /// How many evaluations have a deduction in all (figure 3 may show fewer).
    pub deduction_details_total: u64,
    /// Figure 4.
    pub deductions: Vec<DeductionCount>,
    /// Figures 5 and 6.
    pub workload: Workload,
    /// Figures 7 and 8, and 6.5 for doctors.
    pub quality_technologists: Vec<QualityRow>,
    pub quality_doctors: Vec<QualityRow>,
    /// The gold standard's reader agreement (7.3.1), when the caller has it: see
    /// [`Report::with_agreement`].
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<AgreementReport>,
}

impl Report {
    /// Whether the report spans several sites: staff codes are unique only within a site, so
    /// people are then named `SITE/CODE`.
    pub fn spans_sites(&self) -> bool {
        let sites: std::collections::BTreeSet<&str> = (self.indicators.by_site.iter().map(|r| r.key.as_str()))
            .chain(self.scores_technologists.rows.iter().chain(&self.scores_doctors.rows).map(|r| r.site.as_str()))
            .chain(self.workload.rows.iter().map(|r| r.site.as_str()))
            .chain(self.deduction_details.iter().map(|f| f.site.as_str()))
            .collect();
        sites.len() > 1
    }

    /// The report with the gold standard's agreement figures of its period (built apart, from
    /// the gold cases: [`AgreementReport::build`]).
    pub fn with_agreement(self, agreement: AgreementReport) -> Report {
        Report { agreement: Some(agreement), ..self }
    }

    /// How the views name people and breakdown rows (worked out once per report).
    pub fn names(&self) -> Names {
        Names { several_sites: self.spans_sites() }
    }

    /// Builds every view from cells (see [`Rollup::cells`]) and figure 3's details. Who counts
    /// as a technologist's or a doctor's evaluation follows the rubric's `scored_role` of the
    /// item, not a list in code.
    pub fn from_cells(
        rubric: &crate::Rubric,
        period: String,
        filter: ReportFilter,
        cells: &ReportCells,
        deduction_details: Vec<EvaluationFact>,
        deduction_details_total: u64,
    ) -> Report {
        use crate::codes::Role;
        let of_role = |roles: &[Role]| -> Vec<&ScoreCell> {
            cells.scores.iter().filter(|c| roles.contains(&rubric.item(c.item).scored_role)).collect()
        };
        let technologists = of_role(&[Role::Technologist]);
        let doctors = of_role(&[Role::ReportingDoctor, Role::AuditingDoctor]);
        let zero_rows = filter.rubric_version.as_ref().is_none_or(|v| *v == rubric.version);
        let items = filter.items(rubric);
        Report {
            period,
            indicators: indicators_of(&cells.cases, &cells.cases_counted_twice),
            scores_technologists: score_counts_of(&technologists),
            scores_doctors: score_counts_of(&doctors),
            deduction_details,
            deduction_details_total,
            deductions: deductions_of(&cells.deductions, zero_rows.then_some((rubric, items.as_slice()))),
            workload: workload_of(&cells.work),
            quality_technologists: quality_of(&technologists),
            quality_doctors: quality_of(&doctors),
            filter,
            agreement: None,
        }
    }

    /// [`Report::build_in`] for sites in the default zone (`Asia/Shanghai`).
    pub fn build(
        rubric: &crate::Rubric,
        period: String,
        filter: ReportFilter,
        evaluations: &[EvaluationFact],
        work: &[WorkFact],
        details_limit: Option<usize>,
    ) -> Report {
        Report::build_in(&crate::Zones::default(), rubric, period, filter, evaluations, work, details_limit)
    }

    /// Builds every view from the facts of one period (a site's own data, read with the
    /// period's range in the site's zone; months are each site's in `zones`), restricted to
    /// `filter`; figure 3 lists at most `details_limit` evaluations (all with `None`).
    pub fn build_in(
        zones: &crate::Zones,
        rubric: &crate::Rubric,
        period: String,
        filter: ReportFilter,
        evaluations: &[EvaluationFact],
        work: &[WorkFact],
        details_limit: Option<usize>,
    ) -> Report {
        let cells = Rollup::from_facts(evaluations, work, zones).cells(&filter, rubric);
        let mut details: Vec<&EvaluationFact> =
            evaluations.iter().filter(|f| f.deducted() && filter.matches_fact(f, rubric)).collect();
        details.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let total = details.len() as u64;
        let shown = details.into_iter().take(details_limit.unwrap_or(usize::MAX)).cloned().collect();
        Report::from_cells(rubric, period, filter, &cells, shown, total)
    }
}
