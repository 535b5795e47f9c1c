//! The PDF report rendered with the machine's CJK font and read back with poppler's tools, as a
//! person's PDF viewer would: the text (Chinese headings, person codes, exact rates), the page
//! count, the embedded subset font and the file size; and the gold standard's agreement section.

use std::path::{Path, PathBuf};
use std::process::Command;

use radqc_domain::agreement::{AgreementReport, GoldOutcome, GoldReadOutcome};
use radqc_domain::report::{EvaluationFact, Report, ReportFilter, WorkFact};
use radqc_domain::{Rubric, Score};
use radqc_pdf::{find_cjk_font, load_font, render, FontError, PdfError, PdfOptions};

fn work_fact(person: &str, modality: &str) -> WorkFact {
    WorkFact {
        site: "NJGL".into(),
        department: Some("放射科".into()),
        person: person.parse().unwrap(),
        modality: modality.parse().unwrap(),
        performed_at: "2026-11-09T08:00:00.000Z".into(),
    }
}

const GENERATED_AT: &str = "2026-12-01 08:00 UTC";

fn fact(person: &str, modality: &str, item: &str, score: u8) -> EvaluationFact {
    let s = Score::new(score).unwrap();
    EvaluationFact {
        id: format!("{person}-{modality}-{item}-{score}"),
        reporting_doctor: None,
        general_data_complete: true,
        mode: radqc_domain::QcMode::Random,
        rubric_version: Rubric::bundled().version.clone(),
        at: "2026-11-10T08:00:00.000Z".into(),
        site: "NJGL".into(),
        department: Some("放射科".into()),
        accession: format!("{person}-{modality}-{item}-{score}"),
        modality: modality.parse().unwrap(),
        exam_item: "CT胸部平扫".into(),
        item: item.parse().unwrap(),
        scored_person: Some(person.parse().unwrap()),
        reviewer: "Q1".parse().unwrap(),
        score: Some(s),
        grade: s.grade(),
        severe: vec![],
        unmet: vec![],
        note: String::new(),
    }
}

/// Figure 7 of the standard (counts of excellent, good, pass, fail per technologist), as
/// `radqc-domain`'s golden test has it: the PDF must print its rates, 6.2 included.
const FIGURE_7: &[(&str, [u64; 4])] = &[
    ("A1", [4, 0, 0, 0]),
    ("A2", [3, 0, 0, 0]),
    ("A3", [18, 1, 0, 0]),
    ("A4", [12, 1, 0, 0]),
    ("A5", [9, 1, 0, 0]),
    ("A6", [15, 1, 1, 0]),
    ("A7", [7, 1, 0, 0]),
    ("A8", [14, 1, 1, 0]),
    ("A9", [11, 2, 0, 0]),
    ("A10", [40, 4, 3, 1]),
];

/// Figure 5 of the standard: exams per technologist and modality.
const FIGURE_5: &[(&str, &[(&str, u64)])] = &[
    ("A1", &[("DR", 2313)]),
    ("A2", &[("CT", 564), ("DR", 519)]),
    ("A3", &[("CT", 364), ("DR", 429)]),
    ("A5", &[("CT", 732), ("DR", 19)]),
    ("A6", &[("DR", 751)]),
    ("A7", &[("MR", 177), ("CT", 367), ("DR", 204)]),
    ("A8", &[("CT", 591), ("DR", 143)]),
    ("A9", &[("CT", 725)]),
    ("A10", &[("CT", 314), ("DR", 383)]),
    ("A11", &[("MR", 337), ("CT", 337), ("DR", 8)]),
];

/// A month with the standard's figures 5 and 7, doctors' report scores (one failing case), and
/// enough deductions that figure 3 runs over several pages.
fn month() -> Report {
    let mut facts = Vec::new();
    for (person, counts) in FIGURE_7 {
        for (k, n) in counts.iter().enumerate() {
            for i in 0..*n {
                let modality = if i % 3 == 0 { "DR" } else { "CT" };
                let mut f = fact(person, modality, "IQ", [5, 4, 3, 2][k]);
                f.accession = format!("{person}-{k}-{i}");
                if k == 1 {
                    f.unmet = vec!["IQ-C5".parse().unwrap()];
                    f.note = "体位不正，左右标记缺失".into();
                }
                if k == 3 {
                    f.severe = vec!["IQ-S2".parse().unwrap()];
                    f.note = "原片局部不清，已重拍".into();
                }
                facts.push(f);
            }
        }
    }
    for i in 0..40 {
        let mut f = fact(if i % 2 == 0 { "D1" } else { "D2" }, "CT", "RQ", 4);
        f.accession = format!("RQ{i}");
        f.unmet = vec!["RQ-C2".parse().unwrap(), "RQ-C4".parse().unwrap()];
        f.note = format!("第{i}例：描述不完整，未写明病变大小与周围组织关系");
        facts.push(f);
    }
    let mut missed = fact("D2", "MR", "RQ", 1);
    missed.severe = vec!["RQ-S1".parse().unwrap()];
    missed.accession = "RQ-missed".into();
    facts.push(missed);
    let work: Vec<WorkFact> = FIGURE_5
        .iter()
        .flat_map(|(person, cells)| cells.iter().flat_map(move |(m, n)| (0..*n).map(move |_| work_fact(person, m))))
        .collect();
    Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &facts, &work, None)
}

