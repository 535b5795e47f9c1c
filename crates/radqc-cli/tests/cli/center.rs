//! A real `radqc center serve` process on a loopback port, administered and synced with from
//! the command line, as a region's administrator and a clinic would.

use serde_json::Value;

use crate::local::line;
use crate::support::{ok, radqc, Center};

#[test]
fn a_clinic_enrolls_saves_and_syncs_with_a_center_process() {
    let dir = tempfile::tempdir().unwrap();
    let center_db = dir.path().join("center.db");
    let center_db = center_db.to_str().unwrap();
    ok(&["center", "site", "add", "CLINIC-07", "--name", "七里乡卫生院", "--db", center_db], "");
    let code = ok(&["center", "device", "enroll", "--site", "CLINIC-07", "--db", center_db], "").trim().to_owned();
    assert_eq!(code.len(), 14, "a readable one-time code: {code}");

    let center = Center::serve(center_db);
    let url = center.url.clone();

    let qc = dir.path().join("qc.db");
    let qc = qc.to_str().unwrap();
    ok(&["local", "init", "--db", qc], "");
    let out = ok(&["local", "enroll", "--db", qc, "--center", &url, "--code", &code], "");
    assert!(out.contains("at site CLINIC-07"), "{out}");
    let used = radqc(&["local", "enroll", "--db", qc, "--center", &url, "--code", &code], "");
    assert!(
        !used.status.success() && String::from_utf8_lossy(&used.stderr).contains("already used"),
        "a code works once"
    );

    let ids =
        ok(&["local", "save", "--db", qc], &format!("{}\n{}\n", line("DR1", "IQ", &["IQ-C2"]), line("DR2", "RQ", &[])));
    let outcome: Value = serde_json::from_str(ok(&["sync", "--once", "--db", qc], "").trim()).unwrap();
    assert_eq!(outcome["outcome"], "synced");
    assert_eq!(outcome["pushed"], 2);

    let export = ok(&["center", "export", "--db", center_db], "");
    let exported: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let exported_ids: Vec<&str> = exported.iter().map(|l| l["record"]["id"].as_str().unwrap()).collect();
    assert_eq!(exported_ids, ids.lines().collect::<Vec<_>>(), "the center holds what the clinic saved");
    assert!(exported.iter().all(|l| l["site"] == "CLINIC-07" && l["kind"] == "evaluation"));
    let stats: Value =
        serde_json::from_str(ok(&["center", "stats", "--db", center_db], "").lines().next().unwrap()).unwrap();
    assert_eq!((stats["evaluations"].as_i64(), stats["last_seq"].as_i64()), (Some(2), Some(2)));

    // The region's monthly PDF, from what the clinic synced (saved now, so this month).
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let pdf = dir.path().join("region.pdf");
    ok(
        &[
            "center",
            "report",
            "--db",
            center_db,
            "--month",
            &month,
            "--format",
            "pdf",
            "--output",
            pdf.to_str().unwrap(),
        ],
        "",
    );
    let text = crate::local::poppler("pdftotext", &pdf);
    assert!(text.contains(&format!("统计周期 {month} · 全区域 Region")), "the region's scope in the header:\n{text}");
    assert!(text.contains("A3 1 0 100 0 0"), "figure 7 from the synced evaluation:\n{text}");

    // A correction: `center export` names it on the corrected evaluation, as `local export` does.
    let first = ids.lines().next().unwrap();
    let mut correction: Value = serde_json::from_str(&line("DR1", "IQ", &[])).unwrap();
    correction["supersedes"] = first.into();
    let corrected_by = ok(&["local", "save", "--db", qc], &format!("{correction}\n")).trim().to_owned();
    ok(&["sync", "--once", "--db", qc], "");
    let superseded = |text: &str, record: fn(&Value) -> &Value| -> Vec<(String, Value)> {
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| (record(&v)["id"].as_str().unwrap().to_owned(), record(&v)["superseded_by"].clone()))
            .collect()
    };
    let at_site = superseded(&ok(&["local", "export", "--db", qc], ""), |v| v);
    let at_center = superseded(&ok(&["center", "export", "--db", center_db], ""), |v| &v["record"]);
    assert_eq!(at_site.iter().find(|(id, _)| id == first).unwrap().1, Value::from(corrected_by.as_str()));
    assert_eq!(at_center, at_site, "the center names each correction as the site does");

    let device = stats["device"].as_str().unwrap();
    ok(&["center", "device", "revoke", device, "--db", center_db], "");
    ok(&["local", "save", "--db", qc], &line("DR3", "IQ", &[]));
    let out = radqc(&["sync", "--once", "--db", qc], "");
    assert!(!out.status.success(), "sync fails once the token is revoked");
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((outcome["outcome"].as_str(), outcome["code"].as_str()), (Some("stopped"), Some("TOKEN_REVOKED")));
    assert_eq!(ok(&["local", "outbox", "--db", qc], "").trim(), r#"{"pending":1,"sent":3,"rejected":0}"#);
}
