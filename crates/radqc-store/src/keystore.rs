//! Where a store's key lives: in the OS keystore (the Secret Service over D-Bus on Linux, the
//! Keychain on macOS, the Credential Manager on Windows; the `keyring` crate) where one answers,
//! else in the key file itself, the fallback for a headless workstation.
//!
//! The key file (`<db>.key` by default, `radqc.db.key` in the app's data folder) is always the
//! record of where the key is, and it is read before the store can be: either the key (64
//! hexadecimal characters) or one line naming the keystore entry that holds it
//! (`radqc-key-in-keystore service=radqc account=<uuid>`). So a store never silently switches: a
//! key file that names an entry gets the key from the keystore or fails (`KEYSTORE`, or
//! `KEYSTORE_ENTRY_MISSING` when the entry is gone), never a new key.
//!
//! The entry's account is a random id made when the key goes into the keystore and kept in the
//! key file: it survives moving or renaming the folder (a path would not) and a store becoming a
//! device of its own (its device id changes then), and it names nothing about the patient data.
//!
//! Architecture Invariant: a key is in one place at a time, and moving it never loses it: the new
//! place is written and read back, the store is opened with what was read back, then the key file
//! is replaced whole (written beside, synced, renamed over, the folder synced) to record the new
//! place, and only then is the old place removed. A move stopped anywhere leaves a key file that
//! opens the store.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::open::{self, Key};
use crate::store::Store;

/// The keystore service every store's entry is under.
pub const KEYSTORE_SERVICE: &str = "radqc";
/// The first word of a key file that names a keystore entry instead of holding the key.
const POINTER_TAG: &str = "radqc-key-in-keystore";
/// How long a keystore call may take (a locked keyring may be waiting for its password) before
/// it counts as not answering.
const KEYSTORE_TIMEOUT: Duration = Duration::from_secs(30);

/// One entry in the OS keystore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreEntry {
    pub service: String,
    pub account: String,
}

impl std::fmt::Display for KeystoreEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "service {}, account {}", self.service, self.account)
    }
}

/// Where a store's key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// In the OS keystore; the key file names the entry.
    Keystore(KeystoreEntry),
    /// In the key file itself.
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keystore(entry) => write!(f, "the OS keystore ({entry})"),
            Self::File(path) => write!(f, "the key file {}", path.display()),
        }
    }
}

/// Where a new store's key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyPlacement {
    /// The OS keystore when one answers, else the key file (with a note saying why).
    #[default]
    Auto,
    /// The OS keystore, or an error.
    Keystore,
    /// The key file.
    File,
}

impl std::str::FromStr for KeyPlacement {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "auto" => Ok(Self::Auto),
            "keystore" => Ok(Self::Keystore),
            "file" => Ok(Self::File),
            other => {
                Err(crate::error::invalid("key placement", format!("`{other}` is not one of auto, keystore, file")))
            }
        }
    }
}

impl KeyPlacement {
    /// The placement `RADQC_KEY_IN` asks for (`auto`, `keystore` or `file`); `auto` when unset.
    pub fn from_env() -> Result<KeyPlacement, StoreError> {
        match std::env::var("RADQC_KEY_IN") {
            Ok(v) if !v.is_empty() => v.parse(),
            _ => Ok(Self::Auto),
        }
    }
}

/// A key with where it came from.
#[derive(Debug)]
pub struct LoadedKey {
    pub key: Key,
    pub source: KeySource,
    /// Set when a new key went to the key file although the keystore was tried first (`Auto`):
    /// why, for the person.
    pub note: Option<String>,
}

/// What [`move_key`] did.
#[derive(Debug)]
pub struct KeyMoved {
    pub from: KeySource,
    pub to: KeySource,
    /// The key was already there: nothing changed.
    pub already: bool,
    /// Something left for the person after a move that is done (an old entry that could not be
    /// removed, an audit line that could not be written).
    pub note: Option<String>,
}

/// What a key file says.
pub(crate) enum KeyFileText {
    Key(Key),
    Keystore(KeystoreEntry),
}

/// A keystore failure, as text for the person.
pub(crate) struct Failure(String);

/// The OS keystore, or a stand-in in unit tests.
pub(crate) trait Keystore {
    /// The secret of `entry`; `None` when there is no such entry.
    fn get(&self, entry: &KeystoreEntry) -> Result<Option<String>, Failure>;
    fn set(&self, entry: &KeystoreEntry, secret: &str) -> Result<(), Failure>;
    /// Removes `entry`; an entry that is not there is no failure.
    fn delete(&self, entry: &KeystoreEntry) -> Result<(), Failure>;
}

