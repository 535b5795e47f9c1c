//! `radqc report`: the standard's indicators and figures for a period, from a local store, as
//! JSON, CSV (one section per figure, titled as the standard titles it), XLSX or PDF.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use radqc_domain::report::{Month, QualityRow, Report, ScoreCounts};

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
        Format::Csv => csv(report, rubric).into_bytes(),
        Format::Xlsx => crate::xlsx::workbook(report, rubric).context("cannot build the workbook")?,
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

fn day(s: &str, flag: &str) -> Result<String> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag}: `{s}` is not a date YYYY-MM-DD"))?;
    Ok(format!("{}T00:00:00.000Z", d.format("%Y-%m-%d")))
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let (label, from, to) = match (&args.month, &args.from, &args.to) {
        (Some(m), _, _) => {
            let month: Month = m.parse()?;
            let (from, to) = month.range();
            (month.to_string(), from, to)
        }
        (None, Some(f), Some(t)) => (format!("{f}..{t}"), day(f, "--from")?, day(t, "--to")?),
        _ => anyhow::bail!("give --month YYYY-MM, or --from and --to"),
    };
    anyhow::ensure!(from < to, "the period is empty: --from must be before --to");
    let (_, filter) = args.filter.query(None).parse()?;
    let store = args.db.open()?;
    let (facts, work) = (store.evaluation_facts(&from, &to)?, store.work_facts(&from, &to)?);
    let report = Report::build(store.rubric(), label, filter, &facts, &work, None);
    let scope = format!("站点 Site {}", store.site());
    emit(&report, store.rubric(), args.format, args.output.as_deref(), &scope, &args.pdf)?;
    Ok(ExitCode::SUCCESS)
}

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn score_table(out: &mut String, title: &str, fig: &ScoreCounts, r: &Report) {
    let _ = writeln!(out, "{title}");
    let mut head = vec!["人员".to_owned()];
    for m in &fig.modalities {
        head.extend((1..=5).rev().map(|s| format!("{m} {s}分")));
    }
    let _ = writeln!(out, "{}", head.join(","));
    for row in &fig.rows {
        let mut cells = vec![field(&r.person_label(&row.site, &row.person))];
        for m in &fig.modalities {
            match row.cells.get(m) {
                Some(c) => cells.extend(c.iter().map(u64::to_string)),
                None => cells.extend(std::iter::repeat_n(String::new(), 5)),
            }
        }
        let _ = writeln!(out, "{}", cells.join(","));
    }
    let mut total = vec!["合计".to_owned()];
    for m in &fig.modalities {
        total.extend(fig.totals[m].iter().map(u64::to_string));
    }
    let _ = writeln!(out, "{}\n", total.join(","));
}

fn quality_table(out: &mut String, title: &str, rows: &[QualityRow], report: &Report) {
    let _ = writeln!(out, "{title}\n人员,被质控数,优秀率(%),良好率(%),合格率(%),不合格率(%)");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            field(&report.person_label(&r.site, &r.person)),
            r.evaluations,
            r.excellent,
            r.good,
            r.pass,
            r.fail
        );
    }
    out.push('\n');
}

pub fn csv(r: &Report, rubric: &radqc_domain::Rubric) -> String {
    // The standard's figures 3 and 4 name criteria by their text.
    let named = |code: &str| -> String {
        let text = code.parse().ok().and_then(|c| rubric.criterion(&c)).map_or("", |c| c.text.zh.as_str());
        field(&format!("{code} {text}"))
    };
    let mut out = String::new();
    let rate = r.indicators.rate.map_or("—".to_owned(), |x| x.to_string());
    let _ = writeln!(
        out,
        "5.1 评估指标 {}\n抽查例数,合格例数,合格率(%)\n{},{},{}\n",
        r.period, r.indicators.sampled, r.indicators.qualified, rate
    );
    for (zh, _, rows) in r.indicators.breakdowns() {
        let _ = writeln!(out, "5.1 {zh}\n{zh},抽查例数,合格例数,合格率(%)");
        for b in rows {
            let rate = b.rate.map_or("—".to_owned(), |x| x.to_string());
            let _ = writeln!(out, "{},{},{},{}", field(&r.breakdown_label(b)), b.sampled, b.qualified, rate);
        }
        out.push('\n');
    }
    score_table(&mut out, "图2 质控评分统计（技师）", &r.scores_technologists, r);
    score_table(&mut out, "图2 质控评分统计（医生）", &r.scores_doctors, r);
    let _ = writeln!(out, "图3 质控扣分明细\n设备类型,检查部位,医生/技师,质控人,分数,不符合项,严重扣分项,问题说明");
    for f in &r.deduction_details {
        let codes = |v: &[radqc_domain::CriterionCode]| {
            field(&v.iter().map(|c| named(c.as_str())).collect::<Vec<_>>().join("；"))
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            f.modality,
            field(&f.exam_item),
            field(&f.scored_person.as_ref().map_or(String::new(), |p| r.person_label(&f.site, p.as_str()))),
            f.reviewer,
            f.score.map_or(f.grade.label_zh().to_owned(), |s| format!("{s}分")),
            codes(&f.unmet),
            codes(&f.severe),
            field(&f.note)
        );
    }
    let _ = writeln!(out, "\n图4 质控扣分项目\n扣分类型,扣分数,扣分项目");
    for d in &r.deductions {
        let kind = if d.kind == "severe" { "严重扣分项" } else { "不符合项" };
        let _ = writeln!(out, "{kind},{},{}", d.count, named(&d.criterion));
    }
    let _ = writeln!(out, "\n图5 技师工作量统计\n技师,合计,{}", r.workload.modalities.join(","));
    for row in &r.workload.rows {
        let cells: Vec<String> = r
            .workload
            .modalities
            .iter()
            .map(|m| row.by_modality.get(m).map_or(String::new(), u64::to_string))
            .collect();
        let _ = writeln!(out, "{},{},{}", field(&r.person_label(&row.site, &row.person)), row.total, cells.join(","));
    }
    let totals: Vec<String> = r.workload.modalities.iter().map(|m| r.workload.totals[m].to_string()).collect();
    let _ = writeln!(out, "合计,{},{}\n", r.workload.total, totals.join(","));
    quality_table(&mut out, "图7 技师质量统计", &r.quality_technologists, r);
    quality_table(&mut out, "6.5 医生质量统计", &r.quality_doctors, r);
    out
}
