//! Benchmark: the center's reports over a region's history, 10 million evaluations (100 sites,
//! 24 months from 2025-01 to 2026-12, 4 million exams), on SQLite and on PostgreSQL.
//!
//! Goals (issue 6): a monthly report of any figure in at most 200 ms p95, an all-time one in at
//! most 1 s. Every report here computes all figures at once (the indicators and figures 2-8, and
//! figure 3's first 500 rows with their total), so each timing covers "any figure".
//!
//! The data is written straight into the center's tables (bulk inserts; pushing 10 M
//! evaluations through HTTP would take hours), then the rollups are built by the center's own
//! `rebuild_rollups`, the code a migration runs. A report of one site and month is checked
//! against the same report computed from the raw evaluations (`Report::build`), so the timed
//! numbers are the right numbers. The cost of keeping the rollups at ingest is measured by the
//! `offline_month` bench, run with and without `RADQC_CENTER_ROLLUPS=off`.
//!
//! Run: `cargo bench -p radqc-e2e --bench report_10m` (RADQC_BENCH_EVALUATIONS=N, default
//! 10,000,000; PostgreSQL too when RADQC_TEST_DATABASE_URL is set, e.g. a cluster of its own:
//! `RADQC_PG_DIR=target/pg-bench scripts/postgres.sh start`). The generated databases are
//! kept (target/bench-data, and database radqc_bench_N) and reused by the next run;
//! RADQC_BENCH_REBUILD=1 rebuilds their rollups first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use radqc_center::Db;
use radqc_domain::report::{Month, Period, Report, ReportFilter};
use radqc_domain::{QcMode, Role, Rubric};

const SITES: usize = 100;
const MONTHS: usize = 24;
const FIRST_YEAR: i32 = 2025;

/// A deterministic generator (the same data on every run and backend).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn month(i: usize) -> Month {
    Month { year: FIRST_YEAR + (i / 12) as i32, month: (i % 12) as u32 + 1 }
}

struct ExamGen {
    site: String,
    accession: String,
    modality: &'static str,
    department: &'static str,
    technologist: String,
    reporting_doctor: String,
    performed_at: String,
    /// The patient identified (id, sex, age): 2 % are not, so their cases do not qualify.
    patient_known: bool,
}

struct EvalGen {
    id: String,
    site: String,
    device: String,
    seq: i64,
    accession: String,
    item: &'static str,
    scored_person: String,
    mode: &'static str,
    score: i32,
    grade: &'static str,
    pass: bool,
    at: String,
    body: String,
    deducted: bool,
}

const CRITERIA: [(&str, [&str; 4], &str); 3] = [
    ("IQ", ["IQ-C1", "IQ-C2", "IQ-C4", "IQ-C5"], "IQ-S2"),
    ("RQ", ["RQ-C1", "RQ-C2", "RQ-C3", "RQ-C4"], "RQ-S1"),
    ("AR", ["AR-C1", "AR-C2", "AR-C3", "AR-C4"], "AR-S7"),
];

/// One site's month: exams and their evaluations (IQ and RQ always, AR for half).
fn site_month(rng: &mut Rng, site: usize, m: usize, exams: usize, seq: &mut i64) -> (Vec<ExamGen>, Vec<EvalGen>) {
    let site_code = format!("S{site:03}");
    let device = format!("dev-{site_code}");
    let mon = month(m);
    let (mut xs, mut vs) = (Vec::with_capacity(exams), Vec::with_capacity(exams * 5 / 2));
    for e in 0..exams {
        let day = 1 + rng.next(28);
        let minute = rng.next(24 * 60);
        let performed_at = format!("{mon}-{day:02}T{:02}:{:02}:00.000Z", minute / 60, minute % 60);
        let at = format!("{mon}-{day:02}T23:{:02}:00.000Z", minute % 60);
        let x = ExamGen {
            site: site_code.clone(),
            accession: format!("{mon}-{e:05}"),
            modality: ["DR", "DR", "CT", "CT", "MR"][rng.next(5) as usize],
            department: ["放射科", "放射科", "急诊影像"][rng.next(3) as usize],
            technologist: format!("A{}", 1 + rng.next(8)),
            reporting_doctor: format!("D{}", 1 + rng.next(6)),
            performed_at,
            patient_known: rng.next(50) != 0,
        };
        let items: &[usize] = if rng.next(2) == 0 { &[0, 1] } else { &[0, 1, 2] };
        for &i in items {
            let (item, compliance, severe) = CRITERIA[i];
            let score = match rng.next(100) {
                0 => 1,
                1..=2 => 2,
                3..=9 => 3,
                10..=29 => 4,
                _ => 5,
            };
            let (sev, unmet): (Vec<&str>, Vec<&str>) = match score {
                5 => (vec![], vec![]),
                4 => (vec![], vec![compliance[rng.next(4) as usize]]),
                3 => (vec![], vec![compliance[rng.next(2) as usize], compliance[2 + rng.next(2) as usize]]),
                _ => (vec![severe], vec![]),
            };
            *seq += 1;
            vs.push(EvalGen {
                id: format!("{site_code}-{}", seq),
                site: site_code.clone(),
                device: device.clone(),
                seq: *seq,
                accession: x.accession.clone(),
                item,
                scored_person: match i {
                    0 => x.technologist.clone(),
                    1 => x.reporting_doctor.clone(),
                    _ => "D9".to_owned(),
                },
                mode: if rng.next(10) == 0 { "active" } else { "random" },
                score,
                grade: ["fail", "fail", "pass", "good", "excellent"][score as usize - 1],
                pass: score >= 3,
                at: at.clone(),
                body: serde_json::json!({"severe": sev, "unmet": unmet, "note": ""}).to_string(),
                deducted: score < 5,
            });
        }
        xs.push(x);
    }
    (xs, vs)
}

