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
    /// overwrite an existing key file: losing a key loses the data it encrypts. The file appears
    /// whole or not at all (written beside, synced, then linked into place), so an interrupted
    /// `init` never leaves a truncated key.
    pub fn create_file(path: &Path) -> Result<Key, StoreError> {
        let err = |message: String| StoreError::KeyFile { path: path.to_owned(), message };
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| err(format!("no randomness for a key: {e}")))?;
        let staged = sibling(path, ".tmp");
        let written = (|| {
            remove_if_present(&staged)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&staged)?;
            use std::io::Write;
            writeln!(file, "{}", hex::encode(key))?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&staged);
            return Err(err(format!("cannot write: {e}")));
        }
        match move_into_place(&staged, path) {
            Ok(()) => Ok(Key(key)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(err("already exists; refusing to overwrite a key".into()))
            }
            Err(e) => Err(err(format!("cannot create: {e}"))),
        }
    }

    /// Uses the key file at `path`, creating it if it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Key, StoreError> {
        if path.exists() {
            // A `create_file` killed right after moving the key into place left the staged name.
            remove_if_same_file(&sibling(path, ".tmp"), path);
            Self::from_file(path)
        } else {
            Self::create_file(path)
        }
    }

    /// The key for a new store at `db`: the key file at `path`, made when missing. A key file an
    /// interrupted `init` of an older RadQC left empty or cut short (only hexadecimal digits,
    /// fewer than 64) is made again, but only while `db` holds nothing: no data can have been
    /// encrypted with it.
    pub fn for_new_store(path: &Path, db: &Path) -> Result<Key, StoreError> {
        match Self::load_or_create(path) {
            Err(e @ StoreError::KeyFile { .. }) => {
                // A file that cannot be read (permissions) may be a good key: never touched.
                let Ok(text) = std::fs::read(path) else {
                    return Err(e);
                };
                let text = text.strip_suffix(b"\n").unwrap_or(&text);
                let cut_short = text.len() < 64 && text.iter().all(u8::is_ascii_hexdigit);
                let db_empty = std::fs::metadata(db).map(|m| m.len() == 0).unwrap_or(true);
                if !(cut_short && db_empty) {
                    return Err(e);
                }
                std::fs::remove_file(path).map_err(|e| StoreError::KeyFile {
                    path: path.to_owned(),
                    message: format!("cannot remove: {e}"),
                })?;
                Self::create_file(path)
            }
            other => other,
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
    conn.pragma_update(None, "key", key.pragma())?;
    // A wrong key is an expected outcome we report ourselves; keep SQLCipher from logging it
    // (`hmac check failed`) to stderr. Only after the key: SQLCipher's first activation (at the
    // first key) takes a level of NONE for "unset" and sets WARN on stderr, undoing an earlier NONE.
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
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
    open_checked(path, key, false).map_err(|e| full_disk_or(e, path))
}

/// Checks a file, then opens it read-only: nothing is written, so this works on a full disk.
/// The connection holds the file exclusively (no other process writes while it is open): that
/// keeps SQLite's WAL index in memory instead of the `-shm` file a full disk has no room for.
pub(crate) fn open_read_only(path: &Path, key: &Key) -> Result<Connection, StoreError> {
    open_checked(path, key, true).map_err(|e| full_disk_or(e, path))
}

/// SQLite reports a full disk met while making the WAL index (`-shm`) or the WAL as a plain
/// `disk I/O error`; when there is indeed no room beside the store, it is [`StoreError::DiskFull`].
pub(crate) fn full_disk_or(e: StoreError, path: &Path) -> StoreError {
    let io_error =
        matches!(&e, StoreError::Sqlite(s) if s.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure));
    if io_error && no_room_beside(path) {
        StoreError::DiskFull
    } else {
        e
    }
}

/// Whether the folder of `path` has no room for what SQLite needs to start (a WAL index of 32
/// KiB and a few pages of WAL): a probe file of 64 KiB that cannot be written, then removed.
fn no_room_beside(path: &Path) -> bool {
    let probe = sibling(path, &format!(".space-probe-{}", std::process::id()));
    let written = (|| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
        file.write_all(&[0u8; 64 * 1024])?;
        file.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    matches!(written, Err(e) if matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded))
}

