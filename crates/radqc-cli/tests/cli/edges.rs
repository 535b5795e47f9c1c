//! The store's own edges, through `radqc local …`: `init` killed part way, a line that is not
//! UTF-8, a disk already full, an exam of another site or from the future, a wrong key.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::crash::Lcg;
use crate::local::line;
use crate::support::*;

fn init(db: &Path) -> std::process::Output {
    radqc(&["local", "init", "--db", db.to_str().unwrap()], "")
}

fn save(db: &Path, input: &str) -> std::process::Output {
    radqc(&["local", "save", "--db", db.to_str().unwrap()], input)
}

fn exported(db: &Path) -> Vec<Value> {
    let out = radqc(&["local", "export", "--db", db.to_str().unwrap()], "");
    assert!(out.status.success(), "export: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn init_killed_at_any_moment_leaves_a_store_that_init_and_save_can_use() {
    let seed = std::env::var("RADQC_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261202u64);
    let kills = std::env::var("RADQC_INIT_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(60usize);
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    // How long a whole init takes here: the kills land anywhere from its start to a bit past its end.
    let started = Instant::now();
    assert!(init(&dir.path().join("timing.db")).status.success());
    let mut span = started.elapsed().as_micros() as u64 * 5 / 4;

    let (mut finished, mut redone) = (0, 0);
    // At least `kills` rounds; on a machine whose pace changed under the test (other builds), more
    // (at most four times as many) until enough kills landed before the store was complete.
    let mut round = 0;
    while round < kills || (redone <= kills / 5 && round < kills * 4) {
        let db = dir.path().join(format!("qc{round}.db"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
            .args(["local", "init", "--db", db.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % span.max(1)));
        child.kill().unwrap(); // SIGKILL on Unix
        if child.wait().unwrap().success() {
            finished += 1;
        }

        let started = Instant::now();
        let again = init(&db);
        let err = String::from_utf8_lossy(&again.stderr);
        if again.status.success() {
            redone += 1;
            // Follow the machine's pace (other builds come and go): a whole init, timed again.
            span = (span * 3 + started.elapsed().as_micros() as u64 * 5 / 4) / 4;
        } else {
            assert!(
                err.contains("already holds data"),
                "round {round} (seed {seed}): init after a kill either finishes the store or finds the complete one: {err}"
            );
        }
        let out = save(&db, &line(&format!("K{round}"), "IQ", &["IQ-C1"]));
        assert!(
            out.status.success(),
            "round {round} (seed {seed}): save after a killed init{}: {}",
            if again.status.success() { " and a second init" } else { "" },
            String::from_utf8_lossy(&out.stderr)
        );
        let saved = exported(&db);
        assert_eq!(saved.len(), 1, "round {round}: the one saved evaluation, nothing else");
        assert_eq!(saved[0]["accession"], json!(format!("K{round}")));
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("qc{round}.db")) && (n.contains(".init") || n.ends_with(".tmp")))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: no staged file is left behind: {leftovers:?}");
        round += 1;
    }
    assert!(redone > kills / 5, "many kills landed before the store was complete ({redone} of {round})");
    eprintln!(
        "init kills: {round}, {redone} redone by a second init, {finished} finished before the kill; seed {seed}"
    );
}

#[test]
fn a_line_that_is_not_utf8_is_a_bad_line_and_the_lines_after_it_are_saved() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    assert!(init(&db).status.success());
    let mut input = Vec::new();
    input.extend(line("U1", "IQ", &[]).as_bytes());
    input.extend(b"\n{\"item\": \"IQ\", \"note\": \"\xff\xfe\"}\n");
    input.extend(line("U3", "IQ", &["IQ-C2"]).as_bytes());
    input.push(b'\n');
    let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
        .args(["local", "save", "--db", db.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad line makes the exit code non-zero");
    assert!(err.contains("line 2: not UTF-8"), "the bad line is named like any other: {err}");
    assert!(!err.contains("line 1") && !err.contains("line 3"), "{err}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2, "both valid lines were saved: {err}");
    let accessions: Vec<Value> = exported(&db).iter().map(|e| e["accession"].clone()).collect();
    assert_eq!(accessions, vec![json!("U1"), json!("U3")]);
}

/// A tmpfs of 3 MiB at a fresh folder, unmounted when dropped.
struct SmallDisk(tempfile::TempDir);
impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"]).arg(dir.path()).output();
        match out {
            Ok(o) if o.status.success() => Some(SmallDisk(dir)),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs (root is needed): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.0.path().join("filler")).unwrap();
        let block = [0u8; 4096];
        while filler.write_all(&block).is_ok() {}
        let _ = filler.sync_all();
    }
}
impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_disk_full_before_the_save_says_disk_full_and_export_still_reads() {
    let Some(disk) = SmallDisk::mount() else { return };
    let db = disk.0.path().join("qc.db");
    assert!(init(&db).status.success());
    let input: Vec<String> = (0..3).map(|i| line(&format!("F{i}"), "IQ", &[])).collect();
    let out = save(&db, &input.join("\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    disk.fill();

    let out = save(&db, &line("F9", "IQ", &[]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("DISK_FULL") && err.contains("NOT saved"), "a full disk is named, as mid-save: {err}");
    assert!(!err.contains("disk I/O error"), "{err}");

    let out = radqc(&["local", "export", "--db", db.to_str().unwrap()], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "export reads a store on a full disk: {err}");
    assert!(err.contains("DISK_FULL"), "and says why the export is not in the audit log: {err}");
    let accessions: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["accession"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(accessions, ["F0", "F1", "F2"], "every saved evaluation, and not the refused one");

    std::fs::remove_file(disk.0.path().join("filler")).unwrap();
    let out = save(&db, &line("F9", "IQ", &[]));
    assert!(out.status.success(), "with room again, saving works: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(exported(&db).len(), 4);
}

#[test]
fn save_refuses_an_exam_of_another_site_and_a_time_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    assert!(radqc(&["local", "init", "--db", db.to_str().unwrap(), "--site", "NJGL"], "").status.success());
    let with = |accession: &str, change: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&line(accession, "IQ", &[])).unwrap();
        change(&mut v);
        v.to_string()
    };
    let soon = (chrono::Utc::now() + chrono::TimeDelta::minutes(2)).to_rfc3339();
    let input = [
        with("S1", &|v| v["exam"]["site"] = json!("NJGL")),
        with("S2", &|v| v["exam"]["site"] = json!("OTHER")),
        with("S3", &|v| v["at"] = json!("2999-01-01T00:00:00Z")),
        with("S4", &|v| v["at"] = json!(soon)),
        with("S5", &|v| v["at"] = json!("2026-11-04T08:00:00Z")),
    ]
    .join("\n");
    let out = save(&db, &input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("line 2: `exam.site`: is OTHER, but this store belongs to site NJGL (INVALID_INPUT)"),
        "another site's exam is refused: {err}"
    );
    assert!(
        err.contains("line 3: `at`: 2999-01-01T00:00:00.000Z is in the future"),
        "a time far ahead is refused: {err}"
    );
    assert_eq!(err.lines().count(), 2, "a little clock skew and a backdated import are fine: {err}");
    let accessions: Vec<Value> = exported(&db).iter().map(|e| e["accession"].clone()).collect();
    assert_eq!(accessions, vec![json!("S1"), json!("S4"), json!("S5")]);
}

#[test]
fn a_wrong_key_prints_only_our_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    assert!(init(&db).status.success());
    assert!(save(&db, &line("W1", "IQ", &[])).status.success());
    let other = dir.path().join("other.key");
    let out = radqc(
        &["local", "init", "--db", dir.path().join("b.db").to_str().unwrap(), "--key-file", other.to_str().unwrap()],
        "",
    );
    assert!(out.status.success());
    for command in ["export", "save", "outbox"] {
        let out = radqc(&["local", command, "--db", db.to_str().unwrap(), "--key-file", other.to_str().unwrap()], "");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end().lines().collect::<Vec<_>>(),
            [format!("radqc: cannot open {}: wrong key, or the file is not a RadQC store (WRONG_KEY)", db.display())],
            "{command}: stderr holds our message only"
        );
    }
}
