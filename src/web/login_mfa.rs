//! The second step of signing in on the pages (`/login/mfa`, `/admin/login/mfa`): after a
//! correct password on an account with a factor, the form asking for a code (and, where
//! the person has a passkey, a button that asks for it: `assets/passkeys.js`), which
//! carries the `mfa_token` as a hidden field (never in a URL). Core decides everything
//! (`core::mfa::signin`); an expired or spent token sends the browser back to sign in.
use askama::Template;

use super::{Layout, enter, page, render};
use crate::app::App;
use crate::core::forward_auth;
use crate::core::mfa::{Proof, challenge, signin};
use crate::error::{Error, MfaChallenge};
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response};
use crate::types::Realm;

#[derive(Template)]
#[template(path = "web/login_mfa.html")]
pub struct SecondStepPage {
    layout: Layout,
    action: &'static str,
    mfa_token: String,
    next: String,
    /// The passkey request options, as JSON, when the person has a passkey.
    passkey_options: Option<String>,
}

page!(SecondStepPage);

impl SecondStepPage {
    fn new(
        layout: Layout,
        action: &'static str,
        mfa_token: &str,
        next: &str,
        passkey: Option<&serde_json::Value>,
    ) -> Self {
        let layout = if passkey.is_some() { layout.script("passkeys.js") } else { layout };
        let passkey_options = passkey.map(serde_json::Value::to_string);
        Self { layout, action, mfa_token: mfa_token.to_owned(), next: next.to_owned(), passkey_options }
    }
}

/// The code form, in answer to a password form whose core call said `mfa_required`.
pub(super) fn ask(app: &App, req: &Req, action: &'static str, c: &MfaChallenge, next: &str) -> Result<Response, Error> {
    let layout = Layout::new(app, req, "Second factor").leading_to(app, next);
    render(app, &SecondStepPage::new(layout, action, c.token.expose(), next, c.passkey_options.as_ref()))
}

/// What the form offers: the passkey's answer when the button filled it in, else the code.
fn with_proof<T>(f: &Form, then: impl FnOnce(Proof<'_>) -> T) -> T {
    match f.optional("credential") {
        // Not JSON: an answer that cannot verify, counted as a wrong one.
        Some(text) => then(Proof::Passkey(&serde_json::from_str(text).unwrap_or_default())),
        None => then(Proof::Code(f.text("code"))),
    }
}

/// `GET /login/mfa`: the second step only follows the password form.
pub fn portal_form(_app: &App, _req: &mut Req) -> Result<Response, Error> {
    Ok(Response::redirect("/login"))
}

pub fn portal(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match with_proof(&f, |proof| signin::portal(app, &req.origin(), &f.secret("mfa_token"), proof)) {
        Ok(out) => {
            Ok(enter(app, Cookie::Portal, &out.session.token, &forward_auth::return_to(app, f.optional("next"))))
        }
        Err(e) => again(app, req, &f, Realm::Portal, e),
    }
}

pub fn operator(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match with_proof(&f, |proof| signin::operator(app, &req.origin(), &f.secret("mfa_token"), proof)) {
        Ok(out) => Ok(enter(app, Cookie::Admin, &out.session.token, "/admin")),
        Err(e) => again(app, req, &f, Realm::Admin, e),
    }
}

/// A wrong code: the form again, with the same token. Anything else (401: the token is
/// over) goes where the error takes it.
fn again(app: &App, req: &Req, f: &Form, realm: Realm, e: Error) -> Result<Response, Error> {
    let layout = Layout::new(app, req, "Second factor").leading_to(app, f.text("next")).failed(e)?;
    let action = match realm {
        Realm::Portal => "/login/mfa",
        Realm::Admin => "/admin/login/mfa",
    };
    let passkey = challenge::passkey_options(app, realm, &f.secret("mfa_token"))?;
    render(app, &SecondStepPage::new(layout, action, f.text("mfa_token"), f.text("next"), passkey.as_ref()))
}