/// Generates the region, site-month by site-month, and hands each to `write`.
fn generate(evaluations: u64, mut write: impl FnMut(Vec<ExamGen>, Vec<EvalGen>)) {
    let exams_per_site_month = (evaluations as f64 / (SITES * MONTHS) as f64 / 2.5).ceil() as usize;
    let mut rng = Rng(20261129);
    for site in 0..SITES {
        let mut seq = 0;
        for m in 0..MONTHS {
            let (xs, vs) = site_month(&mut rng, site, m, exams_per_site_month, &mut seq);
            write(xs, vs);
        }
    }
}

const EXAM_BODY: &str = "{}";

type Chunk = Vec<(Vec<ExamGen>, Vec<EvalGen>)>;

/// Generates the region in chunks of about `size` evaluations.
fn chunks(evaluations: u64, size: usize, mut each: impl FnMut(Chunk)) {
    let (mut buf, mut pending) = (Vec::new(), 0);
    generate(evaluations, |xs, vs| {
        pending += vs.len();
        buf.push((xs, vs));
        if pending >= size {
            each(std::mem::take(&mut buf));
            pending = 0;
        }
    });
    each(buf);
}

fn load_sqlite(path: &PathBuf, evaluations: u64) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "synchronous", "OFF").unwrap();
    chunks(evaluations, 200_000, |chunk| {
        let t = c.transaction().unwrap();
        {
            let mut exam = t
                .prepare_cached(
                    "INSERT INTO exams (site, accession, modality, exam_item, department, technologist, \
                     reporting_doctor, auditing_doctor, performed_at, body, patient_known) \
                     VALUES (?1, ?2, ?3, '检查', ?4, ?5, ?6, 'D9', ?7, ?8, ?9)",
                )
                .unwrap();
            let mut evaluation = t
                .prepare_cached(
                    "INSERT INTO evaluations (id, site, device, seq, accession, item, reviewer, scored_person, mode, \
                     score, grade, pass, rubric_version, at, body, received_at, current, deducted) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'Q1', ?7, ?8, ?9, ?10, ?11, '2026.1', ?12, ?13, ?12, TRUE, ?14)",
                )
                .unwrap();
            for (xs, vs) in &chunk {
                for x in xs {
                    exam.execute(rusqlite::params![
                        x.site,
                        x.accession,
                        x.modality,
                        x.department,
                        x.technologist,
                        x.reporting_doctor,
                        x.performed_at,
                        EXAM_BODY,
                        x.patient_known
                    ])
                    .unwrap();
                }
                for v in vs {
                    evaluation
                        .execute(rusqlite::params![
                            v.id,
                            v.site,
                            v.device,
                            v.seq,
                            v.accession,
                            v.item,
                            v.scored_person,
                            v.mode,
                            v.score,
                            v.grade,
                            v.pass,
                            v.at,
                            v.body,
                            v.deducted
                        ])
                        .unwrap();
                }
            }
        }
        t.commit().unwrap();
    });
}

