//! `radqc report`: the standard's indicators and figures for a period, from a local store, as
//! JSON, CSV (one section per figure, titled as the standard titles it), XLSX or PDF.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use radqc_domain::report::{Month, Report};

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
    /// The month, YYYY-MM.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    month: Option<String>,
    /// First day, YYYY-MM-DD (with --to).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Day after the last, YYYY-MM-DD.
    #[arg(long, requires = "from")]
    to: Option<String>,
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
    /// The query the center's HTTP API takes, so both check the filters the same way.
    pub fn query(&self, site: Option<String>) -> radqc_center::http::ReportQuery {
        radqc_center::http::ReportQuery {
            site,
            department: self.department.clone(),
            modality: self.modality.clone(),
            role: self.role.clone(),
            person: self.person.clone(),
            mode: self.mode.clone(),
            rubric_version: self.rubric_version.clone(),
            ..Default::default()
        }
    }
}

/// The first instant of a local day, as RFC 3339 UTC text.
fn day(s: &str, flag: &str, zone: radqc_domain::SiteZone) -> Result<String> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag}: `{s}` is not a date YYYY-MM-DD"))?;
    Ok(zone.day_start(d).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let store = args.db.open()?;
    let zone = store.time_zone()?;
    let (label, from, to) = match (&args.month, &args.from, &args.to) {
        (Some(m), _, _) => {
            let month: Month = m.parse()?;
            let (from, to) = month.range(zone);
            (month.to_string(), from, to)
        }
        (None, Some(f), Some(t)) => (format!("{f}..{t}"), day(f, "--from", zone)?, day(t, "--to", zone)?),
        _ => anyhow::bail!("give --month YYYY-MM, or --from and --to"),
    };
    anyhow::ensure!(from < to, "the period is empty: --from must be before --to");
    let (_, filter) = args.filter.query(None).parse()?;
    let (facts, work) = (store.evaluation_facts(&from, &to)?, store.work_facts(&from, &to)?);
    let report = Report::build_in(&radqc_domain::Zones::one(zone), store.rubric(), label, filter, &facts, &work, None);
    let scope = format!("站点 Site {}", store.site());
    emit(&report, store.rubric(), args.format, args.output.as_deref(), &scope, &args.pdf)?;
    Ok(ExitCode::SUCCESS)
}
