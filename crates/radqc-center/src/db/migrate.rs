//! How the center records and checks its migrations (`sql::MIGRATIONS`), on both backends.
//!
//! Architecture Invariant: a center opens only a database made by this build's migrations: the
//! SHA-256 of each migration it ran is recorded in the migration's transaction
//! (`center_migrations`), and a database whose record differs is refused (`MIGRATION_HISTORY`)
//! before anything is written. A database made before the record was kept is accepted only when
//! its schema is exactly what this build's migrations up to its version make (so one made from an
//! earlier text of an edited migration is refused); its record is then filled in (`inferred`).
//! Migrations 2 (`notices`) and 3 (`patient_known`, two indexes) were edited before the record
//! was kept; no release shipped before that, so no repair migration: a development database made
//! by an earlier text is refused, naming what its schema lacks, and is made again.

use rusqlite::OptionalExtension;

use crate::error::ApiError;
use radqc_protocol::ErrorCode;

/// One row per migration the database ran; not a migration itself.
pub const HISTORY_TABLE: &str = "CREATE TABLE center_migrations (
    version  BIGINT PRIMARY KEY,
    digest   TEXT NOT NULL,
    recorded TEXT NOT NULL,
    at       TEXT NOT NULL
)";
pub const RECORD: &str = "INSERT INTO center_migrations (version, digest, recorded, at) VALUES ($1, $2, $3, $4)";
pub const RECORDED: &str = "SELECT version, digest FROM center_migrations ORDER BY version";

pub use radqc_domain::migrations::{check_recorded, check_schema, digest, Objects};

/// The refusal of `what` (a file or "the database"), with what differs.
pub fn refused(what: &str, detail: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MigrationHistory,
        format!("{what} was not made by this build's migrations ({detail}); the database was not changed"),
    )
}

/// SQLite: checks, reading only, that the database at schema `version` ran `migrations[..version]`.
pub fn check_sqlite(conn: &rusqlite::Connection, version: i64, migrations: &[&str]) -> Result<(), ApiError> {
    if sqlite_has_history(conn)? {
        let mut stmt = conn.prepare(RECORDED)?;
        let recorded = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        return check_recorded(version, &recorded, migrations).map_err(|d| refused_file(conn, &d));
    }
    if version == 0 {
        return Ok(());
    }
    let expected = rusqlite::Connection::open_in_memory()?;
    for m in &migrations[..version as usize] {
        expected.execute_batch(&m.replace("{serial}", "INTEGER"))?;
    }
    check_schema(version, &sqlite_objects(&expected)?, &sqlite_objects(conn)?).map_err(|d| refused_file(conn, &d))
}

fn refused_file(conn: &rusqlite::Connection, detail: &str) -> ApiError {
    let path = conn.path().filter(|p| !p.is_empty()).unwrap_or("the database").to_owned();
    refused(&path, detail)
}

pub fn sqlite_has_history(conn: &rusqlite::Connection) -> Result<bool, ApiError> {
    let found: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'center_migrations'", [], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// SQLite's schema objects, its own (`sqlite_*`, the planner's statistics) and the record left out.
fn sqlite_objects(conn: &rusqlite::Connection) -> Result<Objects, ApiError> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> 'center_migrations'",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// PostgreSQL: the tables' columns and the indexes of `schema`, the names of `schema` removed
/// from their definitions (so two schemas made by the same migrations compare equal), the
/// version table and the record left out.
pub async fn pg_objects(client: &impl deadpool_postgres::GenericClient, schema: &str) -> Result<Objects, ApiError> {
    let rows = client
        .query(
            "SELECT 'column', table_name || '.' || column_name, \
                 data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') \
             FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name NOT IN ('center_schema', 'center_migrations') \
             UNION ALL \
             SELECT 'index', indexname, indexdef FROM pg_indexes \
             WHERE schemaname = $1 AND tablename NOT IN ('center_schema', 'center_migrations')",
            &[&schema],
        )
        .await?;
    // A temporary schema (`pg_temp_3`) is printed by its alias (`pg_temp`).
    let alias = if schema.starts_with("pg_temp_") { "pg_temp" } else { schema };
    let unqualified = |s: String| s.replace(&format!("{schema}."), "").replace(&format!("{alias}."), "");
    rows.into_iter()
        .map(|r| {
            let (kind, name, def): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            Ok(((kind, name), Some(unqualified(def))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::db::sql::MIGRATIONS;

    /// The digest of every shipped center migration, in order. Append the digest of a new
    /// migration when adding it; never edit a line: a shipped migration never changes (databases
    /// out there record these digests and are refused when the code's differ).
    const SHIPPED: &[&str] = &[
        "6786da14f2713f786c04f0e25795079bdcdc2c71049e288e70d99b1410f6421e", // 1: sites … feed
        "338148b31cdb3e724a9802c8c5f259b413222d5c5712f29a8196bd0c6fb527f4", // 2: notices
        "2d7115d18b1d48725603978f5c1ac580af07c2dcfc360d57a102251bd9e16c2b", // 3: rollups, patient_known
        "92019eb69b772888cd9f69ae0c562c84115a845d8112aa3c207970a4a5a9f5f1", // 4: entry digests, forks
        "c1b03c99a8f94d81c4ed62afa845e2a815bd096d2c03af0e43fa67150bf45822", // 5: local months, case spans
        "5285451a62afea3d3fc6ddd29176e15d804135aeb4120517b76ef8e7bdd7be81", // 6: staff secrets, settings
        "6d1bff7746e142df46082984bd9e1e16e2b907fe369e16f362ae7015343b205a", // 7: gold cases
        "9761be6df5bfce335b73419f896faa6dd692bbc0781ffbe144cda74fc6cd8037", // 8: exam reports
        "b0ac036cac750039bf9289d48a9a58da4d92c4104c7a471fcd26920519b4183d", // 9: exams.cancelled
    ];

    #[test]
    fn shipped_migrations_never_change() {
        radqc_domain::migrations::check_shipped(MIGRATIONS, SHIPPED).unwrap_or_else(|e| panic!("{e}"));
    }
}
