//! What a report covers, as people and programs type it (plain text: a query string, the
//! screen's filter bar, command-line flags), parsed once into the domain's `Period` and
//! `ReportFilter`. The center's API, the CLI and the desktop app all take it, so a filter means
//! the same and is refused the same way everywhere.

use serde::{Deserialize, Serialize};

use crate::codes::{CodeError, Role};
use crate::exam::{Modality, QcMode, StaffCode};
use crate::report::{Month, Period};
use crate::rollup::ReportFilter;
use crate::Rubric;

/// The longest site code, department name or rubric version taken as a filter.
pub const MAX_LABEL_CHARS: usize = 64;

/// A report's period and filters. Months are `YYYY-MM`, both included (`from` = `to`: one
/// month; a missing end is open). A missing or blank filter does not restrict. Which filter
/// applies to which view is `ReportFilter`'s rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct ReportScope {
    pub from: Option<String>,
    pub to: Option<String>,
    pub site: Option<String>,
    pub department: Option<String>,
    /// `DR`, `CT`, `MR`, …
    pub modality: Option<String>,
    /// The role scored: a `scored_role` of the rubric (`technologist`, `reporting_doctor`, …).
    pub role: Option<String>,
    /// A staff code.
    pub person: Option<String>,
    /// `random`, `active`, `centralized` or `gold`.
    pub mode: Option<String>,
    pub rubric_version: Option<String>,
}

/// A scope field that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A text field with its blanks trimmed; `None` when nothing is left.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn field<T: std::str::FromStr<Err = CodeError>>(
    name: &'static str,
    value: &Option<String>,
) -> Result<Option<T>, FieldError> {
    given(value).map(|v| v.parse::<T>().map_err(|e| FieldError { field: name, message: e.to_string() })).transpose()
}

fn label(name: &'static str, value: &Option<String>) -> Result<Option<String>, FieldError> {
    match given(value) {
        Some(v) if v.chars().count() > MAX_LABEL_CHARS => {
            Err(FieldError { field: name, message: format!("`{v}` is longer than {MAX_LABEL_CHARS} characters") })
        }
        v => Ok(v.map(str::to_owned)),
    }
}

impl ReportScope {
    /// One month, no filter.
    pub fn month(month: &str) -> ReportScope {
        ReportScope { from: Some(month.to_owned()), to: Some(month.to_owned()), ..ReportScope::default() }
    }

    /// The period and the filter, or the first field that is wrong.
    pub fn parse(&self, rubric: &Rubric) -> Result<(Period, ReportFilter), FieldError> {
        self.parse_in(&[rubric])
    }

    /// The same, against every rubric version in use (the center knows several): a role filter
    /// is a role one of them scores.
    pub fn parse_in(&self, rubrics: &[&Rubric]) -> Result<(Period, ReportFilter), FieldError> {
        let from: Option<Month> = field("from", &self.from)?;
        let to: Option<Month> = field("to", &self.to)?;
        let period = Period::between(from, to).map_err(|e| FieldError { field: "period", message: e.to_string() })?;
        let role: Option<Role> = field("role", &self.role)?;
        if let Some(role) = role {
            // Only a role a rubric scores narrows anything; another would show an empty report.
            let mut scored: Vec<&str> = Vec::new();
            for item in rubrics.iter().flat_map(|r| &r.items) {
                if !scored.contains(&item.scored_role.as_str()) {
                    scored.push(item.scored_role.as_str());
                }
            }
            if !scored.contains(&role.as_str()) {
                return Err(FieldError {
                    field: "role",
                    message: format!(
                        "`{}` is not a role the rubric scores (scored: {})",
                        role.as_str(),
                        scored.join(", ")
                    ),
                });
            }
        }
        let filter = ReportFilter {
            site: label("site", &self.site)?,
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
