//! Schema migrations: numbered steps, each applied once in its own transaction and
//! recorded in `schema_migrations`. Released steps are never edited; new ones are appended.
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior};

use crate::error::Error;
use crate::types::Timestamp;

const STEPS: &[(i64, &str, &str)] = &[
    (1, "schema", include_str!("../../schema.sql")),
    (2, "search", include_str!("../../migrations/0002_search.sql")),
    (3, "links", include_str!("../../migrations/0003_links.sql")),
    (4, "sealed_mail", include_str!("../../migrations/0004_sealed_mail.sql")),
    (5, "prune", include_str!("../../migrations/0005_prune.sql")),
    (7, "mfa", include_str!("../../migrations/0007_mfa.sql")),
    (8, "prune_mfa", include_str!("../../migrations/0008_prune_mfa.sql")),
    (9, "passkeys", include_str!("../../migrations/0009_passkeys.sql")),
    (10, "notices", include_str!("../../migrations/0010_notices.sql")),
    (11, "oauth_clients", include_str!("../../migrations/0011_oauth_clients.sql")),
    (12, "oidc_flow", include_str!("../../migrations/0012_oidc_flow.sql")),
    (13, "activity", include_str!("../../migrations/0013_activity.sql")),
    (14, "signing_algs", include_str!("../../migrations/0014_signing_algs.sql")),
    (15, "prune_grants", include_str!("../../migrations/0015_prune_grants.sql")),
];

pub fn run(conn: &mut Connection, now: Timestamp) -> Result<(), Error> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT;",
    )?;
    for &(version, name, sql) in STEPS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: Option<i64> = tx
            .query_row("SELECT version FROM schema_migrations WHERE version = ?1", [version], |r| r.get(0))
            .optional()?;
        if applied.is_none() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, now],
            )?;
            log::info!("applied migration {version} ({name})");
        }
        tx.commit()?;
    }
    Ok(())
}

/// Where a database stands against this binary's migrations.
pub struct Schema {
    /// The highest step applied (None: a new, empty database).
    pub version: Option<i64>,
    /// Steps this binary would apply on its next start, as (number, name).
    pub pending: Vec<(i64, &'static str)>,
    /// Steps the database records that this binary does not know: a newer binary ran on it.
    pub unknown: Vec<i64>,
}

/// Reads the recorded steps without applying any.
pub fn status(conn: &Connection) -> Result<Schema, Error> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    let applied: Vec<i64> = if exists {
        let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
        stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok(Schema {
        version: applied.last().copied(),
        pending: STEPS.iter().filter(|s| !applied.contains(&s.0)).map(|s| (s.0, s.1)).collect(),
        unknown: applied.iter().copied().filter(|v| !STEPS.iter().any(|s| s.0 == *v)).collect(),
    })
}
