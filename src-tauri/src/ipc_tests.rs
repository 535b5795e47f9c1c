//! Every IPC command, called by name through Tauri's own IPC (its mock runtime) as the window
//! calls it: what a technologist signed in at a workstation reaches. Not another role's items
//! (neither to score nor to save), not the 报表 data (reports, their drill-downs, other people's
//! scores through an exam), and nothing at all before signing in or while the session is locked.
//! The table lists each command once; a command added to `ipc_commands!` without a line here
//! fails the test.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use radqc_app::{App, AppConfig, PanelClosedPolicy, DEMO_SECRET};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

use crate::{Shared, COMMANDS};

struct Window {
    _dir: tempfile::TempDir,
    /// An exam another person scored and another was scored on (the demo seeds such scores).
    scored_by_others: String,
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
}

fn window() -> Window {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        data_dir: dir.path().join("data"),
        demo: true,
        when_panel_closed: PanelClosedPolicy::Block,
        idle_lock: radqc_app::DEFAULT_IDLE_LOCK,
    };
    let app = App::open(config, chrono::Utc::now()).unwrap();
    let others = app
        .store()
        .evaluations()
        .unwrap()
        .into_iter()
        .find(|e| e.reviewer.as_str() != "A1" && e.scored_person.as_ref().is_some_and(|p| p.as_str() != "A1"));
    let scored_by_others = others.expect("the demo has scores of others").accession;
    let shared = Shared(Arc::new(Mutex::new(app)));
    let app = mock_builder()
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .invoke_handler(ipc_commands!(handler))
        .manage(shared)
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Window { _dir: dir, scored_by_others, _app: app, webview }
}

impl Window {
    /// Calls `cmd` with `args` as the window would: the answer, or the error envelope.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.to_owned(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_owned(),
        };
        tauri::test::get_ipc_response(&self.webview, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    fn code(&self, cmd: &str, args: Value) -> String {
        match self.call(cmd, args) {
            Err(e) => e["code"].as_str().unwrap_or_else(|| panic!("{cmd}: not an envelope: {e}")).to_owned(),
            Ok(v) => panic!("{cmd} answered {v}"),
        }
    }
}

