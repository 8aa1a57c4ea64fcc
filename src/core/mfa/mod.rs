//! Second factors of portal accounts and operators: TOTP (`totp`), passkeys
//! (`passkeys`), recovery codes (`recovery`), the second step of a sign-in (`challenge`)
//! and the policies that demand a factor (`policy`). Every door (API, pages, command line) calls these.
pub mod challenge;
pub mod passkeys;
pub mod policy;
pub mod recovery;
pub mod reset;
pub mod signin;
pub mod totp;

use rusqlite::{Connection, Transaction};

use super::audit::{Action, Event};
use super::principal::{Actor, Operator, Origin, PortalUser};
use crate::app::App;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::store::{accounts, admins, passkeys as stored_passkeys, recovery_codes, totp_factors};
use crate::types::{Person, TenantId, Timestamp};

/// Someone acting on their own factors: a portal session (in its tenant) or an operator's.
pub struct Holder<'a> {
    pub person: Person,
    pub origin: &'a Origin,
    /// The tenant a portal session acts in (its policy may require a factor).
    pub tenant: Option<TenantId>,
}

impl<'a> From<&'a PortalUser> for Holder<'a> {
    fn from(who: &'a PortalUser) -> Self {
        Holder { person: Person::User(who.user_id), origin: &who.origin, tenant: Some(who.tenant_id) }
    }
}

impl<'a> From<&'a Operator> for Holder<'a> {
    fn from(who: &'a Operator) -> Self {
        Holder { person: Person::Admin(who.admin_id), origin: &who.origin, tenant: None }
    }
}

impl Holder<'_> {
    /// An audit event of this person about their own factors.
    fn event(&self, action: Action) -> Event<'_> {
        let event = Event::new(actor(self.person), Some(self.origin), action)
            .target(target_kind(self.person), self.person.id());
        match self.tenant {
            Some(t) => event.tenant(t),
            None => event,
        }
    }
}

pub fn actor(person: Person) -> Actor {
    match person {
        Person::User(id) => Actor::User(id),
        Person::Admin(id) => Actor::Admin(id),
    }
}

/// What audit events name a person as.
pub fn target_kind(person: Person) -> &'static str {
    match person {
        Person::User(_) => "account",
        Person::Admin(_) => "admin",
    }
}

/// What `GET /v1/me/mfa` shows.
pub struct Status {
    pub totp: bool,
    pub passkeys: Vec<stored_passkeys::Listed>,
    pub recovery_codes_left: i64,
    pub required: bool,
}

pub fn status(app: &App, holder: &Holder<'_>) -> Result<Status, Error> {
    app.db.read(|c| {
        let totp = totp_factors::get(c, holder.person)?.is_some_and(|t| t.confirmed);
        let passkeys = stored_passkeys::list(c, holder.person)?;
        let (_, left) = recovery_codes::count(c, holder.person)?;
        Ok(Status { totp, passkeys, recovery_codes_left: left, required: policy::required(app, c, holder.person)? })
    })
}

/// The factors a person can sign in with, as `mfa_required` names them; empty: none.
/// Recovery codes count only beside a factor (they stand in for it).
pub fn methods(conn: &Connection, person: Person) -> Result<Vec<&'static str>, Error> {
    let totp = totp_factors::get(conn, person)?.is_some_and(|t| t.confirmed);
    let passkey = stored_passkeys::count(conn, person)? > 0;
    let mut methods = Vec::new();
    if totp {
        methods.push("totp");
    }
    if (totp || passkey) && recovery_codes::count(conn, person)?.1 > 0 {
        methods.push("recovery_code");
    }
    if passkey {
        methods.push(Method::Passkey.as_str());
    }
    Ok(methods)
}

/// Before one of the person's factors goes: refused (`mfa_enrolment_required`) while a
/// policy needs a factor and it is the last one. Whether it is the last, in which case
/// the recovery codes go with it.
pub(crate) fn before_removing(tx: &Transaction<'_>, app: &App, person: Person) -> Result<bool, Error> {
    let totp = i64::from(totp_factors::get(tx, person)?.is_some_and(|t| t.confirmed));
    let last = totp + stored_passkeys::count(tx, person)? <= 1;
    if last && policy::required(app, tx, person)? {
        return Err(Error::MfaEnrolmentRequired);
    }
    Ok(last)
}

/// How a second step was passed (named in the audit event, never the code itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Totp,
    RecoveryCode,
    Passkey,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
            Method::Passkey => "passkey",
        }
    }

    /// The session's authentication methods (RFC 8176) once this step is passed: a
    /// recovery code is a one-time password too; a passkey is a hardware-bound key.
    pub fn amr(self) -> &'static str {
        match self {
            Method::Totp | Method::RecoveryCode => "pwd otp",
            Method::Passkey => "pwd hwk",
        }
    }
}

/// What a person offers for the second step: a code (TOTP or recovery), or a passkey's
/// assertion in its JSON form.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    Code(&'a str),
    Passkey(&'a serde_json::Value),
}

/// Spends a code of the person's in the caller's transaction: six digits are a TOTP code
/// (of a later step than the last one accepted), anything else a recovery code.
/// `invalid_code` when it is neither.
pub(crate) fn spend_code(
    tx: &Transaction<'_>,
    app: &App,
    person: Person,
    code: &str,
    now: Timestamp,
) -> Result<Method, Error> {
    let code = code.trim();
    if code.len() == crate::crypto::totp::DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()) {
        let step = totp::matching_step(tx, app, person, code, now, false)?.ok_or(Error::InvalidCode)?;
        if totp_factors::accept_step(tx, person, step, None)? { Ok(Method::Totp) } else { Err(Error::InvalidCode) }
    } else if recovery_codes::consume(tx, person, &recovery::digest(code), now)? {
        Ok(Method::RecoveryCode)
    } else {
        Err(Error::InvalidCode)
    }
}

/// The key of a person's per-account allowances (wrong passwords, wrong codes).
pub(crate) fn limit_key(conn: &Connection, person: Person) -> Result<String, Error> {
    Ok(match person {
        Person::User(id) => accounts::get(conn, id)?.ok_or(Error::Unauthorized)?.email.to_string(),
        Person::Admin(id) => format!("admin:{}", admins::get(conn, id)?.ok_or(Error::Unauthorized)?.email),
    })
}

/// Checks the person's current password (factor changes need it), charged to the same
/// per-account allowance as logins; `invalid_credentials` when wrong. The address, for
/// the authenticator's label.
fn check_password(app: &App, holder: &Holder<'_>, password: &Secret) -> Result<String, Error> {
    let now = app.clock.now();
    let (stored, email, key) = app.db.read(|c| {
        let key = limit_key(c, holder.person)?;
        Ok(match holder.person {
            Person::User(id) => {
                let a = accounts::get(c, id)?.ok_or(Error::Unauthorized)?;
                (a.password_hash, a.email.to_string(), key)
            }
            Person::Admin(id) => {
                let a = admins::get(c, id)?.ok_or(Error::Unauthorized)?;
                (Some(a.password_hash), a.email.to_string(), key)
            }
        })
    })?;
    // The same guard as every password check: its attempt taken before argon2 runs.
    if super::auth::verify_guarded(app, &key, holder.origin, stored.as_deref(), password, now)?.ok {
        Ok(email)
    } else {
        Err(Error::InvalidCredentials)
    }
}
