//! The monthly QC report as a PDF (A4 portrait, Chinese first): the indicators of section 5.1
//! and figures 2-8 of section 6 of the standard, and 6.5 for doctors, with the tables laid out
//! as the standard lays them out and figures 6 and 8 drawn as vector charts; and the gold
//! standard's reader agreement (7.3.1) when the report has it.
//!
//! `render` is pure: the report, the rubric (for criterion texts) and the font's bytes in, the
//! PDF's bytes out; no file, network or clock. The font is subset by krilla, so the file holds
//! only the glyphs it uses. `find_cjk_font` (in `font.rs`) is the edge that reads a font file.

mod chart;
mod font;
mod layout;
mod table;

use std::sync::Arc;

use radqc_domain::agreement::{decimals3, AgreementReport, KappaFigure};
use radqc_domain::report::{EvaluationFact, QualityRow, Rate, Report, ScoreCounts};
use radqc_domain::{CriterionCode, Rubric};

pub use font::{find_cjk_font, load_font, FontError, FontFile, FONT_ENV};
use layout::{Align, Face, Pages, ACCENT, BLACK, CONTENT_W, GREY, MARGIN, PAGE_H, PAGE_W, RED_FILL, RED_TEXT};
use layout::{LEADING, RULE, TOTAL_FILL};
use table::{Cell, Column, Table};

/// What the report needs besides its data.
#[derive(Clone)]
pub struct PdfOptions {
    /// A TrueType/OpenType font or collection with Chinese glyphs, and the face to use.
    pub font: Arc<Vec<u8>>,
    pub font_index: u32,
    /// The report's title, e.g. the center's or the department's name with 影像质控月报.
    pub title: String,
    /// Whose data: a site, or the whole region.
    pub scope: String,
    /// When the report was made, as printed (the caller's clock, so tests are exact).
    pub generated_at: String,
}

