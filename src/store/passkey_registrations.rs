//! `passkey_registrations`: a registration ceremony between its options and the
//! browser's answer, bound to the person who started it, good for one answer.
use rusqlite::{OptionalExtension as _, Transaction, named_params};

use crate::error::Error;
use crate::types::{CeremonyId, Person, Timestamp};

pub fn insert(
    tx: &Transaction<'_>,
    id: CeremonyId,
    who: Person,
    challenge: &[u8],
    expires_at: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO passkey_registrations (id, realm, owner_id, challenge, expires_at)
         VALUES (:id, :realm, :owner, :challenge, :expires)",
    )?
    .execute(named_params! {
        ":id": id, ":realm": who.realm(), ":owner": who.id(), ":challenge": challenge, ":expires": expires_at,
    })?;
    Ok(())
}

/// Spends the person's live ceremony: its challenge, or None when it is unknown, another
/// person's, answered already or expired. One statement, so one answer wins.
pub fn take(tx: &Transaction<'_>, id: CeremonyId, who: Person, now: Timestamp) -> Result<Option<Vec<u8>>, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE passkey_registrations SET used_at = :now
             WHERE id = :id AND realm = :realm AND owner_id = :owner AND used_at IS NULL AND expires_at > :now
             RETURNING challenge",
        )?
        .query_row(named_params! { ":id": id, ":realm": who.realm(), ":owner": who.id(), ":now": now }, |r| r.get(0))
        .optional()?)
}

/// Ends every ceremony of the person (its factors were reset).
pub fn delete_for(tx: &Transaction<'_>, who: Person) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("DELETE FROM passkey_registrations WHERE realm = ?1 AND owner_id = ?2")?
        .execute(rusqlite::params![who.realm(), who.id()])?)
}

/// Deletes at most `limit` ceremonies that expired before `before`; how many.
pub fn delete_expired(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM passkey_registrations WHERE id IN (
                 SELECT id FROM passkey_registrations WHERE expires_at < ?1 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
