//! The store's key in the OS keystore, through the real `radqc` binary: a store whose key is in
//! the Secret Service saves, reopens and exports; its key moves to the key file and back with the
//! same data each time; a store whose entry is gone is refused by name; and without a session bus
//! a new key falls back to the key file with a clear message.
//!
//! The tests that need a Secret Service run for real under `scripts/test.sh`'s `keystore` step
//! (`dbus-run-session` with an unlocked `gnome-keyring-daemon`, `RADQC_REQUIRE_KEYSTORE=1`, where
//! a missing keystore fails them); elsewhere without one they print SKIPPED and pass.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use radqc_store::{Key, Store};

use crate::local::line;

/// Runs `radqc` with the keystore as the environment gives it (no `RADQC_KEY_IN`), `env` added.
fn radqc_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_radqc"));
    command.args(args).env_remove("RADQC_KEY_IN").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("radqc starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ok_env(args: &[&str], stdin: &str) -> String {
    let out = radqc_env(args, stdin, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "radqc {args:?} failed: {stderr}");
    stdout
}

/// Makes a store whose key is in the keystore; `None` (after printing SKIPPED) when no Secret
/// Service answers here and the run does not require one.
fn keystore_store(test: &str, db: &str) -> Option<String> {
    let out = radqc_env(&["local", "init", "--db", db, "--site", "CLINIC-07", "--key-in", "keystore"], "", &[]);
    let (stdout, stderr) = text(&out);
    if out.status.success() {
        return Some(stdout);
    }
    assert!(stderr.contains("(KEYSTORE)"), "only a missing keystore may stop it: {stderr}");
    if std::env::var("RADQC_REQUIRE_KEYSTORE").as_deref() == Ok("1") {
        panic!("RADQC_REQUIRE_KEYSTORE=1 and no OS keystore answered: {stderr}");
    }
    eprintln!(
        "SKIPPED {test}: no Secret Service answered ({}); scripts/test.sh runs it under dbus-run-session",
        stderr.trim()
    );
    None
}

fn save_three(db: &str) {
    let input = [line("DR1", "IQ", &["IQ-C2"]), line("DR2", "IQ", &["IQ-S1"]), line("DR3", "AF", &["AF-2"])].join("\n");
    assert_eq!(ok_env(&["local", "save", "--db", db], &input).lines().count(), 3);
}

fn key_file(db: &str) -> String {
    std::fs::read_to_string(format!("{db}.key")).unwrap()
}

fn is_hex_key(text: &str) -> bool {
    let t = text.trim();
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn a_store_with_its_key_in_the_keystore_saves_reopens_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();
    let Some(created) = keystore_store("a_store_with_its_key_in_the_keystore_saves_reopens_and_exports", db) else {
        return;
    };
    assert!(created.contains("key in the OS keystore (service radqc, account "), "{created}");
    let named = key_file(db);
    assert!(named.starts_with("radqc-key-in-keystore service=radqc account="), "{named}");
    assert!(!is_hex_key(&named));
    let account = named.trim().rsplit_once("account=").unwrap().1.to_owned();
    assert_eq!(ok_env(&["local", "key", "where", "--db", db], ""), format!("keystore radqc {account}\n"));

    save_three(db);
    let first = ok_env(&["local", "export", "--db", db], "");
    assert_eq!(first.lines().count(), 3);
    // Reopened by another process, and with the key file named explicitly.
    assert_eq!(ok_env(&["local", "export", "--db", db], ""), first);
    assert_eq!(ok_env(&["local", "export", "--db", db, "--key-file", &format!("{db}.key")], ""), first);
    assert_eq!(key_file(db), named, "opening never rewrites the key file");
    // A second init finds the store (the key file names its entry; no new key).
    let again = radqc_env(&["local", "init", "--db", db, "--key-in", "keystore"], "", &[]);
    assert!(!again.status.success() && text(&again).1.contains("already holds data"), "{}", text(&again).1);
    assert_eq!(key_file(db), named);

    // Clean up: the entry leaves the keystore with the key.
    ok_env(&["local", "key", "move", "--db", db, "--to", "file"], "");
}