async fn load_postgres(url: &str, evaluations: u64) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute("SET synchronous_commit = off").await.unwrap();
    let flush = |batches: Chunk| {
        let client = &client;
        async move {
            let xs: Vec<&ExamGen> = batches.iter().flat_map(|b| &b.0).collect();
            let vs: Vec<&EvalGen> = batches.iter().flat_map(|b| &b.1).collect();
            let col = |f: &dyn Fn(&ExamGen) -> String| xs.iter().map(|x| f(x)).collect::<Vec<String>>();
            client
                .execute(
                    "INSERT INTO exams (site, accession, modality, exam_item, department, technologist, \
                     reporting_doctor, auditing_doctor, performed_at, body, patient_known) \
                     SELECT s, a, m, '检查', d, t, r, 'D9', p, '{}', k FROM unnest($1::text[], $2::text[], \
                     $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[]) AS u(s, a, m, d, t, r, p, k)",
                    &[
                        &col(&|x| x.site.clone()),
                        &col(&|x| x.accession.clone()),
                        &col(&|x| x.modality.to_owned()),
                        &col(&|x| x.department.to_owned()),
                        &col(&|x| x.technologist.clone()),
                        &col(&|x| x.reporting_doctor.clone()),
                        &col(&|x| x.performed_at.clone()),
                        &xs.iter().map(|x| x.patient_known).collect::<Vec<bool>>(),
                    ],
                )
                .await
                .unwrap();
            let text = |f: &dyn Fn(&EvalGen) -> String| vs.iter().map(|v| f(v)).collect::<Vec<String>>();
            let seqs: Vec<i64> = vs.iter().map(|v| v.seq).collect();
            let scores: Vec<i32> = vs.iter().map(|v| v.score).collect();
            let passes: Vec<bool> = vs.iter().map(|v| v.pass).collect();
            let deducted: Vec<bool> = vs.iter().map(|v| v.deducted).collect();
            client
                .execute(
                    "INSERT INTO evaluations (id, site, device, seq, accession, item, reviewer, scored_person, mode, \
                     score, grade, pass, rubric_version, at, body, received_at, current, deducted) \
                     SELECT i, s, dv, q, a, it, 'Q1', sp, mo, sc, g, p, '2026.1', t, b, t, TRUE, dd \
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
                     $7::text[], $8::text[], $9::int[], $10::text[], $11::bool[], $12::text[], $13::text[], \
                     $14::bool[]) AS u(i, s, dv, q, a, it, sp, mo, sc, g, p, t, b, dd)",
                    &[
                        &text(&|v| v.id.clone()),
                        &text(&|v| v.site.clone()),
                        &text(&|v| v.device.clone()),
                        &seqs,
                        &text(&|v| v.accession.clone()),
                        &text(&|v| v.item.to_owned()),
                        &text(&|v| v.scored_person.clone()),
                        &text(&|v| v.mode.to_owned()),
                        &scores,
                        &text(&|v| v.grade.to_owned()),
                        &passes,
                        &text(&|v| v.at.clone()),
                        &text(&|v| v.body.clone()),
                        &deducted,
                    ],
                )
                .await
                .unwrap();
        }
    };
    // Generated on a thread, inserted here, a few chunks in flight at most.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let generator = std::thread::spawn(move || chunks(evaluations, 50_000, |c| tx.blocking_send(c).unwrap()));
    while let Some(chunk) = rx.recv().await {
        flush(chunk).await;
    }
    generator.join().unwrap();
}

struct Timings(Vec<Duration>);
impl Timings {
    fn pct(&self, p: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    }
    fn show(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "n={:3}  p50 {:7.1} ms  p95 {:7.1} ms  max {:7.1} ms",
            self.0.len(),
            ms(self.pct(0.5)),
            ms(self.pct(0.95)),
            ms(self.pct(1.0))
        )
    }
}

async fn timed(db: &Db, period: Period, filter: ReportFilter) -> (Duration, Report) {
    let start = Instant::now();
    let r = db.report(period, filter, Rubric::bundled(), Some(500)).await.unwrap();
    (start.elapsed(), r)
}

