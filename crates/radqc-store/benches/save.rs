//! Benchmarks of the durable save (validate, score, insert, outbox, commit with WAL +
//! synchronous=FULL) on a real encrypted file on this machine's disk.
//!
//! Run: `cargo bench -p radqc-store --bench save`. First prints the latency distribution of
//! 2,000 single saves (median, p95, p99, max), then criterion's estimates of one save and of a
//! 100-evaluation import (each evaluation its own durable commit, as `radqc local save` does).
//! Goal on the 2-core CI machine: median ≤ 2× the floor, p99 ≤ 15 ms.
//!
//! The floor, measured in the same run on the same disk: a one-row commit in plain SQLite (no
//! key) with the store's pragmas (WAL, synchronous=FULL), 2,000 times. The ratio is what counts
//! on a noisy machine. Both also print the WAL frames (pages) each commit wrote.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput};
use radqc_store::{Key, NewEvaluation, Store};
use serde_json::json;

fn evaluation(i: u64) -> NewEvaluation {
    serde_json::from_value(json!({
        "item": "IQ",
        "findings": if i.is_multiple_of(4) { vec!["IQ-C2", "IQ-C5"] } else { vec![] },
        "exam": {
            "accession": format!("CT{i:08}"),
            "modality": "CT",
            "exam_item": "CT胸部平扫",
            "department": "放射科",
            "patient_source": "outpatient",
            "staff": {"technologist": "A1", "reporting_doctor": "D1"},
            "patient": {"id": format!("P{i}"), "sex": "M", "age": 61}
        },
        "reviewer": "D1",
        "mode": "random",
        "note": "伪影明显"
    }))
    .unwrap()
}

fn fresh_store(dir: &std::path::Path) -> Store {
    // On the real disk (the target dir), not a tmpfs, so fsync costs what it costs.
    let key = Key::from_bytes([42; 32]);
    Store::create(&dir.join("bench.db"), &key, &"BENCH".parse().unwrap(), Utc::now()).unwrap()
}

fn bench_dir() -> tempfile::TempDir {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-tmp");
    std::fs::create_dir_all(&base).unwrap();
    tempfile::tempdir_in(base).unwrap()
}

/// Counts the WAL frames one write adds (checkpoints, which restart the WAL, are left out).
struct WalFrames {
    path: std::path::PathBuf,
    frames: u64,
    writes: u64,
}

impl WalFrames {
    fn new(db: &std::path::Path) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        WalFrames { path: path.into(), frames: 0, writes: 0 }
    }
    fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
    fn page_size(&self) -> u64 {
        use std::io::Read;
        let mut header = [0u8; 12];
        match std::fs::File::open(&self.path).and_then(|mut f| f.read_exact(&mut header)) {
            Ok(()) => u32::from_be_bytes(header[8..12].try_into().unwrap()) as u64,
            Err(_) => 4096,
        }
    }
    fn count(&mut self, before: u64, after: u64) {
        if after > before {
            self.frames += (after - before) / (self.page_size() + 24);
            self.writes += 1;
        }
    }
    fn per_write(&self) -> f64 {
        self.frames as f64 / self.writes.max(1) as f64
    }
}

struct Latencies(Vec<Duration>);

impl Latencies {
    fn at(&self, q: f64) -> Duration {
        self.0[((self.0.len() as f64 - 1.0) * q).round() as usize]
    }
    fn print(&mut self, what: &str, wal: &WalFrames) {
        self.0.sort();
        println!(
            "{what}, {} commits: median {:?}, p95 {:?}, p99 {:?}, max {:?}; {:.1} WAL pages per commit",
            self.0.len(),
            self.at(0.5),
            self.at(0.95),
            self.at(0.99),
            self.0[self.0.len() - 1],
            wal.per_write()
        );
    }
}

/// The floor: one row per durable commit in plain SQLite with the store's pragmas.
fn floor(dir: &std::path::Path) -> Latencies {
    let path = dir.join("floor.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)").unwrap();
    let mut wal = WalFrames::new(&path);
    let mut times = Vec::with_capacity(2_000);
    for i in 0..2_000 {
        let before = wal.size();
        let start = Instant::now();
        conn.prepare_cached("INSERT INTO t (id, body) VALUES (?1, ?2)")
            .unwrap()
            .execute(rusqlite::params![uuid::Uuid::now_v7().to_string(), format!("CT{i:08} IQ 伪影明显")])
            .unwrap();
        times.push(start.elapsed());
        wal.count(before, wal.size());
    }
    let mut l = Latencies(times);
    l.print("floor: plain SQLite one-row commit", &wal);
    l
}

fn percentiles() {
    let dir = bench_dir();
    let mut store = fresh_store(dir.path());
    let mut wal = WalFrames::new(&dir.path().join("bench.db"));
    let inputs: Vec<NewEvaluation> = (0..2_000).map(evaluation).collect();
    let times: Vec<Duration> = inputs
        .iter()
        .map(|e| {
            let before = wal.size();
            let start = Instant::now();
            store.save_evaluation(e, Utc::now()).unwrap();
            let took = start.elapsed();
            wal.count(before, wal.size());
            took
        })
        .collect();
    let mut save = Latencies(times);
    save.print("durable save", &wal);
    let floor = floor(dir.path());
    println!(
        "durable save / floor: median {:.2}x, p99 {:.2}x",
        save.at(0.5).as_secs_f64() / floor.at(0.5).as_secs_f64(),
        save.at(0.99).as_secs_f64() / floor.at(0.99).as_secs_f64()
    );
}

fn criterion_benches(c: &mut Criterion) {
    let dir = bench_dir();
    let mut store = fresh_store(dir.path());
    let mut i = 1_000_000u64;
    c.bench_function("save_evaluation (durable)", |b| {
        b.iter_batched(
            || {
                i += 1;
                evaluation(i)
            },
            |e| store.save_evaluation(&e, Utc::now()).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let mut group = c.benchmark_group("import");
    group.throughput(Throughput::Elements(100));
    group.sample_size(20);
    group.bench_function("100 evaluations, one commit each", |b| {
        b.iter_batched(
            || {
                (0..100)
                    .map(|_| {
                        i += 1;
                        evaluation(i)
                    })
                    .collect::<Vec<_>>()
            },
            |batch| {
                for e in &batch {
                    store.save_evaluation(e, Utc::now()).unwrap();
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn main() {
    percentiles();
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
