//! Forgotten passwords: a reset link by email, and the reset that ends every session.
use super::audit::{Action, Event};
use super::principal::{Actor, Origin};
use super::sessions;
use super::tokens::{self, Grant};
use crate::app::App;
use crate::crypto::password::check_policy;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::limit::Scope;
use crate::mail::{self, Letter};
use crate::store::accounts::{self, AccountRow};
use crate::types::{AccountStatus, Email, TokenKind};

/// At most one reset email per address in this many seconds; further requests still answer
/// 202 and queue nothing.
pub const FORGOT_EVERY_SECS: i64 = 300;

/// `POST /v1/auth/forgot-password`: the answer is the same whether or not the address has
/// an account (no enumeration); a reset link is queued only for a real, active account.
pub fn forgot_password(app: &App, origin: &Origin, email: &str) -> Result<(), Error> {
    let now = app.clock.now();
    app.limits.hit(Scope::ForgotByIp, &origin.ip, now)?;
    let email = Email::parse("email", email)?;
    app.db.write(|tx| {
        let Some(account) = accounts::find_by_email(tx, &email)? else { return Ok(()) };
        if account.status != AccountStatus::Active
            || tokens::too_soon(tx, TokenKind::Reset, account.id, FORGOT_EVERY_SECS, now)?.is_some()
        {
            return Ok(());
        }
        let grant = Grant { kind: TokenKind::Reset, user: account.id, tenant: None, new_email: None };
        let token = tokens::issue(tx, &grant, now)?;
        mail::queue(tx, app, &account.email, &Letter::PasswordReset { token: &token }, now)?;
        Event::new(Actor::Anonymous, Some(origin), Action::PasswordResetRequested)
            .target("account", account.id)
            .append(tx, now)
    })
}

/// An account a reset link may still act on: a disabled or deleted one gets the answer of
/// a bad link (the reset would hand it back to whoever holds the link).
fn resettable(account: Option<AccountRow>) -> Result<AccountRow, Error> {
    account.filter(|a| a.status == AccountStatus::Active).ok_or(Error::InvalidToken)
}

/// `POST /v1/auth/reset-password`: sets the new password and revokes every session of the
/// account, and every other live link acting on it (`tokens::spend_account_links`).
/// Following the link also proves the address.
pub fn reset_password(app: &App, origin: &Origin, token: &str, password: &Secret) -> Result<(), Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    let account = app.db.read(|c| {
        let t = tokens::peek(c, TokenKind::Reset, token, now)?;
        resettable(accounts::get(c, t.user_id)?)
    })?;
    check_policy("password", password, app.config.password_min_length, &[account.email.as_str(), &account.name])?;
    let hash = app.hasher.hash(password)?;
    app.db.write(|tx| {
        let t = tokens::consume(tx, TokenKind::Reset, token, now)?;
        resettable(accounts::get(tx, t.user_id)?)?;
        accounts::set_password_hash(tx, t.user_id, &hash, now)?;
        accounts::mark_email_verified(tx, t.user_id, now)?;
        let revoked = sessions::end_account_access(tx, t.user_id, None, now)?;
        tokens::spend_account_links(tx, t.user_id, now)?;
        Event::new(Actor::User(t.user_id), Some(origin), Action::PasswordReset)
            .target("account", t.user_id)
            .after(serde_json::json!({ "sessions_revoked": revoked }))
            .append(tx, now)?;
        super::notices::password_changed(tx, app, t.user_id, true, now)
    })
}
