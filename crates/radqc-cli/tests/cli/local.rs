//! `radqc local init | save | export | outbox` on a real store file.

use serde_json::{json, Value};

use crate::support::*;

pub fn line(accession: &str, item: &str, findings: &[&str]) -> String {
    json!({
        "item": item,
        "findings": findings,
        "exam": {"accession": accession, "modality": "DR", "exam_item": "胸部正位片", "staff": {"technologist": "A3", "reporting_doctor": "D2"}},
        "reviewer": "D2",
        "mode": "random",
        "note": "体位不正"
    })
    .to_string()
}

#[test]
fn save_prints_ids_of_valid_lines_and_names_invalid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    let out = radqc(&["local", "init", "--db", db, "--site", "CLINIC-07"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("qc.db.key").exists(), "the key file is made beside the database by default");

    let input = [
        line("DR1", "IQ", &["IQ-C2"]),
        "{not json".into(),
        line("DR2", "IQ", &["IQ-S4"]),
        String::new(),
        line("DR3", "AF", &["AF-2"]),
    ]
    .join("\n");
    let out = radqc(&["local", "save", "--db", db], &input);
    assert!(!out.status.success(), "an invalid line makes the exit code non-zero");
    let ids: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 2, "the valid lines were saved regardless");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2:") && err.contains("line 3: IQ-S4 is not a criterion"), "{err}");

    let out = radqc(&["local", "export", "--db", db], "");
    let exported: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        exported.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
        ids,
        "export lists every saved evaluation in order"
    );
    assert_eq!(exported[0]["score"], json!(4));
    assert_eq!(exported[0]["site"], json!("CLINIC-07"), "the store's site by default");
    assert_eq!(exported[0]["scored_person"], json!("A3"));
    assert_eq!(exported[1]["grade"], json!("fail"));

    let out = radqc(&["local", "outbox", "--db", db], "");
    assert_eq!(stdout_json(&out), json!({"pending": 2, "sent": 0, "rejected": 0}));
}

