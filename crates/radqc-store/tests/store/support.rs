//! Shared helpers: a fresh store in a temp dir, evaluations from JSON, raw SQL access.

use chrono::{DateTime, TimeZone, Utc};
use radqc_store::{Key, NewEvaluation, Store};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
    pub store: Store,
    pub key: Key,
}

impl Fixture {
    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("qc.db")
    }
    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("qc.db.key")
    }
    /// A plain SQLCipher connection to the same file, for checks the API does not offer.
    pub fn raw(&self) -> rusqlite::Connection {
        raw_conn(&self.db(), &self.key_file())
    }
}

pub fn raw_conn(db: &std::path::Path, key_file: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).unwrap();
    let hex = std::fs::read_to_string(key_file).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", hex.trim())).unwrap();
    conn
}

pub fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

pub fn fresh() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::create_file(&dir.path().join("qc.db.key")).unwrap();
    let store = Store::create(&dir.path().join("qc.db"), &key, &"NJGL".parse().unwrap(), t(1, 8)).unwrap();
    Fixture { dir, store, key }
}

/// An exam as JSON with sensible defaults; `extra` fields override.
pub fn exam(accession: &str, extra: Value) -> Value {
    let mut e = json!({
        "accession": accession,
        "modality": "CT",
        "exam_item": "CT胸部平扫",
        "department": "放射科",
        "patient_source": "outpatient",
        "staff": {"technologist": "A1", "reporting_doctor": "D1", "auditing_doctor": "D9"},
        "patient": {"id": "P-0001", "sex": "F", "age": 54},
        "performed_at": "2026-11-02T09:00:00Z"
    });
    if let (Value::Object(e), Value::Object(x)) = (&mut e, extra) {
        e.extend(x);
    }
    e
}

pub fn evaluation(accession: &str, item: &str, findings: &[&str]) -> NewEvaluation {
    serde_json::from_value(json!({
        "item": item,
        "findings": findings,
        "exam": exam(accession, json!({})),
        "reviewer": "D1",
        "mode": "random",
        "note": "",
    }))
    .unwrap()
}

pub fn sha(path: &std::path::Path) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}
