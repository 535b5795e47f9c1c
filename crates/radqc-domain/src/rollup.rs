//! Month-keyed rollups: the additive counts every report view is computed from.
//!
//! A rollup key holds every dimension a report can be filtered by (month, site, department,
//! modality, item, person, QC mode, rubric version), so a report of any period and filter is a
//! sum over keys. The center keeps these counts current as evaluations and exams arrive (adding
//! an exam's contribution after a change and subtracting the one before it), and a site computes
//! the same counts from its facts; both then build the report with the same code.
//!
//! Months are the site's local months ([`SiteZone`]).
//!
//! What counts, once per exam and month:
//! - scores: every current evaluation with a score and a scored person, at its score;
//! - deductions: every severe or unmet criterion of a current evaluation;
//! - cases (5.1): an exam with a report-quality (`RQ`) evaluation in the month is sampled, and
//!   qualified when every `RQ` and `AR` evaluation of it in that month passes and its general
//!   data is complete (5.3 a); its person is the exam's reporting doctor;
//! - work (figure 5): an exam with a technologist and a performing time, in the month performed;
//! - spans: for the rare exam with `RQ` or `AR` evaluations in more than one month, each such
//!   month's part of its case, so that a report of several months counts the exam once
//!   (sampled when any month has an `RQ`, qualified when every month's `RQ` and `AR` pass)
//!   while its month's breakdown still counts it in each month.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{CriterionCode, ItemCode, Role, Score};
use crate::exam::{Modality, QcMode, StaffCode};
use crate::report::{EvaluationFact, WorkFact};
use crate::zone::{SiteZone, Zones};
use crate::Rubric;

/// The key of an evaluation's counts. A missing department or person is an empty string (key
/// columns are never NULL, so PostgreSQL can make them a primary key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EvalKey {
    pub month: String,
    pub site: String,
    pub department: String,
    pub modality: String,
    pub item: ItemCode,
    pub person: String,
    pub mode: QcMode,
    pub rubric_version: String,
}

/// The key of sampled and qualified cases (5.1); `person` is the exam's reporting doctor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CaseKey {
    pub month: String,
    pub site: String,
    pub department: String,
    pub modality: String,
    pub person: String,
}

/// The key of exams performed (figure 5); `person` is the technologist.
pub type WorkKey = CaseKey;

/// One month of an exam whose case spans several months (see the module's docs); the other
/// fields are the exam's, as in [`CaseKey`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SpanKey {
    pub site: String,
    pub accession: String,
    pub month: String,
    pub department: String,
    pub modality: String,
    pub person: String,
}

impl SpanKey {
    pub fn case_key(&self) -> CaseKey {
        CaseKey {
            month: self.month.clone(),
            site: self.site.clone(),
            department: self.department.clone(),
            modality: self.modality.clone(),
            person: self.person.clone(),
        }
    }
}

/// What to take off 5.1's sums of months for exams counted in several months of a period:
/// `sampled` and `qualified` of `key` (its month empty) are subtracted from the totals and from
/// every breakdown except the months'.
pub fn case_corrections<'a>(spans: impl IntoIterator<Item = (&'a SpanKey, &'a [i64; 3])>) -> Vec<CaseCell> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    /// An exam's case key, and its months in the period: all, sampled, qualified, passing.
    type Months = (CaseKey, u64, u64, u64, u64);
    let mut exams: BTreeMap<(&str, &str), Months> = BTreeMap::new();
    for (k, v) in spans {
        if v[0] <= 0 {
            continue;
        }
        let slot = exams
            .entry((k.site.as_str(), k.accession.as_str()))
            .or_insert_with(|| (CaseKey { month: String::new(), ..k.case_key() }, 0, 0, 0, 0));
        slot.1 += 1;
        slot.2 += count(v[1]);
        slot.3 += u64::from(v[1] > 0 && v[2] > 0);
        slot.4 += count(v[2]);
    }
    exams
        .into_values()
        .filter(|(_, months, ..)| *months > 1)
        .filter_map(|(key, months, sampled, qualified, passing)| {
            let once_sampled = u64::from(sampled > 0);
            let once_qualified = u64::from(sampled > 0 && passing == months);
            let cell = CaseCell { key, sampled: sampled - once_sampled, qualified: qualified - once_qualified };
            (cell.sampled > 0 || cell.qualified > 0).then_some(cell)
        })
        .collect()
}

/// The exam's attributes the rollups group by, and whether its report's general data is
/// complete (see [`general_data_complete`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamDims {
    pub site: String,
    pub accession: String,
    /// The site's zone: which month an evaluation is in.
    pub zone: SiteZone,
    pub department: Option<String>,
    pub modality: String,
    pub reporting_doctor: Option<String>,
    pub general_data_complete: bool,
}

