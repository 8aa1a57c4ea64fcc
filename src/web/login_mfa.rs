//! The second step of signing in on the pages (`/login/mfa`, `/admin/login/mfa`): after a
//! correct password on an account with a factor, the form asking for a code, which carries
//! the `mfa_token` as a hidden field (never in a URL). Core decides everything
//! (`core::mfa::signin`); an expired or spent token sends the browser back to sign in.
use askama::Template;

use super::{Layout, enter, page, render};
use crate::app::App;
use crate::core::forward_auth;
use crate::core::mfa::signin;
use crate::error::{Error, MfaChallenge};
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response};

#[derive(Template)]
#[template(path = "web/login_mfa.html")]
pub struct SecondStepPage {
    layout: Layout,
    action: &'static str,
    mfa_token: String,
    next: String,
}

page!(SecondStepPage);

/// The code form, in answer to a password form whose core call said `mfa_required`.
pub(super) fn ask(app: &App, req: &Req, action: &'static str, c: &MfaChallenge, next: &str) -> Result<Response, Error> {
    let layout = Layout::new(app, req, "Second factor");
    render(app, &SecondStepPage { layout, action, mfa_token: c.token.expose().to_owned(), next: next.to_owned() })
}

/// `GET /login/mfa`: the second step only follows the password form.
pub fn portal_form(_app: &App, _req: &mut Req) -> Result<Response, Error> {
    Ok(Response::redirect("/login"))
}

pub fn portal(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match signin::portal(app, &req.origin(), &f.secret("mfa_token"), f.text("code")) {
        Ok(out) => {
            Ok(enter(app, Cookie::Portal, &out.session.token, &forward_auth::return_to(app, f.optional("next"))))
        }
        Err(e) => again(app, req, &f, "/login/mfa", e),
    }
}

pub fn operator(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match signin::operator(app, &req.origin(), &f.secret("mfa_token"), f.text("code")) {
        Ok(out) => Ok(enter(app, Cookie::Admin, &out.session.token, "/admin")),
        Err(e) => again(app, req, &f, "/admin/login/mfa", e),
    }
}

/// A wrong code: the form again, with the same token. Anything else (401: the token is
/// over) goes where the error takes it.
fn again(app: &App, req: &Req, f: &Form, action: &'static str, e: Error) -> Result<Response, Error> {
    let layout = Layout::new(app, req, "Second factor").failed(e)?;
    let page =
        SecondStepPage { layout, action, mfa_token: f.text("mfa_token").to_owned(), next: f.text("next").to_owned() };
    render(app, &page)
}
