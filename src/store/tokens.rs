//! `tokens`: single-use links (activation, reset, email verification, email change),
//! stored only as the SHA-256 of the raw token. A token is live while
//! `used_at IS NULL AND expires_at > now`; superseding one moves its expiry to now.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{Email, TenantId, Timestamp, TokenKind, UserId};

pub struct NewToken<'a> {
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub user_id: UserId,
    pub tenant_id: Option<TenantId>,
    pub new_email: Option<&'a Email>,
    pub expires_at: Timestamp,
}

/// What a live token stands for.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub user_id: UserId,
    pub tenant_id: Option<TenantId>,
    pub new_email: Option<Email>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The link was handed over (`activation_url`) rather than mailed: it proves no address.
    pub handed_over: bool,
}

const COLUMNS: &str = "user_id, tenant_id, new_email, created_at, expires_at, handed_over";

impl TokenRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            user_id: r.get(0)?,
            tenant_id: r.get(1)?,
            new_email: r.get(2)?,
            created_at: r.get(3)?,
            expires_at: r.get(4)?,
            handed_over: r.get(5)?,
        })
    }
}

pub fn insert(tx: &Transaction<'_>, t: &NewToken<'_>, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO tokens (hash, kind, user_id, tenant_id, new_email, created_at, expires_at)
         VALUES (:hash, :kind, :user, :tenant, :new_email, :now, :expires)",
    )?
    .execute(named_params! {
        ":hash": t.hash, ":kind": t.kind, ":user": t.user_id, ":tenant": t.tenant_id,
        ":new_email": t.new_email, ":now": now, ":expires": t.expires_at,
    })?;
    Ok(())
}

/// Marks a token's link as handed over instead of mailed.
pub fn mark_handed_over(tx: &Transaction<'_>, hash: &TokenHash) -> Result<(), Error> {
    tx.prepare_cached("UPDATE tokens SET handed_over = 1 WHERE hash = ?1")?.execute([hash])?;
    Ok(())
}

/// Ends every live token of this kind for the account (and tenant, when given: `IS`
/// matches NULL to NULL); returns how many.
pub fn expire_live(
    tx: &Transaction<'_>,
    kind: TokenKind,
    user: UserId,
    tenant: Option<TenantId>,
    now: Timestamp,
) -> Result<usize, Error> {
    let n = tx
        .prepare_cached(
            "UPDATE tokens SET expires_at = :now
             WHERE user_id = :user AND kind = :kind AND tenant_id IS :tenant AND used_at IS NULL AND expires_at > :now",
        )?
        .execute(named_params! { ":user": user, ":kind": kind, ":tenant": tenant, ":now": now })?;
    Ok(n)
}

/// Uses a live token: one statement, so of two concurrent uses exactly one gets the row.
pub fn consume(
    tx: &Transaction<'_>,
    hash: &TokenHash,
    kind: TokenKind,
    now: Timestamp,
) -> Result<Option<TokenRow>, Error> {
    let sql = format!(
        "UPDATE tokens SET used_at = :now
         WHERE hash = :hash AND kind = :kind AND used_at IS NULL AND expires_at > :now RETURNING {COLUMNS}"
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(named_params! { ":hash": hash, ":kind": kind, ":now": now }, TokenRow::from_row)
        .optional()?)
}

/// A live token, without using it (to learn whose it is before the write that uses it).
pub fn find_live(
    conn: &Connection,
    hash: &TokenHash,
    kind: TokenKind,
    now: Timestamp,
) -> Result<Option<TokenRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tokens
         WHERE hash = :hash AND kind = :kind AND used_at IS NULL AND expires_at > :now"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":hash": hash, ":kind": kind, ":now": now }, TokenRow::from_row)
        .optional()?)
}

/// When the newest token of this kind was issued to the account, if ever.
pub fn last_issued(conn: &Connection, kind: TokenKind, user: UserId) -> Result<Option<Timestamp>, Error> {
    Ok(conn
        .prepare_cached("SELECT MAX(created_at) FROM tokens WHERE user_id = ?1 AND kind = ?2")?
        .query_row(rusqlite::params![user, kind], |r| r.get(0))?)
}

/// Deletes at most `limit` tokens that expired before `before` (a used token expires too)
/// and that no message in the outbox names any more, so every `outbox.token_hash` still
/// finds its token; returns how many.
pub fn delete_expired(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM tokens WHERE hash IN (
                 SELECT t.hash FROM tokens t WHERE t.expires_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.token_hash = t.hash)
                 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
