//! `signing_keys`: the keys of signed tokens (EdDSA, ES256, RS256), the private half
//! sealed. A key's `retired_at` is the moment it leaves the JWKS (set, in the future, when
//! a newer key replaces it: see `core::signing::rotate`).
use rusqlite::{Connection, OptionalExtension as _, Transaction, named_params};

use crate::error::Error;
use crate::types::{SigningAlg, Timestamp};

pub struct SigningKeyRow {
    pub kid: String,
    pub alg: SigningAlg,
    pub sealed_private: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
}

/// A published key as the JWKS and the choice of signer see it (no private half).
pub struct PublishedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

pub fn insert(tx: &Transaction<'_>, k: &SigningKeyRow) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at)
         VALUES (:kid, :alg, :private, :public, :at)",
    )?
    .execute(named_params! {
        ":kid": k.kid, ":alg": k.alg, ":private": k.sealed_private, ":public": k.public_key, ":at": k.created_at,
    })?;
    Ok(())
}

/// Keys still published at `now`, newest first (by insertion within a second).
pub fn published(conn: &Connection, now: Timestamp) -> Result<Vec<PublishedKey>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, alg, public_key, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL OR retired_at > ?1 ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = stmt.query_map([now], |r| {
        Ok(PublishedKey {
            kid: r.get(0)?,
            alg: r.get(1)?,
            public_key: r.get(2)?,
            created_at: r.get(3)?,
            retired_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The sealed private half of one key.
pub fn sealed_private(conn: &Connection, kid: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(conn
        .prepare_cached("SELECT private_key FROM signing_keys WHERE kid = ?1")?
        .query_row([kid], |r| r.get(0))
        .optional()?)
}

/// Gives every key not yet retired its retirement time; returns their algs and kids.
pub fn retire_unretired(tx: &Transaction<'_>, at: Timestamp) -> Result<Vec<(SigningAlg, String)>, Error> {
    let mut stmt =
        tx.prepare_cached("UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL RETURNING alg, kid")?;
    let rows = stmt.query_map([at], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes keys that left the JWKS before `before`, with their sealed private halves;
/// returns how many. The newest key of each alg is never retired, so one always stays.
pub fn delete_retired(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM signing_keys WHERE kid IN (
                 SELECT kid FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?1 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
