//! `radqc gate` against the app's real gate API (a demo store on a loopback port): it sends the
//! installation's gate token, and without it the app opens nothing and the command says so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use radqc_app::gate_http::{self, GateEvents, GateOptions};
use radqc_app::{App, AppConfig, GateView, PanelClosedPolicy};
use serde_json::{json, Value};

use crate::support::radqc;

struct NoWindow;

impl GateEvents for NoWindow {
    fn held(&self, _: &GateView) {}
    fn gave_up(&self, _: &GateView) {}
}

struct RunningApp {
    dir: tempfile::TempDir,
    app: Arc<Mutex<App>>,
    port: String,
}

impl RunningApp {
    fn start() -> RunningApp {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig {
            data_dir: dir.path().join("data"),
            demo: true,
            when_panel_closed: PanelClosedPolicy::Allow,
            idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
        };
        let app = Arc::new(Mutex::new(App::open(config, Utc::now()).unwrap()));
        let addr = gate_http::start(0, app.clone(), Arc::new(NoWindow), GateOptions::default()).unwrap();
        RunningApp { dir, app, port: addr.port().to_string() }
    }

    fn token_file(&self) -> PathBuf {
        self.dir.path().join("data").join("gate.token")
    }

    /// Closes the first signing held (the site allows a closed panel: the answer is go).
    fn close_when_held(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let held = self.app.lock().unwrap().pending_gates();
            if let Some(gate) = held.first() {
                self.app.lock().unwrap().close_gate(&gate.id, Utc::now()).unwrap();
                return;
            }
            assert!(Instant::now() < deadline, "the signing was never held");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A follow-up case: the default rules always sample it, so the app holds it.
fn signing(accession: &str) -> String {
    json!({"exam": {"accession": accession, "modality": "CT", "exam_item": "CT胸部平扫", "follow_up": true,
                    "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
           "signer": "D1"})
    .to_string()
}

/// `radqc gate ARGS` with `stdin`, the token file given by `RADQC_GATE_TOKEN_FILE` when `env`
/// names one (never the user's own desktop app's: `HOME` points at an empty folder).
fn gate(args: &[&str], env: Option<&Path>, stdin: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_radqc"));
    cmd.arg("gate").args(args).env_remove("RADQC_GATE_TOKEN_FILE").env("HOME", home.path());
    cmd.env("XDG_DATA_HOME", home.path().join("share"));
    if let Some(file) = env {
        cmd.env("RADQC_GATE_TOKEN_FILE", file);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn nothing_opened(app: &RunningApp, accession: &str) {
    let mut app = app.app.lock().unwrap();
    assert!(app.pending_gates().is_empty(), "no panel");
    // An exam's detail is for a signed-in person.
    app.sign_in("Q1", radqc_app::DEMO_SECRET, Utc::now()).unwrap();
    assert_eq!(app.exam_detail(accession, false).unwrap_err().code, "UNKNOWN_EXAM", "nothing recorded");
}

#[test]
fn gate_sends_the_apps_token_from_the_token_file() {
    let app = RunningApp::start();
    let file = app.token_file();
    for (accession, by_env) in [("CT-CLI-TOKEN-1", false), ("CT-CLI-TOKEN-2", true)] {
        let out = std::thread::scope(|s| {
            s.spawn(|| app.close_when_held());
            if by_env {
                gate(&["--port", &app.port], Some(&file), &signing(accession))
            } else {
                gate(&["--port", &app.port, "--token-file", file.to_str().unwrap()], None, &signing(accession))
            }
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{accession}: {stderr}");
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((answer["decision"].as_str(), answer["sampled"].as_bool()), (Some("go"), Some(true)), "{answer}");
    }
}

#[test]
fn gate_without_the_token_file_exits_5_and_the_app_opens_nothing() {
    let app = RunningApp::start();
    let missing = app.dir.path().join("elsewhere").join("gate.token");
    let out = gate(&["--port", &app.port, "--token-file", missing.to_str().unwrap()], None, &signing("CT-CLI-NOTOK"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "a documented exit code of its own; stderr: {stderr}");
    assert!(stderr.contains("no gate token file") && stderr.contains(missing.to_str().unwrap()), "{stderr}");
    assert!(out.stdout.is_empty(), "no answer to act on");
    nothing_opened(&app, "CT-CLI-NOTOK");

    // The default is the desktop app's own data folder's token: none here either.
    let out = gate(&["--port", &app.port], None, &signing("CT-CLI-NOTOK"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cn.radqc.desktop") && stderr.contains("gate.token"), "{stderr}");

    // Another installation's token: the app refuses it (401) and opens nothing either.
    let other = app.dir.path().join("other.token");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).unwrap();
    let out = gate(&["--port", &app.port], Some(&other), &signing("CT-CLI-NOTOK"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("refused the gate token"), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], "GATE_UNAUTHENTICATED", "{answer}");
    nothing_opened(&app, "CT-CLI-NOTOK");

    // A file that is not a token is named, and nothing is sent.
    std::fs::write(&other, "not a token").unwrap();
    let out = gate(&["--port", &app.port], Some(&other), &signing("CT-CLI-NOTOK"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("64 hexadecimal") && stderr.contains(other.to_str().unwrap()), "{stderr}");
    nothing_opened(&app, "CT-CLI-NOTOK");
}

#[test]
fn gate_without_the_token_file_and_without_the_app_follows_the_setting() {
    // Port 9 (discard) has no listener here: the app is not running (nor installed: no token).
    let missing = tempfile::tempdir().unwrap().path().join("gate.token");
    let out = gate(&["--port", "9", "--token-file", missing.to_str().unwrap()], None, &signing("X1"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["app_down"], json!(true));
    let out = gate(&["--port", "9", "--when-app-down", "block"], Some(&missing), &signing("X1"));
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gate_with_a_signer_who_is_not_in_the_roster_exits_2_with_the_apps_refusal() {
    let app = RunningApp::start();
    let mut body: Value = serde_json::from_str(&signing("CT-CLI-NOBODY")).unwrap();
    body["signer"] = json!("ZZ9");
    let out = gate(&["--port", &app.port], Some(&app.token_file()), &body.to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "refused: neither go (0) nor blocked (3); stderr: {stderr}");
    assert!(stderr.contains("refused the request") && stderr.contains("ZZ9"), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], "UNKNOWN_SIGNER", "{answer}");
    nothing_opened(&app, "CT-CLI-NOBODY");
}

/// `radqc local precheck-stats` on the app's store: the report checks' proposals of signings,
/// one accepted and one dismissed in the panel, one open, counted by site, local month and check.
#[test]
fn precheck_stats_counts_what_the_panel_decided() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Allow,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let now = Utc::now();
    let mut app = App::open(config, now).unwrap();
    let rules = json!({"version": "t-1", "monthly_min_per_staff": 0, "rules": [{"name": "none", "probability": 0.0}],
                       "precheck": {"laterality": "panel"}});
    let item = radqc_protocol::FeedItem {
        cursor: 1,
        kind: radqc_protocol::FeedKind::Sampling,
        site: None,
        body: rules,
        published_at: now,
    };
    app.store_mut().save_feed_items(&[item], now).unwrap();
    let mut ids = Vec::new();
    for accession in ["DR-S-1", "DR-S-2", "DR-S-3"] {
        let req: radqc_app::SignRequest = serde_json::from_value(json!({
            "exam": {"accession": accession, "modality": "DR", "exam_item": "DR左膝关节正侧位",
                     "patient_source": "outpatient", "staff": {"reporting_doctor": "D1"}},
            "signer": "D1",
            "report": {"findings": "右膝关节间隙变窄。", "impression": "右膝关节退行性变。"}
        }))
        .unwrap();
        assert!(matches!(app.sign(&req, now).unwrap(), radqc_app::SignResponse::Go { .. }), "panel mode: go");
        ids.push(app.store().latest_precheck(accession).unwrap().unwrap().proposals[0].id);
    }
    app.sign_in("Q1", radqc_app::DEMO_SECRET, now).unwrap();
    app.decide_proposal(ids[0], true, now).unwrap();
    app.decide_proposal(ids[1], false, now).unwrap();
    let month = app.store().time_zone().unwrap().month_at(now).to_string();
    drop(app);

    let db = dir.path().join("data").join("radqc.db");
    let out = radqc(&["local", "precheck-stats", "--db", db.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let row = &lines[0];
    assert_eq!((row["check"].as_str(), row["month"].as_str()), (Some("laterality"), Some(month.as_str())));
    assert_eq!((&row["accepted"], &row["dismissed"], &row["open"]), (&json!(1), &json!(1), &json!(1)));
    assert_eq!(row["precision"], json!(0.5));
    let none = radqc(&["local", "precheck-stats", "--db", db.to_str().unwrap(), "--month", "2020-01"], "");
    assert!(none.status.success() && none.stdout.is_empty());
    let bad = radqc(&["local", "precheck-stats", "--db", db.to_str().unwrap(), "--month", "January"], "");
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--month"));
}
