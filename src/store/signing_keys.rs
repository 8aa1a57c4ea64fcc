//! `signing_keys`: Ed25519 keys for access tokens, the private half sealed.
use rusqlite::{Connection, Transaction, named_params};

use crate::error::Error;
use crate::types::Timestamp;

pub struct SigningKeyRow {
    pub kid: String,
    pub sealed_private: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
}

pub fn insert(tx: &Transaction<'_>, k: &SigningKeyRow) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO signing_keys (kid, private_key, public_key, created_at) VALUES (:kid, :private, :public, :at)",
    )?
    .execute(
        named_params! { ":kid": k.kid, ":private": k.sealed_private, ":public": k.public_key, ":at": k.created_at },
    )?;
    Ok(())
}

/// Keys not retired, newest first: the first signs, all are published.
pub fn live(conn: &Connection) -> Result<Vec<SigningKeyRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, private_key, public_key, created_at FROM signing_keys WHERE retired_at IS NULL
         ORDER BY created_at DESC, kid DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SigningKeyRow { kid: r.get(0)?, sealed_private: r.get(1)?, public_key: r.get(2)?, created_at: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
