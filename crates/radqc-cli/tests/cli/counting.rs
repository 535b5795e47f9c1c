//! Reports count exactly (issue 10, item 7), through `radqc report` at a site and a real
//! `radqc center serve` on loopback: one case per exam over several months, the site's local
//! month, staff codes in natural order.

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::support::{ok, radqc, stdout_json, Center};

/// GET `path` from the center with a person's token; the JSON body.
fn get(url: &str, path: &str, token: &str) -> Value {
    let addr = url.strip_prefix("http://").expect("a plain HTTP center");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}\n{body}");
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).unwrap()
}

/// One evaluation line for `radqc local save`: an exam with complete general data.
fn line(accession: &str, item: &str, findings: &[&str], technologist: &str, at: &str) -> String {
    json!({
        "item": item,
        "findings": findings,
        "exam": {
            "accession": accession, "modality": "CT", "exam_item": "CT胸部平扫", "department": "放射科",
            "staff": {"technologist": technologist, "reporting_doctor": "D1", "auditing_doctor": "D9"},
            "patient": {"id": format!("P-{accession}"), "sex": "F", "age": 50},
            "performed_at": at
        },
        "reviewer": "Q1",
        "mode": "random",
        "at": at
    })
    .to_string()
}

fn sampled(report: &Value) -> (u64, u64, Value) {
    let i = &report["indicators"];
    (i["sampled"].as_u64().unwrap(), i["qualified"].as_u64().unwrap(), i["rate"].clone())
}

fn by_month(report: &Value) -> Vec<(String, u64, u64)> {
    report["indicators"]["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["key"].as_str().unwrap().to_owned(), r["sampled"].as_u64().unwrap(), r["qualified"].as_u64().unwrap())
        })
        .collect()
}

/// Accessions of figure 3's rows (every line here has a deduction), sorted.
fn listed(report: &Value) -> Vec<String> {
    let mut list: Vec<String> = report["deduction_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["accession"].as_str().unwrap().to_owned())
        .collect();
    list.sort();
    list
}

fn workload(report: &Value) -> u64 {
    report["workload"]["total"].as_u64().unwrap()
}

/// A center with sites `sites` (code, zone), a QC officer's token at each and a region
/// administrator's; each site's store enrolled.
struct Region {
    _center: Center,
    url: String,
    center_db: String,
    admin: String,
}

fn region(dir: &std::path::Path, sites: &[(&str, &str)]) -> (Region, Vec<String>) {
    let center_db = dir.join("center.db").to_str().unwrap().to_owned();
    let mut stores = Vec::new();
    for (site, zone) in sites {
        let mut add = vec!["center", "site", "add", site, "--name", site, "--db", &center_db];
        if *zone != "Asia/Shanghai" {
            add.extend(["--time-zone", zone]);
        }
        ok(&add, "");
    }
    ok(
        &[
            "center",
            "staff",
            "add",
            "--site",
            sites[0].0,
            "--code",
            "R1",
            "--name",
            "区域",
            "--role",
            "center_admin",
            "--db",
            &center_db,
        ],
        "",
    );
    let admin = ok(&["center", "staff", "token", "--site", sites[0].0, "--code", "R1", "--db", &center_db], "")
        .trim()
        .to_owned();
    let center = Center::serve(&center_db);
    let url = center.url.clone();
    for (site, _) in sites {
        let code = ok(&["center", "device", "enroll", "--site", site, "--db", &center_db], "").trim().to_owned();
        let qc = dir.join(format!("{site}.db")).to_str().unwrap().to_owned();
        ok(&["local", "init", "--db", &qc, "--site", site], "");
        ok(&["local", "enroll", "--db", &qc, "--center", &url, "--code", &code], "");
        stores.push(qc);
    }
    (Region { _center: center, url, center_db, admin }, stores)
}

#[test]
fn an_exam_scored_in_two_months_is_one_case_of_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let (center, stores) = region(dir.path(), &[("CLINIC-A", "Asia/Shanghai")]);
    let qc = &stores[0];
    // Scored in October (passing), and again in November (failing); another exam in each month.
    let lines = [
        line("CT-SPAN", "RQ", &[], "A1", "2026-10-15T02:00:00Z"),
        line("CT-SPAN", "RQ", &["RQ-S1"], "A1", "2026-11-10T02:00:00Z"),
        line("CT-OCT", "RQ", &[], "A1", "2026-10-20T02:00:00Z"),
        line("CT-NOV", "RQ", &[], "A1", "2026-11-20T02:00:00Z"),
    ];
    ok(&["local", "save", "--db", qc], &lines.join("\n"));
    let at_site = stdout_json(&radqc(&["report", "--db", qc, "--from", "2026-10", "--to", "2026-11"], ""));
    assert_eq!(sampled(&at_site), (3, 2, json!(66.7)), "3 exams sampled, CT-SPAN not qualified");
    assert_eq!(
        by_month(&at_site),
        [("2026-10".into(), 2, 2), ("2026-11".into(), 2, 1)],
        "by month: each month's cases"
    );
    let doctor = &at_site["indicators"]["by_person"][0];
    assert_eq!((&doctor["key"], &doctor["sampled"], &doctor["qualified"]), (&json!("D1"), &json!(3), &json!(2)));

    let out: Value = serde_json::from_str(ok(&["sync", "--once", "--db", qc], "").trim()).unwrap();
    assert_eq!(out["outcome"], "synced");
    let path = "/api/v1/report?from=2026-10&to=2026-11&site=CLINIC-A";
    let at_center = get(&center.url, path, &center.admin);
    assert_eq!(sampled(&at_center), (3, 2, json!(66.7)), "the center counts the exam once too");
    assert_eq!(by_month(&at_center), by_month(&at_site));
    assert_eq!(at_center["indicators"]["by_person"], at_site["indicators"]["by_person"]);
    let november = get(&center.url, "/api/v1/report?month=2026-11&site=CLINIC-A", &center.admin);
    assert_eq!(sampled(&november), (2, 1, json!(50.0)), "a month alone counts its own cases");

    let cli = ok(
        &["center", "report", "--db", &center.center_db, "--from", "2026-10", "--to", "2026-11", "--person", "D1"],
        "",
    );
    let cli: Value = serde_json::from_str(&cli).unwrap();
    assert_eq!(sampled(&cli), (3, 2, json!(66.7)), "`radqc center report` too");
    // Only the exam scored in both months: 1 sampled, 0 qualified, 0 %.
    let only = dir.path().join("only.db");
    let only = only.to_str().unwrap();
    ok(&["local", "init", "--db", only], "");
    ok(&["local", "save", "--db", only], &lines[..2].join("\n"));
    let report = stdout_json(&radqc(&["report", "--db", only, "--from", "2026-10", "--to", "2026-11"], ""));
    assert_eq!(sampled(&report), (1, 0, json!(0.0)), "one exam, failed in November: 1, 0, 0.0 %");
}

