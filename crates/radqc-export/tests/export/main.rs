//! The report's files with the gold standard's agreement section: the CSV's section read as
//! text, the XLSX's sheet read back with calamine (full values behind three-decimal formats).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use radqc_domain::agreement::{AgreementReport, GoldOutcome, GoldReadOutcome};
use radqc_domain::report::{Report, ReportFilter};
use radqc_domain::{Rubric, Score};

fn read(reader: &str, score: Option<u8>, pass: bool) -> GoldReadOutcome {
    GoldReadOutcome { reader: reader.into(), score: score.map(|s| Score::new(s).unwrap()), pass }
}

fn scored(id: &str, item: &str, a: (&str, u8), b: (&str, u8), original: u8) -> GoldOutcome {
    GoldOutcome {
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
    }
}

fn form(id: &str, a: bool, b: bool) -> GoldOutcome {
    GoldOutcome {
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
    }
}

/// IQ by G1 and G2 (κ = 48/51), RQ by G2 and G3 both 4 throughout (no variance), the
/// application form by G1 and G3 (2 of 3 agreeing, κ = 0.4).
fn report() -> Report {
    let gold = vec![
        scored("c1", "IQ", ("NJGL/G1", 5), ("NJGL/G2", 5), 4),
        scored("c2", "IQ", ("NJGL/G2", 1), ("NJGL/G1", 1), 1),
        scored("c3", "IQ", ("NJGL/G1", 4), ("NJGL/G2", 3), 2),
        scored("c4", "RQ", ("NJGL/G2", 4), ("NJGL/G3", 4), 4),
        scored("c5", "RQ", ("NJGL/G3", 4), ("NJGL/G2", 4), 4),
        form("f1", true, true),
        form("f2", false, true),
        form("f3", false, false),
    ];
    plain().with_agreement(AgreementReport::build("2026-11", &gold).unwrap())
}

fn plain() -> Report {
    Report::build(Rubric::bundled(), "2026-11".into(), ReportFilter::default(), &[], &[], None)
}

#[test]
fn the_csv_has_the_agreement_section_with_cases_behind_every_figure() {
    let csv = radqc_export::csv(&report(), Rubric::bundled());
    let section = &csv[csv.find("读片一致性（金标准）").expect("the section is there")..];
    let head = "评分例数 Score cases,评分一致例数 Scores agreed,评分一致率 Score agreement,\
                加权κ（二次） Weighted kappa (quadratic),判定例数 Verdict cases,判定一致例数 Verdicts agreed,\
                判定一致率 Verdict agreement,κ（合格/不合格） Kappa (pass/fail)";
    let by_item = format!(
        "读片一致性 按质控项目 By item\n质控项目 Item,{head}\n\
         AF,,,,,3,2,0.667,0.400\n\
         IQ,3,2,0.667,0.941,,,,\n\
         RQ,2,2,1.000,无法计算（无变异）,,,,\n\n"
    );
    assert!(section
        .starts_with("读片一致性（金标准） Reader agreement (gold standard) 2026-11\n金标准病例数 Gold cases,8\n"));
    assert!(section.contains(&by_item), "by item:\n{section}");
    assert!(section.contains(&format!(
        "读片一致性 按设备类型 By modality\n设备类型 Modality,{head}\nCT,5,4,0.800,0.946,,,,\nDR,,,,,3,2,0.667,0.400\n"
    )));
    assert!(section.contains(&format!(
        "读片者 Readers,{head}\nNJGL/G1 × NJGL/G2,3,2,0.667,0.941,,,,\nNJGL/G1 × NJGL/G3,,,,,3,2,0.667,0.400\n\
         NJGL/G2 × NJGL/G3,2,2,1.000,无法计算（无变异）,,,,\n"
    )));
    // Q1: 4 − 5, 1 − 1, 2 − 3, 4 − 4, 4 − 4: mean −0.4, two harsher; Q2: verdicts only, one
    // pass where gold fails.
    assert!(section.ends_with(
        "质控人 Reviewer,评分例数 Score cases,平均差 Mean difference,偏严 Harsher,偏松 Milder,判定例数 Verdict cases\n\
         NJGL/Q1,5,-0.400,2,0,0\nNJGL/Q2,0,—,0,1,3\n\n"
    ), "reviewers:\n{section}");

    let without = radqc_export::csv(&plain(), Rubric::bundled());
    assert!(!without.contains("读片一致性"), "no section without agreement");
    assert_eq!(
        csv.strip_suffix(section),
        Some(without.as_str()),
        "the section is added at the end, the rest unchanged"
    );
}

#[test]
fn the_workbook_has_an_agreement_sheet_with_full_values() {
    let bytes = radqc_export::xlsx(&report(), Rubric::bundled()).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names().last().map(String::as_str), Some("读片一致性 Agreement"));
    let sheet = book.worksheet_range("读片一致性 Agreement").unwrap();
    let cell = |row: u32, col: u32| sheet.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    let text = |row: u32, col: u32| cell(row, col).to_string();
    assert_eq!(text(1, 0), "金标准病例数 Gold cases");
    assert_eq!(cell(1, 1), Data::Float(8.0));
    // By item from row 3: title, group header, column header, then AF, IQ, RQ.
    assert_eq!(text(3, 0), "按质控项目 By item");
    assert_eq!(
        (text(4, 0), text(4, 1), text(4, 5)),
        ("质控项目 Item".into(), "评分（1-5分） Scores".into(), "申请单（合格/不合格） Verdicts".into())
    );
    assert_eq!(
        (text(5, 1), text(5, 4), text(5, 8)),
        ("例数 Cases".into(), "加权κ（二次） Weighted kappa".into(), "κ Kappa".into())
    );
    let af: Vec<String> = (0..9).map(|c| text(6, c)).collect();
    assert_eq!(af, ["AF", "—", "—", "—", "—", "3", "2", &(2.0f64 / 3.0).to_string(), "0.4"]);
    assert_eq!(text(7, 0), "IQ");
    assert_eq!(cell(7, 4), Data::Float(48.0 / 51.0), "the full value, not 0.941");
    assert_eq!((text(8, 0), text(8, 4)), ("RQ".into(), "无法计算（无变异）".into()));
    assert_eq!(text(10, 0), "按设备类型 By modality");
    // The reviewers at the end.
    let last = sheet.height() as u32 - 1;
    assert_eq!(
        (text(last - 1, 0), cell(last - 1, 2), text(last - 1, 3)),
        ("NJGL/Q1".into(), Data::Float(-0.4), "2".into())
    );
    assert_eq!(
        (text(last, 0), text(last, 2), text(last, 4), text(last, 5)),
        ("NJGL/Q2".into(), "—".into(), "1".into(), "3".into())
    );

    let bytes = radqc_export::xlsx(&plain(), Rubric::bundled()).unwrap();
    let book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert!(!book.sheet_names().iter().any(|n| n.contains("读片一致性")), "no sheet without agreement");
}
