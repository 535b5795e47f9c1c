//! `radqc score` and `radqc rubric`: stdin in, stdout and stderr out, exit codes.

use radqc_domain::{Findings, Rubric};
use serde_json::{json, Value};

use crate::support::*;

/// Scores `input` and expects `expect` to be contained in the output (extra fields allowed).
fn check_score(input: Value, expect: Value) {
    let got = stdout_json(&radqc(&["score"], &input.to_string()));
    let (Value::Object(got), Value::Object(expect)) = (&got, &expect) else {
        panic!("object out for object in: {got}")
    };
    for (k, v) in expect {
        assert_eq!(got.get(k), Some(v), "field `{k}` of the result for {input}");
    }
}

#[test]
fn scores_single_evaluations() {
    check_score(
        json!({"item": "IQ", "findings": ["IQ-S1", "IQ-C2"], "not_applicable": ["IQ-C5"]}),
        json!({"item": "IQ", "score": 1, "grade": "fail", "pass": false, "severe": ["IQ-S1"], "unmet": ["IQ-C2"]}),
    );
    check_score(
        json!({"item": "IQ", "findings": []}),
        json!({"score": 5, "grade": "excellent", "pass": true, "severe": [], "unmet": []}),
    );
    check_score(
        json!({"item": "IQ", "findings": ["IQ-C4", "IQ-C1"]}),
        json!({"score": 3, "grade": "pass", "unmet": ["IQ-C1", "IQ-C4"]}),
    );
    check_score(json!({"item": "IQ", "findings": ["IQ-C1", "IQ-C2", "IQ-C3"]}), json!({"score": 3, "grade": "pass"}));
    check_score(json!({"item": "RQ", "findings": ["RQ-C1"]}), json!({"score": 4, "grade": "good", "pass": true}));
    check_score(
        json!({"item": "RQ", "findings": ["RQ-C1", "RQ-C2", "RQ-C3"]}),
        json!({"score": 2, "grade": "fail", "pass": false}),
    );
    check_score(
        json!({"item": "FL", "findings": ["FL-C1", "FL-C2", "FL-C3", "FL-C4"]}),
        json!({"score": 1, "grade": "fail"}),
    );
    check_score(
        json!({"item": "TR", "findings": ["TR-C1"], "not_applicable": ["TR-C2", "TR-C3", "TR-C4"]}),
        json!({"score": 4}),
    );
    check_score(
        json!({"item": "AF", "findings": []}),
        json!({"item": "AF", "score": null, "grade": "pass", "pass": true}),
    );
    check_score(
        json!({"item": "AF", "findings": ["AF-4"]}),
        json!({"score": null, "grade": "fail", "pass": false, "severe": ["AF-4"], "unmet": []}),
    );
}

#[test]
fn an_array_gives_results_in_input_order() {
    // Every combination of IQ's criteria (found / not), as one array: the CLI must agree with the
    // engine on each and keep the order.
    let rubric = Rubric::bundled();
    let codes: Vec<String> = rubric.item("IQ".parse().unwrap()).criteria.iter().map(|c| c.code.to_string()).collect();
    let inputs: Vec<Value> = (0..1u32 << codes.len())
        .map(|mask| {
            let found: Vec<&String> =
                codes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c).collect();
            json!({"item": "IQ", "findings": found})
        })
        .collect();
    let got = stdout_json(&radqc(&["score"], &Value::Array(inputs.clone()).to_string()));
    let got = got.as_array().expect("array out for array in");
    assert_eq!(got.len(), inputs.len(), "one result per input");
    for (input, result) in inputs.iter().zip(got) {
        let f: Findings = serde_json::from_value(input.clone()).unwrap();
        let want = serde_json::to_value(rubric.score(&f).unwrap()).unwrap();
        assert_eq!(result, &want, "result for {input}");
    }
    assert_eq!(stdout_json(&radqc(&["score"], "[]")), json!([]), "an empty array scores nothing");
}

/// Runs `radqc score` on bad input: non-zero exit, nothing on stdout, stderr has every `words`.
fn check_refused(input: &str, words: &[&str]) {
    let out = radqc(&["score"], input);
    assert!(!out.status.success(), "invalid input exits non-zero: {input}");
    assert!(out.stdout.is_empty(), "no partial output for {input}");
    let err = String::from_utf8_lossy(&out.stderr);
    for w in words {
        assert!(err.contains(w), "stderr names `{w}`: {err}");
    }
}