/// Whether the patient is identified as 5.3 a asks: an id (its hash), a known sex and an age.
pub fn patient_known(has_id: bool, sex: Option<crate::Sex>, age: Option<u8>) -> bool {
    has_id && matches!(sex, Some(crate::Sex::Female | crate::Sex::Male | crate::Sex::Other)) && age.is_some()
}

/// 5.3 a, as far as an exam record shows it: the patient identified ([`patient_known`]), the
/// department, the imaging number and exam item (an exam always has them), the exam date, and
/// both signatures (the writing and the approving physician). A sampled case whose general data
/// is incomplete is not qualified, whatever its scores.
pub fn general_data_complete(
    patient_known: bool,
    department: Option<&str>,
    performed: bool,
    reporting_doctor: bool,
    auditing_doctor: bool,
) -> bool {
    patient_known
        && department.is_some_and(|d| !d.trim().is_empty())
        && performed
        && reporting_doctor
        && auditing_doctor
}

/// A current evaluation (the latest revision) as the rollups count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub item: ItemCode,
    pub person: Option<String>,
    pub mode: QcMode,
    pub rubric_version: String,
    pub at: String,
    pub score: Option<Score>,
    pub passes: bool,
    pub deductions: Vec<CriterionCode>,
}

/// Additive counts by key. Signed, so that a change is "add the after, subtract the before".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    /// Counts of scores 5, 4, 3, 2, 1 (of evaluations with a score and a scored person), then of
    /// evaluations with a deduction (figure 3's total).
    pub scores: BTreeMap<EvalKey, [i64; 6]>,
    pub deductions: BTreeMap<(EvalKey, CriterionCode), i64>,
    /// Sampled, qualified.
    pub cases: BTreeMap<CaseKey, [i64; 2]>,
    pub work: BTreeMap<WorkKey, i64>,
    /// Exams whose case spans several months, per month: present, sampled (an `RQ` that
    /// month), passing (that month's `RQ` and `AR` pass and the general data is complete).
    pub spans: BTreeMap<SpanKey, [i64; 3]>,
}

impl Rollup {
    /// Adds (`sign` 1) or removes (`sign` -1) what one exam's current evaluations contribute.
    pub fn add_evaluations(&mut self, exam: &ExamDims, evaluations: &[Counted], sign: i64) {
        let department = exam.department.clone().unwrap_or_default();
        let mut cases: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        for e in evaluations {
            let month = exam.zone.month_of(&e.at);
            let key = EvalKey {
                month: month.clone(),
                site: exam.site.clone(),
                department: department.clone(),
                modality: exam.modality.clone(),
                item: e.item,
                person: e.person.clone().unwrap_or_default(),
                mode: e.mode,
                rubric_version: e.rubric_version.clone(),
            };
            for c in &e.deductions {
                *self.deductions.entry((key.clone(), c.clone())).or_default() += sign;
            }
            let scored = match (e.score, &e.person) {
                (Some(score), Some(_)) => Some(5 - score.get() as usize),
                _ => None,
            };
            if scored.is_some() || !e.deductions.is_empty() {
                let counts = self.scores.entry(key).or_default();
                if let Some(slot) = scored {
                    counts[slot] += sign;
                }
                if !e.deductions.is_empty() {
                    counts[5] += sign;
                }
            }
            if matches!(e.item, ItemCode::RQ | ItemCode::AR) {
                let case = cases.entry(month).or_insert((false, true));
                case.0 |= e.item == ItemCode::RQ;
                case.1 &= e.passes;
            }
        }
        let spans = cases.len() > 1;
        for (month, (sampled, passing)) in cases {
            let passing = passing && exam.general_data_complete;
            let key = CaseKey {
                month,
                site: exam.site.clone(),
                department: department.clone(),
                modality: exam.modality.clone(),
                person: exam.reporting_doctor.clone().unwrap_or_default(),
            };
            if spans {
                let span = SpanKey {
                    site: key.site.clone(),
                    accession: exam.accession.clone(),
                    month: key.month.clone(),
                    department: key.department.clone(),
                    modality: key.modality.clone(),
                    person: key.person.clone(),
                };
                let counts = self.spans.entry(span).or_default();
                counts[0] += sign;
                counts[1] += sign * i64::from(sampled);
                counts[2] += sign * i64::from(passing);
            }
            if sampled {
                let counts = self.cases.entry(key).or_default();
                counts[0] += sign;
                counts[1] += sign * i64::from(passing);
            }
        }
    }