async fn measure(backend: &str, db: &Db, quick: bool) {
    // Correctness first: one site's month from the rollups equals the raw computation.
    let check = Period::month(month(17));
    let site = ReportFilter { site: Some("S042".into()), ..Default::default() };
    let from_rollups = db.report(check, site.clone(), Rubric::bundled(), None).await.unwrap();
    let (from, to) = check.range(radqc_domain::SiteZone::default());
    let facts: Vec<_> = db.evaluation_facts(&from, &to, Some("S042")).await.unwrap().into_iter().collect();
    let work = db.work_facts(&from, &to, Some("S042")).await.unwrap();
    let raw = Report::build(Rubric::bundled(), check.to_string(), site, &facts, &work, None);
    assert_eq!(
        serde_json::to_value(&from_rollups).unwrap(),
        serde_json::to_value(&raw).unwrap(),
        "{backend}: the rollups give the raw numbers"
    );
    println!("{backend}: S042 {check} from rollups = from {} raw evaluations", facts.len());

    let months = if quick { 2 } else { MONTHS };
    let filters: Vec<(&str, ReportFilter)> = vec![
        ("region", ReportFilter::default()),
        ("site S057", ReportFilter { site: Some("S057".into()), ..Default::default() }),
        ("role technologist", ReportFilter { role: Some(Role::Technologist), ..Default::default() }),
        ("modality CT", ReportFilter { modality: Some("CT".parse().unwrap()), ..Default::default() }),
        ("person A3", ReportFilter { person: Some("A3".parse().unwrap()), ..Default::default() }),
        ("mode active", ReportFilter { mode: Some(QcMode::Active), ..Default::default() }),
        ("department 急诊影像", ReportFilter { department: Some("急诊影像".into()), ..Default::default() }),
    ];
    let mut all_monthly = Vec::new();
    for (what, filter) in &filters {
        let mut t = Vec::new();
        for m in 0..months {
            let (d, r) = timed(db, Period::month(month(m)), filter.clone()).await;
            let rows = r.scores_technologists.rows.len() + r.scores_doctors.rows.len();
            assert!(rows > 0 || quick, "{backend} {what}: data in every month");
            t.push(d);
        }
        all_monthly.extend(t.iter().copied());
        println!("{backend:8} monthly  {what:20} {}", Timings(t).show());
    }
    println!("{backend:8} monthly  {:20} {}", "all of the above", Timings(all_monthly).show());
    for (what, filter) in [&filters[0], &filters[1], &filters[2]] {
        let mut t = Vec::new();
        let mut sampled = 0;
        for _ in 0..if quick { 1 } else { 5 } {
            let (d, r) = timed(db, Period::all(), filter.clone()).await;
            sampled = r.indicators.sampled;
            t.push(d);
        }
        println!("{backend:8} all-time {what:20} {}  ({sampled} sampled cases)", Timings(t).show());
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let evaluations: u64 = if quick {
        24_000
    } else {
        std::env::var("RADQC_BENCH_EVALUATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../bench-data");
        std::fs::create_dir_all(&dir).unwrap();
        // SQLite.
        // A database is reused only when its load finished (a marker file says so).
        let path = dir.join(format!("center-{evaluations}.db"));
        let done = dir.join(format!("center-{evaluations}.db.done"));
        let fresh = !done.exists();
        if fresh {
            for stale in [path.clone(), path.with_extension("db-wal"), path.with_extension("db-shm")] {
                let _ = std::fs::remove_file(stale);
            }
        }
        let db = Db::open_sqlite(&path).unwrap();
        if !fresh && std::env::var("RADQC_BENCH_REBUILD").as_deref() == Ok("1") {
            let start = Instant::now();
            let exams = db.rebuild_rollups().await.unwrap();
            println!("sqlite: rollups rebuilt from {exams} exams in {:.0} s", start.elapsed().as_secs_f64());
        }
        if fresh {
            let start = Instant::now();
            load_sqlite(&path, evaluations);
            let loaded = start.elapsed();
            let start = Instant::now();
            let exams = db.rebuild_rollups().await.unwrap();
            println!(
                "sqlite: loaded {evaluations} evaluations in {:.0} s; rollups rebuilt from {exams} exams in {:.0} s",
                loaded.as_secs_f64(),
                start.elapsed().as_secs_f64()
            );
            std::fs::write(&done, "").unwrap();
        }
        measure("sqlite", &db, quick).await;
        drop(db);
        // PostgreSQL, when there is one.
        if let Ok(admin) = std::env::var("RADQC_TEST_DATABASE_URL") {
            let name = format!("radqc_bench_{evaluations}");
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let done = dir.join(format!("{name}.done"));
            let there = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await.unwrap();
            let exists = if done.exists() && there.is_some() { Some(()) } else { None };
            if exists.is_none() {
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
                client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
            }
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            let db = Db::connect_postgres(&url).await.unwrap();
            if exists.is_none() {
                let start = Instant::now();
                load_postgres(&url, evaluations).await;
                let loaded = start.elapsed();
                let start = Instant::now();
                let exams = db.rebuild_rollups().await.unwrap();
                let (c2, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                c2.batch_execute("ANALYZE").await.unwrap();
                println!(
                    "postgres: loaded {evaluations} evaluations in {:.0} s; rollups rebuilt from {exams} exams in {:.0} s",
                    loaded.as_secs_f64(),
                    start.elapsed().as_secs_f64()
                );
                std::fs::write(&done, "").unwrap();
            }
            if exists.is_some() && std::env::var("RADQC_BENCH_REBUILD").as_deref() == Ok("1") {
                let start = Instant::now();
                let exams = db.rebuild_rollups().await.unwrap();
                println!("postgres: rollups rebuilt from {exams} exams in {:.0} s", start.elapsed().as_secs_f64());
            }
            let (c3, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            c3.batch_execute("VACUUM ANALYZE").await.unwrap();
            measure("postgres", &db, quick).await;
        } else {
            println!("note: RADQC_TEST_DATABASE_URL not set: PostgreSQL not measured");
        }
    });
}
