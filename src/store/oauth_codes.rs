//! `oauth_codes`: authorization codes, stored as SHA-256 only, redeemed once.
use rusqlite::{Connection, OptionalExtension as _, Transaction, named_params};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{ClientId, GrantId, SessionId, TenantId, Timestamp, UserId};

pub struct CodeRow {
    pub client_id: ClientId,
    pub session_id: SessionId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub amr: String,
    pub expires_at: Timestamp,
}

pub fn insert(tx: &Transaction<'_>, hash: &TokenHash, c: &CodeRow, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO oauth_codes (hash, client_id, session_id, user_id, tenant_id, redirect_uri, scope, nonce,
                                  code_challenge, auth_time, amr, created_at, expires_at)
         VALUES (:hash, :client, :session, :user, :tenant, :redirect, :scope, :nonce, :challenge, :auth_time,
                 :amr, :now, :expires)",
    )?
    .execute(named_params! {
        ":hash": hash, ":client": c.client_id, ":session": c.session_id, ":user": c.user_id,
        ":tenant": c.tenant_id, ":redirect": c.redirect_uri, ":scope": c.scope, ":nonce": c.nonce,
        ":challenge": c.code_challenge, ":auth_time": c.auth_time, ":amr": c.amr, ":now": now,
        ":expires": c.expires_at,
    })?;
    Ok(())
}

/// A code as presenting it finds it.
pub struct FoundCode {
    pub row: CodeRow,
    /// Set once it was redeemed: the grant that redemption opened.
    pub redeemed_grant: Option<GrantId>,
}

pub fn find(conn: &Connection, hash: &TokenHash) -> Result<Option<FoundCode>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT client_id, session_id, user_id, tenant_id, redirect_uri, scope, nonce, code_challenge,
                    auth_time, amr, expires_at, redeemed_grant
             FROM oauth_codes WHERE hash = ?1",
        )?
        .query_row([hash], |r| {
            let row = CodeRow {
                client_id: r.get(0)?,
                session_id: r.get(1)?,
                user_id: r.get(2)?,
                tenant_id: r.get(3)?,
                redirect_uri: r.get(4)?,
                scope: r.get(5)?,
                nonce: r.get(6)?,
                code_challenge: r.get(7)?,
                auth_time: r.get(8)?,
                amr: r.get(9)?,
                expires_at: r.get(10)?,
            };
            Ok(FoundCode { row, redeemed_grant: r.get(11)? })
        })
        .optional()?)
}

/// Marks a code redeemed into `grant`, unless it was already: whether this call did, so
/// that of two racing redemptions one wins.
pub fn redeem(tx: &Transaction<'_>, hash: &TokenHash, grant: GrantId, now: Timestamp) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE oauth_codes SET redeemed_at = ?1, redeemed_grant = ?2 WHERE hash = ?3 AND redeemed_at IS NULL",
        )?
        .execute(rusqlite::params![now, grant, hash])?
        == 1)
}

/// Deletes codes that expired before `before` (a replay after that is just unknown).
pub fn delete_expired(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM oauth_codes WHERE hash IN (SELECT hash FROM oauth_codes WHERE expires_at < ?1 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
