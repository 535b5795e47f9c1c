//! Databases made by other migrations than this build's: `radqc` refuses them, with a clear
//! message, and leaves the file as it was.

use std::path::Path;

use crate::support::*;

fn store_conn(db: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).unwrap();
    let key = std::fs::read_to_string(format!("{}.key", db.display())).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", key.trim())).unwrap();
    conn
}

/// `radqc local export` refuses `db` naming `words`; the file's bytes are the same afterwards.
fn export_refused(db: &Path, words: &str) {
    let before = std::fs::read(db).unwrap();
    let out = radqc(&["local", "export", "--db", db.to_str().unwrap()], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains("(MIGRATION_HISTORY)") && err.contains(words), "{err}");
    assert!(err.contains("the file was not changed"), "{err}");
    assert_eq!(std::fs::read(db).unwrap(), before, "the refused file is untouched");
}

#[test]
fn a_store_whose_recorded_migration_differs_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    ok(&["local", "init", "--db", db.to_str().unwrap()], "");
    store_conn(&db)
        .execute("UPDATE schema_migrations SET digest = 'ab' || substr(digest, 3) WHERE version = 1", [])
        .unwrap();
    export_refused(&db, "the migration 1 it ran is not this build's migration 1");
}

#[test]
fn a_store_made_by_an_earlier_text_of_a_migration_is_refused_untouched_and_one_made_by_these_opens() {
    let dir = tempfile::tempdir().unwrap();
    // As the store's migrations 1 and 2 were before notices (commit 3328f3a): no `notice_closure`
    // outbox entries, no `notice_closures` table; no migration record (not kept then).
    let closure = "    kind       TEXT NOT NULL CHECK (kind IN ('evaluation', 'exam_event', 'notice_closure')),";
    let closures = "-- Corrections (整改) recorded here for monitoring notices; they travel through the outbox.";
    let m = radqc_store::MIGRATIONS;
    assert!(m[0].contains(closure) && m[1].contains(closures));
    let first = m[0].replace(closure, "    kind       TEXT NOT NULL CHECK (kind IN ('evaluation', 'exam_event')),");
    let second = &m[1][..m[1].find(closures).unwrap()];
    for (name, texts) in [("old.db", vec![first.as_str(), second]), ("same.db", vec![m[0], m[1]])] {
        let db = dir.path().join(name);
        // A key made the usual way (with a store beside that the test does not use).
        let key = format!("{}.key", db.display());
        ok(&["local", "init", "--db", &format!("{}.unused", db.display()), "--key-file", &key], "");
        let conn = store_conn(&db);
        conn.pragma_update(None, "application_id", radqc_store::APPLICATION_ID).unwrap();
        for text in &texts {
            conn.execute_batch(text).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('site', 'H001'), ('device_id', '0192f1e0-0000-7000-8000-000000000001'), \
             ('patient_salt', '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'), \
             ('store_patient_names', '0'), ('created_at', '2026-11-29T10:00:00.000Z')",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", texts.len() as i64).unwrap();
        drop(conn);
        if name == "old.db" {
            export_refused(
                &db,
                "its schema is not what migrations 1 to 2 make: index audit_by_actor is missing, \
                 table notice_closures is missing, table outbox differs",
            );
        } else {
            ok(&["local", "export", "--db", db.to_str().unwrap()], "");
            let conn = store_conn(&db);
            let recorded: Vec<(i64, String)> = conn
                .prepare("SELECT version, recorded FROM schema_migrations ORDER BY version")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let want: Vec<(i64, String)> =
                (1..=m.len() as i64).map(|v| (v, if v <= 2 { "inferred" } else { "applied" }.to_owned())).collect();
            assert_eq!(recorded, want, "the record filled in, the later migrations applied and recorded");
        }
    }
}

/// `radqc center stats` refuses `db` naming `words`; the file's bytes are the same afterwards.
fn center_refused(db: &Path, words: &str) {
    let before = std::fs::read(db).unwrap();
    let out = radqc(&["center", "stats", "--db", db.to_str().unwrap()], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains("MIGRATION_HISTORY") && err.contains(words), "{err}");
    assert!(err.contains("the database was not changed"), "{err}");
    assert_eq!(std::fs::read(db).unwrap(), before, "the refused file is untouched");
}

#[test]
fn a_center_database_with_another_migration_history_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    ok(&["center", "site", "add", "CLINIC-07", "--name", "七里乡卫生院", "--db", db.to_str().unwrap()], "");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE center_migrations SET digest = 'ab' || substr(digest, 3) WHERE version = 3", []).unwrap();
    drop(conn);
    center_refused(&db, "the migration 3 it ran is not this build's migration 3");
    // As a center made before the record was kept, by migration 3 before `patient_known` was
    // added to it (commit 66635ef).
    // The count is what this build ran, so the test holds as migrations are appended.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ran: i64 = conn.query_row("SELECT max(version) FROM center_migrations", [], |r| r.get(0)).unwrap();
    conn.execute_batch("DROP TABLE center_migrations; ALTER TABLE exams DROP COLUMN patient_known").unwrap();
    drop(conn);
    center_refused(&db, &format!("its schema is not what migrations 1 to {ran} make: table exams differs"));
}