    /// Adds or removes one exam performed (in its local month).
    #[allow(clippy::too_many_arguments)]
    pub fn add_work(
        &mut self,
        zone: SiteZone,
        site: &str,
        department: Option<&str>,
        modality: &str,
        technologist: &str,
        performed_at: &str,
        sign: i64,
    ) {
        let key = WorkKey {
            month: zone.month_of(performed_at),
            site: site.to_owned(),
            department: department.unwrap_or_default().to_owned(),
            modality: modality.to_owned(),
            person: technologist.to_owned(),
        };
        *self.work.entry(key).or_default() += sign;
    }

    /// The rollup of a site's facts (current evaluations and exams performed), grouped by exam,
    /// each site's months in its zone.
    pub fn from_facts(evaluations: &[EvaluationFact], work: &[WorkFact], zones: &Zones) -> Rollup {
        let mut exams: BTreeMap<(&str, &str), (ExamDims, Vec<Counted>)> = BTreeMap::new();
        for f in evaluations {
            let (_, list) = exams.entry((f.site.as_str(), f.accession.as_str())).or_insert_with(|| {
                let dims = ExamDims {
                    site: f.site.clone(),
                    accession: f.accession.clone(),
                    zone: zones.of(&f.site),
                    department: f.department.clone(),
                    modality: f.modality.to_string(),
                    reporting_doctor: f.reporting_doctor.as_ref().map(StaffCode::to_string),
                    general_data_complete: f.general_data_complete,
                };
                (dims, Vec::new())
            });
            list.push(Counted {
                item: f.item,
                person: f.scored_person.as_ref().map(StaffCode::to_string),
                mode: f.mode,
                rubric_version: f.rubric_version.clone(),
                at: f.at.clone(),
                score: f.score,
                passes: f.grade.passes(),
                deductions: f.severe.iter().chain(&f.unmet).cloned().collect(),
            });
        }
        let mut rollup = Rollup::default();
        for (dims, list) in exams.values() {
            rollup.add_evaluations(dims, list, 1);
        }
        for w in work {
            rollup.add_work(
                zones.of(&w.site),
                &w.site,
                w.department.as_deref(),
                w.modality.as_str(),
                w.person.as_str(),
                &w.performed_at,
                1,
            );
        }
        rollup
    }

    /// Adds `other` times `sign` into this rollup, dropping keys that reach zero.
    pub fn merge(&mut self, other: &Rollup, sign: i64) {
        fn add<K: Ord + Clone, const N: usize>(into: &mut BTreeMap<K, [i64; N]>, from: &BTreeMap<K, [i64; N]>, s: i64) {
            for (k, v) in from {
                let slot = into.entry(k.clone()).or_insert([0; N]);
                for i in 0..N {
                    slot[i] += s * v[i];
                }
                if slot.iter().all(|n| *n == 0) {
                    into.remove(k);
                }
            }
        }
        fn add1<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>, s: i64) {
            for (k, v) in from {
                let slot = into.entry(k.clone()).or_default();
                *slot += s * v;
                if *slot == 0 {
                    into.remove(k);
                }
            }
        }
        add(&mut self.scores, &other.scores, sign);
        add1(&mut self.deductions, &other.deductions, sign);
        add(&mut self.cases, &other.cases, sign);
        add1(&mut self.work, &other.work, sign);
        add(&mut self.spans, &other.spans, sign);
    }

    /// Removes keys whose counts are all zero.
    pub fn prune(&mut self) {
        self.scores.retain(|_, v| v.iter().any(|n| *n != 0));
        self.deductions.retain(|_, v| *v != 0);
        self.cases.retain(|_, v| v.iter().any(|n| *n != 0));
        self.work.retain(|_, v| *v != 0);
        self.spans.retain(|_, v| v.iter().any(|n| *n != 0));
    }

    /// The cells a report of `filter` is built from: the rollup summed over the dimensions the
    /// views do not show. The center computes the same cells with SQL over its rollup tables.
    pub fn cells(&self, filter: &ReportFilter, rubric: &Rubric) -> ReportCells {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut scores: BTreeMap<(String, String, String, ItemCode), [u64; 5]> = BTreeMap::new();
        for (k, v) in &self.scores {
            if filter.matches_eval(k, rubric) && v[..5].iter().any(|n| *n != 0) {
                let slot = scores.entry((k.site.clone(), k.person.clone(), k.modality.clone(), k.item)).or_default();
                for i in 0..5 {
                    slot[i] += count(v[i]);
                }
            }
        }
        let mut deductions: BTreeMap<(String, CriterionCode), u64> = BTreeMap::new();
        for ((k, c), v) in &self.deductions {
            if filter.matches_eval(k, rubric) {
                *deductions.entry((k.rubric_version.clone(), c.clone())).or_default() += count(*v);
            }
        }
        let mut work: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for (k, v) in &self.work {
            if filter.matches_work(k) {
                *work.entry((k.site.clone(), k.person.clone(), k.modality.clone())).or_default() += count(*v);
            }
        }
        ReportCells {
            scores: scores
                .into_iter()
                .map(|((site, person, modality, item), counts)| ScoreCell { site, person, modality, item, counts })
                .collect(),
            deductions: deductions
                .into_iter()
                .map(|((rubric_version, criterion), count)| DeductionCell { rubric_version, criterion, count })
                .collect(),
            cases: self
                .cases
                .iter()
                .filter(|(k, _)| filter.matches_case(k))
                .map(|(k, v)| CaseCell { key: k.clone(), sampled: count(v[0]), qualified: count(v[1]) })
                .collect(),
            work: work
                .into_iter()
                .map(|((site, person, modality), count)| WorkCell { site, person, modality, count })
                .collect(),
            cases_counted_twice: case_corrections(
                self.spans.iter().filter(|(k, _)| filter.matches_case(&k.case_key())),
            ),
        }
    }
}

