//! `oauth_refresh_tokens`: the refresh tokens of a grant, stored as SHA-256 only. Each is
//! good once: its use marks it (`mark_used`) and the grant gets a new one.
use rusqlite::{Connection, OptionalExtension as _, Transaction};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{ClientId, GrantId, Timestamp};

pub fn insert(tx: &Transaction<'_>, hash: &TokenHash, grant: GrantId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("INSERT INTO oauth_refresh_tokens (hash, grant_id, created_at) VALUES (?1, ?2, ?3)")?
        .execute(rusqlite::params![hash, grant, now])?;
    Ok(())
}

/// A refresh token as presenting it finds it: its grant, that grant's client, and whether
/// it was used already.
pub struct FoundRefresh {
    pub grant_id: GrantId,
    pub client_id: ClientId,
    pub used: bool,
}

pub fn find(conn: &Connection, hash: &TokenHash) -> Result<Option<FoundRefresh>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT r.grant_id, g.client_id, r.used_at IS NOT NULL FROM oauth_refresh_tokens r
             JOIN oauth_grants g ON g.id = r.grant_id WHERE r.hash = ?1",
        )?
        .query_row([hash], |r| Ok(FoundRefresh { grant_id: r.get(0)?, client_id: r.get(1)?, used: r.get(2)? }))
        .optional()?)
}

/// Marks a token used unless it was already: whether this call did, so that of two
/// concurrent uses of one token only one goes on.
pub fn mark_used(tx: &Transaction<'_>, hash: &TokenHash, now: Timestamp) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("UPDATE oauth_refresh_tokens SET used_at = ?1 WHERE hash = ?2 AND used_at IS NULL")?
        .execute(rusqlite::params![now, hash])?
        == 1)
}

/// Deletes every refresh token of a grant (the pruner, before the grant itself).
pub fn delete_for_grant(tx: &Transaction<'_>, grant: GrantId) -> Result<usize, Error> {
    Ok(tx.prepare_cached("DELETE FROM oauth_refresh_tokens WHERE grant_id = ?1")?.execute([grant])?)
}
