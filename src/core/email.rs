//! Email ownership: verification links (queued at sign-up, resent on request) and the
//! change of address (a confirmation link to the new address, a notice to the old one).
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::principal::{Actor, Origin, PortalUser};
use super::sessions;
use super::tokens::{self, Grant};
use crate::app::App;
use crate::crypto::secret::Secret;
use crate::error::{Error, is_unique_violation};
use crate::mail::{self, Letter};
use crate::store::accounts;
use crate::types::{Email, Timestamp, TokenKind, UserId};

/// A link is resent to one account at most this often (429 otherwise).
pub const RESEND_EVERY_SECS: i64 = 60;

/// Issues a verification token and queues its email, in the caller's transaction.
pub(crate) fn queue_verification(
    tx: &Transaction<'_>,
    app: &App,
    user: UserId,
    email: &Email,
    now: Timestamp,
) -> Result<(), Error> {
    let token = tokens::issue(tx, &Grant { kind: TokenKind::VerifyEmail, user, tenant: None, new_email: None }, now)?;
    mail::queue(tx, app, email, &Letter::VerifyEmail { token: &token }, now).map(|_| ())
}

fn throttle_resend(tx: &Transaction<'_>, kind: TokenKind, user: UserId, now: Timestamp) -> Result<(), Error> {
    match tokens::too_soon(tx, kind, user, RESEND_EVERY_SECS, now)? {
        Some(retry_after) => Err(Error::RateLimited { retry_after }),
        None => Ok(()),
    }
}

/// `POST /v1/me/verify-email`: a new verification link (the older ones stop working).
pub fn resend_verification(app: &App, who: &PortalUser) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        let account = accounts::get(tx, who.user_id)?.ok_or(Error::Unauthorized)?;
        if account.email_verified_at.is_some() {
            return Err(Error::AlreadyVerified);
        }
        throttle_resend(tx, TokenKind::VerifyEmail, who.user_id, now)?;
        queue_verification(tx, app, who.user_id, &account.email, now)?;
        // Account-level events carry no tenant: no tenant's audit log shows them.
        Event::new(who.actor(), Some(&who.origin), Action::EmailVerificationRequested)
            .target("account", who.user_id)
            .append(tx, now)
    })
}

/// `POST /v1/auth/verify-email`: the link's token marks the address verified.
pub fn verify_email(app: &App, origin: &Origin, token: &str) -> Result<(), Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let t = tokens::consume(tx, TokenKind::VerifyEmail, token, now)?;
        accounts::mark_email_verified(tx, t.user_id, now)?;
        Event::new(Actor::User(t.user_id), Some(origin), Action::EmailVerified)
            .target("account", t.user_id)
            .append(tx, now)
    })
}

/// `POST /v1/me/email`: after the password check, a confirmation link goes to the new
/// address; nothing changes until it is followed.
pub fn request_email_change(app: &App, who: &PortalUser, new_email: &str, password: &Secret) -> Result<(), Error> {
    let now = app.clock.now();
    let new_email = Email::parse("new_email", new_email)?;
    let account = app.db.read(|c| accounts::get(c, who.user_id))?.ok_or(Error::Unauthorized)?;
    // Same guard as login: a stolen session cannot try passwords without limit.
    let stored = account.password_hash.as_deref();
    if !super::auth::verify_guarded(app, account.email.as_str(), &who.origin, stored, password, now)?.ok {
        return Err(Error::InvalidCredentials);
    }
    if new_email == account.email {
        return Err(Error::field("new_email", "is already the address of this account"));
    }
    app.db.write(|tx| {
        // Checked again when the link is followed: the address may be taken meanwhile.
        if accounts::find_by_email(tx, &new_email)?.is_some() {
            return Err(Error::EmailTaken);
        }
        throttle_resend(tx, TokenKind::ChangeEmail, who.user_id, now)?;
        let grant =
            Grant { kind: TokenKind::ChangeEmail, user: who.user_id, tenant: None, new_email: Some(&new_email) };
        let token = tokens::issue(tx, &grant, now)?;
        mail::queue(tx, app, &new_email, &Letter::ConfirmEmailChange { new_email: &new_email, token: &token }, now)?;
        Event::new(who.actor(), Some(&who.origin), Action::EmailChangeRequested)
            .target("account", who.user_id)
            .after(serde_json::json!({ "new_email": new_email }))
            .append(tx, now)
    })
}

/// `POST /v1/auth/confirm-email-change`: the account's address becomes the new one
/// (verified: the link proved it), the old address gets a notice, every session ends, and
/// links sent to the old address stop working. A taken address is 409 and the token stays
/// unused (the transaction rolls back).
pub fn confirm_email_change(app: &App, origin: &Origin, token: &str) -> Result<(), Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let t = tokens::consume(tx, TokenKind::ChangeEmail, token, now)?;
        let new_email = t.new_email.ok_or(Error::InvalidToken)?;
        let account = accounts::get(tx, t.user_id)?.ok_or(Error::InvalidToken)?;
        accounts::set_email(tx, t.user_id, &new_email, now)
            .map_err(|e| if is_unique_violation(&e) { Error::EmailTaken } else { e.into() })?;
        let revoked = sessions::end_account_access(tx, t.user_id, None, now)?;
        tokens::revoke(tx, TokenKind::VerifyEmail, t.user_id, None, now)?;
        tokens::revoke(tx, TokenKind::Reset, t.user_id, None, now)?;
        mail::queue(tx, app, &account.email, &Letter::EmailChanged { new_email: &new_email }, now)?;
        Event::new(Actor::User(t.user_id), Some(origin), Action::EmailChanged)
            .target("account", t.user_id)
            .before(serde_json::json!({ "email": account.email }))
            .after(serde_json::json!({ "email": new_email, "sessions_revoked": revoked }))
            .append(tx, now)
    })
}
