//! Files that are not ours, or not for this build or key: each refused with a clear error, and
//! never changed by the attempt.

use radqc_store::{Key, Store};

use crate::support::*;

/// Opens `db` with `key` and expects `code`; the file's bytes must be the same afterwards.
fn check_refused(db: &std::path::Path, key: &Key, code: &str, words: &str) {
    let before = sha(db);
    let err = Store::open(db, key).err().expect("the file is refused");
    assert_eq!(err.code(), code, "{err}");
    assert!(err.to_string().contains(words), "`{err}` says `{words}`");
    assert!(!err.message_zh().is_empty(), "a Chinese message for the UI");
    assert_eq!(sha(db), before, "the refused file is untouched");
}

#[test]
fn files_that_are_not_radqc_stores_are_refused_untouched() {
    let f = fresh();
    let dir = f.dir.path();

    let text = dir.join("notes.txt");
    std::fs::write(&text, "检查号,分数\nCT001,5\n").unwrap();
    check_refused(&text, &f.key, "NOT_A_DATABASE", "not a database file");

    let plain = dir.join("other.sqlite");
    {
        let c = rusqlite::Connection::open(&plain).unwrap();
        c.execute_batch(
            "CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO patients (name) VALUES ('x');",
        )
        .unwrap();
    }
    check_refused(&plain, &f.key, "FOREIGN_DATABASE", "another program");

    let encrypted_other = dir.join("other-encrypted.db");
    {
        let c = raw_conn(&encrypted_other, &f.key_file());
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    }
    check_refused(&encrypted_other, &f.key, "FOREIGN_DATABASE", "not a RadQC store");

    let missing = dir.join("missing.db");
    assert_eq!(Store::open(&missing, &f.key).err().unwrap().code(), "NO_DATABASE");
    assert!(!missing.exists(), "opening does not create a file");
}

#[test]
fn a_wrong_key_is_refused_and_the_right_one_still_works() {
    let f = fresh();
    let Fixture { dir, store, key } = f;
    drop(store);
    let db = dir.path().join("qc.db");
    let wrong = Key::from_bytes([7; 32]);
    check_refused(&db, &wrong, "WRONG_KEY", "wrong key");
    Store::open(&db, &key).expect("the right key still opens it");
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let f = fresh();
    let Fixture { dir, store, key } = f;
    drop(store);
    let db = dir.path().join("qc.db");
    {
        let raw = raw_conn(&db, &dir.path().join("qc.db.key"));
        raw.pragma_update(None, "user_version", 99).unwrap();
    }
    check_refused(&db, &key, "NEWER_SCHEMA", "schema 99");
}

#[test]
fn key_files_are_checked_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    std::fs::write(&path, "not hex").unwrap();
    let err = Key::from_file(&path).unwrap_err();
    assert_eq!(err.code(), "KEY_FILE");
    assert!(err.to_string().contains("64 hexadecimal"), "{err}");
    assert!(Key::create_file(&path).is_err(), "an existing key file is never replaced");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fresh = dir.path().join("fresh.key");
        Key::create_file(&fresh).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600, "owner-only");
    }
}

#[test]
fn init_refuses_a_file_with_data() {
    let f = fresh();
    let err = Store::create(&f.db(), &f.key, &"X".parse().unwrap(), t(1, 1)).err().unwrap();
    assert_eq!(err.code(), "DATABASE_EXISTS");
}
