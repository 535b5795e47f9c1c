//! The report checks' quality and speed, in one run: precision and recall per check on each
//! labelled corpus in `tests/precheck` (or the files given in `RADQC_PRECHECK_CORPUS`,
//! `:`-separated, e.g. reports from outside the project with the same fields and labels), then
//! the time to check one report (every report of the corpora, many rounds): p50, p99 and max,
//! against the 5 ms p99 the signing path allows.
//!
//! `cargo bench -p radqc-precheck --bench precheck`

use std::path::PathBuf;
use std::time::Instant;

use radqc_precheck::{corpus, Prechecker};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/precheck");
    let files: Vec<PathBuf> = match std::env::var("RADQC_PRECHECK_CORPUS") {
        Ok(list) => list.split(':').map(PathBuf::from).collect(),
        Err(_) => ["corpus.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl"]
            .iter()
            .map(|f| root.join(f))
            .collect(),
    };
    let checker = Prechecker::bundled();
    let mut reports = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases = corpus::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let score = corpus::score(checker, &cases);
        println!("{} ({} reports)\n{}", file.display(), cases.len(), score.table());
        reports.extend(cases.into_iter().map(|c| c.report));
    }
    // Warm up, then time each check of one report.
    for r in &reports {
        std::hint::black_box(checker.check(r));
    }
    let rounds = 20;
    let mut times = Vec::with_capacity(reports.len() * rounds);
    for _ in 0..rounds {
        for r in &reports {
            let t = Instant::now();
            std::hint::black_box(checker.check(std::hint::black_box(r)));
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    // The longest report an entry may carry (20,000 characters each of findings and impression):
    // every corpus report's text run together.
    let mut long = reports[0].clone();
    long.findings = reports.iter().map(|r| r.findings.as_str()).collect::<String>().chars().take(20_000).collect();
    long.impression = reports.iter().map(|r| r.impression.as_str()).collect::<String>().chars().take(20_000).collect();
    let t = Instant::now();
    let proposals = checker.check(&long);
    let long_ms = t.elapsed().as_secs_f64() * 1e3;
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let longest = reports.iter().map(|r| r.findings.chars().count() + r.impression.chars().count()).max().unwrap_or(0);
    println!(
        "one report, {} checks: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (goal p99 < 5 ms; longest report {longest} characters)",
        times.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
    println!("the longest report allowed (2 × 20,000 characters): {long_ms:.1} ms, {} proposals", proposals.len());
}
