//! Single-use tokens, the secret inside every emailed link: issuing one (which supersedes
//! the older ones of the same kind for the same account, and tenant for invitations) and
//! using one (atomically: of two concurrent uses exactly one succeeds). Unknown, used,
//! expired and superseded tokens are all the same `invalid_token`.
use rusqlite::{Connection, Transaction};

use crate::app::App;
use crate::crypto::secret::{Secret, TokenHash, random_token};
use crate::error::Error;
use crate::limit::Scope;
use crate::mail;
use crate::store::tokens::{self, NewToken, TokenRow};
use crate::types::{Email, TenantId, Timestamp, TokenKind, UserId};

const HOUR: i64 = 3600;

/// How long a token of each kind stays usable (API.md).
pub const fn lifetime_secs(kind: TokenKind) -> i64 {
    match kind {
        TokenKind::Activation => 7 * 24 * HOUR,
        TokenKind::Reset => HOUR,
        TokenKind::VerifyEmail | TokenKind::ChangeEmail => 24 * HOUR,
    }
}

/// Whose token to issue, and for what.
pub struct Grant<'a> {
    pub kind: TokenKind,
    pub user: UserId,
    pub tenant: Option<TenantId>,
    pub new_email: Option<&'a Email>,
}

/// Issues a token in the caller's transaction; the raw value goes into a link and is never
/// stored. Older live tokens of the same kind for the same account (and tenant) die now.
pub(crate) fn issue(tx: &Transaction<'_>, grant: &Grant<'_>, now: Timestamp) -> Result<Secret, Error> {
    tokens::expire_live(tx, grant.kind, grant.user, grant.tenant, now)?;
    let token = random_token();
    let new = NewToken {
        hash: token.digest(),
        kind: grant.kind,
        user_id: grant.user,
        tenant_id: grant.tenant,
        new_email: grant.new_email,
        expires_at: now.plus_secs(lifetime_secs(grant.kind)),
    };
    tokens::insert(tx, &new, now)?;
    Ok(token)
}

/// Ends the live tokens of a kind without issuing another (e.g. a removed member's invitation).
pub(crate) fn revoke(
    tx: &Transaction<'_>,
    kind: TokenKind,
    user: UserId,
    tenant: Option<TenantId>,
    now: Timestamp,
) -> Result<(), Error> {
    tokens::expire_live(tx, kind, user, tenant, now).map(|_| ())
}

/// A new password ends every live link that acts on the account: older reset links, a
/// pending email change (which would otherwise hand the account to whoever asked for it),
/// and verification links. Invitations stay: each is a tenant's offer, and since accepting
/// one into an account with a password needs that password, a stale link opens nothing.
pub(crate) fn spend_account_links(tx: &Transaction<'_>, user: UserId, now: Timestamp) -> Result<(), Error> {
    for kind in [TokenKind::Reset, TokenKind::VerifyEmail, TokenKind::ChangeEmail] {
        revoke(tx, kind, user, None, now)?;
    }
    Ok(())
}

/// Counts a use of a token against the client's IP (429 when over the limit). Every use
/// counts, good or bad, so guessing tokens is slow.
pub(crate) fn throttle(app: &App, ip: &str) -> Result<(), Error> {
    app.limits.hit(Scope::TokenUseByIp, ip, app.clock.now())
}

/// What a live token stands for, without using it: lets a caller check and hash a new
/// password outside the write transaction. The use itself is `consume`.
pub(crate) fn peek(conn: &Connection, kind: TokenKind, raw: &str, now: Timestamp) -> Result<TokenRow, Error> {
    tokens::find_live(conn, &TokenHash::of(raw), kind, now)?.ok_or(Error::InvalidToken)
}

/// Uses a token in the caller's transaction and scrubs its link from stored mail.
pub(crate) fn consume(tx: &Transaction<'_>, kind: TokenKind, raw: &str, now: Timestamp) -> Result<TokenRow, Error> {
    consume_hashed(tx, kind, &TokenHash::of(raw), now)
}

/// `consume` by the token's digest (an invitation a second-factor challenge waited on).
pub(crate) fn consume_hashed(
    tx: &Transaction<'_>,
    kind: TokenKind,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<TokenRow, Error> {
    let row = tokens::consume(tx, hash, kind, now)?.ok_or(Error::InvalidToken)?;
    mail::scrub_token(tx, hash, now)?;
    Ok(row)
}

/// When a token of this kind went to the account less than `every` seconds ago: the
/// seconds left until another may be sent (links are resent at most once per interval).
pub(crate) fn too_soon(
    conn: &Connection,
    kind: TokenKind,
    user: UserId,
    every: i64,
    now: Timestamp,
) -> Result<Option<u64>, Error> {
    Ok(match tokens::last_issued(conn, kind, user)? {
        Some(at) if now.unix() - at.unix() < every => {
            Some(u64::try_from(every - (now.unix() - at.unix())).unwrap_or(1))
        }
        _ => None,
    })
}
