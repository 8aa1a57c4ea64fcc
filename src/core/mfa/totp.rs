//! TOTP enrolment: start (password → a pending secret with its QR code), confirm (a code
//! → active, with recovery codes when it is the first factor), disable (password and a
//! code). The secret is sealed under the master key, bound to its owner, and shown only
//! when the enrolment starts.
use qrcode::QrCode;
use qrcode::render::svg;
use rusqlite::Connection;

use super::{Holder, before_removing, check_password, recovery, spend_code};
use crate::app::App;
use crate::core::audit::Action;
use crate::core::notices::{self, FactorChange};
use crate::crypto::secret::Secret;
use crate::crypto::totp;
use crate::error::Error;
use crate::store::{recovery_codes, totp_factors};
use crate::types::{Person, Timestamp};

/// A pending enrolment, shown once: the secret and two ways to scan it.
pub struct Pending {
    pub secret: Secret,
    pub otpauth_uri: Secret,
    pub qr_svg: String,
}

/// What the sealed secret is bound to: a copy moved to another row does not open.
fn context(person: Person) -> String {
    format!("totp:{}:{}", person.realm(), person.id())
}

pub fn start(app: &App, holder: &Holder<'_>, password: &Secret) -> Result<Pending, Error> {
    let email = check_password(app, holder, password)?;
    let now = app.clock.now();
    let raw = totp::new_secret();
    let sealed = app.master_key.seal(&raw, &context(holder.person))?;
    let secret = totp::base32(&raw);
    // The issuer authenticator apps show beside the account: the product's name.
    let uri = totp::otpauth_uri(&app.brand.product, &email, &secret);
    let qr = QrCode::new(uri.as_bytes()).map_err(Error::internal)?;
    let qr_svg = qr.render::<svg::Color<'_>>().min_dimensions(200, 200).build();
    app.db.write(|tx| {
        if !totp_factors::put_pending(tx, holder.person, &sealed, now)? {
            return Err(Error::AlreadyEnrolled);
        }
        holder.event(Action::MfaTotpEnrolmentStarted).append(tx, now)
    })?;
    Ok(Pending { secret, otpauth_uri: Secret::new(uri), qr_svg })
}

/// Activates a pending enrolment with a code of it. The recovery codes when it comes with
/// a new set (`recovery::with_new_factor`), else None.
pub fn confirm(app: &App, holder: &Holder<'_>, code: &str) -> Result<Option<Vec<Secret>>, Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        if totp_factors::get(tx, holder.person)?.is_none_or(|t| t.confirmed) {
            return Err(Error::NotPending);
        }
        let step = matching_step(tx, app, holder.person, code, now, true)?.ok_or(Error::InvalidCode)?;
        if !totp_factors::accept_step(tx, holder.person, step, Some(now))? {
            return Err(Error::InvalidCode);
        }
        let codes = recovery::with_new_factor(tx, holder.person, now)?;
        holder
            .event(Action::MfaTotpEnabled)
            .after(serde_json::json!({ "totp": true, "recovery_codes_issued": codes.is_some() }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, holder.person, FactorChange::TotpEnrolled, now)?;
        Ok(codes)
    })
}

/// Removes the authenticator with the password and a current code (TOTP or recovery).
/// Refused while a policy needs a factor and this is the last one; the last factor takes
/// the recovery codes with it.
pub fn disable(app: &App, holder: &Holder<'_>, password: &Secret, code: &str) -> Result<(), Error> {
    check_password(app, holder, password)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let last = before_removing(tx, app, holder.person)?;
        let method = spend_code(tx, app, holder.person, code, now)?;
        totp_factors::delete(tx, holder.person)?;
        let codes = if last { recovery_codes::delete_all(tx, holder.person)? } else { 0 };
        holder
            .event(Action::MfaTotpDisabled)
            .before(serde_json::json!({ "totp": true }))
            .after(serde_json::json!({ "totp": false, "recovery_codes_removed": codes, "confirmed_with": method.as_str() }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, holder.person, FactorChange::TotpRemoved, now)
    })
}

/// The step whose code `code` is, of the person's pending (`pending`) or active secret.
pub(crate) fn matching_step(
    conn: &Connection,
    app: &App,
    person: Person,
    code: &str,
    now: Timestamp,
    pending: bool,
) -> Result<Option<i64>, Error> {
    let Some(row) = totp_factors::get(conn, person)?.filter(|t| t.confirmed != pending) else {
        return Ok(None);
    };
    let raw = app.master_key.open(&row.sealed_secret, &context(person))?;
    Ok(totp::matching_step(&raw, code, now.unix()))
}
