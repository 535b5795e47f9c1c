//! `radqc report`: the standard's indicators and figures for a period, from a local store, as
//! JSON, CSV (one section per figure, titled as the standard titles it), XLSX or PDF.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use radqc_domain::report::Report;

use crate::local_cmd::DbArgs;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Csv,
    /// A workbook laid out as the standard's figures (needs --output).
    Xlsx,
    /// The monthly report to print or send: tables and charts, Chinese first (needs --output
    /// and a CJK font: see --font).
    Pdf,
}

/// What the PDF needs besides the report.
#[derive(Args, Clone, Default)]
pub struct PdfArgs {
    /// The font for --format pdf: a TrueType/OpenType file or collection with Chinese glyphs, as
    /// PATH or PATH#INDEX [default: $RADQC_PDF_FONT, else Noto Sans CJK SC, Source Han Sans,
    /// WenQuanYi, Microsoft YaHei or PingFang where installed].
    #[arg(long, value_name = "PATH[#INDEX]")]
    pub font: Option<String>,
    /// The title printed on the PDF, e.g. the department's name.
    #[arg(long, default_value = "影像质控月报")]
    pub title: String,
}

/// The time printed on a PDF: `SOURCE_DATE_EPOCH` when set (reproducible files), else now.
fn generated_at() -> Result<String> {
    let at = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(secs) => {
            let secs: i64 = secs.trim().parse().context("SOURCE_DATE_EPOCH: not a number of seconds")?;
            chrono::DateTime::from_timestamp(secs, 0).context("SOURCE_DATE_EPOCH: out of range")?
        }
        Err(_) => chrono::Utc::now(),
    };
    Ok(at.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn pdf(report: &Report, rubric: &radqc_domain::Rubric, scope: &str, args: &PdfArgs) -> Result<Vec<u8>> {
    let font = match &args.font {
        Some(spec) => radqc_pdf::load_font(spec),
        None => radqc_pdf::find_cjk_font(),
    }
    .context("the PDF needs a font with Chinese glyphs")?;
    let opts = radqc_pdf::PdfOptions::new(&font, &args.title, scope, &generated_at()?);
    radqc_pdf::render(report, rubric, &opts)
        .with_context(|| format!("cannot make the PDF with the font {}#{}", font.path.display(), font.index))
}

/// Prints the report, or writes it to `output` (required for XLSX and PDF). `scope` says whose
/// data it is (a site, the region), for the PDF's header.
pub fn emit(
    report: &Report,
    rubric: &radqc_domain::Rubric,
    format: Format,
    output: Option<&std::path::Path>,
    scope: &str,
    pdf_args: &PdfArgs,
) -> Result<()> {
    match (format, output) {
        (Format::Xlsx, None) => anyhow::bail!("--format xlsx needs --output FILE.xlsx"),
        (Format::Pdf, None) => anyhow::bail!("--format pdf needs --output FILE.pdf"),
        _ => {}
    }
    let bytes = match format {
        Format::Json => (serde_json::to_string_pretty(report)? + "\n").into_bytes(),
        Format::Csv => radqc_export::csv(report, rubric).into_bytes(),
        Format::Xlsx => radqc_export::xlsx(report, rubric).context("cannot build the workbook")?,
        Format::Pdf => pdf(report, rubric, scope, pdf_args)?,
    };
    match output {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    period: PeriodArgs,
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write to this file instead of stdout (required for xlsx and pdf).
    #[arg(long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    #[command(flatten)]
    pdf: PdfArgs,
}

/// A report's period as the site's and the center's commands take it: the domain's
/// `ReportScope` months, both included, in the site's local time.
#[derive(Args, Clone, Default)]
pub struct PeriodArgs {
    /// One month, YYYY-MM (or --from and/or --to; neither: all time).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub month: Option<String>,
    /// The first month, YYYY-MM (included; alone: from then on).
    #[arg(long)]
    pub from: Option<String>,
    /// The last month, YYYY-MM (included; alone: everything up to it).
    #[arg(long)]
    pub to: Option<String>,
}

/// What a report is restricted to (every filter is optional).
#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    /// Only this department.
    #[arg(long)]
    pub department: Option<String>,
    /// Only this modality (DR, CT, MR, …).
    #[arg(long)]
    pub modality: Option<String>,
    /// Only evaluations of this role: technologist, reporting_doctor or auditing_doctor.
    #[arg(long)]
    pub role: Option<String>,
    /// Only this person (staff code).
    #[arg(long)]
    pub person: Option<String>,
    /// Only this QC mode: random, active, centralized or gold.
    #[arg(long)]
    pub mode: Option<String>,
    /// Only evaluations scored under this rubric version.
    #[arg(long)]
    pub rubric_version: Option<String>,
}

impl FilterArgs {
    /// The report's scope, parsed by the one parser the center's API and the app use too,
    /// against the rubric versions in use; an error names the flag that is wrong.
    pub fn parse(
        &self,
        period: &PeriodArgs,
        site: Option<String>,
        rubrics: &[&radqc_domain::Rubric],
    ) -> Result<(radqc_domain::report::Period, radqc_domain::rollup::ReportFilter)> {
        let scope = radqc_domain::scope::ReportScope {
            from: period.month.clone().or_else(|| period.from.clone()),
            to: period.month.clone().or_else(|| period.to.clone()),
            site,
            department: self.department.clone(),
            modality: self.modality.clone(),
            role: self.role.clone(),
            person: self.person.clone(),
            mode: self.mode.clone(),
            rubric_version: self.rubric_version.clone(),
        };
        scope.parse_in(rubrics).map_err(|e| {
            let flag = match e.field {
                "from" | "to" if period.month.is_some() => "--month".to_owned(),
                "period" => "--from/--to".to_owned(),
                field => format!("--{}", field.replace('_', "-")),
            };
            anyhow::anyhow!("{flag}: {}", e.message)
        })
    }
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let store = args.db.open()?;
    let zone = store.time_zone()?;
    let (period, filter) = args.filter.parse(&args.period, None, &[store.rubric()])?;
    let (from, to) = zone.period_range(period);
    let (facts, work) = (store.evaluation_facts(&from, &to)?, store.work_facts(&from, &to)?);
    let zones = radqc_domain::Zones::one(zone);
    let report = Report::build_in(&zones, store.rubric(), period.to_string(), filter, &facts, &work, None);
    let scope = format!("站点 Site {}", store.site());
    emit(&report, store.rubric(), args.format, args.output.as_deref(), &scope, &args.pdf)?;
    Ok(ExitCode::SUCCESS)
}