#[test]
fn the_key_moves_to_the_key_file_and_back_with_the_same_data_and_a_gone_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("qc.db");
    let db = db_path.to_str().unwrap();
    let test = "the_key_moves_to_the_key_file_and_back_with_the_same_data_and_a_gone_entry_is_named";
    if keystore_store(test, db).is_none() {
        return;
    }
    save_three(db);
    let export = || ok_env(&["local", "export", "--db", db], "");
    let before = export();
    let named = key_file(db);

    let moved = ok_env(&["local", "key", "move", "--db", db, "--to", "file"], "");
    assert!(moved.contains("to the key file"), "{moved}");
    assert!(is_hex_key(&key_file(db)), "the key file holds the key now");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(format!("{db}.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(export(), before);
    assert!(ok_env(&["local", "key", "where", "--db", db], "").starts_with("file "));
    let again = ok_env(&["local", "key", "move", "--db", db, "--to", "file"], "");
    assert!(again.contains("already"), "{again}");

    // The entry it was in is gone: a key file still naming it is refused by name, never a new key.
    let stale = dir.path().join("stale.key");
    std::fs::write(&stale, &named).unwrap();
    let out = radqc_env(&["local", "export", "--db", db, "--key-file", stale.to_str().unwrap()], "", &[]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success() && stdout.is_empty());
    let account = named.trim().rsplit_once("account=").unwrap().1;
    assert!(stderr.contains("(KEYSTORE_ENTRY_MISSING)") && stderr.contains(account), "{stderr}");
    assert!(stderr.contains("no new key was made"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&stale).unwrap(), named);

    let moved = ok_env(&["local", "key", "move", "--db", db, "--to", "keystore"], "");
    assert!(moved.contains("to the OS keystore (service radqc, account "), "{moved}");
    assert!(key_file(db).starts_with("radqc-key-in-keystore "), "the key file names the entry again");
    assert_ne!(key_file(db), named, "a new entry");
    assert_eq!(export(), before);

    // Both moves are in the store's audit log.
    let store = Store::open(&db_path, &Key::from_file(Path::new(&format!("{db}.key"))).unwrap()).unwrap();
    let moves: Vec<_> = store
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "key_moved")
        .map(|a| (a.actor, a.subject.unwrap_or_default()))
        .collect();
    assert_eq!(moves.len(), 2, "{moves:?}");
    assert!(moves[0].0.starts_with("cli:") && moves[0].1 == "file" && moves[1].1 == "keystore", "{moves:?}");
    drop(store);

    ok_env(&["local", "key", "move", "--db", db, "--to", "file"], "");
    assert_eq!(export(), before);
}

#[test]
fn without_a_session_bus_a_new_key_falls_back_to_the_key_file_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let no_bus = format!("unix:path={}", dir.path().join("no-bus").display());
    let env = [("DBUS_SESSION_BUS_ADDRESS", no_bus.as_str()), ("DISPLAY", "")];
    let db = dir.path().join("qc.db");
    let db = db.to_str().unwrap();

    let out = radqc_env(&["local", "init", "--db", db, "--site", "CLINIC-07"], "", &env);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("no OS keystore answered"), "{stderr}");
    assert!(stderr.contains(&format!("the store's key is in the key file {db}.key")), "{stderr}");
    assert!(stderr.contains("radqc local key move --to keystore"), "{stderr}");
    assert!(stdout.contains(&format!("key file {db}.key")), "{stdout}");
    assert!(is_hex_key(&key_file(db)));
    save_three(db);
    assert_eq!(ok_env(&["local", "export", "--db", db], "").lines().count(), 3);

    // Asking for the keystore where there is none is an error, and writes no key file.
    let other = dir.path().join("other.db");
    let other = other.to_str().unwrap();
    let out = radqc_env(&["local", "init", "--db", other, "--key-in", "keystore"], "", &env);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("(KEYSTORE)"), "{}", text(&out).1);
    assert!(!Path::new(&format!("{other}.key")).exists() && !Path::new(other).exists());

    // A store whose key file names an entry does not open without the keystore, and nothing is
    // written: the key file still names its entry.
    let named = "radqc-key-in-keystore service=radqc account=7d3c2a5e-0000-4000-8000-000000000000\n";
    let pointer = dir.path().join("named.key");
    std::fs::write(&pointer, named).unwrap();
    let out = radqc_env(&["local", "export", "--db", db, "--key-file", pointer.to_str().unwrap()], "", &env);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success() && stdout.is_empty());
    assert!(
        stderr.contains("the OS keystore (service radqc, account 7d3c2a5e-") && stderr.contains("(KEYSTORE)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&pointer).unwrap(), named);
    // Moving to a keystore that is not there leaves the key in its file.
    let key = key_file(db);
    let out = radqc_env(&["local", "key", "move", "--db", db, "--to", "keystore"], "", &env);
    assert!(!out.status.success() && text(&out).1.contains("(KEYSTORE)"), "{}", text(&out).1);
    assert_eq!(key_file(db), key);
}
