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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("qc.db.key").exists(),
        "the key file is made beside the database by default"
    );

    let input = [
        line("DR1", "IQ", &["IQ-C2"]),
        "{not json".into(),
        line("DR2", "IQ", &["IQ-S4"]),
        String::new(),
        line("DR3", "AF", &["AF-2"]),
    ]
    .join("\n");
    let out = radqc(&["local", "save", "--db", db], &input);
    assert!(
        !out.status.success(),
        "an invalid line makes the exit code non-zero"
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 2, "the valid lines were saved regardless");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2:") && err.contains("line 3: IQ-S4 is not a criterion"),
        "{err}"
    );

    let out = radqc(&["local", "export", "--db", db], "");
    let exported: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        exported
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ids,
        "export lists every saved evaluation in order"
    );
    assert_eq!(exported[0]["score"], json!(4));
    assert_eq!(
        exported[0]["site"],
        json!("CLINIC-07"),
        "the store's site by default"
    );
    assert_eq!(exported[0]["scored_person"], json!("A3"));
    assert_eq!(exported[1]["grade"], json!("fail"));

    let out = radqc(&["local", "outbox", "--db", db], "");
    assert_eq!(
        stdout_json(&out),
        json!({"pending": 2, "sent": 0, "rejected": 0})
    );
}

#[test]
fn local_commands_explain_missing_stores_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = radqc(&["local", "export", "--db", db.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("key file"),
        "no key file is named first"
    );

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
    let out = radqc(
        &[
            "local",
            "outbox",
            "--db",
            db,
            "--key-file",
            other_key.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