impl PdfOptions {
    pub fn new(font: &FontFile, title: &str, scope: &str, generated_at: &str) -> PdfOptions {
        PdfOptions {
            font: Arc::new(font.bytes.clone()),
            font_index: font.index,
            title: title.to_owned(),
            scope: scope.to_owned(),
            generated_at: generated_at.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    #[error("the font (face #{index}) cannot be read as TrueType or OpenType")]
    BadFont { index: u32 },
    #[error("the font (face #{index}) has no Chinese glyphs; use a CJK font such as Noto Sans CJK SC")]
    NoChinese { index: u32 },
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

/// The report as a PDF document.
pub fn render(report: &Report, rubric: &Rubric, opts: &PdfOptions) -> Result<Vec<u8>, PdfError> {
    let index = opts.font_index;
    let face = Face::new(opts.font.as_slice(), index).ok_or(PdfError::BadFont { index })?;
    if !face.has_chinese() {
        return Err(PdfError::NoChinese { index });
    }
    let font = krilla::text::Font::new(opts.font.clone().into(), index).ok_or(PdfError::BadFont { index })?;

    let mut pages = Pages::new(face);
    pages.names = report.names();
    title_block(&mut pages, report, rubric, opts);
    indicators(&mut pages, report);
    score_counts(
        &mut pages,
        "图2 质控评分统计（技师）",
        "Figure 2 · Score counts, technologists",
        &report.scores_technologists,
    );
    score_counts(&mut pages, "图2 质控评分统计（医生）", "Figure 2 · Score counts, doctors", &report.scores_doctors);
    deduction_details(&mut pages, &report.deduction_details, rubric);
    deduction_items(&mut pages, report, rubric);
    workload(&mut pages, report);
    quality(
        &mut pages,
        ("图7 技师质量统计", "Figure 7 · Technologist quality"),
        ("图8 技师质量图表展现", "Figure 8 · Technologist quality chart"),
        ("技师", "Technologist"),
        &report.quality_technologists,
    );
    quality(
        &mut pages,
        ("6.5 医生质量统计", "Doctor quality (as figure 7)"),
        ("6.5 医生质量图表展现", "Doctor quality chart (as figure 8)"),
        ("医生", "Doctor"),
        &report.quality_doctors,
    );
    if let Some(a) = &report.agreement {
        agreement(&mut pages, a);
    }
    decorate(&mut pages, report, opts);

    let metadata = krilla::metadata::Metadata::new()
        .title(format!("{} {}", opts.title, report.period))
        .language("zh-CN".into())
        .creator("RadQC".into());
    layout::write(&pages, font, metadata).map_err(PdfError::Write)
}

/// A person as the tables print them (see `Names`).
fn person(pages: &Pages<'_>, site: &str, p: &str) -> String {
    pages.names.person(site, p)
}

fn rate(r: Option<Rate>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| r.to_string())
}

/// A criterion by its code and the rubric's Chinese text.
fn criterion(rubric: &Rubric, code: &str) -> String {
    let text = code.parse::<CriterionCode>().ok().and_then(|c| rubric.criterion(&c)).map(|c| c.text.zh.clone());
    match text {
        Some(t) => format!("{code} {t}"),
        None => code.to_owned(),
    }
}

/// A section heading, kept on the page with at least `keep` points of what follows.
fn heading(pages: &mut Pages<'_>, zh: &str, en: &str, keep: f32) {
    let size = 12.0;
    pages.ensure(size * LEADING + 8.0 + keep);
    pages.y += 4.0;
    let y = pages.y;
    pages.rect(MARGIN, y + 2.0, 3.0, size * LEADING - 4.0, Some(ACCENT), None);
    pages.text(MARGIN + 8.0, CONTENT_W, y, size, ACCENT, true, Align::Left, zh);
    let w = pages.face.width(zh, size);
    pages.text(MARGIN + 16.0 + w, CONTENT_W, y + 2.5, 9.0, GREY, false, Align::Left, en);
    pages.y = y + size * LEADING + 4.0;
}

fn note(pages: &mut Pages<'_>, text: &str) {
    pages.paragraph(7.5, GREY, text);
    pages.y += 3.0;
}

fn no_data(pages: &mut Pages<'_>) {
    pages.paragraph(9.0, GREY, "本期无数据 No data in this period");
    pages.y += 8.0;
}

fn title_block(pages: &mut Pages<'_>, report: &Report, rubric: &Rubric, opts: &PdfOptions) {
    let y = pages.y;
    pages.text(MARGIN, CONTENT_W, y, 20.0, ACCENT, true, Align::Left, &opts.title);
    pages.text(MARGIN, CONTENT_W, y + 28.0, 10.0, GREY, false, Align::Left, "Monthly imaging quality-control report");
    pages.y = y + 48.0;
    let rows = [
        ("统计周期 Period", report.period.clone()),
        ("范围 Scope", opts.scope.clone()),
        ("评分标准 Rubric", format!("{} (version {})", rubric.title.zh, rubric.version)),
        ("生成时间 Generated", opts.generated_at.clone()),
    ];
    for (k, v) in rows {
        let y = pages.y;
        pages.text(MARGIN, 110.0, y, 9.5, GREY, false, Align::Left, k);
        pages.text(MARGIN + 110.0, CONTENT_W - 110.0, y, 9.5, BLACK, false, Align::Left, &v);
        pages.y += 9.5 * LEADING + 2.0;
    }
    pages.y += 4.0;
    note(pages, "依据 T/CSBME《区域远程医学影像中心质量控制标准：图像及诊断报告质控体系》第5章（质控指标）与第6章（质控报表）。Indicators and figures of sections 5 and 6 of the standard.");
    let y = pages.y;
    pages.line(MARGIN, y, MARGIN + CONTENT_W, y, RULE, 0.6);
    pages.y += 8.0;
}

fn indicators(pages: &mut Pages<'_>, report: &Report) {
    heading(pages, "5.1 评估指标", "Indicators", 40.0);
    let ind = &report.indicators;
    let w = CONTENT_W / 3.0;
    Table {
        groups: vec![],
        columns: vec![
            Column::new("抽查例数 Sampled cases", w, Align::Center),
            Column::new("合格例数 Qualified cases", w, Align::Center),
            Column::new("合格率 Qualification rate (%)", w, Align::Center),
        ],
        rows: vec![vec![
            Cell::text(ind.sampled.to_string()),
            Cell::text(ind.qualified.to_string()),
            Cell::text(rate(ind.rate)),
        ]],
    }
    .draw(pages);
    note(pages, "合格率 = 合格例数 / 抽查例数 × 100%，保留一位小数；无抽查例数时显示“—”。Rate = qualified / sampled × 100 %; “—” when no case was sampled.");
    for (zh, en, rows) in ind.breakdowns() {
        heading(pages, &format!("5.1 {zh}"), en, 40.0);
        let w = CONTENT_W / 4.0;
        Table {
            groups: vec![],
            columns: vec![
                Column::new(format!("{zh} {en}"), w, Align::Left),
                Column::new("抽查例数 Sampled", w, Align::Center),
                Column::new("合格例数 Qualified", w, Align::Center),
                Column::new("合格率 Rate (%)", w, Align::Center),
            ],
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        Cell::text(pages.names.breakdown(r)),
                        Cell::text(r.sampled.to_string()),
                        Cell::text(r.qualified.to_string()),
                        Cell::text(rate(r.rate)),
                    ]
                })
                .collect(),
        }
        .draw(pages);
    }
}

