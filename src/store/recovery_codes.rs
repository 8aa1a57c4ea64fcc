//! `recovery_codes`: ten single-use codes per person, SHA-256 only.
use rusqlite::{Connection, Transaction, named_params};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{Person, Timestamp};

/// Replaces the person's codes with these.
pub fn replace(tx: &Transaction<'_>, who: Person, hashes: &[TokenHash], now: Timestamp) -> Result<(), Error> {
    delete_all(tx, who)?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO recovery_codes (hash, realm, owner_id, created_at) VALUES (:hash, :realm, :owner, :now)",
    )?;
    for hash in hashes {
        insert.execute(named_params! { ":hash": hash, ":realm": who.realm(), ":owner": who.id(), ":now": now })?;
    }
    Ok(())
}

/// Uses a code of this person: one statement, so two concurrent uses give one success.
pub fn consume(tx: &Transaction<'_>, who: Person, hash: &TokenHash, now: Timestamp) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "UPDATE recovery_codes SET used_at = :now
             WHERE hash = :hash AND realm = :realm AND owner_id = :owner AND used_at IS NULL",
        )?
        .execute(named_params! { ":hash": hash, ":realm": who.realm(), ":owner": who.id(), ":now": now })?;
    Ok(n == 1)
}

/// How many codes the person holds, and how many of them are unused.
pub fn count(conn: &Connection, who: Person) -> Result<(i64, i64), Error> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), count(*) FILTER (WHERE used_at IS NULL) FROM recovery_codes
             WHERE realm = ?1 AND owner_id = ?2",
        )?
        .query_row(rusqlite::params![who.realm(), who.id()], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

pub fn delete_all(tx: &Transaction<'_>, who: Person) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("DELETE FROM recovery_codes WHERE realm = ?1 AND owner_id = ?2")?
        .execute(rusqlite::params![who.realm(), who.id()])?)
}