/// The platform's keystore through `keyring`. Each call runs on a thread of its own, given up
/// after `timeout`: a keystore that hangs (a session bus with a locked keyring and nobody to
/// unlock it) counts as not answering.
pub(crate) struct OsKeystore {
    timeout: Duration,
}

impl OsKeystore {
    pub(crate) fn new() -> OsKeystore {
        OsKeystore { timeout: KEYSTORE_TIMEOUT }
    }

    fn call<T: Send + 'static>(
        &self,
        entry: &KeystoreEntry,
        f: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, Failure> {
        let (service, account) = (entry.service.clone(), entry.account.clone());
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("radqc-keystore".into())
            .spawn(move || {
                let _ = tx.send(keyring::Entry::new(&service, &account).and_then(f));
            })
            .map_err(|e| Failure(format!("cannot start a thread for it: {e}")))?;
        rx.recv_timeout(self.timeout).map_err(|_| {
            Failure(format!(
                "did not answer within {} s (a locked keyring waiting for its password?)",
                self.timeout.as_secs()
            ))
        })
    }
}

fn failure(e: keyring::Error) -> Failure {
    Failure(e.to_string())
}

impl Keystore for OsKeystore {
    fn get(&self, entry: &KeystoreEntry) -> Result<Option<String>, Failure> {
        match self.call(entry, |e| e.get_password())? {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failure(e)),
        }
    }
    fn set(&self, entry: &KeystoreEntry, secret: &str) -> Result<(), Failure> {
        let secret = secret.to_owned();
        self.call(entry, move |e| e.set_password(&secret))?.map_err(failure)
    }
    fn delete(&self, entry: &KeystoreEntry) -> Result<(), Failure> {
        match self.call(entry, |e| e.delete_credential())? {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(failure(e)),
        }
    }
}

fn keystore_error(entry: &KeystoreEntry, f: Failure) -> StoreError {
    StoreError::Keystore { entry: entry.to_string(), message: f.0 }
}

fn key_file_error(path: &Path, message: impl Into<String>) -> StoreError {
    StoreError::KeyFile { path: path.to_owned(), message: message.into() }
}

/// Reads a key file: the key, or the keystore entry it names.
pub(crate) fn read_key_file(path: &Path) -> Result<KeyFileText, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_file_error(path, format!("cannot read: {e}")))?;
    if let Some(rest) = text.trim().strip_prefix(POINTER_TAG) {
        return parse_pointer(rest).map(KeyFileText::Keystore).ok_or_else(|| {
            key_file_error(path, format!("names a keystore entry, but not as `{POINTER_TAG} service=… account=…`"))
        });
    }
    parse_hex(text.trim()).map(KeyFileText::Key).map_err(|m| key_file_error(path, m))
}

fn parse_hex(text: &str) -> Result<Key, String> {
    let bytes = hex::decode(text).map_err(|_| "must hold 64 hexadecimal characters".to_owned())?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| "must hold 64 hexadecimal characters (32 bytes)".to_owned())?;
    Ok(Key::from_bytes(key))
}

fn parse_pointer(rest: &str) -> Option<KeystoreEntry> {
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (mut service, mut account) = (None, None);
    for word in rest.split_whitespace() {
        match word.split_once('=')? {
            ("service", v) if !v.is_empty() && service.is_none() => service = Some(v.to_owned()),
            ("account", v) if !v.is_empty() && account.is_none() => account = Some(v.to_owned()),
            _ => return None,
        }
    }
    Some(KeystoreEntry { service: service?, account: account? })
}

fn pointer_text(entry: &KeystoreEntry) -> String {
    format!("{POINTER_TAG} service={} account={}\n", entry.service, entry.account)
}

/// The key the keystore entry `entry` (named by the key file at `key_file`) holds.
fn fetch(ks: &dyn Keystore, entry: &KeystoreEntry, key_file: &Path) -> Result<Key, StoreError> {
    match ks.get(entry).map_err(|f| keystore_error(entry, f))? {
        None => Err(StoreError::KeystoreEntryMissing { entry: entry.to_string(), key_file: key_file.to_owned() }),
        Some(secret) => parse_hex(secret.trim())
            .map_err(|m| keystore_error(entry, format!("the entry does not hold a store key: it {m}").into())),
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure(s)
    }
}

