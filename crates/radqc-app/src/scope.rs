//! What a report on the 报表 screen covers: the domain's `ReportScope`, parsed once. The report
//! and every drill-down of it take the same scope, so a clicked number and the rows listed
//! behind it are counted over the same evaluations.

use radqc_domain::report::{Period, ReportFilter};
use radqc_domain::Rubric;

pub use radqc_domain::scope::ReportScope;

use crate::AppError;

/// The period and the filter, or `INVALID_INPUT` naming the first field that is wrong. A site's
/// app reports its own site only.
pub(crate) fn parse(scope: &ReportScope, rubric: &Rubric) -> Result<(Period, ReportFilter), AppError> {
    if scope.site.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Err(AppError::invalid(
            "site",
            "the app reports its own site; a region's report is the center's".to_owned(),
        ));
    }
    scope.parse(rubric).map_err(|e| AppError::invalid(e.field, e.message))
}