#[test]
fn a_month_is_the_site_s_local_month() {
    let dir = tempfile::tempdir().unwrap();
    let (center, stores) = region(dir.path(), &[("CLINIC-BJ", "Asia/Shanghai"), ("CLINIC-UTC", "UTC")]);
    // Both sides of each boundary in Beijing (UTC+8).
    let times = [
        ("OCT-LAST", "2026-10-31T15:59:59Z"),  // 23:59:59 on 31 October: October
        ("NOV-FIRST", "2026-10-31T23:30:00Z"), // 07:30 on 1 November: November
        ("NOV-LAST", "2026-11-30T15:59:59Z"),  // 23:59:59 on 30 November: November
        ("DEC-FIRST", "2026-11-30T16:00:00Z"), // 00:00 on 1 December: December
    ];
    for qc in &stores {
        let lines: Vec<String> = times.iter().map(|(acc, at)| line(acc, "RQ", &["RQ-C1"], "A1", at)).collect();
        ok(&["local", "save", "--db", qc], &lines.join("\n"));
        let out: Value = serde_json::from_str(ok(&["sync", "--once", "--db", qc], "").trim()).unwrap();
        assert_eq!(out["outcome"], "synced");
    }
    let bj = &stores[0];
    assert_eq!(ok(&["local", "time-zone", "--db", bj], "").trim(), "Asia/Shanghai", "the default zone");
    assert_eq!(ok(&["local", "time-zone", "--db", &stores[1]], "").trim(), "UTC", "published by the center");

    let november = stdout_json(&radqc(&["report", "--db", bj, "--month", "2026-11"], ""));
    assert_eq!(listed(&november), ["NOV-FIRST", "NOV-LAST"], "the site's November");
    assert_eq!(sampled(&november).0, 2);
    assert_eq!(by_month(&november), [("2026-11".into(), 2, 2)]);
    assert_eq!(workload(&november), 2, "exams performed in the local month");
    let october = stdout_json(&radqc(&["report", "--db", bj, "--month", "2026-10"], ""));
    assert_eq!(listed(&october), ["OCT-LAST"]);
    let months = stdout_json(&radqc(&["report", "--db", bj, "--from", "2026-11", "--to", "2026-11"], ""));
    assert_eq!(listed(&months), ["NOV-FIRST", "NOV-LAST"], "--from and --to are the same months as --month");

    let at_center = get(&center.url, "/api/v1/report?month=2026-11&site=CLINIC-BJ", &center.admin);
    assert_eq!(listed(&at_center), ["NOV-FIRST", "NOV-LAST"], "the center counts the site's month");
    assert_eq!(by_month(&at_center), by_month(&november));
    assert_eq!(workload(&at_center), 2);
    let utc = get(&center.url, "/api/v1/report?month=2026-11&site=CLINIC-UTC", &center.admin);
    assert_eq!(listed(&utc), ["DEC-FIRST", "NOV-LAST"], "a UTC site's November is UTC's");
    // The region: each site in its own zone.
    let region = get(&center.url, "/api/v1/report?month=2026-11", &center.admin);
    assert_eq!(sampled(&region).0, 4, "2 in Beijing, 2 in UTC");
    assert_eq!(region["deduction_details_total"], json!(4));
    assert_eq!(listed(&region), ["DEC-FIRST", "NOV-FIRST", "NOV-LAST", "NOV-LAST"]);

    // The center moves the Beijing site to Urumqi (UTC+6): 00:00 on 1 December in Beijing is
    // 22:00 on 30 November there. The center's months follow at once, the site's after a sync.
    ok(&["center", "site", "time-zone", "CLINIC-BJ", "Asia/Urumqi", "--db", &center.center_db], "");
    let moved = get(&center.url, "/api/v1/report?month=2026-11&site=CLINIC-BJ", &center.admin);
    assert_eq!(listed(&moved), ["DEC-FIRST", "NOV-FIRST", "NOV-LAST"]);
    ok(&["sync", "--once", "--db", bj], "");
    assert_eq!(ok(&["local", "time-zone", "--db", bj], "").trim(), "Asia/Urumqi");
    let at_site = stdout_json(&radqc(&["report", "--db", bj, "--month", "2026-11"], ""));
    assert_eq!(listed(&at_site), listed(&moved));
    assert_eq!(at_site["indicators"], moved["indicators"]);

    let bad = radqc(&["center", "site", "time-zone", "CLINIC-BJ", "Mars/Olympus", "--db", &center.center_db], "");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown time zone `Mars/Olympus`"), "{bad:?}");
}

