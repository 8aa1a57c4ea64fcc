//! Passkeys as second factors, several per person, each with a name. Registration is two
//! calls: the password opens a ceremony (`start`: the creation options, a challenge good
//! for five minutes and one answer), and the browser's answer closes it (`finish`). A
//! passkey passes the second step of a sign-in through `challenge::complete`, which calls
//! `spend_assertion`. The WebAuthn checks themselves are `core::webauthn`'s.
use rusqlite::Transaction;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::{Holder, Method, before_removing, check_password, recovery};
use crate::app::App;
use crate::core::audit::Action;
use crate::core::notices::{self, FactorChange};
use crate::core::webauthn::assertion::{Assertion, Stored};
use crate::core::webauthn::options::{self, User};
use crate::core::webauthn::{self, CEREMONY_SECS, Refused, RelyingParty, registration};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::store::passkeys::{self, Listed, NewPasskey};
use crate::store::{passkey_registrations, recovery_codes};
use crate::types::{CeremonyId, PasskeyId, Person, Timestamp};

/// Passkeys one person may keep: enough for a phone, a laptop and spare keys.
pub const MAX_PER_PERSON: i64 = 10;
pub const NAME_MAX_CHARS: usize = 64;

/// A registration under way: what the browser hands `navigator.credentials.create()`.
pub struct Ceremony {
    pub id: CeremonyId,
    pub options: Value,
    pub expires_at: Timestamp,
}

/// A passkey just registered, with the recovery codes when it came as a first factor.
pub struct Added {
    pub passkey: Listed,
    pub recovery_codes: Option<Vec<Secret>>,
}

/// Who this server is to authenticators: `--base-url`'s host and origin.
pub(crate) fn relying_party(app: &App) -> Result<RelyingParty, Error> {
    RelyingParty::of(&app.config.base_url)
}

/// The opaque handle an authenticator keeps with the person's passkeys: derived from who
/// they are, so it names no address and needs no column.
fn user_handle(person: Person) -> [u8; 32] {
    Sha256::digest(format!("keystead-user-handle:{}:{}", person.realm(), person.id())).into()
}

pub fn list(app: &App, holder: &Holder<'_>) -> Result<Vec<Listed>, Error> {
    app.db.read(|c| passkeys::list(c, holder.person))
}

/// `POST /v1/me/mfa/passkeys` with the password: a new ceremony.
pub fn start(app: &App, holder: &Holder<'_>, password: &Secret) -> Result<Ceremony, Error> {
    let email = check_password(app, holder, password)?;
    let rp = relying_party(app)?;
    let now = app.clock.now();
    let challenge = webauthn::new_challenge()?;
    let id = CeremonyId::random();
    let expires_at = now.plus_secs(CEREMONY_SECS);
    let existing = app.db.write(|tx| {
        room_for_one_more(tx, holder.person)?;
        passkey_registrations::insert(tx, id, holder.person, &challenge, expires_at)?;
        holder.event(Action::MfaPasskeyRegistrationStarted).append(tx, now)?;
        passkeys::credential_ids(tx, holder.person)
    })?;
    let handle = user_handle(holder.person);
    let options =
        options::creation(&rp, &app.brand.product, &User { handle: &handle, name: &email }, &challenge, &existing);
    Ok(Ceremony { id, options, expires_at })
}

