//! The second factor: `/v1/me/mfa…` and `/v1/admin/me/mfa…` (one's own factors, in
//! either realm, through the same core operations), and the second step of a login,
//! `POST /v1/auth/mfa` and `POST /v1/admin/auth/mfa`.
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::Passkey;
use crate::app::App;
use crate::core::mfa::{self, Holder, Proof, passkeys, recovery, signin, totp};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

#[derive(Deserialize)]
struct PasswordBody {
    password: Secret,
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

#[derive(Deserialize)]
struct PasswordAndCodeBody {
    password: Secret,
    code: String,
}

/// A code, or a passkey's assertion (`credential`): one of the two.
#[derive(Deserialize)]
struct SecondStepBody {
    mfa_token: Secret,
    code: Option<String>,
    credential: Option<Value>,
}

impl SecondStepBody {
    fn proof(&self) -> Result<Proof<'_>, Error> {
        match (&self.code, &self.credential) {
            (Some(code), None) => Ok(Proof::Code(code)),
            (None, Some(credential)) => Ok(Proof::Passkey(credential)),
            (None, None) => Err(Error::field("code", "is required (or a passkey's credential)")),
            (Some(_), Some(_)) => Err(Error::invalid("Send a code or a passkey's credential, not both.")),
        }
    }
}

/// `POST …/passkeys`: the password to start a registration, or the ceremony's answer.
#[derive(Deserialize)]
struct PasskeyBody {
    password: Option<Secret>,
    ceremony_id: Option<String>,
    name: Option<String>,
    credential: Option<Value>,
}

fn codes(codes: &[Secret]) -> Vec<&str> {
    codes.iter().map(Secret::expose).collect()
}

fn status(app: &App, holder: &Holder<'_>) -> Result<Response, Error> {
    let s = mfa::status(app, holder)?;
    Ok(Response::json(
        200,
        &json!({
            "totp": s.totp, "passkeys": Passkey::list(&s.passkeys),
            "recovery_codes_left": s.recovery_codes_left, "required": s.required,
        }),
    ))
}

fn list_passkeys(app: &App, holder: &Holder<'_>) -> Result<Response, Error> {
    let all = passkeys::list(app, holder)?;
    Ok(Response::json(200, &json!({ "passkeys": Passkey::list(&all) })))
}

fn add_passkey(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: PasskeyBody = body::json(req)?;
    match (&b.password, &b.ceremony_id) {
        (Some(password), None) => {
            let c = passkeys::start(app, holder, password)?;
            Ok(Response::json(200, &json!({ "ceremony_id": c.id, "options": c.options, "expires_at": c.expires_at })))
        }
        (None, Some(ceremony)) => {
            let name = b.name.as_deref().ok_or_else(|| Error::field("name", "is required"))?;
            let credential = b
                .credential
                .as_ref()
                .filter(|c| c.is_object())
                .ok_or_else(|| Error::field("credential", "is required"))?;
            let added = passkeys::finish(app, holder, ceremony, name, credential)?;
            let mut out = json!({ "passkey": Passkey::of(&added.passkey) });
            if let Some(issued) = &added.recovery_codes {
                out["recovery_codes"] = json!(codes(issued));
            }
            Ok(Response::json(201, &out))
        }
        (None, None) => Err(Error::field("password", "is required to start a registration")),
        (Some(_), Some(_)) => Err(Error::invalid("Send the password to start, or the ceremony's answer, not both.")),
    }
}

fn remove_passkey(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: PasswordBody = body::json(req)?;
    passkeys::remove(app, holder, req.param("id"), &b.password)?;
    Ok(Response::no_content())
}

fn start_totp(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: PasswordBody = body::json(req)?;
    let p = totp::start(app, holder, &b.password)?;
    Ok(Response::json(
        200,
        &json!({ "secret": p.secret.expose(), "otpauth_uri": p.otpauth_uri.expose(), "qr_svg": p.qr_svg }),
    ))
}

fn confirm_totp(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: CodeBody = body::json(req)?;
    Ok(match totp::confirm(app, holder, &b.code)? {
        Some(issued) => Response::json(200, &json!({ "recovery_codes": codes(&issued) })),
        None => Response::json(200, &json!({})),
    })
}

fn disable_totp(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: PasswordAndCodeBody = body::json(req)?;
    totp::disable(app, holder, &b.password, &b.code)?;
    Ok(Response::no_content())
}

fn regenerate_codes(app: &App, req: &Req, holder: &Holder<'_>) -> Result<Response, Error> {
    let b: PasswordAndCodeBody = body::json(req)?;
    let issued = recovery::regenerate(app, holder, &b.password, &b.code)?;
    Ok(Response::json(200, &json!({ "recovery_codes": codes(&issued) })))
}

// Portal routes: a session on the enrolment routes, which a tenant's policy never closes.

pub fn me(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    status(app, &Holder::from(&who))
}

pub fn me_totp(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    start_totp(app, req, &Holder::from(&who))
}

pub fn me_totp_confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    confirm_totp(app, req, &Holder::from(&who))
}

pub fn me_totp_disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    disable_totp(app, req, &Holder::from(&who))
}

pub fn me_recovery_codes(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    regenerate_codes(app, req, &Holder::from(&who))
}

pub fn me_passkeys(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    list_passkeys(app, &Holder::from(&who))
}

pub fn me_passkeys_add(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    add_passkey(app, req, &Holder::from(&who))
}

pub fn me_passkey_remove(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    remove_passkey(app, req, &Holder::from(&who))
}

pub fn login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: SecondStepBody = body::json(req)?;
    let out = signin::portal(app, &req.origin(), &b.mfa_token, b.proof()?)?;
    Ok(super::auth::logged_in(&out))
}

// Operator routes: the same, for the operator's own factors.

pub fn admin_me(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    status(app, &Holder::from(&who))
}

pub fn admin_totp(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    start_totp(app, req, &Holder::from(&who))
}

pub fn admin_totp_confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    confirm_totp(app, req, &Holder::from(&who))
}

pub fn admin_totp_disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    disable_totp(app, req, &Holder::from(&who))
}

pub fn admin_recovery_codes(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    regenerate_codes(app, req, &Holder::from(&who))
}

pub fn admin_passkeys(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    list_passkeys(app, &Holder::from(&who))
}

pub fn admin_passkeys_add(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    add_passkey(app, req, &Holder::from(&who))
}

pub fn admin_passkey_remove(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    remove_passkey(app, req, &Holder::from(&who))
}

pub fn admin_login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: SecondStepBody = body::json(req)?;
    let out = signin::operator(app, &req.origin(), &b.mfa_token, b.proof()?)?;
    Ok(super::admin_auth::logged_in(&out))
}