#[test]
fn staff_codes_sort_naturally_across_styles() {
    let dir = tempfile::tempdir().unwrap();
    let qc = dir.path().join("qc.db");
    let qc = qc.to_str().unwrap();
    ok(&["local", "init", "--db", qc], "");
    let codes = ["王技师", "B", "A10-1", "A10", "A2-1", "A1"];
    let lines: Vec<String> =
        codes.iter().enumerate().map(|(i, c)| line(&format!("CT{i}"), "IQ", &[], c, "2026-11-05T02:00:00Z")).collect();
    ok(&["local", "save", "--db", qc], &lines.join("\n"));
    let report = stdout_json(&radqc(&["report", "--db", qc, "--month", "2026-11"], ""));
    let rows: Vec<&str> = report["scores_technologists"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["person"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["A1", "A2-1", "A10", "A10-1", "B", "王技师"], "figure 2 in natural order");
    let work: Vec<&str> =
        report["workload"]["rows"].as_array().unwrap().iter().map(|r| r["person"].as_str().unwrap()).collect();
    assert_eq!(work, ["A1", "A2-1", "A10", "A10-1", "B", "王技师"], "figure 5's ties in natural order");
}

#[test]
fn a_report_period_means_the_same_months_at_the_site_and_the_center() {
    let dir = tempfile::tempdir().unwrap();
    let qc = dir.path().join("qc.db");
    let qc = qc.to_str().unwrap();
    crate::support::ok(&["local", "init", "--db", qc, "--site", "CLINIC-07"], "");
    // `--to` names the last month, included, as at the center and in the app.
    let all = stdout_json(&radqc(&["report", "--db", qc, "--to", "2026-11"], ""));
    assert_eq!(all["period"], json!("..2026-11"), "{all}");
    let days = radqc(&["report", "--db", qc, "--from", "2026-11-01", "--to", "2026-12-01"], "");
    let err = String::from_utf8_lossy(&days.stderr);
    assert!(!days.status.success() && err.contains("--from") && err.contains("YYYY-MM"), "days are refused: {err}");
    let backwards = radqc(&["report", "--db", qc, "--from", "2026-11", "--to", "2026-10"], "");
    let err = String::from_utf8_lossy(&backwards.stderr);
    assert!(!backwards.status.success() && err.contains("--from/--to"), "an empty period is refused: {err}");
    let role = radqc(&["report", "--db", qc, "--month", "2026-11", "--rubric-version", &"x".repeat(65)], "");
    assert!(String::from_utf8_lossy(&role.stderr).contains("--rubric-version"), "the flag is named");
}