/// Figure 2: per person and modality, the counts at 5分 … 1分; failing counts in red; a totals
/// row. Many modalities are split into several tables of at most four.
fn score_counts(pages: &mut Pages<'_>, zh: &str, en: &str, fig: &ScoreCounts) {
    heading(pages, zh, en, 110.0);
    if fig.rows.is_empty() {
        return no_data(pages);
    }
    note(pages, "红色：2分、1分（不合格）的例数。Red: counts of failing scores (2 and 1).");
    for mods in fig.modalities.chunks(4) {
        let person_w = 64.0;
        let w = ((CONTENT_W - person_w) / (5 * mods.len()) as f32).min(30.0);
        let mut columns = vec![Column::new("技师/医生 Person", person_w, Align::Center)];
        let mut groups = vec![(String::new(), 1)];
        for m in mods {
            groups.push((m.clone(), 5));
            columns.extend((1..=5).rev().map(|s| Column::new(format!("{s}分"), w, Align::Center)));
        }
        let mut rows: Vec<Vec<Cell>> = fig
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![Cell::text(person(pages, &row.site, &row.person))];
                for m in mods {
                    match row.cells.get(m) {
                        Some(c) => cells.extend(c.iter().enumerate().map(|(k, n)| {
                            let cell = Cell::text(n.to_string());
                            if k >= 3 && *n > 0 {
                                cell.fill(RED_FILL).color(RED_TEXT)
                            } else {
                                cell
                            }
                        })),
                        None => cells.extend(std::iter::repeat_n(Cell::empty(), 5)),
                    }
                }
                cells
            })
            .collect();
        let mut total = vec![Cell::text("合计 Total").bold().fill(TOTAL_FILL)];
        for m in mods {
            let counts = fig.totals.get(m).copied().unwrap_or_default();
            total.extend(counts.iter().map(|n| Cell::text(n.to_string()).bold().fill(TOTAL_FILL)));
        }
        rows.push(total);
        Table { groups, columns, rows }.draw(pages);
    }
}

/// Figure 3: every evaluation with a deduction, one row each.
fn deduction_details(pages: &mut Pages<'_>, details: &[EvaluationFact], rubric: &Rubric) {
    heading(pages, "图3 质控扣分明细", "Figure 3 · Deduction details", 110.0);
    if details.is_empty() {
        return no_data(pages);
    }
    note(pages, "红色为严重扣分项，黑色为不符合项。Severe deductions in red, unmet compliance criteria in black.");
    let columns = vec![
        Column::new("设备类型 Modality", 42.0, Align::Center),
        Column::new("检查部位 Exam item", 64.0, Align::Left),
        Column::new("医生/技师 Person", 42.0, Align::Center),
        Column::new("质控人 Reviewer", 46.0, Align::Center),
        Column::new("分数 Score", 32.0, Align::Center),
        Column::new("扣分项 Criteria", 186.0, Align::Left),
        Column::new("问题说明 Note", CONTENT_W - 412.0, Align::Left),
    ];
    let rows = details
        .iter()
        .map(|f| {
            let mut criteria = Cell::empty();
            for c in &f.severe {
                criteria.lines.push((format!("[严重] {}", criterion(rubric, c.as_str())), RED_TEXT));
            }
            for c in &f.unmet {
                criteria.lines.push((criterion(rubric, c.as_str()), BLACK));
            }
            let score = f.score.map_or_else(|| f.grade.label_zh().to_owned(), |s| format!("{s}分"));
            let score = if f.grade.passes() { Cell::text(score) } else { Cell::text(score).color(RED_TEXT) };
            vec![
                Cell::text(f.modality.to_string()),
                Cell::text(f.exam_item.clone()),
                Cell::text(f.scored_person.as_ref().map_or(String::new(), |p| person(pages, &f.site, p.as_str()))),
                Cell::text(f.reviewer.to_string()),
                score,
                criteria,
                Cell::text(f.note.clone()),
            ]
        })
        .collect();
    Table { groups: vec![], columns, rows }.draw(pages);
}

