//! The migration to local months, on a center file written before it.

use rusqlite::params;

use super::{sql, Db};

#[tokio::test]
async fn the_local_months_migration_rebuilds_the_rollups_in_the_site_s_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        let before = sql::LOCAL_MONTHS_MIGRATION - 1;
        for m in &sql::MIGRATIONS[..before] {
            c.execute_batch(&m.replace("{serial}", "INTEGER")).unwrap();
        }
        c.pragma_update(None, "user_version", before as i64).unwrap();
        c.execute("INSERT INTO sites (code, name, created_at) VALUES ('S', 'S', '2026-01-01T00:00:00.000Z')", [])
            .unwrap();
        c.execute(
            "INSERT INTO exams (site, accession, modality, exam_item, department, reporting_doctor, auditing_doctor, \
                 performed_at, body, patient_known) \
             VALUES ('S', 'A1', 'CT', 'CT胸部', '放射科', 'D1', 'D9', '2026-10-31T23:30:00.000Z', '{}', TRUE)",
            [],
        )
        .unwrap();
        // Scored at 07:30 on 1 November in Beijing (passing) and again in December (failing).
        for (id, seq, at, score, grade) in
            [("e1", 1, "2026-10-31T23:30:00.000Z", 5, "excellent"), ("e2", 2, "2026-12-02T02:00:00.000Z", 1, "fail")]
        {
            c.execute(
                "INSERT INTO evaluations (id, site, device, seq, accession, item, reviewer, scored_person, mode, \
                     score, grade, pass, rubric_version, at, body, received_at) \
                 VALUES (?1, 'S', 'd', ?2, 'A1', 'RQ', 'Q1', 'D1', 'random', ?3, ?4, ?5, '2026.1', ?6, \
                     '{\"severe\": [], \"unmet\": []}', '2026-12-02T03:00:00.000Z')",
                params![id, seq, score, grade, score > 2, at],
            )
            .unwrap();
        }
        // The rollups as months in UTC counted them.
        c.execute("INSERT INTO rollup_cases VALUES ('2026-10', 'S', '放射科', 'CT', 'D1', 1, 1)", []).unwrap();
    }
    let db = Db::open_sqlite(&path).unwrap();
    let kept = db.rollups().await.unwrap();
    let months: Vec<(&str, [i64; 2])> = kept.cases.iter().map(|(k, v)| (k.month.as_str(), *v)).collect();
    assert_eq!(months, [("2026-11", [1, 1]), ("2026-12", [1, 0])], "Beijing's months, rebuilt");
    assert_eq!(kept.spans.len(), 2, "the exam's two months are kept for counting it once");
    db.rebuild_rollups().await.unwrap();
    assert_eq!(kept, db.rollups().await.unwrap());
    assert_eq!(db.site_zones().await.unwrap().of("S").name(), "Asia/Shanghai", "the default zone");
}
