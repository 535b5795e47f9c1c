//! Opening the store: the key, the checks that refuse a file before anything can change it, and
//! the forward-only migrations.
//!
//! Architecture Invariant: a file that is refused (not a database, another program's, a newer
//! schema, a wrong key) is never written to: it is inspected read-only first.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use crate::schema::{APPLICATION_ID, MIGRATIONS};

/// The key that encrypts a store (SQLCipher raw key: 32 bytes).
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// Reads a key file: 64 hexadecimal characters (a trailing newline is allowed).
    pub fn from_file(path: &Path) -> Result<Key, StoreError> {
        let err = |message: String| StoreError::KeyFile { path: path.to_owned(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let bytes = hex::decode(text.trim()).map_err(|_| err("must hold 64 hexadecimal characters".into()))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| err("must hold 64 hexadecimal characters (32 bytes)".into()))?;
        Ok(Key(key))
    }

    /// Makes a new random key and writes it to `path`, readable by the owner only. Refuses to
    /// overwrite an existing key file: losing a key loses the data it encrypts.
    pub fn create_file(path: &Path) -> Result<Key, StoreError> {
        let err = |message: String| StoreError::KeyFile { path: path.to_owned(), message };
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| err(format!("no randomness for a key: {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| err(format!("cannot create: {e}")))?;
        use std::io::Write;
        writeln!(file, "{}", hex::encode(key))
            .and_then(|_| file.sync_all())
            .map_err(|e| err(format!("cannot write: {e}")))?;
        Ok(Key(key))
    }

    /// Uses the key file at `path`, creating it if it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Key, StoreError> {
        if path.exists() {
            Self::from_file(path)
        } else {
            Self::create_file(path)
        }
    }

    /// A key from bytes the caller holds (e.g. from the OS keystore).
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    fn pragma(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

/// The newest schema this build knows.
pub fn latest_schema() -> i64 {
    MIGRATIONS.len() as i64
}

fn apply_key(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    // A wrong key is an expected outcome we report ourselves; keep SQLCipher from logging it to stderr.
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
    conn.pragma_update(None, "key", key.pragma())?;
    Ok(())
}

/// Reads the first bytes of a file; an empty file is "new".
fn header(path: &Path) -> Result<Option<(u64, [u8; 16])>, StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NoDatabase(path.to_owned())),
        Err(e) => return Err(crate::error::invalid("db", format!("cannot read {}: {e}", path.display()))),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(None);
    }
    let mut head = [0u8; 16];
    let n = file.read(&mut head).unwrap_or(0);
    if n < 16 {
        return Err(StoreError::NotADatabase(path.to_owned()));
    }
    Ok(Some((len, head)))
}

/// Checks a file without changing it, then opens it read-write, configured and migrated.
pub(crate) fn open_existing(path: &Path, key: &Key) -> Result<Connection, StoreError> {
    let Some((len, head)) = header(path)? else {
        return Err(StoreError::NoDatabase(path.to_owned()));
    };
    if &head == b"SQLite format 3\0" {
        return Err(StoreError::ForeignDatabase(path.to_owned()));
    }
    // SQLCipher files are whole pages (at least 1 KiB): anything else is not ours at all.
    if len < 1024 || len % 512 != 0 {
        return Err(StoreError::NotADatabase(path.to_owned()));
    }
    {
        let ro = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        apply_key(&ro, key)?;
        let app_id: i64 = match ro.query_row("PRAGMA application_id", [], |r| r.get(0)) {
            Ok(v) => v,
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
                return Err(StoreError::WrongKey(path.to_owned()))
            }
            Err(e) => return Err(e.into()),
        };
        if app_id != APPLICATION_ID {
            return Err(StoreError::ForeignDatabase(path.to_owned()));
        }
        let version: i64 = ro.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > latest_schema() {
            return Err(StoreError::NewerSchema { path: path.to_owned(), found: version, supported: latest_schema() });
        }
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    apply_key(&conn, key)?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Creates a store at `path` (which must not exist, or be empty).
pub(crate) fn create(path: &Path, key: &Key) -> Result<Connection, StoreError> {
    match header(path) {
        Err(StoreError::NoDatabase(_)) | Ok(None) => {}
        Ok(Some(_)) => return Err(StoreError::AlreadyExists(path.to_owned())),
        Err(e) => return Err(e),
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    apply_key(&conn, key)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL: readers never block the save; FULL: a commit is on disk before save() returns.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(crate::error::invalid("db", format!("cannot switch to WAL journal (got {mode})")));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The key file used when none is configured: beside the database, `<db>.key`.
pub fn default_key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}