/// Figure 4: how often each criterion was deducted, severe first.
fn deduction_items(pages: &mut Pages<'_>, report: &Report, rubric: &Rubric) {
    heading(pages, "图4 质控扣分项目", "Figure 4 · Deducted criteria", 80.0);
    if report.deductions.is_empty() {
        return no_data(pages);
    }
    let columns = vec![
        Column::new("扣分类型 Kind", 80.0, Align::Center),
        Column::new("扣分数 Count", 50.0, Align::Center),
        Column::new("扣分项目 Criterion", CONTENT_W - 130.0, Align::Left),
    ];
    let rows = report
        .deductions
        .iter()
        .map(|d| {
            let severe = d.kind == "severe";
            let kind = if severe { "严重扣分项 Severe" } else { "不符合项 Unmet" };
            let kind = if severe { Cell::text(kind).color(RED_TEXT) } else { Cell::text(kind) };
            vec![kind, Cell::text(d.count.to_string()), Cell::text(criterion(rubric, &d.criterion))]
        })
        .collect();
    Table { groups: vec![], columns, rows }.draw(pages);
}

/// Figures 5 and 6: exams per technologist and modality, as a table and as stacked columns.
fn workload(pages: &mut Pages<'_>, report: &Report) {
    let w = &report.workload;
    heading(pages, "图5 技师工作量统计", "Figure 5 · Technologist workload (exams)", 80.0);
    if w.rows.is_empty() {
        no_data(pages);
    } else {
        let mods = &w.modalities;
        let col = ((CONTENT_W - 130.0) / mods.len().max(1) as f32).min(60.0);
        let mut columns =
            vec![Column::new("技师 Technologist", 70.0, Align::Center), Column::new("合计 Total", 60.0, Align::Center)];
        columns.extend(mods.iter().map(|m| Column::new(m.clone(), col, Align::Center)));
        let groups = vec![(String::new(), 2), ("设备类型 Modality".to_owned(), mods.len())];
        let mut rows: Vec<Vec<Cell>> = w
            .rows
            .iter()
            .map(|r| {
                let mut cells = vec![Cell::text(person(pages, &r.site, &r.person)), Cell::text(r.total.to_string())];
                cells.extend(
                    mods.iter().map(|m| r.by_modality.get(m).map_or_else(Cell::empty, |n| Cell::text(n.to_string()))),
                );
                cells
            })
            .collect();
        let mut total = vec![
            Cell::text("合计 Total").bold().fill(TOTAL_FILL),
            Cell::text(w.total.to_string()).bold().fill(TOTAL_FILL),
        ];
        total.extend(
            mods.iter()
                .map(|m| Cell::text(w.totals.get(m).copied().unwrap_or_default().to_string()).bold().fill(TOTAL_FILL)),
        );
        rows.push(total);
        Table { groups, columns, rows }.draw(pages);
    }

    heading(pages, "图6 技师工作量图表展现", "Figure 6 · Workload chart", 250.0);
    if w.rows.is_empty() {
        return no_data(pages);
    }
    let max = w.rows.iter().map(|r| r.total).max().unwrap_or(0);
    for chunk in w.rows.chunks(chart::COLUMNS_PER_CHART) {
        let categories: Vec<String> = chunk.iter().map(|r| person(pages, &r.site, &r.person)).collect();
        let values: Vec<Vec<u64>> = chunk
            .iter()
            .map(|r| w.modalities.iter().map(|m| r.by_modality.get(m).copied().unwrap_or(0)).collect())
            .collect();
        chart::stacked_columns(pages, "检查数 Exams", &categories, &w.modalities, &values, max);
        pages.y += 8.0;
    }
}

