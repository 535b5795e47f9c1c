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

/// A file's bytes, to show a refused file is untouched.
fn bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn history(path: &std::path::Path) -> Vec<(i64, String, String)> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut stmt = c.prepare("SELECT version, digest, recorded FROM center_migrations ORDER BY version").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_build_whose_shipped_migration_was_edited_refuses_the_database_untouched() {
    use super::{migrate::digest, sqlite::SqliteDb};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    drop(SqliteDb::open(&path).unwrap());
    let want: Vec<_> =
        sql::MIGRATIONS.iter().enumerate().map(|(i, m)| (i as i64 + 1, digest(m), "applied".to_owned())).collect();
    assert_eq!(history(&path), want, "every migration recorded as it ran");
    let before = bytes(&path);
    for i in 0..sql::MIGRATIONS.len() {
        let mut edited = sql::MIGRATIONS.to_vec();
        let text = format!("{}\n-- edited", sql::MIGRATIONS[i]);
        edited[i] = &text;
        let err = SqliteDb::open_with(&path, &edited).err().expect("refused");
        assert_eq!(err.body.code, "MIGRATION_HISTORY", "{err}");
        assert!(err.to_string().contains(&format!("the migration {} it ran is not this build's", i + 1)), "{err}");
        assert_eq!(bytes(&path), before, "the refused file is untouched");
    }
    // A migration added later is applied and recorded; the same number with another text is refused.
    let mut newer = sql::MIGRATIONS.to_vec();
    newer.push("CREATE TABLE later (x TEXT);");
    drop(SqliteDb::open_with(&path, &newer).unwrap());
    assert_eq!(history(&path).last().unwrap(), &(newer.len() as i64, digest(newer[newer.len() - 1]), "applied".into()));
    newer.pop();
    newer.push("CREATE TABLE other (y TEXT);");
    assert_eq!(SqliteDb::open_with(&path, &newer).err().unwrap().body.code, "MIGRATION_HISTORY");
}

#[test]
fn a_file_made_before_the_record_is_refused_when_made_by_an_earlier_text_and_recorded_when_not() {
    use super::migrate::digest;
    let dir = tempfile::tempdir().unwrap();
    for (name, edited) in [("old.db", true), ("same.db", false)] {
        let path = dir.path().join(name);
        {
            // Migrations 1 to 3 as a center made them before the record was kept; "old" as they
            // were before commit 66635ef added `patient_known` to migration 3.
            let c = rusqlite::Connection::open(&path).unwrap();
            for (i, m) in sql::MIGRATIONS[..3].iter().enumerate() {
                let text = if edited && i == 2 {
                    let added = "ALTER TABLE exams ADD COLUMN patient_known BOOLEAN NOT NULL DEFAULT FALSE;\n";
                    assert!(m.contains(added));
                    m.replace(added, "")
                } else {
                    m.to_string()
                };
                c.execute_batch(&text.replace("{serial}", "INTEGER")).unwrap();
            }
            c.pragma_update(None, "user_version", 3).unwrap();
        }
        if edited {
            let before = bytes(&path);
            let err = Db::open_sqlite(&path).err().expect("refused");
            assert_eq!(err.body.code, "MIGRATION_HISTORY", "{err}");
            assert!(
                err.to_string().contains("its schema is not what migrations 1 to 3 make: table exams differs"),
                "{err}"
            );
            assert_eq!(bytes(&path), before, "the refused file is untouched");
        } else {
            drop(Db::open_sqlite(&path).unwrap());
            let want: Vec<_> = sql::MIGRATIONS
                .iter()
                .enumerate()
                .map(|(i, m)| (i as i64 + 1, digest(m), if i < 3 { "inferred" } else { "applied" }.to_owned()))
                .collect();
            assert_eq!(history(&path), want);
        }
    }
}