/// What a report is restricted to, besides its period. Every field is optional; the filters
/// that do not apply to a view are ignored by it: sampled cases (5.1) are exams, so QC mode,
/// rubric version and role do not restrict them, and their person is the reporting doctor;
/// workload (figure 5) is the technologists' exams, so it is empty for a doctor's role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<Modality>,
    /// The role scored: technologist, reporting_doctor or auditing_doctor (the rubric says which
    /// items score which role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<StaffCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<QcMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_version: Option<String>,
}

impl ReportFilter {
    fn is(want: &Option<impl AsRef<str>>, have: &str) -> bool {
        want.as_ref().is_none_or(|w| w.as_ref() == have)
    }

    /// The items whose scored person has the filter's role (all items without a role filter).
    pub fn items(&self, rubric: &Rubric) -> Vec<ItemCode> {
        rubric.items.iter().filter(|i| self.role.is_none_or(|r| i.scored_role == r)).map(|i| i.code).collect()
    }

    pub fn matches_eval(&self, k: &EvalKey, rubric: &Rubric) -> bool {
        Self::is(&self.site, &k.site)
            && Self::is(&self.department, &k.department)
            && Self::is(&self.modality.as_ref().map(Modality::as_str), &k.modality)
            && Self::is(&self.person.as_ref().map(StaffCode::as_str), &k.person)
            && self.mode.is_none_or(|m| m == k.mode)
            && Self::is(&self.rubric_version, &k.rubric_version)
            && self.role.is_none_or(|r| rubric.item(k.item).scored_role == r)
    }

    pub fn matches_case(&self, k: &CaseKey) -> bool {
        Self::is(&self.site, &k.site)
            && Self::is(&self.department, &k.department)
            && Self::is(&self.modality.as_ref().map(Modality::as_str), &k.modality)
            && Self::is(&self.person.as_ref().map(StaffCode::as_str), &k.person)
    }

    pub fn matches_work(&self, k: &WorkKey) -> bool {
        self.matches_case(k) && self.role.is_none_or(|r| r == Role::Technologist)
    }

    /// Whether one evaluation is within the filter (figure 3's details and drill-downs).
    pub fn matches_fact(&self, f: &EvaluationFact, rubric: &Rubric) -> bool {
        Self::is(&self.site, &f.site)
            && Self::is(&self.department, f.department.as_deref().unwrap_or_default())
            && self.modality.as_ref().is_none_or(|m| *m == f.modality)
            && self.person.as_ref().is_none_or(|p| Some(p) == f.scored_person.as_ref())
            && self.mode.is_none_or(|m| m == f.mode)
            && Self::is(&self.rubric_version, &f.rubric_version)
            && self.role.is_none_or(|r| rubric.item(f.item).scored_role == r)
    }
}

/// Figure 2 and 7's input: counts of scores 5…1 per site, person, modality and item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreCell {
    pub site: String,
    pub person: String,
    pub modality: String,
    pub item: ItemCode,
    pub counts: [u64; 5],
}

/// Figure 4's input: how often a criterion (of a rubric version) was deducted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeductionCell {
    pub rubric_version: String,
    pub criterion: CriterionCode,
    pub count: u64,
}

/// 5.1's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCell {
    pub key: CaseKey,
    pub sampled: u64,
    pub qualified: u64,
}

/// Figure 5's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkCell {
    pub site: String,
    pub person: String,
    pub modality: String,
    pub count: u64,
}

/// Everything the count views of a report need, for one period and filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportCells {
    pub scores: Vec<ScoreCell>,
    pub deductions: Vec<DeductionCell>,
    pub cases: Vec<CaseCell>,
    pub work: Vec<WorkCell>,
    /// 5.1's corrections for exams counted in several months of the period (see
    /// [`case_corrections`]).
    pub cases_counted_twice: Vec<CaseCell>,
}