#[test]
fn invalid_evaluations_are_refused_by_index() {
    check_refused(
        r#"[{"item":"IQ","findings":[]}, {"item":"IQ","findings":["FL-S1"]}, {"item":"IQ","findings":["IQ-C1"],"not_applicable":["IQ-C1"]}]"#,
        &["evaluation 1: FL-S1 belongs to item FL", "evaluation 2: IQ-C1 is listed both"],
    );
    check_refused(r#"{"item":"XX","findings":[]}"#, &["evaluation 0: unknown item `XX`"]);
    check_refused(r#"{"item":"IQ","findings":["IQ-C9"]}"#, &["evaluation 0: IQ-C9 is not a criterion of item IQ"]);
    check_refused(r#"{"item":"IQ","findings":["IQ-C1","IQ-C1"]}"#, &["listed twice"]);
    check_refused(r#"{"item":"IQ","findings":["iq-c1"]}"#, &["invalid criterion code `iq-c1`"]);
    check_refused(r#"{"item":"IQ","findings":[],"not_aplicable":["IQ-C1"]}"#, &["unknown field `not_aplicable`"]);
    check_refused(r#"{"item":"IQ"}"#, &["missing field `findings`"]);
    check_refused(r#"{"item":"IQ","findings":[]"#, &["not valid JSON"]);
    check_refused("42", &["found a number"]);
}

#[test]
fn rubric_check_accepts_the_bundled_file_and_names_problems_in_others() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("rubric.toml");
    std::fs::write(&good, Rubric::bundled_text()).unwrap();
    let out = radqc(&["rubric", "check", good.to_str().unwrap()], "");
    assert!(out.status.success(), "bundled rubric checks: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("rubric 2026.1 is valid (6 items, 50 criteria)"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, Rubric::bundled_text().replacen("[5, 4, 3, 3, 2, 1]", "[5, 4, 3, 3]", 1)).unwrap();
    let out = radqc(&["rubric", "check", bad.to_str().unwrap()], "");
    assert!(!out.status.success(), "a bad rubric fails the check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("item IQ") && err.contains("score_table"), "{err}");

    let out = radqc(&["rubric", "check", dir.path().join("missing.toml").to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read rubric file"), "a missing file is named");
}

#[test]
fn rubric_show_prints_both_languages() {
    let out = radqc(&["rubric", "show"], "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("IQ-S1") && text.contains("检查技术选择、摆放位置不当或操作过失，无诊断价值"),
        "Chinese text shown"
    );
    assert!(text.contains("wrong technique or positioning"), "English text shown");
    assert!(text.contains("u=3→3"), "IQ's table shown");
    let json: Value = serde_json::from_slice(&radqc(&["rubric", "show", "--format", "json"], "").stdout).unwrap();
    assert_eq!(json["items"].as_array().map(Vec::len), Some(6));
}

#[test]
fn score_uses_a_given_rubric_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strict.toml");
    // A stricter region: one unmet IQ criterion already scores 3.
    std::fs::write(&file, Rubric::bundled_text().replacen("[5, 4, 3, 3, 2, 1]", "[5, 3, 3, 2, 2, 1]", 1)).unwrap();
    let out = radqc(&["score", "--rubric", file.to_str().unwrap()], r#"{"item":"IQ","findings":["IQ-C3"]}"#);
    assert_eq!(stdout_json(&out)["score"], json!(3), "the given table is used");
}

#[test]
fn gate_without_the_app_follows_the_setting() {
    // Port 9 (discard) has no listener here: the app is "not running".
    let req = r#"{"exam": {"accession": "X1", "modality": "CT", "exam_item": "CT胸部平扫"}, "signer": "D1"}"#;
    let out = radqc(&["gate", "--port", "9"], req);
    assert!(out.status.success(), "default: reporting goes on when QC is down");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"app_down\":true"));
    let out = radqc(&["gate", "--port", "9", "--when-app-down", "block"], req);
    assert_eq!(out.status.code(), Some(3), "block: exit 3");
    let out = radqc(&["gate", "--port", "9"], "not json");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

#[test]
fn gate_says_so_when_the_app_quits_during_a_hold() {
    use std::io::Read;
    // An app that takes the signing, holds it, and quits before answering: its process exit
    // closes the connection, as this listener does once the whole request is in.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let app = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\"signer\"") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the request arrives whole");
            got.extend_from_slice(&buf[..n]);
        }
        std::thread::sleep(std::time::Duration::from_millis(300)); // held
        String::from_utf8_lossy(&got).into_owned()
    });
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("gate.token");
    let token = "0123456789abcdef".repeat(4);
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let req = r#"{"exam": {"accession": "X1", "modality": "CT", "exam_item": "CT胸部平扫"}, "signer": "D1"}"#;
    let out = radqc(&["gate", "--port", &port, "--token-file", token_file.to_str().unwrap()], req);
    let request = app.join().unwrap();
    assert!(request.to_ascii_lowercase().contains(&format!("authorization: bearer {token}")), "{request}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "a documented exit code of its own; stderr: {stderr}");
    assert!(stderr.contains("RadQC quit while the signing was held"), "{stderr}");
    assert!(!stderr.contains("connection closed before message completed"), "{stderr}");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(answer["app_quit"], json!(true));
    assert_eq!(answer["decision"], json!("none"));
}
