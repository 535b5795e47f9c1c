//! `radqc precheck`: one report per line in, its proposals out; a bad line is named and the
//! rest go on.

use serde_json::Value;

use crate::support::radqc;

const LEFT_KNEE_SAYS_RIGHT: &str = r#"{"modality":"MR","exam_item":"左膝关节MR平扫","patient_sex":"M","patient_age":40,"history":"","is_followup":false,"prior_available":false,"findings":"右膝关节内侧半月板后角见线样高信号，达关节面。","impression":"右膝内侧半月板后角撕裂。","labels":["laterality"]}"#;
const CLEAN: &str = r#"{"modality":"DR","exam_item":"胸部正位","patient_sex":"F","patient_age":30,"history":null,"is_followup":false,"prior_available":false,"findings":"双肺纹理清晰，心影不大。","impression":"心肺膈未见异常。"}"#;

#[test]
fn each_line_gets_its_proposals_and_a_bad_line_is_named_while_the_rest_go_on() {
    let input = format!("{LEFT_KNEE_SAYS_RIGHT}\nnot json\n{{\"findings\":\"\",\"impression\":\"\",\"patient_sex\":\"男\"}}\n\n{CLEAN}\n");
    let out = radqc(&["precheck"], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a refused line makes the exit status 1: {stderr}");
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(stderr.contains("line 3:") && stderr.contains("sex"), "the error names the field: {stderr}");
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 2, "one output line per report");
    let first = &lines[0]["proposals"][0];
    assert_eq!(first["check"], "laterality");
    assert_eq!(first["criterion"], "RQ-S2");
    assert!(first["message_zh"].as_str().unwrap().contains("检查项目为左膝"), "{first}");
    for e in first["evidence"].as_array().unwrap() {
        assert!(LEFT_KNEE_SAYS_RIGHT.contains(e.as_str().unwrap()), "evidence {e} is verbatim in the report");
    }
    assert_eq!(lines[1]["proposals"], Value::Array(vec![]), "a clean report has no proposals");
}

#[test]
fn a_wrong_lexicon_file_is_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lexicon.toml");
    std::fs::write(&path, "schema = 1\n").unwrap();
    let out = radqc(&["precheck", "--lexicon", path.to_str().unwrap()], CLEAN);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lexicon.toml") && stderr.contains("missing field"), "{stderr}");
}
