//! `oauth_refresh_tokens`: the refresh tokens of a grant, stored as SHA-256 only.
use rusqlite::Transaction;

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{GrantId, Timestamp};

pub fn insert(tx: &Transaction<'_>, hash: &TokenHash, grant: GrantId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("INSERT INTO oauth_refresh_tokens (hash, grant_id, created_at) VALUES (?1, ?2, ?3)")?
        .execute(rusqlite::params![hash, grant, now])?;
    Ok(())
}