/// Figures 7 and 8 (and 6.5 for doctors): per person, the evaluations received and the shares of
/// each grade, as a table and as 100 % bars.
fn quality(
    pages: &mut Pages<'_>,
    table_title: (&str, &str),
    chart_title: (&str, &str),
    who: (&str, &str),
    rows: &[QualityRow],
) {
    heading(pages, table_title.0, table_title.1, 80.0);
    if rows.is_empty() {
        return no_data(pages);
    }
    let w = (CONTENT_W - 150.0) / 4.0;
    let columns = vec![
        Column::new(format!("{} {}", who.0, who.1), 70.0, Align::Center),
        Column::new("被质控数 Evaluations", 80.0, Align::Center),
        Column::new("优秀率 Excellent (%)", w, Align::Center),
        Column::new("良好率 Good (%)", w, Align::Center),
        Column::new("合格率 Pass (%)", w, Align::Center),
        Column::new("不合格率 Fail (%)", w, Align::Center),
    ];
    let groups = vec![("5分：优秀；4分：良好；3分：合格；2分、1分：不合格".to_owned(), 6)];
    let cells = rows
        .iter()
        .map(|r| {
            let fail = Cell::text(r.fail.to_string());
            let fail = if r.counts[3] > 0 { fail.fill(RED_FILL).color(RED_TEXT) } else { fail };
            vec![
                Cell::text(person(pages, &r.site, &r.person)),
                Cell::text(r.evaluations.to_string()),
                Cell::text(r.excellent.to_string()),
                Cell::text(r.good.to_string()),
                Cell::text(r.pass.to_string()),
                fail,
            ]
        })
        .collect();
    Table { groups, columns, rows: cells }.draw(pages);

    let first = rows.len().min(chart::BARS_PER_CHART);
    heading(pages, chart_title.0, chart_title.1, chart::grade_bars_height(first));
    for chunk in rows.chunks(chart::BARS_PER_CHART) {
        let bars: Vec<(String, [u64; 4], [String; 4])> = chunk
            .iter()
            .map(|r| {
                let rates = [r.excellent, r.good, r.pass, r.fail].map(|x| x.to_string());
                (person(pages, &r.site, &r.person), r.counts, rates)
            })
            .collect();
        chart::grade_bars(pages, ["优秀 Excellent", "良好 Good", "合格 Pass", "不合格 Fail"], &bars);
        pages.y += 8.0;
    }
}

/// A figure's cells: cases, agreed, share and kappa (three decimals; an undefined kappa says
/// why, in grey: 无法计算（无变异）); "—" when the row has no such case.
fn figure_cells(f: Option<&KappaFigure>) -> Vec<Cell> {
    let Some(f) = f else {
        return vec![Cell::text("—").color(GREY); 4];
    };
    let kappa = match f.kappa {
        Some(_) => Cell::text(f.kappa_text()),
        None => Cell::text(f.kappa_text()).color(GREY),
    };
    vec![Cell::text(f.cases.to_string()), Cell::text(f.agreed.to_string()), Cell::text(f.share_text()), kappa]
}

