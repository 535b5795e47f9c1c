//! The report as an XLSX workbook, one sheet per view, laid out as the standard's figures:
//! figure 2 with a merged header per modality over 5分 … 1分 and failing cells in red; and the
//! gold standard's reader agreement (读片一致性 Agreement) when the report has it.

use radqc_domain::agreement::{AgreementReport, KappaFigure};
use radqc_domain::report::{Names, QualityRow, Report, ScoreCounts};
use radqc_domain::Rubric;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

struct Styles {
    title: Format,
    head: Format,
    cell: Format,
    total: Format,
    red: Format,
    /// Agreement shares and kappas: the full value, shown with three decimals.
    decimal: Format,
}

fn styles() -> Styles {
    let base = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
    Styles {
        title: Format::new().set_bold().set_font_size(13),
        head: base.clone().set_bold().set_background_color(Color::RGB(0xDDEBF7)),
        cell: base.clone(),
        total: base.clone().set_bold(),
        decimal: base.clone().set_num_format("0.000"),
        red: base.set_background_color(Color::RGB(0xF8CBAD)).set_font_color(Color::RGB(0x9C0006)),
    }
}

fn score_sheet(ws: &mut Worksheet, s: &Styles, title: &str, fig: &ScoreCounts, names: Names) -> Result<(), XlsxError> {
    ws.write_with_format(0, 0, title, &s.title)?;
    ws.merge_range(1, 0, 2, 0, "技师/医生", &s.head)?;
    for (i, m) in fig.modalities.iter().enumerate() {
        let c = 1 + 5 * i as u16;
        ws.merge_range(1, c, 1, c + 4, m, &s.head)?;
        for k in 0..5u16 {
            ws.write_with_format(2, c + k, format!("{}分", 5 - k), &s.head)?;
        }
    }
    let mut row = 3u32;
    for p in &fig.rows {
        ws.write_with_format(row, 0, names.person(&p.site, &p.person), &s.cell)?;
        for (i, m) in fig.modalities.iter().enumerate() {
            let c = 1 + 5 * i as u16;
            match p.cells.get(m) {
                Some(counts) => {
                    for (k, n) in counts.iter().enumerate() {
                        let style = if k >= 3 && *n > 0 { &s.red } else { &s.cell };
                        ws.write_with_format(row, c + k as u16, *n as f64, style)?;
                    }
                }
                None => {
                    for k in 0..5 {
                        ws.write_blank(row, c + k, &s.cell)?;
                    }
                }
            }
        }
        row += 1;
    }
    ws.write_with_format(row, 0, "合计", &s.total)?;
    for (i, m) in fig.modalities.iter().enumerate() {
        for (k, n) in fig.totals[m].iter().enumerate() {
            ws.write_with_format(row, 1 + 5 * i as u16 + k as u16, *n as f64, &s.total)?;
        }
    }
    Ok(())
}

fn quality_sheet(
    ws: &mut Worksheet,
    s: &Styles,
    title: &str,
    who: &str,
    rows: &[QualityRow],
    names: Names,
) -> Result<(), XlsxError> {
    ws.write_with_format(0, 0, title, &s.title)?;
    ws.merge_range(1, 0, 1, 5, "5分：优秀；4分：良好；3分：合格；2分、1分：不合格", &s.head)?;
    for (c, h) in [who, "被质控数", "优秀率(%)", "良好率(%)", "合格率(%)", "不合格率(%)"].iter().enumerate()
    {
        ws.write_with_format(2, c as u16, *h, &s.head)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = 3 + i as u32;
        ws.write_with_format(row, 0, names.person(&r.site, &r.person), &s.cell)?;
        ws.write_with_format(row, 1, r.evaluations as f64, &s.cell)?;
        for (c, rate) in [r.excellent, r.good, r.pass, r.fail].iter().enumerate() {
            ws.write_with_format(row, 2 + c as u16, f64::from(rate.tenths()) / 10.0, &s.cell)?;
        }
    }
    ws.set_column_width(0, 12)?;
    Ok(())
}

/// A figure's four cells from `col`: cases, agreed, share, kappa (or why it is undefined); "—"
/// when the row has no such case.
fn figure_cells(ws: &mut Worksheet, s: &Styles, row: u32, col: u16, f: Option<&KappaFigure>) -> Result<(), XlsxError> {
    let Some(f) = f else {
        for c in 0..4 {
            ws.write_with_format(row, col + c, "—", &s.cell)?;
        }
        return Ok(());
    };
    ws.write_with_format(row, col, f.cases as f64, &s.cell)?;
    ws.write_with_format(row, col + 1, f.agreed as f64, &s.cell)?;
    match f.share {
        Some(x) => ws.write_with_format(row, col + 2, x, &s.decimal)?,
        None => ws.write_with_format(row, col + 2, "—", &s.cell)?,
    };
    match f.kappa {
        Some(k) => ws.write_with_format(row, col + 3, k, &s.decimal)?,
        None => ws.write_with_format(row, col + 3, f.kappa_text(), &s.cell)?,
    };
    Ok(())
}

