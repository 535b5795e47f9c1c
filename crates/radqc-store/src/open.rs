//! Opening the store: the key, the checks that refuse a file before anything can change it, and
//! the forward-only migrations.
//!
//! Architecture Invariant: a file that is refused (not a database, another program's, a newer
//! schema, a wrong key, another migration history) is never written to: it is inspected
//! read-only first.
//!
//! Architecture Invariant: a store opens only with the migrations it was made by: the SHA-256 of
//! each one it ran is recorded in its transaction (`schema_migrations`), and a file whose record
//! differs from this build's migrations is refused (`MIGRATION_HISTORY`). A file made before the
//! record was kept is accepted only when its schema is exactly what this build's migrations up to
//! its `user_version` make (so one made from an earlier text of an edited migration is refused),
//! and its record is then filled in.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use crate::keystore::{self, KeyPlacement, LoadedKey, OsKeystore};
use crate::schema::{digest, APPLICATION_ID, HISTORY_TABLE, MIGRATIONS};

/// The key that encrypts a store (SQLCipher raw key: 32 bytes).
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// The key a key file gives: the key itself (64 hexadecimal characters, a trailing newline
    /// allowed), or the one in the OS keystore entry the file names (see [`crate::KeySource`]).
    pub fn from_file(path: &Path) -> Result<Key, StoreError> {
        Self::load(path).map(|loaded| loaded.key)
    }

    /// [`Key::from_file`], with where the key came from.
    pub fn load(path: &Path) -> Result<LoadedKey, StoreError> {
        keystore::load(&OsKeystore::new(), path)
    }

    /// Makes a new random key and writes it to `path`, readable by the owner only. Refuses to
    /// overwrite an existing key file: losing a key loses the data it encrypts. The file appears
    /// whole or not at all (written beside, synced, then linked into place), so an interrupted
    /// `init` never leaves a truncated key.
    pub fn create_file(path: &Path) -> Result<Key, StoreError> {
        let err = |message: String| StoreError::KeyFile { path: path.to_owned(), message };
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| err(format!("no randomness for a key: {e}")))?;
        match create_private_file(path, &format!("{}\n", hex::encode(key))) {
            Ok(()) => Ok(Key(key)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(err("already exists; refusing to overwrite a key".into()))
            }
            Err(e) => Err(err(format!("cannot create: {e}"))),
        }
    }

    /// Uses the key file at `path` (the key, or the keystore entry it names); when there is
    /// none yet, makes a new key in `placement` and the key file that holds or names it.
    pub fn load_or_create(path: &Path, placement: KeyPlacement) -> Result<LoadedKey, StoreError> {
        if path.exists() {
            // A `create_file` killed right after moving the key into place left the staged name.
            remove_leftover_stage(path);
            Self::load(path)
        } else {
            keystore::create(&OsKeystore::new(), path, placement)
        }
    }

    /// The key for a new store at `db`: the key file at `path`, made (in `placement`) when
    /// missing. A key file an interrupted `init` of an older RadQC left empty or cut short (only
    /// hexadecimal digits, fewer than 64) is made again, but only while `db` holds nothing: no
    /// data can have been encrypted with it.
    pub fn for_new_store(path: &Path, db: &Path, placement: KeyPlacement) -> Result<LoadedKey, StoreError> {
        match Self::load_or_create(path, placement) {
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
                keystore::create(&OsKeystore::new(), path, placement)
            }
            other => other,
        }
    }

    /// A key from bytes the caller holds (e.g. from the OS keystore).
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// The key as the key file and the keystore hold it: 64 hexadecimal characters.
    pub(crate) fn hex(&self) -> String {
        hex::encode(self.0)
    }

    fn pragma(&self) -> String {
        format!("x'{}'", self.hex())
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
    open_checked(path, key, false, MIGRATIONS).map_err(|e| full_disk_or(e, path))
}