/// The key the key file at `path` gives, and where it is.
pub(crate) fn load(ks: &dyn Keystore, path: &Path) -> Result<LoadedKey, StoreError> {
    Ok(match read_key_file(path)? {
        KeyFileText::Key(key) => LoadedKey { key, source: KeySource::File(path.to_owned()), note: None },
        KeyFileText::Keystore(entry) => {
            LoadedKey { key: fetch(ks, &entry, path)?, source: KeySource::Keystore(entry), note: None }
        }
    })
}

/// Where the key file at `path` says the key is, without fetching it.
pub fn key_source(path: &Path) -> Result<KeySource, StoreError> {
    Ok(match read_key_file(path)? {
        KeyFileText::Key(_) => KeySource::File(path.to_owned()),
        KeyFileText::Keystore(entry) => KeySource::Keystore(entry),
    })
}

fn random_key(path: &Path) -> Result<[u8; 32], StoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| key_file_error(path, format!("no randomness for a key: {e}")))?;
    Ok(key)
}

/// Puts `secret` in a new entry and reads it back: the keystore's probe and its write at once.
fn put(ks: &dyn Keystore, secret: &str) -> Result<KeystoreEntry, StoreError> {
    let entry = KeystoreEntry { service: KEYSTORE_SERVICE.to_owned(), account: uuid::Uuid::new_v4().to_string() };
    let err =
        |f: Failure| StoreError::Keystore { entry: format!("service {}, a new entry", entry.service), message: f.0 };
    if ks.get(&entry).map_err(err)?.is_some() {
        return Err(err("a new entry already holds a secret; nothing was written".to_owned().into()));
    }
    ks.set(&entry, secret).map_err(err)?;
    match ks.get(&entry) {
        Ok(Some(back)) if back == secret => Ok(entry),
        other => {
            let _ = ks.delete(&entry);
            Err(err(match other {
                Err(f) => f,
                _ => "did not give back the key written to it".to_owned().into(),
            }))
        }
    }
}

/// Makes a new key in `placement` and writes the key file at `path` (whole or not at all; never
/// over an existing one) holding it or naming its keystore entry.
pub(crate) fn create(ks: &dyn Keystore, path: &Path, placement: KeyPlacement) -> Result<LoadedKey, StoreError> {
    let in_file = |note: Option<String>| -> Result<LoadedKey, StoreError> {
        Ok(LoadedKey { key: Key::create_file(path)?, source: KeySource::File(path.to_owned()), note })
    };
    match placement {
        KeyPlacement::File => in_file(None),
        KeyPlacement::Keystore => create_in_keystore(ks, path),
        KeyPlacement::Auto => match create_in_keystore(ks, path) {
            Err(StoreError::Keystore { message, .. }) => in_file(Some(format!(
                "no OS keystore answered ({message}): the store's key is in the key file {} (mode 0600), \
                 the fallback for a workstation without one; `radqc local key move --to keystore` moves it \
                 there later / 系统密钥库不可用，密钥保存在密钥文件 {} 中",
                path.display(),
                path.display()
            ))),
            other => other,
        },
    }
}

fn create_in_keystore(ks: &dyn Keystore, path: &Path) -> Result<LoadedKey, StoreError> {
    if path.exists() {
        return Err(key_file_error(path, "already exists; refusing to overwrite a key"));
    }
    let bytes = random_key(path)?;
    let entry = put(ks, &hex::encode(bytes))?;
    match open::create_private_file(path, &pointer_text(&entry)) {
        Ok(()) => Ok(LoadedKey { key: Key::from_bytes(bytes), source: KeySource::Keystore(entry), note: None }),
        Err(e) => {
            // Nothing names the entry: it goes.
            let _ = ks.delete(&entry);
            Err(key_file_error(
                path,
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    "already exists; refusing to overwrite a key".to_owned()
                } else {
                    format!("cannot create: {e}")
                },
            ))
        }
    }
}