/// The gold standard's reader agreement (7.3.1): the breakdowns, each with the scores' and the
/// verdicts' figures side by side, then each reviewer's bias.
fn agreement_sheet(ws: &mut Worksheet, s: &Styles, a: &AgreementReport) -> Result<(), XlsxError> {
    ws.write_with_format(
        0,
        0,
        format!("读片一致性（金标准） Reader agreement (gold standard) {}", a.period),
        &s.title,
    )?;
    ws.write_with_format(1, 0, "金标准病例数 Gold cases", &s.head)?;
    ws.write_with_format(1, 1, a.cases as f64, &s.cell)?;
    let mut row = 3u32;
    let figure_heads = ["例数 Cases", "一致例数 Agreed", "一致率 Agreement"];
    for (zh, en, key, rows) in a.breakdowns() {
        ws.write_with_format(row, 0, format!("{zh} {en}"), &s.title)?;
        ws.merge_range(row + 1, 0, row + 2, 0, key, &s.head)?;
        ws.merge_range(row + 1, 1, row + 1, 4, "评分（1-5分） Scores", &s.head)?;
        ws.merge_range(row + 1, 5, row + 1, 8, "申请单（合格/不合格） Verdicts", &s.head)?;
        for (c, h) in figure_heads
            .iter()
            .chain(&["加权κ（二次） Weighted kappa"])
            .chain(&figure_heads)
            .chain(&["κ Kappa"])
            .enumerate()
        {
            ws.write_with_format(row + 2, 1 + c as u16, *h, &s.head)?;
        }
        row += 3;
        for r in rows {
            ws.write_with_format(row, 0, &r.key, &s.cell)?;
            figure_cells(ws, s, row, 1, r.scores.as_ref())?;
            figure_cells(ws, s, row, 5, r.verdicts.as_ref())?;
            row += 1;
        }
        row += 1;
    }
    ws.write_with_format(row, 0, "质控人偏差（原始质控 − 金标准） Reviewer bias (original − gold)", &s.title)?;
    let heads = ["质控人 Reviewer", "评分例数 Score cases", "平均差 Mean difference", "偏严 Harsher", "偏松 Milder"];
    for (c, h) in heads.iter().chain(&["判定例数 Verdict cases"]).enumerate() {
        ws.write_with_format(row + 1, c as u16, *h, &s.head)?;
    }
    row += 2;
    for b in &a.reviewers {
        ws.write_with_format(row, 0, &b.reviewer, &s.cell)?;
        ws.write_with_format(row, 1, b.cases as f64, &s.cell)?;
        match b.mean_difference {
            Some(m) => ws.write_with_format(row, 2, m, &s.decimal)?,
            None => ws.write_with_format(row, 2, "—", &s.cell)?,
        };
        for (c, n) in [b.harsher, b.milder, b.verdict_cases].iter().enumerate() {
            ws.write_with_format(row, 3 + c as u16, *n as f64, &s.cell)?;
        }
        row += 1;
    }
    ws.set_column_width(0, 30)?;
    for c in 1..9 {
        ws.set_column_width(c, 16)?;
    }
    Ok(())
}

