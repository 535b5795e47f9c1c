//! Benchmark: a clinic offline for 30 days (5,000 evaluations, 50,000 exam events) syncs in one
//! pass to a center on loopback. Goal: under 1 s. Reports the median of the runs, and the bytes
//! sent and received (measured by a pass-through proxy in a separate run, so counting does not
//! slow the timed runs).
//!
//! Each run is followed by its floor: the same rows the sync stored (exams, evaluations, exam
//! events) written again inside the database into tables like the center's (same keys and
//! indexes) in one durable transaction (`INSERT … SELECT`: no client, no parsing, no rollups).
//! The ratio floor / RadQC is what counts on a noisy machine. PostgreSQL must be durable
//! (`RADQC_PG_DURABLE=1 scripts/postgres.sh start`), as the SQLite center is synchronous=FULL.
//!
//! Run: `cargo bench -p radqc-e2e --bench offline_month` (RADQC_BENCH_RUNS=N, default 5; with
//! RADQC_TEST_DATABASE_URL set, PostgreSQL is measured too).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use radqc_e2e::{fill_month, storages, Center, Clinic, Fault, FaultProxy};
use radqc_sync::Outcome;

async fn one_run(storage: radqc_e2e::CenterStorage, count_bytes: bool) -> (Duration, Option<(u64, u64)>) {
    let center = Arc::new(tokio::sync::Mutex::new(Center::start(storage).await));
    let proxy = FaultProxy::start(center.clone(), Box::new(|| Fault::Pass)).await;
    let mut clinic = Clinic::new("CLINIC-RURAL");
    let via = if count_bytes { proxy.url() } else { center.lock().await.url() };
    clinic.enroll(&*center.lock().await, &via).await;
    fill_month(&mut clinic, 5_000, 50_000);
    let http = radqc_sync::http_client();
    let start = Instant::now();
    let outcome = radqc_sync::try_sync_once(&mut clinic.store, &http, Utc::now()).await;
    let elapsed = start.elapsed();
    assert!(matches!(outcome, Outcome::Synced { pushed: 55_000, .. }), "{outcome:?}");
    let log = proxy.log();
    (elapsed, count_bytes.then_some((log.bytes_up, log.bytes_down)))
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this once quickly.
    let quick = std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let runs: usize =
        if quick { 1 } else { std::env::var("RADQC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
        for (backend, _) in storages(dir.path()).await {
            let mut times = Vec::new();
            let mut floors = Vec::new();
            for run in 0..runs {
                let run_dir = dir.path().join(format!("{backend}-{run}"));
                std::fs::create_dir_all(&run_dir).unwrap();
                let storage = fresh_storage(backend, &run_dir).await;
                if run == 0 {
                    radqc_e2e::check_durable(&storage, quick).await;
                }
                times.push(one_run(storage.clone(), false).await.0);
                floors.push(radqc_e2e::floor(&storage).await);
            }
            times.sort();
            floors.sort();
            let (median, floor_median) = (times[times.len() / 2], floors[floors.len() / 2]);
            println!(
                "offline month ({backend}): RadQC {:.1} k entries/s, floor {:.1} k entries/s: floor / RadQC {:.2}x",
                55.0 / median.as_secs_f64(),
                55.0 / floor_median.as_secs_f64(),
                median.as_secs_f64() / floor_median.as_secs_f64()
            );
            let counted_dir = dir.path().join(format!("{backend}-bytes"));
            std::fs::create_dir_all(&counted_dir).unwrap();
            let (_, bytes) = one_run(fresh_storage(backend, &counted_dir).await, true).await;
            let (up, down) = bytes.unwrap();
            println!(
                "offline month ({backend}): 55,000 entries in one sync pass: median {:?} over {runs} runs (min {:?}, max {:?}); sent {:.2} MiB, received {:.2} MiB",
                times[times.len() / 2],
                times[0],
                times[times.len() - 1],
                up as f64 / (1024.0 * 1024.0),
                down as f64 / (1024.0 * 1024.0)
            );
        }
    });
    rt.shutdown_background();
}

async fn fresh_storage(backend: &str, dir: &std::path::Path) -> radqc_e2e::CenterStorage {
    match backend {
        "postgres" => {
            let url = std::env::var("RADQC_TEST_DATABASE_URL").unwrap();
            radqc_e2e::CenterStorage::Postgres(radqc_e2e::fresh_postgres_url(&url).await)
        }
        _ => radqc_e2e::CenterStorage::Sqlite(dir.join("center.db")),
    }
}