/// Checks a file, then opens it read-only: nothing is written, so this works on a full disk.
/// The connection holds the file exclusively (no other process writes while it is open): that
/// keeps SQLite's WAL index in memory instead of the `-shm` file a full disk has no room for.
pub(crate) fn open_read_only(path: &Path, key: &Key) -> Result<Connection, StoreError> {
    open_checked(path, key, true, MIGRATIONS).map_err(|e| full_disk_or(e, path))
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

/// Opens with `migrations` as this build's (tests pass an edited copy).
fn open_checked(path: &Path, key: &Key, read_only: bool, migrations: &[&str]) -> Result<Connection, StoreError> {
    let latest_schema = || migrations.len() as i64;
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
        check_history(&ro, path, version, migrations)?;
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
    migrate(&conn, migrations)?;
    Ok(conn)
}

/// Creates a store at `path` (which must not exist, be empty, or be a half-made store) with
/// `meta`, in one transaction: the file is built beside `path` (`<path>.init`, rollback
/// journal), synced, and linked into place whole, so an interrupted `init` leaves either no
/// store or a complete one. A file at `path` that an interrupted `init` of an older RadQC left
/// half-made (ours, with no committed schema or no site, and no data) is made again.
pub(crate) fn create(path: &Path, key: &Key, meta: &[(&str, String)]) -> Result<Connection, StoreError> {
    create_with(path, key, meta, MIGRATIONS)
}

fn create_with(path: &Path, key: &Key, meta: &[(&str, String)], migrations: &[&str]) -> Result<Connection, StoreError> {
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
        tx.execute_batch(HISTORY_TABLE)?;
        for (i, sql) in migrations.iter().enumerate() {
            tx.execute_batch(sql)?;
            record(&tx, i, sql, "applied")?;
        }
        tx.pragma_update(None, "user_version", migrations.len() as i64)?;
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
    open_checked(path, key, false, migrations).map_err(|e| full_disk_or(e, path))
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
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
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

/// Writes `contents` to a new file at `staged` (any leftover there removed first), owner-only
/// (0600) from its creation, synced.
fn write_staged(staged: &Path, contents: &str) -> std::io::Result<()> {
    remove_if_present(staged)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(staged)?;
    use std::io::Write;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Writes a new secret file at `path`, readable by the owner only (0600 from its creation), whole
/// or not at all: written beside as `<path>.tmp`, synced, linked into place, the folder synced.
/// Never replaces a file there (`AlreadyExists`): two first starts at once keep the first one's.
/// The store's key file and the app's gate token are written this way.
pub fn create_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let staged = sibling(path, ".tmp");
    let written = write_staged(&staged, contents);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    let moved = move_into_place(&staged, path);
    if moved.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    moved
}

/// Replaces the secret file at `path` whole, keeping its owner-only mode: `contents` is written
/// beside as `<path>.tmp` (0600), synced, handed to `check` (which may read it back), and only
/// if that passes renamed over `path`, the folder synced. Used only to move a store's key, once
/// its new place is known to open the store; a failure leaves `path` as it was.
pub(crate) fn replace_private_file<T>(
    path: &Path,
    contents: &str,
    check: impl FnOnce(&Path) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let staged = sibling(path, ".tmp");
    let io = |what: &str, e: std::io::Error| StoreError::KeyFile {
        path: path.to_owned(),
        message: format!("cannot {what}: {e}"),
    };
    let written = write_staged(&staged, contents);
    let done =
        written.map_err(|e| io("write its replacement beside it", e)).and_then(|()| check(&staged)).and_then(|value| {
            std::fs::rename(&staged, path).map_err(|e| io("move its replacement into place", e))?;
            sync_dir(path).map_err(|e| io("sync its folder", e))?;
            Ok(value)
        });
    if done.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    done
}

/// Removes what a [`create_private_file`] stopped between linking the file into place and
/// removing its staged name left beside `path`.
pub fn remove_leftover_stage(path: &Path) {
    remove_if_same_file(&sibling(path, ".tmp"), path)
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
    // Every statement of the save path, the HL7 merge and the app's reads stays compiled (the
    // default 16 let the save's four be evicted by the rest).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// Runs the migrations the file has not run yet, each in one transaction with its record. A file
/// made before the record was kept (`check_history` found its schema to be what `migrations` up
/// to its version make) first gets the record of those, marked `inferred`.
fn migrate(conn: &Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !has_history(conn)? {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(HISTORY_TABLE)?;
        for (i, sql) in migrations.iter().enumerate().take(current as usize) {
            record(&tx, i, sql, "inferred")?;
        }
        tx.commit()?;
    }
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        record(&tx, i, sql, "applied")?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Records that migration `i` (0-based; version `i + 1`) with text `sql` ran.
fn record(conn: &Connection, i: usize, sql: &str, how: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO schema_migrations (version, digest, recorded) VALUES (?1, ?2, ?3)",
        rusqlite::params![i as i64 + 1, digest(sql), how],
    )?;
    Ok(())
}

fn has_history(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?)
}

/// Checks, reading only, that the file at schema `version` ran exactly `migrations[..version]`:
/// its record names each of them with the digest of its text here; a file without a record (made
/// before it was kept) must hold exactly the schema objects those migrations make.
fn check_history(conn: &Connection, path: &Path, version: i64, migrations: &[&str]) -> Result<(), StoreError> {
    let refused = |detail: String| StoreError::MigrationHistory { path: path.to_owned(), detail };
    if has_history(conn)? {
        let mut stmt = conn.prepare("SELECT version, digest FROM schema_migrations ORDER BY version")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let recorded = rows.collect::<Result<Vec<_>, _>>()?;
        return radqc_domain::migrations::check_recorded(version, &recorded, migrations).map_err(refused);
    }
    if version == 0 {
        return Ok(());
    }
    let expected = Connection::open_in_memory()?;
    for sql in &migrations[..version as usize] {
        expected.execute_batch(sql)?;
    }
    radqc_domain::migrations::check_schema(version, &schema_objects(&expected)?, &schema_objects(conn)?)
        .map_err(refused)
}

/// The schema objects (type and name) of a database with their SQL, SQLite's own and the
/// migration record left out.
fn schema_objects(conn: &Connection) -> Result<radqc_domain::migrations::Objects, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> 'schema_migrations'",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The key file used when none is configured: beside the database, `<db>.key`.
pub fn default_key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap()
    }

    fn store(dir: &Path) -> (PathBuf, Key) {
        let (db, key) = (dir.join("qc.db"), Key::from_bytes([3; 32]));
        drop(create_with(&db, &key, &[("site", "S".to_owned())], MIGRATIONS).unwrap());
        (db, key)
    }

    fn recorded(db: &Path, key: &Key) -> Vec<(i64, String, String)> {
        let conn = open_checked(db, key, true, MIGRATIONS).unwrap();
        let mut stmt =
            conn.prepare("SELECT version, digest, recorded FROM schema_migrations ORDER BY version").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn a_store_records_the_digest_of_every_migration_it_ran() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = store(dir.path());
        let want: Vec<_> =
            MIGRATIONS.iter().enumerate().map(|(i, m)| (i as i64 + 1, digest(m), "applied".to_owned())).collect();
        assert_eq!(recorded(&db, &key), want);
    }

    #[test]
    fn a_build_whose_shipped_migration_was_edited_is_refused_and_the_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = store(dir.path());
        let before = bytes(&db);
        for i in 0..MIGRATIONS.len() {
            let mut edited = MIGRATIONS.to_vec();
            let text = format!("{}\n-- edited", MIGRATIONS[i]);
            edited[i] = &text;
            for read_only in [false, true] {
                let err = open_checked(&db, &key, read_only, &edited).expect_err("refused");
                assert_eq!(err.code(), "MIGRATION_HISTORY", "{err}");
                let n = i + 1;
                assert!(err.to_string().contains(&format!("migration {n} it ran is not this build's")), "{err}");
                assert_eq!(bytes(&db), before, "the refused file is untouched");
            }
        }
        open_checked(&db, &key, false, MIGRATIONS).expect("this build's migrations still open it");
    }

    #[test]
    fn a_new_migration_is_applied_and_recorded_and_an_older_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = store(dir.path());
        let mut newer = MIGRATIONS.to_vec();
        newer.push("CREATE TABLE later (x TEXT) STRICT;");
        drop(open_checked(&db, &key, false, &newer).unwrap());
        let conn = open_checked(&db, &key, true, &newer).unwrap();
        let last: (i64, String, String) = conn
            .query_row("SELECT version, digest, recorded FROM schema_migrations ORDER BY version DESC", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(last, (newer.len() as i64, digest(newer[newer.len() - 1]), "applied".to_owned()));
        drop(conn);
        let err = open_checked(&db, &key, false, MIGRATIONS).err().unwrap();
        assert_eq!(err.code(), "NEWER_SCHEMA");
        // The same number, another text: the history tells them apart.
        let mut other = MIGRATIONS.to_vec();
        other.push("CREATE TABLE other (y TEXT) STRICT;");
        assert_eq!(open_checked(&db, &key, false, &other).err().unwrap().code(), "MIGRATION_HISTORY");
    }

    #[test]
    fn a_file_made_before_the_record_gets_it_when_its_schema_is_this_build_s_and_is_refused_when_not() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = store(dir.path());
        {
            let conn = open_checked(&db, &key, false, MIGRATIONS).unwrap();
            conn.execute_batch("DROP TABLE schema_migrations").unwrap();
        }
        // Made by this build's texts: the record is filled in at the first open.
        drop(open_checked(&db, &key, false, MIGRATIONS).unwrap());
        let want: Vec<_> =
            MIGRATIONS.iter().enumerate().map(|(i, m)| (i as i64 + 1, digest(m), "inferred".to_owned())).collect();
        assert_eq!(recorded(&db, &key), want);
        // Made by an earlier text of migration 2 (without its index): refused, untouched.
        {
            let conn = open_checked(&db, &key, false, MIGRATIONS).unwrap();
            conn.execute_batch("DROP TABLE schema_migrations; DROP INDEX audit_by_actor").unwrap();
        }
        let before = bytes(&db);
        for read_only in [true, false] {
            let err = open_checked(&db, &key, read_only, MIGRATIONS).expect_err("refused");
            assert_eq!(err.code(), "MIGRATION_HISTORY", "{err}");
            assert!(err.to_string().contains("index audit_by_actor is missing"), "{err}");
            assert_eq!(bytes(&db), before);
        }
    }
}