/// Writes the workbook to bytes.
pub fn workbook(r: &Report, rubric: &Rubric) -> Result<Vec<u8>, XlsxError> {
    let names = r.names();
    let s = styles();
    let mut wb = Workbook::new();
    let named = |code: &str| -> String {
        let text = code.parse().ok().and_then(|c| rubric.criterion(&c)).map_or("", |c| c.text.zh.as_str());
        format!("{code} {text}")
    };

    let ws = wb.add_worksheet().set_name("5.1 评估指标")?;
    ws.write_with_format(0, 0, format!("评估指标 {}", r.period), &s.title)?;
    for (c, h) in ["抽查例数", "合格例数", "合格率(%)"].iter().enumerate() {
        ws.write_with_format(1, c as u16, *h, &s.head)?;
    }
    ws.write_with_format(2, 0, r.indicators.sampled as f64, &s.cell)?;
    ws.write_with_format(2, 1, r.indicators.qualified as f64, &s.cell)?;
    let rate = |ws: &mut Worksheet, row: u32, col: u16, rate: Option<radqc_domain::report::Rate>| match rate {
        Some(rate) => ws.write_with_format(row, col, f64::from(rate.tenths()) / 10.0, &s.cell).map(|_| ()),
        None => ws.write_with_format(row, col, "—", &s.cell).map(|_| ()),
    };
    rate(ws, 2, 2, r.indicators.rate)?;
    let mut row = 4u32;
    for (zh, _, rows) in r.indicators.breakdowns() {
        ws.write_with_format(row, 0, zh, &s.title)?;
        for (c, h) in [zh, "抽查例数", "合格例数", "合格率(%)"].iter().enumerate() {
            ws.write_with_format(row + 1, c as u16, *h, &s.head)?;
        }
        row += 2;
        for b in rows {
            ws.write_with_format(row, 0, names.breakdown(b), &s.cell)?;
            ws.write_with_format(row, 1, b.sampled as f64, &s.cell)?;
            ws.write_with_format(row, 2, b.qualified as f64, &s.cell)?;
            rate(ws, row, 3, b.rate)?;
            row += 1;
        }
        row += 1;
    }
    ws.set_column_width(0, 14)?;

    score_sheet(
        wb.add_worksheet().set_name("图2 技师评分")?,
        &s,
        "图2 质控评分统计（技师）",
        &r.scores_technologists,
        names,
    )?;
    score_sheet(
        wb.add_worksheet().set_name("图2 医生评分")?,
        &s,
        "图2 质控评分统计（医生）",
        &r.scores_doctors,
        names,
    )?;

    let ws = wb.add_worksheet().set_name("图3 扣分明细")?;
    ws.write_with_format(0, 0, "图3 质控扣分明细", &s.title)?;
    for (c, h) in
        ["设备类型", "检查部位", "医生/技师", "质控人", "分数", "不符合项", "严重扣分项", "问题说明"].iter().enumerate()
    {
        ws.write_with_format(1, c as u16, *h, &s.head)?;
    }
    for (i, f) in r.deduction_details.iter().enumerate() {
        let row = 2 + i as u32;
        let list =
            |v: &[radqc_domain::CriterionCode]| v.iter().map(|c| named(c.as_str())).collect::<Vec<_>>().join("\n");
        let score = f.score.map_or(f.grade.label_zh().to_owned(), |x| format!("{x}分"));
        for (c, v) in [
            f.modality.to_string(),
            f.exam_item.clone(),
            f.scored_person.as_ref().map_or(String::new(), |p| names.person(&f.site, p.as_str())),
            f.reviewer.to_string(),
            score,
            list(&f.unmet),
            list(&f.severe),
            f.note.clone(),
        ]
        .iter()
        .enumerate()
        {
            ws.write_with_format(row, c as u16, v, &s.cell)?;
        }
    }
    ws.set_column_width(5, 48)?;
    ws.set_column_width(6, 40)?;

    let ws = wb.add_worksheet().set_name("图4 扣分项目")?;
    ws.write_with_format(0, 0, "图4 质控扣分项目", &s.title)?;
    for (c, h) in ["扣分类型", "扣分数", "扣分项目"].iter().enumerate() {
        ws.write_with_format(1, c as u16, *h, &s.head)?;
    }
    for (i, d) in r.deductions.iter().enumerate() {
        let row = 2 + i as u32;
        ws.write_with_format(row, 0, if d.kind == "severe" { "严重扣分项" } else { "不符合项" }, &s.cell)?;
        ws.write_with_format(row, 1, d.count as f64, &s.cell)?;
        ws.write_with_format(row, 2, named(&d.criterion), &s.cell)?;
    }
    ws.set_column_width(2, 70)?;

    let ws = wb.add_worksheet().set_name("图5 技师工作量")?;
    ws.write_with_format(0, 0, "图5 技师工作量统计", &s.title)?;
    let mods = &r.workload.modalities;
    ws.merge_range(1, 0, 2, 0, "技师", &s.head)?;
    ws.merge_range(1, 1, 2, 1, "合计", &s.head)?;
    match mods.len() {
        0 => {}
        1 => {
            ws.write_with_format(1, 2, "设备类型", &s.head)?;
        }
        n => {
            ws.merge_range(1, 2, 1, 1 + n as u16, "设备类型", &s.head)?;
        }
    }
    for (i, m) in mods.iter().enumerate() {
        ws.write_with_format(2, 2 + i as u16, m, &s.head)?;
    }
    let mut row = 3u32;
    for w in &r.workload.rows {
        ws.write_with_format(row, 0, names.person(&w.site, &w.person), &s.cell)?;
        ws.write_with_format(row, 1, w.total as f64, &s.cell)?;
        for (i, m) in mods.iter().enumerate() {
            match w.by_modality.get(m) {
                Some(n) => ws.write_with_format(row, 2 + i as u16, *n as f64, &s.cell)?,
                None => ws.write_blank(row, 2 + i as u16, &s.cell)?,
            };
        }
        row += 1;
    }
    ws.write_with_format(row, 0, "合计", &s.total)?;
    ws.write_with_format(row, 1, r.workload.total as f64, &s.total)?;
    for (i, m) in mods.iter().enumerate() {
        ws.write_with_format(row, 2 + i as u16, r.workload.totals[m] as f64, &s.total)?;
    }

    quality_sheet(
        wb.add_worksheet().set_name("图7 技师质量")?,
        &s,
        "图7 技师质量统计",
        "技师",
        &r.quality_technologists,
        names,
    )?;
    quality_sheet(
        wb.add_worksheet().set_name("6.5 医生质量")?,
        &s,
        "6.5 医生数据展现",
        "医生",
        &r.quality_doctors,
        names,
    )?;
    if let Some(a) = &r.agreement {
        agreement_sheet(wb.add_worksheet().set_name("读片一致性 Agreement")?, &s, a)?;
    }
    wb.save_to_buffer()
}