#[test]
fn local_commands_explain_missing_stores_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = radqc(&["local", "export", "--db", db.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key file"), "no key file is named first");

    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    assert!(radqc(&["local", "init", "--db", db], "").status.success());
    let out = radqc(&["local", "init", "--db", db], "");
    assert!(!out.status.success(), "init twice is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds data"));

    let other_key = dir.path().join("other.key");
    assert!(radqc(
        &[
            "local",
            "init",
            "--db",
            dir.path().join("b.db").to_str().unwrap(),
            "--key-file",
            other_key.to_str().unwrap()
        ],
        ""
    )
    .status
    .success());
    let out = radqc(&["local", "outbox", "--db", db, "--key-file", other_key.to_str().unwrap()], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong key"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn report_gives_the_month_s_figures_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    assert!(radqc(&["local", "init", "--db", db], "").status.success());
    let at = |l: String, at: &str| {
        let mut v: Value = serde_json::from_str(&l).unwrap();
        v["at"] = json!(at);
        v.to_string()
    };
    let lines = [
        at(line("DR1", "IQ", &[]), "2026-11-03T08:00:00Z"),
        at(line("DR2", "IQ", &["IQ-C2"]), "2026-11-04T08:00:00Z"),
        at(line("DR3", "RQ", &["RQ-S1"]), "2026-11-05T08:00:00Z"),
        at(line("DR4", "IQ", &["IQ-S2"]), "2026-10-31T15:59:59Z"), // 23:59:59 on 31 October in Beijing
    ];
    assert!(radqc(&["local", "save", "--db", db], &lines.join("\n")).status.success());
    let report = stdout_json(&radqc(&["report", "--db", db, "--month", "2026-11"], ""));
    let ind = &report["indicators"];
    assert_eq!(
        (&ind["sampled"], &ind["qualified"], &ind["rate"]),
        (&json!(1), &json!(0), &json!(0.0)),
        "one report-quality case, failed"
    );
    assert_eq!(ind["by_person"], json!([{"site": "LOCAL", "key": "D2", "sampled": 1, "qualified": 0, "rate": 0.0}]));
    let filtered = stdout_json(&radqc(&["report", "--db", db, "--month", "2026-11", "--role", "technologist"], ""));
    assert_eq!(filtered["filter"], json!({"role": "technologist"}));
    assert_eq!(filtered["scores_doctors"]["rows"], json!([]), "a role filter leaves the other role out");
    let bad = radqc(&["report", "--db", db, "--month", "2026-11", "--mode", "sometimes"], "");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("mode: unknown QC mode `sometimes`"), "{bad:?}");
    assert_eq!(report["quality_technologists"][0]["person"], json!("A3"));
    assert_eq!(report["quality_technologists"][0]["evaluations"], json!(2), "October's evaluation is not in November");
    assert_eq!(report["quality_technologists"][0]["excellent"], json!(50.0));
    let csv =
        String::from_utf8(radqc(&["report", "--db", db, "--month", "2026-11", "--format", "csv"], "").stdout).unwrap();
    assert!(
        csv.contains("图7 技师质量统计\n人员,被质控数,优秀率(%),良好率(%),合格率(%),不合格率(%)\nA3,2,50,50,0,0"),
        "{csv}"
    );
    assert!(csv.contains("严重扣分项,1,RQ-S1 主要阳性病变漏诊或误诊"), "criteria by their text: {csv}");
    // The whole CSV, laid out as the standard's figures, reviewed in the diff when it changes.
    insta::assert_snapshot!("report_csv_2026_11", csv);
    // The workbook, read back: sheets and cells where the standard's figures have them.
    let xlsx = dir.path().join("r.xlsx");
    assert!(radqc(
        &["report", "--db", db, "--month", "2026-11", "--format", "xlsx", "--output", xlsx.to_str().unwrap()],
        ""
    )
    .status
    .success());
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "5.1 评估指标",
            "图2 技师评分",
            "图2 医生评分",
            "图3 扣分明细",
            "图4 扣分项目",
            "图5 技师工作量",
            "图7 技师质量",
            "6.5 医生质量"
        ]
    );
    let cell = |r: &calamine::Range<calamine::Data>, row: u32, col: u32| {
        r.get_value((row, col)).map(|d| d.to_string()).unwrap_or_default()
    };
    let fig2 = book.worksheet_range("图2 技师评分").unwrap();
    assert_eq!(
        (cell(&fig2, 1, 0), cell(&fig2, 1, 1), cell(&fig2, 2, 1), cell(&fig2, 2, 5)),
        ("技师/医生".into(), "DR".into(), "5分".into(), "1分".into())
    );
    assert_eq!(
        (cell(&fig2, 3, 0), cell(&fig2, 3, 1), cell(&fig2, 3, 2)),
        ("A3".into(), "1".into(), "1".into()),
        "A3: one 5, one 4"
    );
    let fig7 = book.worksheet_range("图7 技师质量").unwrap();
    let row: Vec<String> = (0..6).map(|c| cell(&fig7, 3, c)).collect();
    assert_eq!(row, ["A3", "2", "50", "50", "0", "0"]);
    let fig4 = book.worksheet_range("图4 扣分项目").unwrap();
    assert!(cell(&fig4, 2, 0) == "严重扣分项" && cell(&fig4, 2, 2).starts_with("RQ-S1 "), "severe first, by its text");
    // The whole workbook's layout, sheet by sheet, cell by cell (merged header cells included).
    let mut layout = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        layout += &format!("== {name}\n");
        for row in range.rows() {
            layout += &row.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" | ");
            layout += "\n";
        }
        for region in book.merge_cells_by_sheet_name(&name).unwrap() {
            layout += &format!("merged {:?}..{:?}\n", region.start, region.end);
        }
    }
    insta::assert_snapshot!("report_xlsx_2026_11", layout);
    let out = radqc(&["report", "--db", db, "--month", "2026-11", "--format", "xlsx"], "");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("needs --output"));

    let out = radqc(&["report", "--db", db, "--month", "11/2026"], "");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("expected YYYY-MM"));
}