/// The gold standard's reader agreement (7.3.1): the two blind readers by item, modality and
/// pair (the scores' and the verdicts' figures side by side, each with its cases), then each
/// original reviewer against the gold result.
fn agreement(pages: &mut Pages<'_>, a: &AgreementReport) {
    heading(pages, "读片一致性（金标准）", "Reader agreement (gold standard, 7.3.1)", 80.0);
    note(
        pages,
        &format!(
            "金标准病例数 Gold cases: {}。评分项目（1-5分）：两位盲读者的一致率与二次加权 Cohen's kappa（类别固定为1-5分）；\
             申请单：合格/不合格的一致率与非加权 kappa。两位读者对全部病例给出同一类别时无变异，kappa 无法计算。",
            a.cases
        ),
    );
    note(
        pages,
        "Scores: exact agreement and quadratic-weighted kappa of the two blind readers over 1-5; application form: \
         agreement and unweighted kappa of pass / fail. Kappa is undefined (无法计算（无变异）) when both readers gave \
         one and the same category throughout.",
    );
    if a.cases == 0 {
        return no_data(pages);
    }
    // Kappa columns wide enough for 无法计算（无变异） on one line.
    let (key_w, count_w, share_w) = (95.0, 36.0, 48.0);
    let kappa_w = (CONTENT_W - key_w) / 2.0 - 2.0 * count_w - share_w;
    let figure_columns = |kappa: &str| {
        vec![
            Column::new("例数 Cases", count_w, Align::Center),
            Column::new("一致 Agreed", count_w, Align::Center),
            Column::new("一致率 Share", share_w, Align::Center),
            Column::new(kappa.to_owned(), kappa_w, Align::Center),
        ]
    };
    for (zh, en, key, rows) in a.breakdowns() {
        heading(pages, &format!("读片一致性 {zh}"), en, 60.0);
        let mut columns = vec![Column::new(key, key_w, Align::Left)];
        columns.extend(figure_columns("加权κ Weighted κ"));
        columns.extend(figure_columns("κ Kappa"));
        let groups = vec![
            (String::new(), 1),
            ("评分（1-5分） Scores".to_owned(), 4),
            ("申请单（合格/不合格） Verdicts".to_owned(), 4),
        ];
        let rows = rows
            .iter()
            .map(|r| {
                let mut cells = vec![Cell::text(r.key.clone())];
                cells.extend(figure_cells(r.scores.as_ref()));
                cells.extend(figure_cells(r.verdicts.as_ref()));
                cells
            })
            .collect();
        Table { groups, columns, rows }.draw(pages);
    }
    heading(pages, "读片一致性 质控人偏差", "Reviewer bias (original − gold)", 60.0);
    note(pages, "平均差 = 原始质控分 − 金标准分：正值偏松，负值偏严。Mean difference = original − gold score: positive is too mild, negative too harsh.");
    let w = (CONTENT_W - key_w) / 5.0;
    let columns = vec![
        Column::new("质控人 Reviewer", key_w, Align::Left),
        Column::new("评分例数 Score cases", w, Align::Center),
        Column::new("平均差 Mean difference", w, Align::Center),
        Column::new("偏严 Harsher", w, Align::Center),
        Column::new("偏松 Milder", w, Align::Center),
        Column::new("判定例数 Verdict cases", w, Align::Center),
    ];
    let rows = a
        .reviewers
        .iter()
        .map(|b| {
            vec![
                Cell::text(b.reviewer.clone()),
                Cell::text(b.cases.to_string()),
                Cell::text(b.mean_difference.map_or_else(|| "—".to_owned(), decimals3)),
                Cell::text(b.harsher.to_string()),
                Cell::text(b.milder.to_string()),
                Cell::text(b.verdict_cases.to_string()),
            ]
        })
        .collect();
    Table { groups: vec![], columns, rows }.draw(pages);
}

/// The header (title, period, scope) and the footer (generated at, page i of n) of every page.
fn decorate(pages: &mut Pages<'_>, report: &Report, opts: &PdfOptions) {
    let n = pages.pages.len();
    let left = format!("{} · 影像质控月报", opts.title);
    let right = format!("统计周期 {} · {}", report.period, opts.scope);
    let generated = format!("生成时间 Generated {}", opts.generated_at);
    for i in 0..n {
        let ops = std::mem::take(&mut pages.pages[i]);
        pages.pages[i] = Vec::new();
        let saved = std::mem::replace(&mut pages.pages, vec![Vec::new()]);
        let w = CONTENT_W;
        pages.text(MARGIN, w, 26.0, 8.0, GREY, false, Align::Left, &left);
        pages.text(MARGIN, w, 26.0, 8.0, GREY, false, Align::Right, &right);
        pages.line(MARGIN, 42.0, PAGE_W - MARGIN, 42.0, RULE, 0.6);
        pages.line(MARGIN, PAGE_H - 40.0, PAGE_W - MARGIN, PAGE_H - 40.0, RULE, 0.6);
        pages.text(MARGIN, w, PAGE_H - 36.0, 8.0, GREY, false, Align::Left, &generated);
        let page = format!("第 {} 页 / 共 {} 页  Page {} of {}", i + 1, n, i + 1, n);
        pages.text(MARGIN, w, PAGE_H - 36.0, 8.0, GREY, false, Align::Right, &page);
        let extra = std::mem::replace(&mut pages.pages, saved).pop().unwrap_or_default();
        pages.pages[i] = ops.into_iter().chain(extra).collect();
    }
}
