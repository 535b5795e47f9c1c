//! A clinic's worklist through `radqc local import`: a 10,000-row XLSX with 20 bad rows (the dry
//! run lists exactly those, an import without --skip-bad writes nothing, with it the good rows;
//! importing again, or an overlapping CSV in GB18030, changes nothing), and figure 5 counts it.

use serde_json::Value;

use crate::support::{ok, radqc};

const HEADER: [&str; 11] =
    ["检查号", "检查类型", "检查部位", "申请科室", "病人来源", "患者ID", "性别", "年龄", "技师", "检查时间", "状态"];

/// Row `n` (data rows from 0); `bad` rows are wrong in one cell each, in several ways.
fn row(n: usize, bad: bool) -> [String; 11] {
    let modality = ["CT", "MR", "DR", "CR"][n % 4];
    let mut r = [
        format!("W{n:05}"),
        modality.to_owned(),
        "CT胸部平扫".to_owned(),
        "呼吸内科".to_owned(),
        ["门诊", "急诊", "住院"][n % 3].to_owned(),
        format!("P{:06}", n % 3000),
        ["男", "女"][n % 2].to_owned(),
        format!("{}", 20 + n % 60),
        format!("T{:02}", 1 + n % 6),
        format!("2026-11-{:02} {:02}:{:02}", 1 + n % 28, 8 + n % 10, n % 60),
        if n % 50 == 7 { "已取消" } else { "已检查" }.to_owned(),
    ];
    if bad {
        match (n / 500) % 6 {
            0 => r[0] = String::new(),
            1 => r[1] = "ct scan".to_owned(),
            2 => r[6] = "不详".to_owned(),
            3 => r[9] = "昨天上午".to_owned(),
            4 => r[7] = "老年".to_owned(),
            _ => r[10] = "进行中".to_owned(),
        }
    }
    r
}

fn is_bad(n: usize) -> bool {
    n % 500 == 123
}

#[test]
fn a_worklist_with_bad_rows_is_checked_imported_once_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    ok(&["local", "init", "--db", db, "--site", "CLINIC-07"], "");
    let xlsx = dir.path().join("worklist.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = 10_000;
    for n in 0..rows {
        for (c, v) in row(n, is_bad(n)).iter().enumerate() {
            sheet.write_string(n as u32 + 1, c as u16, v).unwrap();
        }
    }
    book.save(&xlsx).unwrap();
    let xlsx = xlsx.to_str().unwrap();
    let bad_rows: Vec<usize> = (0..rows).filter(|n| is_bad(*n)).map(|n| n + 2).collect();
    assert_eq!(bad_rows.len(), 20);

    let dry = radqc(&["local", "import", "--db", db, "--dry-run", xlsx], "");
    assert!(dry.status.success(), "a dry run succeeds and reports");
    let listed: Vec<usize> = String::from_utf8_lossy(&dry.stderr)
        .lines()
        .filter_map(|l| l.split(": row ").nth(1)?.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(listed, bad_rows, "the dry run lists exactly the bad rows:\n{}", String::from_utf8_lossy(&dry.stderr));
    let stderr = String::from_utf8_lossy(&dry.stderr);
    for says in [
        "检查号 is empty",
        "检查类型: invalid modality",
        "性别 `不详`",
        "检查时间 `昨天上午`",
        "年龄 `老年`",
        "状态 `进行中`",
    ] {
        assert!(stderr.contains(says), "a reason names the column ({says}):\n{stderr}");
    }
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!((report["rows"].as_u64(), report["new_rows"].as_u64()), (Some(10_000), Some(9_980)));
    let workload = |db: &str| -> u64 {
        let r: Value = serde_json::from_str(&ok(&["report", "--db", db, "--month", "2026-11"], "")).unwrap();
        r["workload"]["total"].as_u64().unwrap()
    };
    assert_eq!(workload(db), 0, "a dry run writes nothing");

    let refused = radqc(&["local", "import", "--db", db, xlsx], "");
    assert!(!refused.status.success(), "bad rows: nothing imported without --skip-bad");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was imported"));
    assert_eq!(workload(db), 0);

    let first: Value = serde_json::from_str(&ok(&["local", "import", "--db", db, "--skip-bad", xlsx], "")).unwrap();
    assert_eq!((first["new_rows"].as_u64(), first["unchanged"].as_u64()), (Some(9_980), Some(0)));
    let performed = (0..rows).filter(|n| !is_bad(*n) && n % 50 != 7).count() as u64;
    assert_eq!(workload(db), performed, "figure 5: every performed exam, not the cancelled ones");
    let again: Value = serde_json::from_str(&ok(&["local", "import", "--db", db, "--skip-bad", xlsx], "")).unwrap();
    assert_eq!((again["new_rows"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(9_980)), "nothing twice");
    assert_eq!(workload(db), performed);

    // An overlapping CSV, as Chinese Excel saves it (GB18030): its rows are known, one is new.
    let mut csv = HEADER.join(",") + "\r\n";
    for n in (0..100).chain([rows + 1]) {
        csv += &(row(n, is_bad(n)).join(",") + "\r\n");
    }
    let path = dir.path().join("overlap.csv");
    std::fs::write(&path, encoding_rs::GB18030.encode(&csv).0).unwrap();
    let overlap: Value =
        serde_json::from_str(&ok(&["local", "import", "--db", db, "--skip-bad", path.to_str().unwrap()], "")).unwrap();
    assert_eq!((overlap["new_rows"].as_u64(), overlap["unchanged"].as_u64()), (Some(1), Some(100)));
    assert_eq!(workload(db), performed + 1);

    let bad_mapping = dir.path().join("mapping.json");
    std::fs::write(&bad_mapping, r#"{"name": "x", "columns": {"colour": ["颜色"]}, "time_formats": []}"#).unwrap();
    let out = radqc(&["local", "import", "--db", db, "--mapping", bad_mapping.to_str().unwrap(), xlsx], "");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("`colour` is not a worklist field"));
}