/// `POST /v1/me/mfa/passkeys` with the ceremony's answer: the passkey, registered. The
/// ceremony is spent by its first answer, right or wrong.
pub fn finish(app: &App, holder: &Holder<'_>, ceremony: &str, name: &str, credential: &Value) -> Result<Added, Error> {
    let name = checked_name(name)?;
    let ceremony: CeremonyId = ceremony.parse().map_err(|_| Error::InvalidCredential)?;
    let rp = relying_party(app)?;
    let now = app.clock.now();
    let challenge = app
        .db
        .write(|tx| passkey_registrations::take(tx, ceremony, holder.person, now))?
        .ok_or(Error::InvalidCredential)?;
    let new = registration::verify(&rp, &challenge, credential).map_err(refused)?;
    let id = PasskeyId::random();
    let algorithm = new.credential.public_key.algorithm();
    app.db.write(|tx| {
        room_for_one_more(tx, holder.person)?;
        let stored = NewPasskey {
            id,
            credential_id: &new.credential.credential_id,
            cose_key: &new.credential.cose_key,
            algorithm,
            sign_count: new.sign_count,
            name,
        };
        if !passkeys::insert(tx, holder.person, &stored, now)? {
            return Err(refused(Refused("the credential is registered already")));
        }
        let recovery_codes = recovery::with_new_factor(tx, holder.person, now)?;
        holder
            .event(Action::MfaPasskeyAdded)
            .after(serde_json::json!({
                "passkey": id, "name": name, "algorithm": algorithm,
                "user_verified": new.user_verified, "recovery_codes_issued": recovery_codes.is_some(),
            }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, holder.person, FactorChange::PasskeyAdded, now)?;
        let passkey = passkeys::get(tx, holder.person, id)?.ok_or_else(|| Error::internal("the passkey vanished"))?;
        Ok(Added { passkey, recovery_codes })
    })
}

/// `DELETE /v1/me/mfa/passkeys/{id}` with the password. Refused while a policy needs a
/// factor and this is the last one; the last factor takes the recovery codes with it.
pub fn remove(app: &App, holder: &Holder<'_>, id: &str, password: &Secret) -> Result<(), Error> {
    let id: PasskeyId = id.parse()?;
    check_password(app, holder, password)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let passkey = passkeys::get(tx, holder.person, id)?.ok_or(Error::NotFound)?;
        let last = before_removing(tx, app, holder.person)?;
        passkeys::delete(tx, holder.person, id)?;
        let codes = if last { recovery_codes::delete_all(tx, holder.person)? } else { 0 };
        holder
            .event(Action::MfaPasskeyRemoved)
            .before(serde_json::json!({ "passkey": id, "name": passkey.name }))
            .after(serde_json::json!({ "recovery_codes_removed": codes }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, holder.person, FactorChange::PasskeyRemoved, now)
    })
}

/// The request options for the second step of a sign-in, for the challenge stored with
/// its `mfa_token`.
pub(crate) fn request_options(
    app: &App,
    conn: &rusqlite::Connection,
    person: Person,
    challenge: &[u8],
) -> Result<Value, Error> {
    Ok(options::request(&relying_party(app)?, challenge, &passkeys::credential_ids(conn, person)?))
}

/// Checks a passkey's answer to the second step's challenge and records the use, in the
/// caller's transaction. `invalid_code` when it is refused, as a wrong code is.
pub(crate) fn spend_assertion(
    tx: &Transaction<'_>,
    app: &App,
    person: Person,
    challenge: Option<&[u8]>,
    credential: &Value,
    now: Timestamp,
) -> Result<Method, Error> {
    let wrong = |why: Refused| {
        log::info!("a passkey assertion was refused: {}", why.0);
        Error::InvalidCode
    };
    let challenge = challenge.ok_or(Error::InvalidCode)?;
    let assertion = Assertion::parse(credential).map_err(wrong)?;
    let stored = passkeys::find(tx, person, &assertion.credential_id)?.ok_or(Error::InvalidCode)?;
    let handle = user_handle(person);
    let verified = assertion
        .verify(
            &relying_party(app)?,
            challenge,
            &Stored { cose_key: &stored.cose_key, sign_count: stored.sign_count, user_handle: &handle },
        )
        .map_err(wrong)?;
    if !passkeys::record_use(tx, stored.id, stored.sign_count, verified.sign_count, now)? {
        return Err(wrong(Refused("the counter moved meanwhile")));
    }
    Ok(Method::Passkey)
}

fn room_for_one_more(tx: &Transaction<'_>, person: Person) -> Result<(), Error> {
    if passkeys::count(tx, person)? >= MAX_PER_PERSON {
        return Err(Error::invalid(format!("An account keeps at most {MAX_PER_PERSON} passkeys; remove one first.")));
    }
    Ok(())
}

/// A passkey's name: what its owner will recognise it by in the list.
pub fn checked_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(Error::field(
            "name",
            format!("must be 1 to {NAME_MAX_CHARS} characters, none of them control characters"),
        ));
    }
    Ok(name)
}

/// A refused registration: the reason to the log, `invalid_credential` to the client.
fn refused(why: Refused) -> Error {
    log::info!("a passkey registration was refused: {}", why.0);
    Error::InvalidCredential
}