/// Moves the key of the store at `db`, whose key file is `key_file`, to `to` (the keystore or
/// the key file itself), keeping the data: the same key, so the file is not touched but for the
/// audit line. See the module's invariant for the order.
pub fn move_key(
    db: &Path,
    key_file: &Path,
    to: KeyPlacement,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<KeyMoved, StoreError> {
    move_key_with(&OsKeystore::new(), db, key_file, to, actor, now)
}

pub(crate) fn move_key_with(
    ks: &dyn Keystore,
    db: &Path,
    key_file: &Path,
    to: KeyPlacement,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<KeyMoved, StoreError> {
    if to == KeyPlacement::Auto {
        return Err(crate::error::invalid("to", "a key moves to the keystore or to the key file"));
    }
    let here = KeySource::File(key_file.to_owned());
    match (read_key_file(key_file)?, to) {
        (KeyFileText::Key(_), KeyPlacement::File) => {
            Ok(KeyMoved { from: here.clone(), to: here, already: true, note: None })
        }
        (KeyFileText::Keystore(entry), KeyPlacement::Keystore) => {
            // Already there, if the entry still opens the store.
            let key = fetch(ks, &entry, key_file)?;
            drop(Store::open(db, &key)?);
            let there = KeySource::Keystore(entry);
            Ok(KeyMoved { from: there.clone(), to: there, already: true, note: None })
        }
        (KeyFileText::Key(key), _) => {
            // Only a key that opens the store moves (a refused file is inspected, never written).
            drop(Store::open(db, &key)?);
            let entry = put(ks, &key.hex())?;
            let written = (|| {
                let back = fetch(ks, &entry, key_file)?;
                let store = Store::open(db, &back)?;
                open::replace_private_file(key_file, &pointer_text(&entry), |_| Ok(()))?;
                Ok::<_, StoreError>(store)
            })();
            let store = match written {
                Ok(store) => store,
                Err(e) => {
                    // The key file still holds the key; the new entry is nobody's.
                    let _ = ks.delete(&entry);
                    return Err(e);
                }
            };
            let to = KeySource::Keystore(entry);
            let note = audit(&store, actor, &here, &to, now);
            Ok(KeyMoved { from: here, to, already: false, note })
        }
        (KeyFileText::Keystore(entry), _) => {
            let key = fetch(ks, &entry, key_file)?;
            drop(Store::open(db, &key)?);
            let store = open::replace_private_file(key_file, &format!("{}\n", key.hex()), |staged| {
                // What was written, read back, opens the store.
                match read_key_file(staged)? {
                    KeyFileText::Key(back) => Store::open(db, &back),
                    KeyFileText::Keystore(_) => Err(key_file_error(staged, "does not hold the key written to it")),
                }
            })?;
            let from = KeySource::Keystore(entry.clone());
            let mut note = audit(&store, actor, &from, &here, now);
            if let Err(f) = ks.delete(&entry) {
                let left = format!(
                    "the key is in {} now, but its old keystore entry ({entry}) could not be removed ({}): remove it by hand",
                    key_file.display(),
                    f.0
                );
                note = Some(note.map_or(left.clone(), |n| format!("{n}; {left}")));
            }
            Ok(KeyMoved { from, to: here, already: false, note })
        }
    }
}

/// Records a move in the store's audit log; what could not be recorded, as a note.
fn audit(store: &Store, actor: &str, from: &KeySource, to: &KeySource, now: DateTime<Utc>) -> Option<String> {
    let name = |s: &KeySource| match s {
        KeySource::Keystore(e) => format!("keystore {}/{}", e.service, e.account),
        KeySource::File(p) => format!("file {}", p.display()),
    };
    let detail = format!("from {} to {}", name(from), name(to));
    let subject = match to {
        KeySource::Keystore(_) => "keystore",
        KeySource::File(_) => "file",
    };
    store
        .audit(actor, "key_moved", Some(subject), Some(&detail), now)
        .err()
        .map(|e| format!("the key was moved to {to}, but the audit log could not record it: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// A keystore in memory; `down` makes every call fail as a machine without one does.
    #[derive(Default)]
    struct Memory {
        entries: RefCell<HashMap<(String, String), String>>,
        down: bool,
        refuse_set: bool,
    }

    impl Keystore for Memory {
        fn get(&self, e: &KeystoreEntry) -> Result<Option<String>, Failure> {
            if self.down {
                return Err(Failure("no session bus".into()));
            }
            Ok(self.entries.borrow().get(&(e.service.clone(), e.account.clone())).cloned())
        }
        fn set(&self, e: &KeystoreEntry, secret: &str) -> Result<(), Failure> {
            if self.down || self.refuse_set {
                return Err(Failure("refused".into()));
            }
            self.entries.borrow_mut().insert((e.service.clone(), e.account.clone()), secret.to_owned());
            Ok(())
        }
        fn delete(&self, e: &KeystoreEntry) -> Result<(), Failure> {
            if self.down {
                return Err(Failure("no session bus".into()));
            }
            self.entries.borrow_mut().remove(&(e.service.clone(), e.account.clone()));
            Ok(())
        }
    }

    fn new_store(dir: &Path, ks: &Memory, placement: KeyPlacement) -> (PathBuf, PathBuf, LoadedKey) {
        let (db, key_file) = (dir.join("qc.db"), dir.join("qc.db.key"));
        let loaded = create(ks, &key_file, placement).unwrap();
        let store = Store::create(&db, &loaded.key, &"S1".parse().unwrap(), Utc::now()).unwrap();
        store.audit("test", "marker", None, Some("data"), Utc::now()).unwrap();
        (db, key_file, loaded)
    }

    fn markers(db: &Path, key: &Key) -> usize {
        Store::open(db, key).unwrap().audit_log().unwrap().iter().filter(|a| a.action == "marker").count()
    }

    #[test]
    fn a_new_key_goes_to_the_keystore_and_the_key_file_names_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Memory::default();
        let (db, key_file, loaded) = new_store(dir.path(), &ks, KeyPlacement::Auto);
        let KeySource::Keystore(entry) = &loaded.source else { panic!("in the keystore: {:?}", loaded.source) };
        assert_eq!(entry.service, KEYSTORE_SERVICE);
        assert!(loaded.note.is_none());
        let text = std::fs::read_to_string(&key_file).unwrap();
        assert_eq!(text, format!("radqc-key-in-keystore service=radqc account={}\n", entry.account));
        assert!(!text.contains(&loaded.key.hex()), "the key is not in the file");
        let again = load(&ks, &key_file).unwrap();
        assert_eq!(markers(&db, &again.key), 1);
        assert_eq!(key_source(&key_file).unwrap(), loaded.source);
    }

    #[test]
    fn without_a_keystore_auto_falls_back_to_the_key_file_with_a_note_and_keystore_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Memory { down: true, ..Memory::default() };
        let path = dir.path().join("a.key");
        let err = create(&ks, &path, KeyPlacement::Keystore).unwrap_err();
        assert_eq!(err.code(), radqc_domain::ErrorCode::Keystore, "{err}");
        assert!(!path.exists(), "no key file for a key that was not made");
        let loaded = create(&ks, &path, KeyPlacement::Auto).unwrap();
        assert_eq!(loaded.source, KeySource::File(path.clone()));
        let note = loaded.note.expect("a note says why");
        assert!(note.contains("no OS keystore answered (no session bus)"), "{note}");
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), loaded.key.hex());
    }

    #[test]
    fn a_store_whose_entry_is_gone_is_an_error_naming_it_never_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Memory::default();
        let (_db, key_file, loaded) = new_store(dir.path(), &ks, KeyPlacement::Keystore);
        let before = std::fs::read(&key_file).unwrap();
        ks.entries.borrow_mut().clear();
        let KeySource::Keystore(entry) = loaded.source else { unreachable!() };
        let err = load(&ks, &key_file).unwrap_err();
        assert_eq!(err.code(), radqc_domain::ErrorCode::KeystoreEntryMissing);
        assert!(err.to_string().contains(&entry.account), "{err}");
        // Neither a load nor a first start makes a new key over it.
        assert_eq!(create(&ks, &key_file, KeyPlacement::Auto).unwrap_err().code(), radqc_domain::ErrorCode::KeyFile);
        assert_eq!(std::fs::read(&key_file).unwrap(), before);
        assert!(ks.entries.borrow().is_empty());
        // A keystore that does not answer is another error.
        let down = Memory { down: true, ..Memory::default() };
        assert_eq!(load(&down, &key_file).unwrap_err().code(), radqc_domain::ErrorCode::Keystore);
    }

    #[test]
    fn a_key_moves_to_the_key_file_and_back_with_the_data_and_each_move_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Memory::default();
        let (db, key_file, loaded) = new_store(dir.path(), &ks, KeyPlacement::Keystore);
        let moved = move_key_with(&ks, &db, &key_file, KeyPlacement::File, "t", Utc::now()).unwrap();
        assert!(!moved.already && moved.note.is_none(), "{moved:?}");
        assert_eq!(moved.to, KeySource::File(key_file.clone()));
        assert!(ks.entries.borrow().is_empty(), "the old entry is removed");
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), format!("{}\n", loaded.key.hex()));
        assert_eq!(markers(&db, &Key::from_file(&key_file).unwrap()), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = move_key_with(&ks, &db, &key_file, KeyPlacement::File, "t", Utc::now()).unwrap();
        assert!(again.already);

        let back = move_key_with(&ks, &db, &key_file, KeyPlacement::Keystore, "t", Utc::now()).unwrap();
        let KeySource::Keystore(entry) = &back.to else { panic!("{back:?}") };
        assert_eq!(ks.entries.borrow().len(), 1);
        let loaded = load(&ks, &key_file).unwrap();
        assert_eq!(loaded.source, KeySource::Keystore(entry.clone()));
        assert_eq!(markers(&db, &loaded.key), 1);
        let moves: Vec<_> = Store::open(&db, &loaded.key)
            .unwrap()
            .audit_log()
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "key_moved")
            .map(|a| (a.subject.unwrap(), a.detail.unwrap()))
            .collect();
        assert_eq!(moves.len(), 2, "{moves:?}");
        assert_eq!(moves[0].0, "file");
        assert_eq!(
            moves[1],
            ("keystore".into(), format!("from file {} to keystore radqc/{}", key_file.display(), entry.account))
        );
    }

    #[test]
    fn a_move_that_cannot_finish_leaves_the_key_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Memory::default();
        let (db, key_file, _) = new_store(dir.path(), &ks, KeyPlacement::File);
        let before = std::fs::read(&key_file).unwrap();
        // The keystore refuses the write.
        let refusing = Memory { refuse_set: true, ..Memory::default() };
        let err = move_key_with(&refusing, &db, &key_file, KeyPlacement::Keystore, "t", Utc::now()).unwrap_err();
        assert_eq!(err.code(), radqc_domain::ErrorCode::Keystore);
        assert_eq!(std::fs::read(&key_file).unwrap(), before);
        // A key file that does not open the store does not move.
        let other = dir.path().join("other.key");
        Key::create_file(&other).unwrap();
        let err = move_key_with(&ks, &db, &other, KeyPlacement::Keystore, "t", Utc::now()).unwrap_err();
        assert_eq!(err.code(), radqc_domain::ErrorCode::WrongKey);
        assert!(ks.entries.borrow().is_empty(), "nothing left in the keystore");
        // Back in the keystore, a keystore gone down keeps the key file naming the entry.
        move_key_with(&ks, &db, &key_file, KeyPlacement::Keystore, "t", Utc::now()).unwrap();
        let pointer = std::fs::read(&key_file).unwrap();
        let down = Memory { down: true, ..Memory::default() };
        assert!(move_key_with(&down, &db, &key_file, KeyPlacement::File, "t", Utc::now()).is_err());
        assert_eq!(std::fs::read(&key_file).unwrap(), pointer);
        assert!(!open::sibling(&key_file, ".tmp").exists());
    }

    #[test]
    fn a_keystore_that_does_not_answer_in_time_is_not_answering() {
        let ks = OsKeystore { timeout: Duration::from_millis(50) };
        let entry = KeystoreEntry { service: "radqc-test".into(), account: "hangs".into() };
        let slow = ks.call(&entry, |_| {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        let Err(Failure(message)) = slow else { panic!("gave up") };
        assert!(message.contains("did not answer within 0 s"), "{message}");
    }

    #[test]
    fn key_files_naming_an_entry_are_read_strictly() {
        for bad in [
            "radqc-key-in-keystore",
            "radqc-key-in-keystore service=radqc",
            "radqc-key-in-keystore service=radqc account=",
            "radqc-key-in-keystore service=radqc account=a extra=1",
            "radqc-key-in-keystoreservice=radqc account=a",
        ] {
            assert!(parse_pointer(bad.strip_prefix(POINTER_TAG).unwrap()).is_none(), "{bad}");
        }
        let entry = parse_pointer(" account=a  service=radqc\n").unwrap();
        assert_eq!(entry, KeystoreEntry { service: "radqc".into(), account: "a".into() });
        assert_eq!(parse_pointer(pointer_text(&entry).strip_prefix(POINTER_TAG).unwrap()), Some(entry));
    }
}
