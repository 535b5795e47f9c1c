//! What makes a shipped migration locked, for the store and the center alike (pure: the callers
//! read the database and pass in what it holds): the digest of a migration's text, the check of a
//! database's recorded history against the code's migrations, the comparison of the schema a
//! database holds with the one the migrations make, and the check of the code's migrations
//! against the digests shipped.

use std::collections::BTreeMap;

/// The SHA-256 of a text as written, in hexadecimal: what a migration history records for a
/// migration, and what the center keeps of each pushed entry's payload.
pub fn digest(migration: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(migration.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Schema objects by (kind, name), with their definition.
pub type Objects = BTreeMap<(String, String), Option<String>>;

/// Whether a database at schema `version` that recorded `recorded` (version, digest) ran exactly
/// `migrations[..version]`; the error says what differs.
pub fn check_recorded(version: i64, recorded: &[(i64, String)], migrations: &[&str]) -> Result<(), String> {
    let ran = &migrations[..version as usize];
    for (i, sql) in ran.iter().enumerate() {
        let n = i as i64 + 1;
        match recorded.get(i) {
            Some((v, d)) if *v == n && *d == digest(sql) => {}
            Some((v, _)) if *v == n => {
                return Err(format!("the migration {n} it ran is not this build's migration {n}"))
            }
            _ => return Err(format!("schema {version}, but no record of migration {n}")),
        }
    }
    match recorded.get(ran.len()) {
        Some((v, _)) => Err(format!("it records migration {v}, but its schema is {version}")),
        None => Ok(()),
    }
}

/// Whether a database made before the record was kept, at schema `version`, holds exactly the
/// objects (`have`) the migrations up to it make (`want`); the error names every difference.
pub fn check_schema(version: i64, want: &Objects, have: &Objects) -> Result<(), String> {
    let mut what: Vec<String> = want
        .iter()
        .filter_map(|(object, sql)| match have.get(object) {
            None => Some(format!("{} {} is missing", object.0, object.1)),
            Some(s) if s != sql => Some(format!("{} {} differs", object.0, object.1)),
            Some(_) => None,
        })
        .collect();
    what.extend(have.keys().filter(|o| !want.contains_key(*o)).map(|o| format!("{} {} is not theirs", o.0, o.1)));
    if what.is_empty() {
        return Ok(());
    }
    Err(format!(
        "made before the migration record was kept; its schema is not what migrations 1 to {version} make: {}",
        what.join(", ")
    ))
}

/// Whether the code's `migrations` are the `shipped` ones (their digests, in order), for the
/// tests that lock them: an edited, missing or undigested migration is named.
pub fn check_shipped(migrations: &[&str], shipped: &[&str]) -> Result<(), String> {
    for (i, sql) in migrations.iter().enumerate() {
        let Some(expected) = shipped.get(i) else {
            return Err(format!(
                "migration {} has no digest in SHIPPED: append \"{}\" (and never edit it afterwards)",
                i + 1,
                digest(sql)
            ));
        };
        if digest(sql) != *expected {
            return Err(format!(
                "migration {} was edited after it shipped: restore its text and add a new migration instead",
                i + 1
            ));
        }
    }
    if shipped.len() != migrations.len() {
        return Err("a shipped migration was removed".to_owned());
    }
    Ok(())
}
