//! A grant changed at a real `radqc center serve` process, and every side obeying it after one
//! sync: the center's API (a person's token), the app on the synced store, and the command line.

use chrono::Utc;
use radqc_app::{App, AppConfig, PanelClosedPolicy, PanelSave, SignRequest, SignResponse};
use serde_json::{json, Value};

use crate::support::{ok, radqc, Center};

/// `GET url` with a bearer token: the status and the JSON body.
fn get(url: &str, token: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let resp = radqc_sync::http_client().get(url).bearer_auth(token).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// Everyone's sign-in secret here.
const SECRET: &str = "grants-e2e-Secret-7";

fn items(app: &App, accession: &str) -> Vec<String> {
    app.scorable_items(None, accession).unwrap().iter().map(|i| i.to_string()).collect()
}

#[test]
fn a_grant_changed_at_the_center_is_obeyed_by_its_api_the_app_and_the_cli_after_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let center_db = dir.path().join("center.db");
    let center_db = center_db.to_str().unwrap();
    ok(&["center", "site", "add", "S1", "--name", "一院放射科", "--db", center_db], "");
    for (code, role) in [("A1", "technologist"), ("D1", "reporting_doctor"), ("H1", "department_head")] {
        ok(
            &[
                "center", "staff", "add", "--db", center_db, "--site", "S1", "--code", code, "--name", code, "--role",
                role,
            ],
            "",
        );
        let password =
            ["center", "staff", "password", "--db", center_db, "--site", "S1", "--code", code, "--permanent"];
        ok(&password, &format!("{SECRET}\n"));
    }
    let head_token = ok(&["center", "staff", "token", "--db", center_db, "--site", "S1", "--code", "H1"], "");
    let head_token = head_token.trim();
    let code = ok(&["center", "device", "enroll", "--site", "S1", "--db", center_db], "").trim().to_owned();
    let center = Center::serve(center_db);

    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("radqc.db");
    let db = db.to_str().unwrap();
    ok(&["local", "init", "--db", db, "--site", "S1"], "");
    ok(&["local", "enroll", "--db", db, "--center", &center.url, "--code", &code], "");
    ok(&["sync", "--once", "--db", db], "");
    let shown: Value = serde_json::from_str(&ok(&["local", "grants", "--db", db], "")).unwrap();
    assert_eq!(shown["version"], "2026.1", "nothing published: the bundled grants: {shown}");

    // The app on the synced store: D1 signs an exam and scores its images; the score syncs.
    let config = AppConfig {
        data_dir: data.clone(),
        demo: false,
        when_panel_closed: PanelClosedPolicy::Allow,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let mut app = App::open(config, Utc::now()).unwrap();
    let signing: SignRequest = serde_json::from_value(json!({
        "exam": {"accession": "CT-G-1", "modality": "CT", "exam_item": "CT胸部平扫",
                 "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
        "signer": "D1"
    }))
    .unwrap();
    if let SignResponse::Hold { gate, .. } = app.sign(&signing, Utc::now()).unwrap() {
        app.close_gate(&gate.id, Utc::now()).unwrap();
    }
    app.sign_in("D1", SECRET, Utc::now()).unwrap();
    let panel: PanelSave = serde_json::from_value(json!({
        "accession": "CT-G-1", "mode": "active",
        "items": [{"item": "IQ", "findings": [], "not_applicable": [], "note": ""}]
    }))
    .unwrap();
    app.save_panel(&panel, Utc::now()).unwrap();
    ok(&["sync", "--once", "--db", db], "");

    let month = Utc::now().format("%Y-%m").to_string();
    let evaluations = format!("{}/api/v1/evaluations", center.url);
    let report = format!("{}/api/v1/report?site=S1&month={month}", center.url);
    let (status, list) = get(&evaluations, head_token);
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)), "the head reads the site: {list}");
    assert_eq!(get(&report, head_token).0, 200);
    app.sign_in("H1", SECRET, Utc::now()).unwrap();
    app.report(&month).expect("the head reads the site's report in the app");
    app.sign_in("A1", SECRET, Utc::now()).unwrap();
    assert_eq!(items(&app, "CT-G-1"), ["AF"], "a technologist scores the application form");

    // The region changes two grants; a document that does not validate is refused first.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"extra": {}, "sees_site_scores": ["chief"], "reads_region": [], "department_notices": [], "sets_secrets": []}"#,
    )
    .unwrap();
    let out = radqc(&["center", "publish-grants", "--db", center_db, bad.to_str().unwrap()], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused");
    assert!(stderr.contains("version: missing") && stderr.contains("unknown role `chief`"), "{stderr}");
    let mut changed: Value = serde_json::from_str(radqc_domain::Grants::bundled_text()).unwrap();
    changed["version"] = json!("2026.2-region");
    changed["sees_site_scores"] = json!(["qc_officer", "center_admin"]);
    changed["extra"]["technologist"] = json!(["IQ"]);
    let file = dir.path().join("grants.json");
    std::fs::write(&file, changed.to_string()).unwrap();
    let out = ok(&["center", "publish-grants", "--db", center_db, file.to_str().unwrap()], "");
    assert!(out.contains("published grants 2026.2-region"), "{out}");

    // The center's API obeys at once: the head now sees only their own scores.
    let (status, list) = get(&evaluations, head_token);
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)), "{list}");
    let (status, body) = get(&report, head_token);
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");

    // One sync, and the app and the command line obey too.
    ok(&["sync", "--once", "--db", db], "");
    assert_eq!(items(&app, "CT-G-1"), ["AF", "IQ"], "technologists now score image quality too");
    app.sign_in("H1", SECRET, Utc::now()).unwrap();
    assert_eq!(app.report(&month).unwrap_err().code, "NOT_PERMITTED");
    assert_eq!(app.session().site_score_roles, ["qc_officer", "center_admin"]);
    let shown: Value = serde_json::from_str(&ok(&["local", "grants", "--db", db], "")).unwrap();
    assert_eq!(shown["version"], "2026.2-region", "{shown}");
    assert_eq!(shown["extra"]["technologist"], json!(["IQ"]), "{shown}");

    // `radqc center report` checks its filters against the rubric versions the region published,
    // as the API does, not against the bundled one.
    let by_role = ["center", "report", "--db", center_db, "--site", "S1", "--role", "senior_radiologist"];
    let out = radqc(&by_role, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("--role"), "no rubric scores them yet: {stderr}");
    let rubric = radqc_domain::Rubric::bundled_text()
        .replacen("version = \"2026.1\"", "version = \"2026.2\"", 1)
        .replacen("scored_role = \"auditing_doctor\"", "scored_role = \"senior_radiologist\"", 1);
    let rubric_file = dir.path().join("rubric.toml");
    std::fs::write(&rubric_file, rubric).unwrap();
    ok(&["center", "publish-rubric", "--db", center_db, rubric_file.to_str().unwrap()], "");
    let report: Value = serde_json::from_str(&ok(&by_role, "")).unwrap();
    assert!(report.is_object(), "{report}");
}
