//! What a report on the 报表 screen covers: its period and filters as the front-end sends them
//! (plain text), parsed once into the domain's `Period` and `ReportFilter`. The report and every
//! drill-down of it take the same scope, so a clicked number and the rows listed behind it are
//! counted over the same evaluations.

use radqc_domain::report::{Month, Period, ReportFilter};
use radqc_domain::{CodeError, Modality, QcMode, Role, Rubric, StaffCode};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The longest department name or rubric version taken as a filter.
const MAX_LABEL_CHARS: usize = 64;

/// A report's period and filters. Months are `YYYY-MM`, both included (`from` = `to`: one
/// month; a missing end is open). A missing or blank filter does not restrict. Which filter
/// applies to which view is `ReportFilter`'s rule: sampled cases (5.1) are exams, so `mode`,
/// `rubric_version` and `role` do not restrict them and their `person` is the reporting doctor;
/// the workload (figure 5) is the technologists'.
///
/// Text fields are parsed here, not by serde, so a bad value gets the app's error envelope
/// naming the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportScope {
    pub from: Option<String>,
    pub to: Option<String>,
    pub department: Option<String>,
    /// `DR`, `CT`, `MR`, …
    pub modality: Option<String>,
    /// The role scored: a `scored_role` of the rubric (`technologist`, `reporting_doctor`,
    /// `auditing_doctor`, …).
    pub role: Option<String>,
    /// A staff code.
    pub person: Option<String>,
    /// `random`, `active`, `centralized` or `gold`.
    pub mode: Option<String>,
    pub rubric_version: Option<String>,
}

/// A text field with its blanks trimmed; `None` when nothing is left.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn field<T>(name: &str, value: &Option<String>) -> Result<Option<T>, AppError>
where
    T: std::str::FromStr<Err = CodeError>,
{
    given(value).map(|v| v.parse::<T>().map_err(|e| AppError::invalid(name, e.to_string()))).transpose()
}

fn label(name: &str, value: &Option<String>) -> Result<Option<String>, AppError> {
    match given(value) {
        Some(v) if v.chars().count() > MAX_LABEL_CHARS => {
            Err(AppError::invalid(name, format!("`{v}` is longer than {MAX_LABEL_CHARS} characters")))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

impl ReportScope {
    /// One month, no filter: what `App::report(month)` shows.
    pub fn month(month: &str) -> ReportScope {
        ReportScope { from: Some(month.to_owned()), to: Some(month.to_owned()), ..ReportScope::default() }
    }

    /// The period and the filter, or `INVALID_INPUT` naming the first field that is wrong.
    pub(crate) fn parse(&self, rubric: &Rubric) -> Result<(Period, ReportFilter), AppError> {
        let from: Option<Month> = field("from", &self.from)?;
        let to: Option<Month> = field("to", &self.to)?;
        let period = Period::between(from, to).map_err(|e| AppError::invalid("period", e.to_string()))?;
        let role: Option<Role> = field("role", &self.role)?;
        if let Some(role) = role {
            // Only a role the rubric scores narrows anything; another would show an empty report.
            let mut scored: Vec<&str> = Vec::new();
            for item in &rubric.items {
                if !scored.contains(&item.scored_role.as_str()) {
                    scored.push(item.scored_role.as_str());
                }
            }
            if !scored.contains(&role.as_str()) {
                return Err(AppError::invalid(
                    "role",
                    format!("`{}` is not a role the rubric scores (scored: {})", role.as_str(), scored.join(", ")),
                ));
            }
        }
        let filter = ReportFilter {
            site: None,
            department: label("department", &self.department)?,
            modality: field::<Modality>("modality", &self.modality)?,
            role,
            person: field::<StaffCode>("person", &self.person)?,
            mode: field::<QcMode>("mode", &self.mode)?,
            rubric_version: label("rubric_version", &self.rubric_version)?,
        };
        Ok((period, filter))
    }
}