fn open_checked(path: &Path, key: &Key, read_only: bool) -> Result<Connection, StoreError> {
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
        let ro = if read_only {
            // Exclusive locking needs a file opened for writing; `query_only` refuses every write.
            let ro =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            apply_key(&ro, key)?;
            ro.pragma_update(None, "query_only", true)?;
            ro.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
            ro.busy_timeout(std::time::Duration::from_secs(10))?;
            ro
        } else {
            let ro =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            apply_key(&ro, key)?;
            ro
        };
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
        if read_only {
            if version < latest_schema() {
                return Err(crate::error::invalid(
                    "db",
                    format!(
                        "{} needs an upgrade (schema {version} of {}), which a read-only open cannot make",
                        path.display(),
                        latest_schema()
                    ),
                ));
            }
            return Ok(ro);
        }
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    apply_key(&conn, key)?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Creates a store at `path` (which must not exist, be empty, or be a half-made store) with
/// `meta`, in one transaction: the file is built beside `path` (`<path>.init`, rollback
/// journal), synced, and linked into place whole, so an interrupted `init` leaves either no
/// store or a complete one. A file at `path` that an interrupted `init` of an older RadQC left
/// half-made (ours, with no committed schema or no site, and no data) is made again.
pub(crate) fn create(path: &Path, key: &Key, meta: &[(&str, String)]) -> Result<Connection, StoreError> {
    let free = match header(path) {
        // A write-ahead log beside an empty file may hold data: never build over it.
        Err(StoreError::NoDatabase(_)) | Ok(None) => {
            std::fs::metadata(sibling(path, "-wal")).map(|m| m.len() == 0).unwrap_or(true)
        }
        Ok(Some(_)) => half_made(path, key)?,
        Err(e) => return Err(e),
    };
    let staged = sibling(path, ".init");
    if !free {
        // An init killed right after moving its store into place left the staged name behind.
        remove_if_same_file(&staged, path);
        return Err(StoreError::AlreadyExists(path.to_owned()));
    }
    let io =
        |what: &str, e: std::io::Error| crate::error::invalid("db", format!("cannot {what} {}: {e}", path.display()));
    for leftover in [staged.clone(), sibling(&staged, "-journal"), sibling(&staged, "-wal"), sibling(&staged, "-shm")] {
        remove_if_present(&leftover).map_err(|e| io("clear the leftovers of an earlier init beside", e))?;
    }
    {
        let conn = Connection::open_with_flags(
            &staged,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        apply_key(&conn, key)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.unchecked_transaction()?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        for sql in MIGRATIONS {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", latest_schema())?;
        for (k, v) in meta {
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", rusqlite::params![k, v])?;
        }
        tx.commit()?;
        conn.close().map_err(|(_, e)| e)?;
    }
    std::fs::File::open(&staged).and_then(|f| f.sync_all()).map_err(|e| io("sync the new store for", e))?;
    // What is at `path` now holds nothing (checked above); a stale journal or WAL beside it would
    // be replayed into the new file, so it goes too.
    for leftover in [sibling(path, "-journal"), sibling(path, "-wal"), sibling(path, "-shm"), path.to_owned()] {
        remove_if_present(&leftover).map_err(|e| io("clear the half-made store", e))?;
    }
    match move_into_place(&staged, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&staged);
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        Err(e) => return Err(io("move the new store into place at", e)),
    }
    open_existing(path, key)
}

/// Whether the file at `path` is what an interrupted `init` left: our file (the key opens it,
/// our application id, or nothing at all after rolling back its journal) with no committed
/// schema or no site, and no data. Anything else is a store (or not ours) and is left alone.
fn half_made(path: &Path, key: &Key) -> Result<bool, StoreError> {
    // An interrupted first transaction leaves a hot journal; rolling it back (what any opener
    // does) gives the file as it was before: empty.
    if std::fs::metadata(sibling(path, "-journal")).map(|m| m.len() > 0).unwrap_or(false) {
        if let Ok(rw) =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        {
            if apply_key(&rw, key).is_ok() {
                let _ = rw.query_row("PRAGMA application_id", [], |_| Ok(()));
            }
        }
    }
    let Some((len, head)) = header(path)? else {
        return Ok(true);
    };
    if &head == b"SQLite format 3\0" || len < 1024 || len % 512 != 0 {
        return Ok(false);
    }
    let ro = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    apply_key(&ro, key)?;
    let Ok(app_id) = ro.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0)) else {
        return Ok(false);
    };
    if app_id != APPLICATION_ID {
        return Ok(false);
    }
    let version: i64 = ro.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        let tables: i64 = ro.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        return Ok(tables == 0);
    }
    let (site, data): (bool, bool) = ro.query_row(
        "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'site'),
                EXISTS (SELECT 1 FROM exams) OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM audit_log)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(!site && !data)
}

/// `<path><suffix>`: the files SQLite and we keep beside a store (`-wal`, `-journal`, `.init`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes `staged` when it is another name of the file at `path` (a hard link left behind).
fn remove_if_same_file(staged: &Path, path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(staged), std::fs::metadata(path)) {
            if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
                let _ = std::fs::remove_file(staged);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (staged, path);
}

/// Moves a written, synced file to `to`, never replacing a file there (`AlreadyExists`): a
/// hard link, then the staged name removed, then the folder synced so the new name is durable.
fn move_into_place(staged: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(staged, to) {
        Ok(()) => std::fs::remove_file(staged)?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
        // A file system without hard links: a rename, after checking nothing is there.
        Err(_) if !to.exists() => std::fs::rename(staged, to)?,
        Err(_) => return Err(std::io::ErrorKind::AlreadyExists.into()),
    }
    sync_dir(to)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
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
