//! The report as CSV: one section per view, titled as the standard titles its figures, and the
//! gold standard's reader agreement when the report has it.

use std::fmt::Write as _;

use radqc_domain::agreement::{decimals3, AgreementReport, KappaFigure};
use radqc_domain::report::{Names, QualityRow, Report, ScoreCounts};

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn score_table(out: &mut String, title: &str, fig: &ScoreCounts, names: Names) {
    let _ = writeln!(out, "{title}");
    let mut head = vec!["人员".to_owned()];
    for m in &fig.modalities {
        head.extend((1..=5).rev().map(|s| format!("{m} {s}分")));
    }
    let _ = writeln!(out, "{}", head.join(","));
    for row in &fig.rows {
        let mut cells = vec![field(&names.person(&row.site, &row.person))];
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

fn quality_table(out: &mut String, title: &str, rows: &[QualityRow], names: Names) {
    let _ = writeln!(out, "{title}\n人员,被质控数,优秀率(%),良好率(%),合格率(%),不合格率(%)");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            field(&names.person(&r.site, &r.person)),
            r.evaluations,
            r.excellent,
            r.good,
            r.pass,
            r.fail
        );
    }
    out.push('\n');
}

/// A figure's cells: cases, agreed, share, kappa (three decimals, or why it is undefined);
/// empty when the row has no such case.
fn figure_cells(f: Option<&KappaFigure>) -> String {
    match f {
        Some(f) => format!("{},{},{},{}", f.cases, f.agreed, f.share_text(), field(&f.kappa_text())),
        None => ",,,".to_owned(),
    }
}

/// The gold standard's reader agreement (7.3.1): each breakdown, then each reviewer's bias.
fn agreement(out: &mut String, a: &AgreementReport) {
    let _ = writeln!(
        out,
        "读片一致性（金标准） Reader agreement (gold standard) {}\n金标准病例数 Gold cases,{}\n",
        a.period, a.cases
    );
    for (zh, en, key, rows) in a.breakdowns() {
        let _ = writeln!(
            out,
            "读片一致性 {zh} {en}\n{key},评分例数 Score cases,评分一致例数 Scores agreed,评分一致率 Score agreement,\
             加权κ（二次） Weighted kappa (quadratic),判定例数 Verdict cases,判定一致例数 Verdicts agreed,\
             判定一致率 Verdict agreement,κ（合格/不合格） Kappa (pass/fail)"
        );
        for r in rows {
            let (scores, verdicts) = (figure_cells(r.scores.as_ref()), figure_cells(r.verdicts.as_ref()));
            let _ = writeln!(out, "{},{scores},{verdicts}", field(&r.key));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "读片一致性 质控人偏差（原始质控 − 金标准） Reviewer bias (original − gold)\n\
         质控人 Reviewer,评分例数 Score cases,平均差 Mean difference,偏严 Harsher,偏松 Milder,判定例数 Verdict cases"
    );
    for b in &a.reviewers {
        let mean = b.mean_difference.map_or_else(|| "—".to_owned(), decimals3);
        let _ =
            writeln!(out, "{},{},{mean},{},{},{}", field(&b.reviewer), b.cases, b.harsher, b.milder, b.verdict_cases);
    }
    out.push('\n');
}

pub fn csv(r: &Report, rubric: &radqc_domain::Rubric) -> String {
    let names = r.names();
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
            let _ = writeln!(out, "{},{},{},{}", field(&names.breakdown(b)), b.sampled, b.qualified, rate);
        }
        out.push('\n');
    }
    score_table(&mut out, "图2 质控评分统计（技师）", &r.scores_technologists, names);
    score_table(&mut out, "图2 质控评分统计（医生）", &r.scores_doctors, names);
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
            field(&f.scored_person.as_ref().map_or(String::new(), |p| names.person(&f.site, p.as_str()))),
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
        let _ = writeln!(out, "{},{},{}", field(&names.person(&row.site, &row.person)), row.total, cells.join(","));
    }
    let totals: Vec<String> = r.workload.modalities.iter().map(|m| r.workload.totals[m].to_string()).collect();
    let _ = writeln!(out, "合计,{},{}\n", r.workload.total, totals.join(","));
    quality_table(&mut out, "图7 技师质量统计", &r.quality_technologists, names);
    quality_table(&mut out, "6.5 医生质量统计", &r.quality_doctors, names);
    if let Some(a) = &r.agreement {
        agreement(&mut out, a);
    }
    out
}
