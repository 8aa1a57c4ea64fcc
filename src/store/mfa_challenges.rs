//! `mfa_challenges`: the `mfa_token` between a correct password and the second factor,
//! SHA-256 only; live while unused, unexpired and under five wrong codes.
use rusqlite::{Connection, OptionalExtension as _, Transaction, named_params};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{Person, Realm, TenantId, Timestamp};

/// Wrong codes that end a challenge.
pub const MAX_FAILURES: i64 = 5;

pub struct NewChallenge {
    pub hash: TokenHash,
    pub who: Person,
    pub tenant_id: Option<TenantId>,
    pub invitation: Option<TokenHash>,
    /// What a passkey must sign to pass (None: the person has no passkey).
    pub passkey_challenge: Option<Vec<u8>>,
    pub expires_at: Timestamp,
}

pub struct ChallengeRow {
    pub who: Person,
    pub tenant_id: Option<TenantId>,
    pub invitation: Option<TokenHash>,
    pub passkey_challenge: Option<Vec<u8>>,
}

pub fn insert(tx: &Transaction<'_>, c: &NewChallenge, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO mfa_challenges
             (hash, realm, owner_id, tenant_id, invitation, passkey_challenge, created_at, expires_at)
         VALUES (:hash, :realm, :owner, :tenant, :invitation, :passkey, :now, :expires)",
    )?
    .execute(named_params! {
        ":hash": c.hash, ":realm": c.who.realm(), ":owner": c.who.id(), ":tenant": c.tenant_id,
        ":invitation": c.invitation, ":passkey": c.passkey_challenge, ":now": now, ":expires": c.expires_at,
    })?;
    Ok(())
}

/// The live challenge of this realm behind a token hash.
pub fn find_live(
    conn: &Connection,
    hash: &TokenHash,
    realm: Realm,
    now: Timestamp,
) -> Result<Option<ChallengeRow>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT owner_id, tenant_id, invitation, passkey_challenge FROM mfa_challenges
             WHERE hash = :hash AND realm = :realm AND used_at IS NULL AND expires_at > :now AND failures < :max",
        )?
        .query_row(named_params! { ":hash": hash, ":realm": realm, ":now": now, ":max": MAX_FAILURES }, |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(owner, tenant_id, invitation, passkey_challenge)| {
        Ok(ChallengeRow { who: Person::from_columns(realm, &owner)?, tenant_id, invitation, passkey_challenge })
    })
    .transpose()
}

/// Spends a challenge (its one success).
pub fn spend(tx: &Transaction<'_>, hash: &TokenHash, now: Timestamp) -> Result<bool, Error> {
    let n = tx
        .prepare_cached("UPDATE mfa_challenges SET used_at = :now WHERE hash = :hash AND used_at IS NULL")?
        .execute(named_params! { ":hash": hash, ":now": now })?;
    Ok(n == 1)
}

/// Ends every challenge of the person (its factors were reset).
pub fn delete_for(tx: &Transaction<'_>, who: Person) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("DELETE FROM mfa_challenges WHERE realm = ?1 AND owner_id = ?2")?
        .execute(rusqlite::params![who.realm(), who.id()])?)
}

/// Counts a wrong code; the failures so far.
pub fn record_failure(tx: &Transaction<'_>, hash: &TokenHash) -> Result<i64, Error> {
    Ok(tx
        .prepare_cached("UPDATE mfa_challenges SET failures = failures + 1 WHERE hash = ?1 RETURNING failures")?
        .query_row([hash], |r| r.get(0))?)
}

/// Deletes at most `limit` challenges that expired before `before` (spent or not: an
/// expired one opens nothing); returns how many.
pub fn delete_expired(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM mfa_challenges WHERE hash IN (
                 SELECT hash FROM mfa_challenges WHERE expires_at < ?1 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
