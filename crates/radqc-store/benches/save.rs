//! Benchmarks of the durable save (validate, score, insert, outbox, commit with WAL +
//! synchronous=FULL) on a real encrypted file on this machine's disk.
//!
//! Run: `cargo bench -p radqc-store --bench save`. First prints the latency distribution of
//! 2,000 single saves (median, p95, p99, max), then criterion's estimates of one save and of a
//! 100-evaluation import (each evaluation its own durable commit, as `radqc local save` does).
//! Goal on the 2-core CI machine: median ≤ 1 ms, p99 ≤ 15 ms.

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

fn percentiles() {
    let dir = bench_dir();
    let mut store = fresh_store(dir.path());
    let inputs: Vec<NewEvaluation> = (0..2_000).map(evaluation).collect();
    let mut times: Vec<Duration> = inputs
        .iter()
        .map(|e| {
            let start = Instant::now();
            store.save_evaluation(e, Utc::now()).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "durable save, {} saves: median {:?}, p95 {:?}, p99 {:?}, max {:?}",
        times.len(),
        at(0.5),
        at(0.95),
        at(0.99),
        times[times.len() - 1]
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
