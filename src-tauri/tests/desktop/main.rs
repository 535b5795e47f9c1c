//! The desktop shell's wire contract, checked without a window: what the front-end receives.
//!
//! The real window is driven by tests/window; these tests pin the JSON shapes that the UI's
//! hand-written TypeScript types (ui/src/rubric.ts) and its test fixture rely on.

use std::collections::BTreeSet;

use radqc_desktop::{IpcError, Options};
use serde_json::{json, Value};

/// The UI's unit tests render this fixture in place of the real command's answer.
const UI_FIXTURE: &str = include_str!("../../../ui/tests/fixtures/rubric.json");

/// The whole rubric the UI's stand-in engine (ui/tests/support/shell.ts) scores with.
const UI_FULL_FIXTURE: &str = include_str!("../../../ui/tests/fixtures/rubric-full.json");

/// Every `path:type` in a JSON document, array elements folded into `[]`.
fn shape(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(items) => {
            items.iter().for_each(|v| shape(v, &format!("{path}[]"), out));
            "array"
        }
        Value::Object(fields) => {
            fields.iter().for_each(|(k, v)| shape(v, &format!("{path}.{k}"), out));
            "object"
        }
    };
    out.insert(format!("{path}:{kind}"));
}

fn shape_of(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape(value, "", &mut out);
    out
}

/// The fields whose strings the UI turns into words (`kind.*`, `applies.*`, `role.*`).
const ENUM_PATHS: [&str; 5] = [
    ".items[].kind",
    ".items[].applies",
    ".items[].scored_role",
    ".items[].scorer_roles[]",
    ".items[].criteria[].kind",
];

/// Every `path=value` of a string at one of [`ENUM_PATHS`].
fn enum_values(doc: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, path: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::String(s) if ENUM_PATHS.contains(&path) => {
                out.insert(format!("{path}={s}"));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, &format!("{path}[]"), out)),
            Value::Object(fields) => fields.iter().for_each(|(k, v)| walk(v, &format!("{path}.{k}"), out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(doc, "", &mut out);
    out
}

fn rubric_on_the_wire() -> Value {
    // The `rubric` command sends the store's rubric, which is the bundled one until the center
    // publishes another: the same type and serialization as here.
    let rubric = radqc_domain::Rubric::bundled();
    serde_json::to_value(rubric).expect("the rubric serializes")
}

#[test]
fn rubric_command_sends_the_standards_text_verbatim() {
    let wire = rubric_on_the_wire();
    let iq = wire["items"].as_array().unwrap().iter().find(|i| i["code"] == "IQ").unwrap();
    let s1 = iq["criteria"].as_array().unwrap().iter().find(|c| c["code"] == "IQ-S1").unwrap();
    // The UI shows this string as is; any re-encoding on the way would show here first.
    assert_eq!(s1["text"]["zh"], "检查技术选择、摆放位置不当或操作过失，无诊断价值");
    assert_eq!(s1["kind"], "severe");
    assert_eq!(iq["score_table"], json!([5, 4, 3, 3, 2, 1]), "IQ's u → score table as numbers");
}

#[test]
fn ui_fixture_has_the_shape_of_the_real_rubric() {
    let fixture: Value = serde_json::from_str(UI_FIXTURE).expect("the UI fixture is JSON");
    // If the domain's serialization changes, the UI's fixture (and ui/src/rubric.ts, which
    // describes it) must change with it, or the unit tests pass against a shape that no
    // longer exists.
    assert_eq!(shape_of(&rubric_on_the_wire()), shape_of(&fixture));
}

#[test]
fn ui_full_fixture_is_the_rubric_the_shell_sends() {
    let fixture: Value = serde_json::from_str(UI_FULL_FIXTURE).expect("the full UI fixture is JSON");
    // The UI's unit tests score with this copy: a rubric edited in assets/ without it would test
    // the panel against criteria that no longer exist.
    assert_eq!(
        fixture,
        rubric_on_the_wire(),
        "ui/tests/fixtures/rubric-full.json differs from the bundled rubric: write it anew with \
         `radqc rubric show --format json > ui/tests/fixtures/rubric-full.json`"
    );
}

#[test]
fn ui_fixture_enums_are_values_the_shell_sends() {
    let fixture: Value = serde_json::from_str(UI_FIXTURE).unwrap();
    let sent = enum_values(&rubric_on_the_wire());
    let used = enum_values(&fixture);
    // The UI's catalogs translate these values; a fixture value the shell never sends would
    // test a translation that no user can see.
    let unknown: Vec<_> = used.difference(&sent).collect();
    assert!(unknown.is_empty(), "fixture values the shell never sends: {unknown:?}");
}

#[test]
fn ipc_error_is_the_three_field_envelope() {
    let error = IpcError::new(radqc_app::ErrorCode::DiskFull, "磁盘已满", "The disk is full");
    // The UI's `IpcError` type and `toIpcError` accept exactly these three fields.
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({
            "code": "DISK_FULL",
            "message_zh": "磁盘已满",
            "message_en": "The disk is full",
        })
    );
}

#[test]
fn command_line_options_are_checked() {
    let parse = |args: &[&str]| Options::from_args(args.iter().map(|s| s.to_string()));
    let o = parse(&["--demo", "--data-dir", "/tmp/x", "--gate-port", "0"]).unwrap();
    assert!(o.demo && o.gate_port == 0 && o.data_dir.as_deref() == Some(std::path::Path::new("/tmp/x")));
    assert_eq!(parse(&[]).unwrap().gate_port, radqc_desktop::DEFAULT_GATE_PORT);
    assert!(parse(&["--gate-port", "http"]).unwrap_err().contains("not a port"));
    assert!(parse(&["--colour"]).unwrap_err().contains("unknown option `--colour`"));
}
