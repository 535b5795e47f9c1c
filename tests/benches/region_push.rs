//! Benchmark: a region after an outage. N clinics (default 10) each push a backlog (500
//! evaluations and 4,500 exam events) at once, through the real sync client and HTTP, to one
//! center on loopback. Prints entries/s for all of them together, the time each clinic's pushes
//! took (p50 and the slowest, as time per push), and the floor: the same rows copied inside the
//! database in one durable transaction (`radqc_e2e::floor`). PostgreSQL must be durable
//! (`RADQC_PG_DURABLE=1 scripts/postgres.sh start`).
//!
//! Run: `cargo bench -p radqc-e2e --bench region_push` (RADQC_BENCH_CLINICS=N; with
//! RADQC_TEST_DATABASE_URL set, PostgreSQL is measured too).

use std::time::{Duration, Instant};

use chrono::Utc;
use radqc_e2e::{fill_month, storages, Center, Clinic};
use radqc_sync::Outcome;

const EVALUATIONS: u64 = 500;
const EVENTS: u64 = 4_500;
const BATCH: u32 = 1_000;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this once, small.
    let quick = std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let clinics: usize =
        if quick { 2 } else { std::env::var("RADQC_BENCH_CLINICS").ok().and_then(|s| s.parse().ok()).unwrap_or(10) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
        for (backend, storage) in storages(dir.path()).await {
            radqc_e2e::check_durable(&storage, quick).await;
            let center = Center::start(storage.clone()).await;
            let mut sites = Vec::new();
            for n in 0..clinics {
                let mut clinic = Clinic::new(&format!("CLINIC-{n:03}"));
                clinic.enroll(&center, &center.url()).await;
                fill_month(&mut clinic, EVALUATIONS, EVENTS);
                sites.push(clinic);
            }
            let start = Instant::now();
            let tasks: Vec<_> = sites
                .into_iter()
                .map(|mut clinic| {
                    tokio::spawn(async move {
                        let http = radqc_sync::http_client();
                        let begun = Instant::now();
                        let outcome =
                            radqc_sync::try_sync_once_batched(&mut clinic.store, &http, Utc::now(), BATCH).await;
                        let took = begun.elapsed();
                        assert!(matches!(outcome, Outcome::Synced { pushed, .. } if pushed == EVALUATIONS + EVENTS), "{outcome:?}");
                        took
                    })
                })
                .collect();
            let mut took = Vec::new();
            for t in tasks {
                took.push(t.await.unwrap());
            }
            let wall = start.elapsed();
            took.sort();
            let entries = (EVALUATIONS + EVENTS) as f64 * clinics as f64;
            let pushes = (EVALUATIONS + EVENTS).div_ceil(BATCH as u64) as u32;
            drop(center);
            let floor = radqc_e2e::floor(&storage).await;
            let per_push = |d: Duration| d / pushes;
            println!(
                "region push ({backend}, {clinics} clinics at once, {} entries): {:.1} k entries/s; per push: p50 {:?}, slowest clinic {:?}; floor {:.1} k entries/s: floor / RadQC {:.2}x",
                entries as u64,
                entries / wall.as_secs_f64() / 1000.0,
                per_push(took[took.len() / 2]),
                per_push(took[took.len() - 1]),
                entries / floor.as_secs_f64() / 1000.0,
                wall.as_secs_f64() / floor.as_secs_f64()
            );
        }
    });
    rt.shutdown_background();
}
