//! The report's drill-down (下钻): which evaluations stand behind one number of a figure. It runs
//! on the same facts `App::report_view` counts, within the report's own period and filter, with
//! the figures' own rules (who is a technologist's or a doctor's evaluation comes from the
//! rubric's `scored_role`; figures 2 and 7 count only scored evaluations with a scored person),
//! so the list always has exactly as many rows as the number clicked: `App::report_evaluations`,
//! and `App::report_workload_exams` for the exams behind a figure-5 number.

use chrono::{DateTime, Utc};
use radqc_domain::report::EvaluationFact;
use radqc_domain::{CodeError, CriterionCode, Grade, Modality, Role, Rubric, Score, StaffCode};
use radqc_protocol::ExamRecord;
use radqc_store::ExamFilter;
use serde::{Deserialize, Serialize};

use crate::{scope, App, AppError, ExamView, ReportScope};

/// What the reader clicked, as the front-end sends it; every field narrows the list.
///
/// - figure 2 cell: `group`, `person`, `modality`, `score` (the totals row: no `person`);
/// - figure 3: `deducted_only`;
/// - figure 4 count: `criterion` and its `rubric_version` (counts of two versions are apart);
/// - figure 7 / 6.5: `group`, `person` (the evaluations count), plus `grade` (a rate).
///
/// Text fields are parsed here, not by serde, so a bad value gets the app's error envelope
/// naming the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct Drill {
    /// `technologists` or `doctors`: the population of figures 2 and 7 (or 6.5).
    pub group: Option<String>,
    /// The scored person's staff code.
    pub person: Option<String>,
    pub modality: Option<String>,
    /// 1-5.
    pub score: Option<u8>,
    /// `excellent`, `good`, `pass` or `fail`.
    pub grade: Option<String>,
    /// A criterion code of the rubric, severe or compliance (`IQ-C2`).
    pub criterion: Option<String>,
    /// Only evaluations with a deduction (figure 3).
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub deducted_only: bool,
    /// The rubric version the evaluation was scored under (a figure-4 row is one version's).
    pub rubric_version: Option<String>,
}

/// A `Drill` once every field is known to make sense.
pub(crate) struct DrillFilter {
    roles: Option<&'static [Role]>,
    person: Option<StaffCode>,
    modality: Option<Modality>,
    score: Option<Score>,
    grade: Option<Grade>,
    criterion: Option<CriterionCode>,
    deducted_only: bool,
    rubric_version: Option<String>,
}

const TECHNOLOGISTS: &[Role] = &[Role::Technologist];
const DOCTORS: &[Role] = &[Role::ReportingDoctor, Role::AuditingDoctor];

fn field<T>(name: &str, value: Option<&str>) -> Result<Option<T>, AppError>
where
    T: std::str::FromStr<Err = CodeError>,
{
    value.map(|v| v.parse::<T>().map_err(|e| AppError::invalid(name, e.to_string()))).transpose()
}

impl DrillFilter {
    pub(crate) fn parse(drill: &Drill, rubric: &Rubric) -> Result<DrillFilter, AppError> {
        let roles = match drill.group.as_deref() {
            None => None,
            Some("technologists") => Some(TECHNOLOGISTS),
            Some("doctors") => Some(DOCTORS),
            Some(other) => {
                return Err(AppError::invalid(
                    "group",
                    format!("unknown group `{other}` (known: technologists, doctors)"),
                ))
            }
        };
        let score =
            drill.score.map(|s| Score::new(s).map_err(|e| AppError::invalid("score", e.to_string()))).transpose()?;
        let criterion: Option<CriterionCode> = field("criterion", drill.criterion.as_deref())?;
        if let Some(c) = &criterion {
            if rubric.criterion(c).is_none() {
                return Err(AppError::invalid("criterion", format!("`{c}` is not a criterion of the rubric")));
            }
        }
        Ok(DrillFilter {
            roles,
            person: field("person", drill.person.as_deref())?,
            modality: field("modality", drill.modality.as_deref())?,
            score,
            grade: field("grade", drill.grade.as_deref())?,
            criterion,
            deducted_only: drill.deducted_only,
            rubric_version: drill.rubric_version.clone(),
        })
    }

    pub(crate) fn keeps(&self, rubric: &Rubric, f: &EvaluationFact) -> bool {
        if let Some(roles) = self.roles {
            // Figures 2 and 7 leave out what has no score (the application form) or nobody scored.
            if !roles.contains(&rubric.item(f.item).scored_role) || f.score.is_none() || f.scored_person.is_none() {
                return false;
            }
        }
        self.person.as_ref().is_none_or(|p| f.scored_person.as_ref() == Some(p))
            && self.modality.as_ref().is_none_or(|m| &f.modality == m)
            && self.score.is_none_or(|s| f.score == Some(s))
            && self.grade.is_none_or(|g| f.grade == g)
            && self.criterion.as_ref().is_none_or(|c| f.severe.contains(c) || f.unmet.contains(c))
            && (!self.deducted_only || !f.severe.is_empty() || !f.unmet.is_empty())
            && self.rubric_version.as_ref().is_none_or(|v| *v == f.rubric_version)
    }
}

impl App {
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
        let clicked = DrillFilter::parse(drill, rubric)?;
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
}
