//! The values sealed under the master key, across tables: one of each kind to prove a
//! master key opens them before the app starts, and every one of them for `keystead check`.
use rusqlite::{Connection, OptionalExtension as _};

use crate::error::Error;

/// One sealed value with the context it was sealed in.
pub struct Sample {
    /// What it is, for the message when it does not open ("signing key 3f2a…").
    pub what: String,
    pub context: String,
    pub sealed: Vec<u8>,
}

/// Each kind of sealed value: what to call it, and its rows as (context, sealed), newest
/// first. The TOTP context is the one `core::mfa::totp` seals with (`tests/it/check.rs`
/// opens one, so the two cannot drift apart).
const KINDS: &[(&str, &str)] = &[
    ("signing key", "SELECT kid, private_key FROM signing_keys ORDER BY created_at DESC, kid DESC"),
    (
        "provider key of tenant",
        "SELECT id, provider_key FROM tenants WHERE provider_key IS NOT NULL ORDER BY created_at DESC",
    ),
    ("mail", "SELECT id, sealed_body FROM outbox WHERE sealed_body IS NOT NULL ORDER BY seq DESC"),
    ("TOTP secret", "SELECT 'totp:' || realm || ':' || owner_id, secret FROM totp_factors ORDER BY created_at DESC"),
];

/// The newest sealed value of each kind. Empty for a database that holds none.
pub fn samples(conn: &Connection) -> Result<Vec<Sample>, Error> {
    let mut found = Vec::new();
    for (what, sql) in KINDS {
        let row: Option<(String, Vec<u8>)> =
            conn.prepare_cached(&format!("{sql} LIMIT 1"))?.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((context, sealed)) = row {
            found.push(Sample { what: format!("{what} {context}"), context, sealed });
        }
    }
    Ok(found)
}

/// Calls `f` with the kind of every sealed value and the value, one at a time.
pub fn each(conn: &Connection, mut f: impl FnMut(&'static str, Sample) -> Result<(), Error>) -> Result<(), Error> {
    for &(what, sql) in KINDS {
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (context, sealed): (String, Vec<u8>) = (r.get(0)?, r.get(1)?);
            f(what, Sample { what: format!("{what} {context}"), context, sealed })?;
        }
    }
    Ok(())
}
