//! The way out for a person who lost their authenticator and recovery codes: every
//! factor goes, and so does every session (whoever holds one may be the one who took the
//! phone). The person then signs in with the password alone, and enrols again (a policy
//! sends it there). For an account, an operator does it (`POST /v1/admin/users/{id}/
//! reset-mfa`, `keystead users reset-mfa`); for an operator, whoever runs the command line
//! on the server's machine (`keystead admin reset-mfa EMAIL`): an operator locked out
//! under `--operator-mfa required` may be the only one.
use rusqlite::Transaction;

use super::target_kind;
use crate::app::App;
use crate::core::admin_users::{self, AccountView};
use crate::core::audit::{Action, Event};
use crate::core::notices::{self, FactorChange};
use crate::core::principal::Staff;
use crate::error::Error;
use crate::store::admins::{self, AdminRow};
use crate::store::{accounts, mfa_challenges, passkey_registrations, passkeys, recovery_codes, sessions, totp_factors};
use crate::types::{Email, Person, Reason, Timestamp, UserId};

/// `POST /v1/admin/users/{id}/reset-mfa` and `keystead users reset-mfa`.
pub fn reset_factors(app: &App, who: &Staff, id: UserId, reason: &Reason) -> Result<AccountView, Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        accounts::get(tx, id)?.ok_or(Error::NotFound)?;
        reset(tx, app, who, Person::User(id), reason, now)?;
        admin_users::view(tx, id)
    })
}

/// `keystead admin reset-mfa EMAIL`: an operator's factors and sessions.
pub fn reset_operator_factors(app: &App, who: &Staff, email: &str, reason: &Reason) -> Result<AdminRow, Error> {
    let email = Email::parse("email", email)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let admin = admins::find_by_email(tx, &email)?.ok_or(Error::NotFound)?;
        reset(tx, app, who, Person::Admin(admin.id), reason, now)?;
        Ok(admin)
    })
}

/// Removes every factor, pending second step and session of the person, audited with the
/// reason and told to the person, in the caller's transaction.
fn reset(
    tx: &Transaction<'_>,
    app: &App,
    who: &Staff,
    person: Person,
    reason: &Reason,
    now: Timestamp,
) -> Result<(), Error> {
    let totp = totp_factors::delete(tx, person)?;
    let passkeys = passkeys::delete_all(tx, person)?;
    let codes = recovery_codes::delete_all(tx, person)?;
    mfa_challenges::delete_for(tx, person)?;
    passkey_registrations::delete_for(tx, person)?;
    let sessions_revoked = match person {
        Person::User(id) => crate::core::sessions::end_account_access(tx, id, None, now)?,
        Person::Admin(id) => sessions::revoke_for_admin(tx, id, now)?,
    };
    Event::new(who.actor(), who.origin(), Action::MfaReset)
        .target(target_kind(person), person.id())
        .reason(reason.as_str())
        .after(serde_json::json!({
            "totp_removed": totp, "passkeys_removed": passkeys, "recovery_codes_removed": codes, "sessions_revoked": sessions_revoked,
        }))
        .append(tx, now)?;
    notices::factor_changed(tx, app, person, FactorChange::ResetByOperator, now)
}