/// Runs a poppler tool (scripts/setup.sh installs poppler-utils) and returns what it printed.
pub fn poppler(tool: &str, pdf: &std::path::Path) -> String {
    let mut cmd = std::process::Command::new(tool);
    if tool == "pdftotext" {
        cmd.args(["-layout"]).arg(pdf).arg("-");
    } else {
        cmd.arg(pdf);
    }
    let out =
        cmd.output().unwrap_or_else(|e| panic!("cannot run {tool} ({e}): install poppler-utils (scripts/setup.sh)"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn report_as_pdf_prints_the_month_with_its_chinese_headings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    assert!(radqc(&["local", "init", "--db", db, "--site", "CLINIC-07"], "").status.success());
    let lines: Vec<String> = [("DR1", "IQ", &[][..]), ("DR2", "IQ", &["IQ-C2"][..]), ("DR3", "RQ", &["RQ-S1"][..])]
        .iter()
        .map(|(acc, item, findings)| {
            let mut v: Value = serde_json::from_str(&line(acc, item, findings)).unwrap();
            v["at"] = json!("2026-11-04T08:00:00Z");
            v.to_string()
        })
        .collect();
    assert!(radqc(&["local", "save", "--db", db], &lines.join("\n")).status.success());

    let pdf = dir.path().join("report.pdf");
    let args = ["report", "--db", db, "--month", "2026-11", "--format", "pdf", "--output", pdf.to_str().unwrap()];
    let out = radqc(&[&args[..], &["--title", "七里乡卫生院 影像质控月报"]].concat(), "");
    assert!(out.status.success(), "radqc report --format pdf: {}", String::from_utf8_lossy(&out.stderr));
    let text = poppler("pdftotext", &pdf);
    for want in [
        "七里乡卫生院 影像质控月报",
        "统计周期 2026-11 · 站点 Site CLINIC-07",
        "5.1 评估指标",
        "图7 技师质量统计",
        "A3 2 50 50 0 0",
        "RQ-S1 主要阳性病变漏诊或误诊",
        "1 0 0",
    ] {
        assert!(text.contains(want), "{want:?} is in the PDF's text:\n{text}");
    }
    assert!(poppler("pdfinfo", &pdf).contains("Pages: "), "a PDF poppler reads");
    assert!(poppler("pdffonts", &pdf).contains("Identity-H yes yes yes"), "the font is embedded as a subset");

    let out = radqc(&["report", "--db", db, "--month", "2026-11", "--format", "pdf"], "");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("needs --output"));
    let bad = radqc(&[&args[..], &["--font", "/nonexistent/font.ttc"]].concat(), "");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("needs a font") && err.contains("/nonexistent/font.ttc"), "{err}");
}

#[test]
fn save_refuses_film_and_reconstruction_scores_when_the_exam_does_not_say() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    assert!(radqc(&["local", "init", "--db", db, "--site", "NJGL"], "").status.success());
    let with = |accession: &str, item: &str, facts: Value| {
        let mut l: Value = serde_json::from_str(&line(accession, item, &[])).unwrap();
        for (k, v) in facts.as_object().unwrap() {
            l["exam"][k] = v.clone();
        }
        l.to_string()
    };
    let input = [
        // A plain chest CT as the README's gate example sends it: nothing about film or 3D.
        with("CT1", "TR", json!({})),
        with("CT1", "FL", json!({})),
        with("CT2", "FL", json!({"film_printed": true})),
        // Known now, from the line before.
        with("CT2", "FL", json!({})),
        with("CT3", "TR", json!({"reconstruction": false})),
    ]
    .join("\n");
    let out = radqc(&["local", "save", "--db", db], &input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("line 1:") && err.contains("reconstruction") && err.contains("FACT_UNKNOWN"), "{err}");
    assert!(err.contains("line 2:") && err.contains("film_printed") && err.contains("FACT_UNKNOWN"), "{err}");
    assert!(err.contains("line 5:") && err.contains("ITEM_NOT_APPLICABLE"), "{err}");
    assert!(!err.contains("line 3:") && !err.contains("line 4:"), "{err}");
    let exported = radqc(&["local", "export", "--db", db], "");
    let rows: Vec<Value> =
        String::from_utf8(exported.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.iter().map(|r| r["accession"].as_str().unwrap()).collect::<Vec<_>>(), ["CT2", "CT2"]);
}
