//! The values sealed under the master key, across tables: whether a database holds any,
//! and one of each kind to prove a master key opens them before the app starts.
use rusqlite::{Connection, OptionalExtension as _};

use crate::error::Error;

/// One sealed value with the context it was sealed in.
pub struct Sample {
    /// What it is, for the message when it does not open ("signing key 3f2a…").
    pub what: String,
    pub context: String,
    pub sealed: Vec<u8>,
}

/// The newest sealed value of each kind: a signing key's private half, a tenant's
/// provider key, a mail body. Empty for a database that holds none.
pub fn samples(conn: &Connection) -> Result<Vec<Sample>, Error> {
    const QUERIES: &[(&str, &str)] = &[
        ("signing key", "SELECT kid, private_key FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1"),
        (
            "provider key of tenant",
            "SELECT id, provider_key FROM tenants WHERE provider_key IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        ),
        ("mail", "SELECT id, sealed_body FROM outbox WHERE sealed_body IS NOT NULL ORDER BY seq DESC LIMIT 1"),
    ];
    let mut found = Vec::new();
    for (what, sql) in QUERIES {
        let row: Option<(String, Vec<u8>)> =
            conn.prepare_cached(sql)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((context, sealed)) = row {
            found.push(Sample { what: format!("{what} {context}"), context, sealed });
        }
    }
    Ok(found)
}
