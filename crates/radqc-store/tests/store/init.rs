//! Creating a store: what an interrupted `init` of an older RadQC left (a file with no committed
//! schema, a schema without the site, a key file cut short) is made again; a store that holds
//! anything is refused, unchanged.

use radqc_store::{Key, KeyPlacement, Store, APPLICATION_ID};

use crate::support::*;

#[test]
fn half_made_stores_are_made_again_and_a_complete_one_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k.key");
    let key = Key::create_file(&key_file).unwrap();
    let site = "NJGL".parse().unwrap();

    // The older init's first step: our application id, nothing else committed.
    let no_schema = dir.path().join("no-schema.db");
    raw_conn(&no_schema, &key_file).pragma_update(None, "application_id", APPLICATION_ID).unwrap();
    let err = Store::open(&no_schema, &key).err().expect("not usable as it is");
    assert!(err.to_string().contains("meta"), "{err}");
    let mut store = Store::create(&no_schema, &key, &site, t(1, 8)).expect("made again");
    store.save_evaluation(&evaluation("CT1", "IQ", &[]), t(1, 9)).unwrap();
    drop(store);

    // The schema committed, the meta with the site not yet.
    let no_site = dir.path().join("no-site.db");
    drop(Store::create(&no_site, &key, &site, t(1, 8)).unwrap());
    raw_conn(&no_site, &key_file).execute("DELETE FROM meta", []).unwrap();
    assert!(Store::open(&no_site, &key).is_err());
    let mut store = Store::create(&no_site, &key, &site, t(1, 8)).expect("made again");
    store.save_evaluation(&evaluation("CT1", "IQ", &[]), t(1, 9)).unwrap();
    drop(store);

    // Complete, or holding data whatever its meta says: refused, and not changed.
    for (name, damage) in [("complete.db", ""), ("data-no-site.db", "DELETE FROM meta WHERE key = 'site'")] {
        let db = dir.path().join(name);
        let mut store = Store::create(&db, &key, &site, t(1, 8)).unwrap();
        store.save_evaluation(&evaluation("CT1", "IQ", &[]), t(1, 9)).unwrap();
        drop(store);
        raw_conn(&db, &key_file).execute_batch(damage).unwrap();
        let before = sha(&db);
        let err = Store::create(&db, &key, &site, t(1, 10)).err().expect("refused");
        assert_eq!(err.code(), "DATABASE_EXISTS", "{name}: {err}");
        assert_eq!(sha(&db), before, "{name}: untouched");
    }
    // A store the key does not open is never taken for a half-made one.
    let err = Store::create(&dir.path().join("complete.db"), &Key::from_bytes([7; 32]), &site, t(1, 10)).err().unwrap();
    assert_eq!(err.code(), "DATABASE_EXISTS", "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".init"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_key_file_cut_short_is_made_again_only_while_the_store_holds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let key_file = dir.path().join("qc.db.key");
    std::fs::write(&key_file, "3fa9").unwrap();
    let key = Key::for_new_store(&key_file, &db, KeyPlacement::File)
        .map(|l| l.key)
        .expect("a key cut short, no store yet: made again");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    drop(Store::create(&db, &key, &"NJGL".parse().unwrap(), t(1, 8)).unwrap());

    // With a store beside it, a damaged key file is never replaced: the data needs the old key.
    std::fs::write(&key_file, "3fa9").unwrap();
    assert_eq!(Key::for_new_store(&key_file, &db, KeyPlacement::File).err().unwrap().code(), "KEY_FILE");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), "3fa9");
    // Nor is a file that is not a key cut short.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "my notes").unwrap();
    assert!(Key::for_new_store(&other, &dir.path().join("new.db"), KeyPlacement::File).is_err());
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "my notes");
    assert_eq!(Key::create_file(&key_file).err().unwrap().code(), "KEY_FILE", "an existing key is never overwritten");
}
