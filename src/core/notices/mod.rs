//! Security notices by mail: a sign-in from a device or network the account had not used,
//! a password changed or reset, a second factor added, removed or reset, an API key
//! created. Each is queued in the transaction of the change it tells of (a change that
//! rolls back sends nothing), carries no secret, and sends its reader to the page where
//! it ends the sessions it does not recognise. Only the new-device notice can be turned
//! off (`new_device_notices`); the others always go.
pub mod device;

use rusqlite::Transaction;

use self::device::Device;
use super::principal::Origin;
use crate::app::App;
use crate::error::Error;
use crate::mail::{self, Letter, Notice};
use crate::store::keys::KeyRow;
use crate::store::{accounts, admins, known_devices, tenants};
use crate::types::{Email, Person, Timestamp, UserId};

/// How many devices an account's set remembers (the most recently seen ones); one seen
/// before those comes back as new.
pub const KEEP_DEVICES: i64 = 50;

/// A change to a person's second factors, as its notice tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorChange {
    TotpEnrolled,
    TotpRemoved,
    RecoveryCodesRegenerated,
    /// An operator removed every factor (a lost authenticator).
    ResetByOperator,
    PasskeyAdded,
    PasskeyRemoved,
}

impl FactorChange {
    fn sentence(self) -> &'static str {
        match self {
            FactorChange::TotpEnrolled => "An authenticator app was set up as a second factor of your account.",
            FactorChange::TotpRemoved => {
                "The authenticator app of your account was removed, and its recovery codes with it."
            }
            FactorChange::RecoveryCodesRegenerated => {
                "New recovery codes were made for your account; the old ones no longer work."
            }
            FactorChange::ResetByOperator => {
                "An operator removed every second factor of your account, and every session of it was ended. Sign in with your password and set up a second factor again."
            }
            FactorChange::PasskeyAdded => "A passkey was added to your account.",
            FactorChange::PasskeyRemoved => "A passkey was removed from your account.",
        }
    }
}

/// Tells a person (an account or an operator) that its second factors changed: the one
/// call every factor change makes, in its transaction.
pub fn factor_changed(
    tx: &Transaction<'_>,
    app: &App,
    person: Person,
    change: FactorChange,
    now: Timestamp,
) -> Result<(), Error> {
    send(tx, app, person, Notice::FactorChanged { what: change.sentence() }, now)
}

/// Tells an account its password was changed (`reset`: through a reset link).
pub(crate) fn password_changed(
    tx: &Transaction<'_>,
    app: &App,
    user: UserId,
    reset: bool,
    now: Timestamp,
) -> Result<(), Error> {
    let notice = if reset { Notice::PasswordReset } else { Notice::PasswordChanged };
    send(tx, app, Person::User(user), notice, now)
}

/// Tells the creator of an API key that it was created.
pub(crate) fn api_key_created(
    tx: &Transaction<'_>,
    app: &App,
    user: UserId,
    key: &KeyRow,
    now: Timestamp,
) -> Result<(), Error> {
    let tenant = tenants::get(tx, key.tenant_id)?.ok_or_else(|| Error::internal("a key of no tenant"))?;
    let notice = Notice::ApiKeyCreated { name: &key.name, prefix: &key.prefix, tenant: &tenant.name };
    send(tx, app, Person::User(user), notice, now)
}

/// Where every portal session opens (login, its second step, activation, sign-up):
/// remembers the device and network, and tells the account when they are new to it. The
/// account's first sign-in only records (nothing was known), and the notice is skipped
/// when the account turned it off.
pub(crate) fn signed_in(
    tx: &Transaction<'_>,
    app: &App,
    user: UserId,
    origin: &Origin,
    now: Timestamp,
) -> Result<(), Error> {
    let device = Device::of(origin);
    if !known_devices::record(tx, user, &device.fingerprint(user), now)? {
        return Ok(());
    }
    known_devices::trim(tx, user, KEEP_DEVICES)?;
    let first = known_devices::count(tx, user)? == 1;
    let account = accounts::get(tx, user)?.ok_or_else(|| Error::internal("a session opens for no account"))?;
    if first || !account.new_device_notices {
        return Ok(());
    }
    let notice = Notice::NewDevice { device: &device.family, network: &device.network };
    queue(tx, app, &account.email, Person::User(user), notice, now)
}

fn send(tx: &Transaction<'_>, app: &App, person: Person, notice: Notice<'_>, now: Timestamp) -> Result<(), Error> {
    let to = match person {
        Person::User(id) => accounts::get(tx, id)?.map(|a| a.email),
        Person::Admin(id) => admins::get(tx, id)?.map(|a| a.email),
    };
    let to = to.ok_or_else(|| Error::internal("a notice to no one"))?;
    queue(tx, app, &to, person, notice, now)
}

fn queue(
    tx: &Transaction<'_>,
    app: &App,
    to: &Email,
    person: Person,
    notice: Notice<'_>,
    now: Timestamp,
) -> Result<(), Error> {
    mail::queue(tx, app, to, &Letter::Notice { notice, realm: person.realm() }, now).map(|_| ())
}
