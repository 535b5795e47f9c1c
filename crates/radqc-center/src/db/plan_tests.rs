//! Figure 3's statement on SQLite reads the index of deducted evaluations in `at` order up to its
//! limit, for every kind of filter, whatever the statistics: it names the index, since with the
//! statistics of some months the planner sorted the whole month instead (220-335 ms instead of
//! 7-11 ms over 10 M evaluations).

use rusqlite::params;

use super::{sql, ReportParams};
use radqc_domain::report::{Month, Period, ReportFilter};
use radqc_domain::{Rubric, SiteZone, Zones};

fn center() -> rusqlite::Connection {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    for m in sql::MIGRATIONS {
        c.execute_batch(&m.replace("{serial}", "INTEGER")).unwrap();
    }
    for (i, site) in ["S1", "S2", "S3"].iter().enumerate() {
        for n in 0..40 {
            let acc = format!("A{n}");
            c.execute(
                "INSERT INTO exams (site, accession, modality, exam_item, department, body) \
                 VALUES (?1, ?2, 'CT', 'CT胸部', ?3, '{}')",
                params![site, acc, if n % 2 == 0 { "放射科" } else { "急诊科" }],
            )
            .unwrap();
            for k in 0..25 {
                let day = 1 + (n + k) % 28;
                let month = 10 + (k % 3);
                let at = format!("2026-{month:02}-{day:02}T0{}:00:00.000Z", k % 10);
                c.execute(
                    "INSERT INTO evaluations (id, site, device, seq, accession, item, reviewer, scored_person, mode, \
                         score, grade, pass, rubric_version, at, body, received_at, deducted) \
                     VALUES (?1, ?2, 'd', ?3, ?4, 'IQ', 'Q1', 'T1', 'random', 3, 'qualified', TRUE, '2026.1', ?5, \
                         '{\"severe\": [], \"unmet\": [\"IQ-C2\"]}', ?5, ?6)",
                    params![format!("{site}-{n}-{k}"), site, (i * 10_000 + n * 100 + k) as i64, acc, at, k % 4 != 0],
                )
                .unwrap();
            }
        }
    }
    c.execute_batch("ANALYZE").unwrap();
    c
}

fn plan(c: &rusqlite::Connection, q: &sql::Query) -> String {
    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {}", q.text)).unwrap();
    let rows = stmt.query_map(rusqlite::params_from_iter(&q.params), |r| r.get::<_, String>(3)).unwrap();
    rows.collect::<Result<Vec<_>, _>>().unwrap().join("; ")
}

#[test]
fn figure_3_reads_its_index_in_order_for_every_filter() {
    let c = center();
    let rubric = Rubric::bundled();
    let shanghai: SiteZone = "Asia/Shanghai".parse().unwrap();
    let one = Zones::one(shanghai);
    let mut several = Zones::one(shanghai);
    several.sites.insert("S3".into(), "Asia/Urumqi".parse().unwrap());
    let filter = |v: serde_json::Value| -> ReportFilter { serde_json::from_value(v).unwrap() };
    let month = Period::month(Month { year: 2026, month: 11 });
    let cases = [
        (filter(serde_json::json!({})), &one, "evaluations_deducted "),
        (filter(serde_json::json!({"department": "放射科"})), &one, "evaluations_deducted "),
        (filter(serde_json::json!({"site": "S2"})), &one, "evaluations_deducted_site"),
        (filter(serde_json::json!({"site": "S2", "modality": "CT"})), &several, "evaluations_deducted_site"),
        (filter(serde_json::json!({})), &several, "evaluations_deducted "),
    ];
    for (f, zones, index) in cases {
        let p = ReportParams::new(month, &f, rubric, zones);
        let q = p.details_query(500, true);
        let plan = plan(&c, &q);
        assert!(plan.contains(&format!("USING INDEX {index}")), "{f:?}: {plan}");
        assert!(!plan.contains("USE TEMP B-TREE FOR ORDER BY"), "{f:?}: the month is not sorted: {plan}");
        // The same rows, in the same order, as the statement without the index named.
        let run = |q: &sql::Query| -> Vec<(String, String)> {
            let mut stmt = c.prepare(&q.text).unwrap();
            let rows = stmt.query_map(rusqlite::params_from_iter(&q.params), |r| Ok((r.get(15)?, r.get(11)?))).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        let named = run(&q);
        assert!(!named.is_empty(), "{f:?}: {} {:?}", q.text, q.params);
        assert!(named.windows(2).all(|w| w[0] <= w[1]), "{f:?}: oldest first");
        assert_eq!(named, run(&p.details_query(500, false)), "{f:?}");
        assert_eq!(
            run(&p.details_query(7, true)),
            named[..7.min(named.len())],
            "{f:?}: the first rows up to the limit"
        );
    }
}
