//! A clinic's store restored from a backup, or copied onto a second workstation, against a real
//! `radqc center serve`: nothing saved is lost or doubled, and each store's export is whole.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::local::line;
use crate::support::{ok, Center};

/// A region with one clinic: its center, and a store enrolled there.
struct Clinic {
    dir: tempfile::TempDir,
    center_db: String,
    center: Center,
}

impl Clinic {
    fn new() -> Clinic {
        let dir = tempfile::tempdir().unwrap();
        let center_db = dir.path().join("center.db").to_str().unwrap().to_owned();
        ok(&["center", "site", "add", "CLINIC-07", "--name", "七里乡卫生院", "--db", &center_db], "");
        let center = Center::serve(&center_db);
        Clinic { dir, center_db, center }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn enrolled_store(&self, name: &str) -> String {
        let db = self.path(name);
        ok(&["local", "init", "--db", &db], "");
        let code = ok(&["center", "device", "enroll", "--site", "CLINIC-07", "--db", &self.center_db], "");
        ok(&["local", "enroll", "--db", &db, "--center", &self.center.url, "--code", code.trim()], "");
        db
    }

    /// Every evaluation id the center holds, with how often.
    fn center_ids(&self) -> Vec<String> {
        ok(&["center", "export", "--db", &self.center_db], "")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l["kind"] == "evaluation")
            .map(|l| l["record"]["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn save(db: &str, from: usize, n: usize) -> Vec<String> {
    let lines: String = (from..from + n).map(|i| line(&format!("DR{i}"), "IQ", &[]) + "\n").collect();
    ok(&["local", "save", "--db", db], &lines).lines().map(str::to_owned).collect()
}

fn sync(db: &str) -> Value {
    let out = crate::support::radqc(&["sync", "--once", "--db", db], "");
    let mut outcome: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "sync failed: {outcome} {}", String::from_utf8_lossy(&out.stderr));
    outcome["stderr"] = Value::String(String::from_utf8_lossy(&out.stderr).into_owned());
    outcome
}

fn export_ids(db: &str) -> BTreeSet<String> {
    ok(&["local", "export", "--db", db], "")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Copies a store as an operator's backup does: the database file, then its WAL, and its key.
fn copy_store(from: &str, to: &str) {
    for suffix in ["", "-wal", ".key"] {
        let source = format!("{from}{suffix}");
        if Path::new(&source).exists() {
            std::fs::copy(&source, format!("{to}{suffix}")).unwrap();
        }
    }
}

fn assert_each_once(ids: &[String], expected: &BTreeSet<String>) {
    let held: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), held.len(), "no evaluation is doubled at the center");
    let lost: Vec<&String> = expected.difference(&held).collect();
    assert!(lost.is_empty(), "{} evaluations lost at the center: {lost:?}", lost.len());
    assert_eq!(&held, expected, "the center holds exactly what was saved");
}

#[test]
fn a_store_restored_from_a_copy_taken_while_saving_loses_nothing() {
    let clinic = Clinic::new();
    let qc = clinic.enrolled_store("qc.db");
    let mut saved: BTreeSet<String> = save(&qc, 0, 3).into_iter().collect();
    assert_eq!(sync(&qc)["pushed"], 3);

    // Last night's backup, copied while a reviewer keeps saving.
    let mut saver = Command::new(env!("CARGO_BIN_EXE_radqc"))
        .args(["local", "save", "--db", &qc])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = saver.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        for i in 100..160 {
            writeln!(stdin, "{}", line(&format!("DR{i}"), "IQ", &["IQ-C2"])).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(120));
    let backup = clinic.path("backup.db");
    copy_store(&qc, &backup);
    writer.join().unwrap();
    let out = saver.wait_with_output().unwrap();
    assert!(out.status.success());
    saved.extend(String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned));
    // The day goes on: more scores, synced; then the disk dies.
    saved.extend(save(&qc, 200, 4));
    sync(&qc);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{qc}{suffix}"));
    }

    // The clinic restores the backup and scores five new exams.
    copy_store(&backup, &qc);
    let in_backup = export_ids(&qc);
    assert!(in_backup.len() < saved.len(), "the backup lacks the day's later scores");
    let new: Vec<String> = save(&qc, 300, 5);
    saved.extend(new.iter().cloned());

    let outcome = sync(&qc);
    assert_eq!(outcome["outcome"], "synced", "{outcome}");
    assert_eq!(outcome["copy"]["why"], "restored", "the store learns it is a restored copy: {outcome}");
    let words = outcome["stderr"].as_str().unwrap();
    assert!(words.contains("本库是从备份恢复的副本") && words.contains("nothing was lost"), "{words}");
    let status = ok(&["local", "outbox", "--db", &qc], "");
    assert!(status.contains(r#""pending":0"#), "{status}");
    assert_each_once(&clinic.center_ids(), &saved);
    assert_eq!(export_ids(&qc), saved, "the restored store's own export is whole again");
    // A second pass is quiet, and later scores flow as usual.
    let again = sync(&qc);
    assert_eq!((again["pushed"].as_u64(), again["copy"].is_null()), (Some(0), true), "{again}");
    saved.extend(save(&qc, 400, 2));
    assert_eq!(sync(&qc)["pushed"], 2);
    assert_each_once(&clinic.center_ids(), &saved);
}

#[test]
fn a_store_copied_onto_a_second_workstation_becomes_a_device_of_its_own() {
    let clinic = Clinic::new();
    let first = clinic.enrolled_store("first.db");
    let mut saved_first: BTreeSet<String> = save(&first, 0, 3).into_iter().collect();
    sync(&first);
    let second = clinic.path("second.db");
    copy_store(&first, &second);
    let mut saved_second = saved_first.clone();

    // Both workstations score and sync, interleaved, for a few rounds.
    let mut copies = Vec::new();
    for round in 0..3 {
        saved_first.extend(save(&first, 1000 + round * 10, 3));
        saved_second.extend(save(&second, 2000 + round * 10, 2));
        for db in [&second, &first] {
            let outcome = sync(db);
            if !outcome["copy"].is_null() {
                let words = outcome["stderr"].as_str().unwrap();
                assert!(words.contains("本库是一个副本") && words.contains("nothing was lost"), "{words}");
                copies.push(outcome["copy"].clone());
            }
        }
    }
    assert_eq!(copies.len(), 1, "exactly one of the two becomes a device of its own: {copies:?}");
    assert_eq!(copies[0]["why"], "reused", "{copies:?}");
    let all: BTreeSet<String> = saved_first.union(&saved_second).cloned().collect();
    assert_each_once(&clinic.center_ids(), &all);
    assert!(export_ids(&first).is_superset(&saved_first), "the first store's export holds what it saved");
    assert!(export_ids(&second).is_superset(&saved_second), "the second store's export holds what it saved");
    let stats = ok(&["center", "stats", "--db", &clinic.center_db], "");
    assert_eq!(stats.lines().count(), 2, "two devices at the center: {stats}");
}