/// The machine's CJK font: `scripts/setup.sh` installs fonts-noto-cjk, so a missing font fails.
fn system_font() -> radqc_pdf::FontFile {
    find_cjk_font().unwrap_or_else(|e| panic!("the PDF tests need a CJK font (run scripts/setup.sh): {e}"))
}

fn options() -> PdfOptions {
    PdfOptions::new(&system_font(), "南京鼓楼医院放射科", "站点 Site NJGL", GENERATED_AT)
}

/// Runs a poppler tool on a file; a missing tool fails the test with what to install.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(if tool == "pdftotext" { &["-"][..] } else { &[][..] })
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}): install poppler-utils (scripts/setup.sh)"));
    assert!(out.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Writes the PDF where the build keeps test files (kept for a look: `pdftoppm -png`).
fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Collapses runs of spaces, so table cells compare as "A10 48 83.3 8.3 6.2 2.1".
fn squeeze(text: &str) -> String {
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_month_reads_back_with_its_chinese_headings_and_exact_numbers() {
    let report = month();
    let bytes = render(&report, Rubric::bundled(), &options()).expect("the report renders");
    let pdf = write("report-2026-11.pdf", &bytes);
    let text = squeeze(&poppler("pdftotext", &["-layout"], &pdf));

    for heading in [
        "南京鼓楼医院放射科",
        "5.1 评估指标",
        "图2 质控评分统计（技师）",
        "图2 质控评分统计（医生）",
        "图3 质控扣分明细",
        "图4 质控扣分项目",
        "图5 技师工作量统计",
        "图6 技师工作量图表展现",
        "图7 技师质量统计",
        "图8 技师质量图表展现",
        "6.5 医生质量统计",
        "合格率 Qualification rate",
    ] {
        assert!(text.contains(heading), "heading {heading:?} is in the text:\n{text}");
    }
    // Section 5.1: 41 cases with a report evaluation, the 40 scored 4 qualify.
    let ind = &report.indicators;
    assert_eq!((ind.sampled, ind.qualified), (41, 40));
    assert!(text.contains("41 40 97.6"), "the indicators row: sampled, qualified, rate");
    assert!(text.contains("5.1 按科室") && text.contains("放射科 41 40 97.6"), "5.1 by department");
    assert!(text.contains("CT 40 40 100") && text.contains("MR 1 0 0"), "5.1 by modality");
    // Figure 7 as the standard prints it, row by row (its 6.2 is 1 of 16, half to even).
    for row in [
        "A3 19 94.7 5.3 0 0",
        "A6 17 88.2 5.9 5.9 0",
        "A7 8 87.5 12.5 0 0",
        "A8 16 87.5 6.2 6.2 0",
        "A10 48 83.3 8.3 6.2 2.1",
    ] {
        assert!(text.contains(row), "figure 7 row {row:?}");
    }
    // Figure 5: most work first, blank cells blank, and the totals row.
    assert!(text.contains("A1 2313 2313"), "A1: DR only");
    assert!(text.contains("A11 682 337 337 8") || text.contains("A11 682 337 8 337"), "A11 by modality");
    assert!(text.contains("合计 Total 9277"), "the workload total");
    // Figures 3 and 4 name criteria by the rubric's text; severe deductions are marked.
    assert!(text.contains("RQ-S1 主要阳性病变漏诊或误诊"), "criterion text from the rubric");
    assert!(text.contains("[严重] IQ-S2"), "a severe deduction in figure 3");
    assert!(text.contains("原片局部不清"), "the reviewer's note");
    // Figure 3 runs over pages, and its header is repeated on each.
    let pages: usize = poppler("pdfinfo", &[], &pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints Pages:");
    assert!((6..=14).contains(&pages), "a month like this fits in a few pages, not {pages}");
    assert!(text.contains(&format!("第 {pages} 页 / 共 {pages} 页")), "every page says how many there are");
    assert!(text.contains(&format!("Page 1 of {pages}")), "page numbers in English too");
    assert!(text.matches("扣分项 Criteria").count() >= 2, "figure 3's header repeats on its next page");
    assert!(text.matches("统计周期 2026-11 · 站点 Site NJGL").count() == pages, "the header on every page");
    assert!(text.contains(GENERATED_AT), "the generated-at time");

    // The font: one embedded subset (ABCDEF+Name), not the whole 20 MB collection.
    let fonts = poppler("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "a font is used: {fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+', "a subset font's name has a tag: {row}");
        assert!(row.contains(" yes yes yes "), "embedded, subset, with ToUnicode: {row}\n{fonts}");
    }
    assert!(bytes.len() < 400 * 1024, "the PDF is {} bytes: the font must be subset", bytes.len());
}

#[test]
fn an_empty_month_says_so_and_prints_no_rate() {
    let report = Report::build(Rubric::bundled(), "2026-02".into(), ReportFilter::default(), &[], &[], None);
    let bytes = render(&report, Rubric::bundled(), &options()).expect("an empty month renders");
    let pdf = write("report-empty.pdf", &bytes);
    let text = squeeze(&poppler("pdftotext", &["-layout"], &pdf));
    assert!(text.contains("0 0 —"), "no sampled case: the rate is “—”, never 0 or 100:\n{text}");
    assert!(text.matches("本期无数据").count() >= 6, "each empty figure says there is no data");
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let report = month();
    let opts = options();
    let a = render(&report, Rubric::bundled(), &opts).unwrap();
    let b = render(&report, Rubric::bundled(), &opts).unwrap();
    assert!(a == b, "rendering is deterministic (fixed generated-at time, no clock inside)");
}

#[test]
fn fonts_that_cannot_print_chinese_are_refused_clearly() {
    let report = month();
    let mut opts = options();
    opts.font = std::sync::Arc::new(b"not a font at all".to_vec());
    assert!(matches!(render(&report, Rubric::bundled(), &opts), Err(PdfError::BadFont { .. })));

    let font = system_font();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("x.ttf");
    std::fs::write(&garbage, b"nope").unwrap();
    let check = |spec: String, want: &str| {
        let err = load_font(&spec).expect_err("refused");
        assert!(err.to_string().contains(want), "{spec}: {err}");
    };
    check(garbage.display().to_string(), "is not a font file");
    check(format!("{}#99", font.path.display()), "has no face #99");
    check(format!("{}#x", font.path.display()), "invalid font index");
    check(dir.path().join("none.ttc").display().to_string(), "cannot read the font file");
    let missing = FontError::NotFound { looked: "/a".into() }.to_string();
    assert!(missing.contains("fonts-noto-cjk") && missing.contains("RADQC_PDF_FONT"), "{missing}");
}

#[test]
fn a_collection_gives_its_simplified_chinese_face() {
    let font = system_font();
    if font.path.extension().is_some_and(|e| e == "ttc") && font.path.to_string_lossy().contains("NotoSansCJK") {
        assert_eq!(font.index, 2, "Noto Sans CJK's collection holds JP, KR, SC, TC, HK: SC is #2");
        let explicit = load_font(&format!("{}#2", font.path.display())).unwrap();
        assert_eq!(explicit.index, 2);
    }
}

#[test]
fn a_large_region_splits_wide_tables_and_long_charts() {
    // 45 technologists on 6 modalities: figure 2 splits its modalities over two tables, figure 6
    // over three charts of at most 20 columns, figure 8 over two of at most 30 bars.
    let modalities = ["CT", "DR", "MR", "MG", "RF", "XA"];
    let mut facts = Vec::new();
    let mut work = Vec::new();
    for p in 1..=45u8 {
        let person = format!("A{p}");
        for (i, m) in modalities.iter().enumerate() {
            let score = 1 + (p as usize + i) % 5;
            facts.push(fact(&person, m, "IQ", score as u8));
            for _ in 0..(p as usize * (i + 1)) % 17 {
                work.push(work_fact(&person, m));
            }
        }
    }
    let report = Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &facts, &work, None);
    let bytes = render(&report, Rubric::bundled(), &options()).expect("a large region renders");
    let pdf = write("report-large.pdf", &bytes);
    let text = squeeze(&poppler("pdftotext", &["-layout"], &pdf));
    assert!(text.contains("XA") && text.contains("A45"), "every modality and person is printed");
    assert!(text.matches("技师/医生").count() >= 2, "figure 2 in two tables of modalities");
    assert!(bytes.len() < 400 * 1024, "{} bytes", bytes.len());
}

/// Gold cases: IQ by G1 and G2 (kappa defined), RQ by G2 and G3 both 4 throughout (no
/// variance), the application form by G1 and G3 (the Wikipedia-like 2 of 3 agreeing).
fn gold() -> Vec<GoldOutcome> {
    let read = |reader: &str, score: Option<u8>, pass: bool| GoldReadOutcome {
        reader: reader.into(),
        score: score.map(|s| Score::new(s).unwrap()),
        pass,
    };
    let scored = |id: &str, item: &str, a: (&str, u8), b: (&str, u8), original: u8| GoldOutcome {
        case_id: id.into(),
        site: "NJGL".into(),
        modality: "CT".parse().unwrap(),
        item: item.parse().unwrap(),
        first: read(a.0, Some(a.1), a.1 >= 3),
        second: read(b.0, Some(b.1), b.1 >= 3),
        third: (a.1 != b.1).then(|| read("NJGL/G9", Some(b.1), b.1 >= 3)),
        final_score: Some(Score::new(b.1).unwrap()),
        final_pass: b.1 >= 3,
        original: read("NJGL/Q1", Some(original), original >= 3),
    };
    let form = |id: &str, a: bool, b: bool| GoldOutcome {
        case_id: id.into(),
        site: "NJGL".into(),
        modality: "DR".parse().unwrap(),
        item: "AF".parse().unwrap(),
        first: read("NJGL/G1", None, a),
        second: read("NJGL/G3", None, b),
        third: (a != b).then(|| read("NJGL/G9", None, b)),
        final_score: None,
        final_pass: b,
        original: read("NJGL/Q2", None, true),
    };
    vec![
        scored("c1", "IQ", ("NJGL/G1", 5), ("NJGL/G2", 5), 4),
        scored("c2", "IQ", ("NJGL/G2", 1), ("NJGL/G1", 1), 1),
        scored("c3", "IQ", ("NJGL/G1", 4), ("NJGL/G2", 3), 2),
        scored("c4", "RQ", ("NJGL/G2", 4), ("NJGL/G3", 4), 4),
        scored("c5", "RQ", ("NJGL/G3", 4), ("NJGL/G2", 4), 4),
        form("f1", true, true),
        form("f2", false, true),
        form("f3", false, false),
    ]
}

#[test]
fn the_agreement_section_prints_every_figure_with_its_cases() {
    let agreement = AgreementReport::build("2026-11", &gold()).unwrap();
    let report = month().with_agreement(agreement);
    let bytes = render(&report, Rubric::bundled(), &options()).expect("the report with agreement renders");
    let pdf = write("report-agreement.pdf", &bytes);
    let text = squeeze(&poppler("pdftotext", &["-layout"], &pdf));
    for heading in ["读片一致性（金标准）", "读片一致性 按质控项目", "读片一致性 按设备类型", "读片一致性 按读片者组合"]
    {
        assert!(text.contains(heading), "heading {heading:?}:\n{text}");
    }
    assert!(text.contains("金标准病例数 Gold cases: 8"), "the number of gold cases");
    // By item: AF has verdicts only (3 cases, 2 agreed, 0.667, κ 0.4), IQ scores only
    // (3, 2, 0.667, κ 48/51 = 0.941), RQ no variance: undefined, not 1 or 0.
    assert!(text.contains("AF — — — — 3 2 0.667 0.400"), "the AF row:\n{text}");
    assert!(text.contains("IQ 3 2 0.667 0.941 — — — —"), "the IQ row:\n{text}");
    assert!(text.contains("RQ 2 2 1.000 无法计算（无变异） — — — —"), "the RQ row, undefined kappa:\n{text}");
    assert!(text.contains("Kappa is undefined"), "the reason explained in English too");
    assert!(text.contains("NJGL/G1 × NJGL/G2 3 2 0.667 0.941"), "a pair of readers, both orders folded");
    // Reviewer bias: Q1 scored 4, 1, 2, 4, 4 against gold 5, 1, 3, 4, 4: mean −2/5, two harsher.
    assert!(text.contains("NJGL/Q1 5 -0.400 2 0 0"), "Q1's bias:\n{text}");
    assert!(text.contains("NJGL/Q2 0 — 0 1 3"), "Q2: verdicts only, f3 passed where gold fails");

    // Without agreement, no such section; with an empty period, it says there is no data.
    let plain = squeeze(&poppler(
        "pdftotext",
        &["-layout"],
        &write("report-plain.pdf", &render(&month(), Rubric::bundled(), &options()).unwrap()),
    ));
    assert!(!plain.contains("读片一致性"), "no agreement section unless the report has one");
    let empty = month().with_agreement(AgreementReport::build("2026-11", &[]).unwrap());
    let bytes = render(&empty, Rubric::bundled(), &options()).unwrap();
    let text = squeeze(&poppler("pdftotext", &["-layout"], &write("report-agreement-empty.pdf", &bytes)));
    assert!(text.contains("金标准病例数 Gold cases: 0"), "0 gold cases");
    let after = &text[text.find("读片一致性（金标准）").unwrap()..];
    assert!(after.contains("本期无数据"), "an empty period says so:\n{after}");
}
