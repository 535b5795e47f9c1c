//! The crash test: a child `radqc local save` saves in a loop and prints each id only after its
//! commit; the parent SIGKILLs it at random moments, 200 times, and checks after every kill that
//! each reported save is present, the file is sound and the outbox has no gap and no duplicate.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use radqc_store::{Key, Store};

use crate::local::line;

/// A small deterministic generator, so a failing run can be repeated from its seed.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn every_reported_save_survives_sigkill() {
    let seed = std::env::var("RADQC_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261129u64);
    let kills = std::env::var("RADQC_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(200usize);
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let status = Command::new(env!("CARGO_BIN_EXE_radqc"))
        .args(["local", "init", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(status.status.success());
    let key = Key::from_file(&dir.path().join("qc.db.key")).unwrap();

    let mut reported: HashSet<String> = HashSet::new();
    let mut killed_mid_stream = 0;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_radqc"))
            .args(["local", "save", "--db", db.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // Feed lines for as long as the child lives; a broken pipe ends the feeder.
        let feeder = std::thread::spawn(move || {
            for i in 0.. {
                let l = line(&format!("R{round}-{i}"), "IQ", if i % 3 == 0 { &["IQ-C1"] } else { &[] });
                if writeln!(stdin, "{l}").is_err() {
                    break;
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for id in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(id);
            }
        });
        // Most rounds wait for the first reported save (start-up is slow on a busy machine),
        // then kill at a random moment in the stream; every fourth kills at a random moment
        // from the start, start-up included.
        let mut ids: Vec<String> = Vec::new();
        if round % 4 != 0 {
            ids.extend(rx.recv_timeout(Duration::from_secs(20)).ok());
        }
        std::thread::sleep(Duration::from_micros(2_000 + rng.next() % 40_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        feeder.join().unwrap();
        ids.extend(rx.try_iter());
        if !ids.is_empty() {
            killed_mid_stream += 1;
        }
        reported.extend(ids);

        let store =
            Store::open(&db, &key).unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopen after kill: {e}"));
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}: integrity_check after kill");
        let saved: HashSet<String> = store.evaluations().unwrap().into_iter().map(|e| e.id).collect();
        let lost: Vec<&String> = reported.difference(&saved).collect();
        assert!(lost.is_empty(), "round {round} (seed {seed}): reported saves lost: {lost:?}");
        let outbox = store.outbox().unwrap();
        let seqs: Vec<i64> = outbox.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=outbox.len() as i64).collect::<Vec<_>>(),
            "round {round}: outbox sequence without gap or duplicate"
        );
        let refs: HashSet<&str> = outbox.iter().map(|e| e.ref_id.as_str()).collect();
        assert_eq!(refs.len(), outbox.len(), "round {round}: one outbox entry per evaluation");
        assert_eq!(refs.len(), saved.len(), "round {round}: every evaluation has its outbox entry");
    }
    assert!(
        killed_mid_stream > kills / 2,
        "most kills landed while saves were flowing ({killed_mid_stream} of {kills})"
    );
    eprintln!("crash test: {kills} kills, {} saves reported and found, seed {seed}", reported.len());
}
