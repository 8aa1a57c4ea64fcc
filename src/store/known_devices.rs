//! `known_devices`: the (browser family, network) pairs each account signed in from, as
//! SHA-256 fingerprints only.
use rusqlite::{Connection, Transaction, named_params};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{Timestamp, UserId};

/// How many fingerprints the account has.
pub fn count(conn: &Connection, user: UserId) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM known_devices WHERE user_id = ?1")?
        .query_row(rusqlite::params![user], |r| r.get(0))?)
}

/// Records a sign-in from `fingerprint`; whether it was new to the account.
pub fn record(tx: &Transaction<'_>, user: UserId, fingerprint: &TokenHash, now: Timestamp) -> Result<bool, Error> {
    let updated = tx
        .prepare_cached("UPDATE known_devices SET last_seen_at = :now WHERE user_id = :user AND fingerprint = :fp")?
        .execute(named_params! { ":user": user, ":fp": fingerprint, ":now": now })?;
    if updated == 1 {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO known_devices (user_id, fingerprint, first_seen_at, last_seen_at) VALUES (:user, :fp, :now, :now)",
    )?
    .execute(named_params! { ":user": user, ":fp": fingerprint, ":now": now })?;
    Ok(true)
}

/// Keeps only the account's `keep` most recently seen fingerprints.
pub fn trim(tx: &Transaction<'_>, user: UserId, keep: i64) -> Result<(), Error> {
    tx.prepare_cached(
        "DELETE FROM known_devices WHERE user_id = :user AND fingerprint NOT IN (
             SELECT fingerprint FROM known_devices WHERE user_id = :user
             ORDER BY last_seen_at DESC, first_seen_at DESC LIMIT :keep)",
    )?
    .execute(named_params! { ":user": user, ":keep": keep })?;
    Ok(())
}