/// The same on PostgreSQL (when `RADQC_TEST_DATABASE_URL` names a server): the refused
/// database is left as it was (the migration's transaction rolled back).
#[tokio::test]
async fn postgres_refuses_another_migration_history_and_records_an_old_database_s() {
    use super::{migrate::digest, postgres::PgDb};
    let Ok(admin) = std::env::var("RADQC_TEST_DATABASE_URL") else {
        assert_ne!(std::env::var("RADQC_REQUIRE_POSTGRES").as_deref(), Ok("1"), "RADQC_TEST_DATABASE_URL is not set");
        eprintln!("note: RADQC_TEST_DATABASE_URL not set: PostgreSQL not tested here");
        return;
    };
    let connect = |url: String| async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    };
    let fresh = |tag: &'static str| {
        let (admin, connect) = (admin.clone(), connect);
        async move {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let name = format!("radqc_t_mig_{tag}_{}", hex::encode(bytes));
            connect(admin.clone()).await.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
    };
    let state = |url: String| async move {
        let c = connect(url).await;
        let version: i64 = c.query_one("SELECT version FROM center_schema", &[]).await.unwrap().get(0);
        let rows = c
            .query("SELECT version, digest, recorded FROM center_migrations ORDER BY version", &[])
            .await
            .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect::<Vec<(i64, String, String)>>())
            .ok();
        (version, rows)
    };

    // A database made by these migrations, then one whose build edited a shipped migration.
    let url = fresh("edit").await;
    drop(Db::connect_postgres(&url).await.unwrap());
    let before = state(url.clone()).await;
    let want: Vec<_> =
        sql::MIGRATIONS.iter().enumerate().map(|(i, m)| (i as i64 + 1, digest(m), "applied".to_owned())).collect();
    assert_eq!(before, (sql::MIGRATIONS.len() as i64, Some(want)));
    let mut edited = sql::MIGRATIONS.to_vec();
    let text = format!("{}\n-- edited", sql::MIGRATIONS[2]);
    edited[2] = &text;
    let pg = PgDb::connect(&url).await.unwrap();
    let err = pg.migrate_with(&edited).await.expect_err("refused");
    assert_eq!(err.body.code, "MIGRATION_HISTORY", "{err}");
    assert!(err.to_string().contains("the migration 3 it ran is not this build's"), "{err}");
    assert_eq!(state(url).await, before, "the refused database is as it was");

    // Made before the record was kept: from the earlier text of migration 3 (refused), or from
    // these (recorded).
    for edited in [true, false] {
        let url = fresh(if edited { "old" } else { "same" }).await;
        {
            let c = connect(url.clone()).await;
            c.batch_execute(
                "CREATE TABLE center_schema (version BIGINT NOT NULL); INSERT INTO center_schema VALUES (3)",
            )
            .await
            .unwrap();
            for (i, m) in sql::MIGRATIONS[..3].iter().enumerate() {
                let mut text = m.replace("{serial}", "BIGSERIAL");
                if edited && i == 2 {
                    text =
                        text.replace("ALTER TABLE exams ADD COLUMN patient_known BOOLEAN NOT NULL DEFAULT FALSE;", "");
                }
                c.batch_execute(&text).await.unwrap();
            }
        }
        let result = Db::connect_postgres(&url).await;
        if edited {
            let err = result.err().expect("refused");
            assert_eq!(err.body.code, "MIGRATION_HISTORY", "{err}");
            assert!(err.to_string().contains("column exams.patient_known is missing"), "{err}");
            assert_eq!(state(url).await, (3, None), "no record made, nothing migrated");
        } else {
            drop(result.unwrap());
            let want: Vec<_> = sql::MIGRATIONS
                .iter()
                .enumerate()
                .map(|(i, m)| (i as i64 + 1, digest(m), if i < 3 { "inferred" } else { "applied" }.to_owned()))
                .collect();
            assert_eq!(state(url).await, (sql::MIGRATIONS.len() as i64, Some(want)));
        }
    }
}