/// What a command must do for a person who is not allowed its data.
enum Expect {
    /// Refused with this code.
    Refused(&'static str),
    /// Answers, and the check holds of the answer.
    Answers(fn(&Value) -> Result<(), String>),
    /// Signing in and out, the session's own lock, and the machine's settings: checked elsewhere.
    Session,
}

fn only_own_scores(v: &Value) -> Result<(), String> {
    let other = v.as_array().unwrap().iter().find(|e| e["scored_person"] != "A1" && e["reviewer"] != "A1");
    other.map_or(Ok(()), |e| Err(format!("another person's score: {e}")))
}

fn application_form_only(v: &Value) -> Result<(), String> {
    if v == &json!(["AF"]) {
        Ok(())
    } else {
        Err(format!("a technologist may score the application form only, got {v}"))
    }
}

fn anything(_: &Value) -> Result<(), String> {
    Ok(())
}

/// Every command with its arguments, and what a technologist gets from it.
fn table(accession: &str) -> Vec<(&'static str, Value, Expect)> {
    let scope = json!({"from": "2026-01", "to": "2026-12"});
    let other_role_item = json!({"request": {"accession": accession, "mode": "active",
        "items": [{"item": "RQ", "findings": []}]}});
    vec![
        ("rubric", json!({}), Expect::Answers(anything)),
        (
            "session",
            json!({}),
            Expect::Answers(|v| if v["user"]["code"] == "A1" { Ok(()) } else { Err(v.to_string()) }),
        ),
        ("roster", json!({}), Expect::Answers(anything)),
        ("sign_in", json!({}), Expect::Session),
        ("sign_out", json!({}), Expect::Session),
        ("change_secret", json!({}), Expect::Session),
        ("lock_session", json!({}), Expect::Session),
        ("unlock_session", json!({}), Expect::Session),
        ("touch", json!({}), Expect::Session),
        ("scorable_items", json!({"accession": accession}), Expect::Answers(application_form_only)),
        ("preview_score", json!({"findings": {"item": "IQ", "findings": []}}), Expect::Answers(anything)),
        ("save_evaluations", other_role_item, Expect::Refused("NOT_PERMITTED")),
        ("find_exams", json!({"filter": {"limit": 5}}), Expect::Answers(anything)),
        ("exam_detail", json!({"accession": accession}), Expect::Answers(|v| only_own_scores(&v["evaluations"]))),
        ("pending_gates", json!({}), Expect::Answers(anything)),
        ("close_gate", json!({"id": "no-such-gate"}), Expect::Refused("UNKNOWN_GATE")),
        ("precheck_choose", json!({"gateId": "no-such-gate", "signAnyway": true}), Expect::Refused("UNKNOWN_GATE")),
        (
            "exam_precheck",
            json!({"accession": accession}),
            Expect::Answers(|v| if v["run"].is_null() { Ok(()) } else { Err(format!("the report's checks: {v}")) }),
        ),
        ("decide_proposal", json!({"id": 1, "accept": true}), Expect::Refused("NOT_PERMITTED")),
        ("precheck_stats", json!({}), Expect::Refused("NOT_PERMITTED")),
        ("my_scores", json!({}), Expect::Answers(only_own_scores)),
        (
            "dispute_evaluation",
            json!({"request": {"evaluation_id": "no-such", "reason": "不同意"}}),
            Expect::Refused("UNKNOWN_EVALUATION"),
        ),
        ("gold_tasks", json!({}), Expect::Refused("NOT_PERMITTED")),
        (
            "save_gold_read",
            json!({"request": {"case_id": "c", "task": "first", "findings": []}}),
            Expect::Refused("NOT_PERMITTED"),
        ),
        ("my_notices", json!({}), Expect::Answers(anything)),
        ("close_notice", json!({"noticeId": "no-such", "correction": "x"}), Expect::Refused("UNKNOWN_NOTICE")),
        ("report", json!({"month": "2026-11"}), Expect::Refused("NOT_PERMITTED")),
        ("report_view", json!({"scope": scope}), Expect::Refused("NOT_PERMITTED")),
        ("report_evaluations", json!({"scope": scope, "drill": {}}), Expect::Refused("NOT_PERMITTED")),
        ("report_workload_exams", json!({"scope": scope}), Expect::Refused("NOT_PERMITTED")),
        (
            "import_worklist",
            json!({"request": {"file_name": "w.csv", "content_base64": "5qOA5p+l5Y+3Cg==", "dry_run": true, "skip_bad": false}}),
            Expect::Refused("NOT_PERMITTED"),
        ),
        ("sync_status", json!({}), Expect::Answers(anything)),
        ("sync_now", json!({}), Expect::Answers(anything)),
        ("enroll", json!({"center": "http://127.0.0.1:9", "code": "AAAA-BBBB-CCCC"}), Expect::Refused("ENROLL_FAILED")),
        ("autostart", json!({}), Expect::Session),
        ("set_autostart", json!({}), Expect::Session),
    ]
}

#[test]
fn a_technologist_reaches_no_other_roles_items_and_no_report_data_by_any_command() {
    let w = window();
    // Before signing in, nothing of the site's data answers.
    for cmd in ["find_exams", "exam_detail", "scorable_items", "my_scores", "report_view"] {
        let args = match cmd {
            "find_exams" => json!({"filter": {}}),
            "report_view" => json!({"scope": {}}),
            "exam_detail" | "scorable_items" => json!({"accession": "X"}),
            _ => json!({}),
        };
        assert_eq!(w.code(cmd, args), "NOT_SIGNED_IN", "{cmd} before signing in");
    }
    assert_eq!(w.code("sign_in", json!({"code": "A1", "secret": "wrong-one"})), "SIGN_IN_FAILED");
    w.call("sign_in", json!({"code": "A1", "secret": DEMO_SECRET})).unwrap();
    let rows = table(&w.scored_by_others);
    let listed: BTreeSet<&str> = rows.iter().map(|(c, _, _)| *c).collect();
    let registered: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    assert_eq!(listed, registered, "every registered command is in the table, once");
    for (cmd, args, expect) in rows {
        match expect {
            Expect::Refused(code) => assert_eq!(w.code(cmd, args), code, "{cmd}"),
            Expect::Answers(check) => {
                let answer = w.call(cmd, args).unwrap_or_else(|e| panic!("{cmd} refused: {e}"));
                check(&answer).unwrap_or_else(|e| panic!("{cmd}: {e}"));
            }
            Expect::Session => {}
        }
    }
    // Locked, the same person reaches nothing until they open it again.
    w.call("lock_session", json!({})).unwrap();
    for (cmd, args) in [("find_exams", json!({"filter": {}})), ("my_scores", json!({}))] {
        assert_eq!(w.code(cmd, args), "SESSION_LOCKED", "{cmd} while locked");
    }
    w.call("unlock_session", json!({"secret": DEMO_SECRET})).unwrap();
    w.call("my_scores", json!({})).unwrap();
}
