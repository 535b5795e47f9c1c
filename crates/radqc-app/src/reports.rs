//! The site's report: a month's (`App::report`), the 报表 screen's of a `ReportScope`
//! (`App::report_view`), and any period and filter (`App::report_filtered`); `drill.rs` lists
//! what stands behind its numbers.

use crate::{scope, App, AppError, ErrorCode, ReportScope};

impl App {
    /// The site's indicators and figures for a month (5.1, figures 2-7, 6.5).
    pub fn report(&self, month: &str) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let month: radqc_domain::report::Month =
            month.parse().map_err(|e: radqc_domain::CodeError| AppError::invalid("month", e.to_string()))?;
        self.report_filtered(radqc_domain::report::Period::month(month), radqc_domain::report::ReportFilter::default())
    }

    /// The report of the 报表 screen: `scope`'s period and filters, as text, parsed here.
    pub fn report_view(&self, scope: &ReportScope) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let (period, filter) = scope::parse(scope, self.store.rubric())?;
        self.report_filtered(period, filter)
    }

    /// The site's report of a period (months, both ends included), restricted to `filter`.
    pub fn report_filtered(
        &self,
        period: radqc_domain::report::Period,
        filter: radqc_domain::report::ReportFilter,
    ) -> Result<radqc_domain::report::Report, AppError> {
        self.may_see_site_scores()?;
        let zone = self.store.time_zone()?;
        let (from, to) = period.range(zone);
        let facts = self.store.evaluation_facts(&from, &to)?;
        let work = self.store.work_facts(&from, &to)?;
        let rubric = self.store.rubric();
        let zones = radqc_domain::Zones::one(zone);
        let agreement = self.agreement(period, filter.modality.as_ref(), &from, &to)?;
        let report =
            radqc_domain::report::Report::build_in(&zones, rubric, period.to_string(), filter, &facts, &work, None);
        Ok(if agreement.cases > 0 { report.with_agreement(agreement) } else { report })
    }

    /// The readers' agreement (7.3.1) over the site's gold-standard cases closed in the period
    /// (`from`..`to`, the site's local months), of one modality when the report is filtered to
    /// it: counted from the `Final` results the center published, as the center counts them.
    fn agreement(
        &self,
        period: radqc_domain::report::Period,
        modality: Option<&radqc_domain::Modality>,
        from: &str,
        to: &str,
    ) -> Result<radqc_domain::agreement::AgreementReport, AppError> {
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&chrono::Utc));
        let (from, to) = (parse(from), parse(to));
        let outcomes: Vec<_> = self
            .store
            .gold_results()?
            .into_iter()
            .filter(|r| modality.is_none_or(|m| m == &r.modality))
            .filter(|r| from.is_none_or(|f| r.closed_at >= f) && to.is_none_or(|t| r.closed_at < t))
            .filter_map(|r| r.outcome())
            .collect();
        radqc_domain::agreement::AgreementReport::build(period.to_string(), &outcomes).map_err(|e| {
            AppError::new(
                ErrorCode::InvalidInput,
                format!("中心发布的金标准结果无法统计：{e}"),
                format!("a gold-standard result the center published does not count: {e}"),
            )
        })
    }
}
