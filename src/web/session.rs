//! Signing in and out of the portal, and signing up: `/`, `/login`, `/logout`, `/signup`.
use askama::Template;

use super::{Layout, enter, optional, page, render};
use crate::app::App;
use crate::core::{auth, forward_auth, sessions};
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials, cookies};

/// The login form of either realm (`/login`, `/admin/login`).
#[derive(Template)]
#[template(path = "web/login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub action: &'static str,
    /// The portal's form links to sign-up and forgot-password; the operators' does not.
    pub portal: bool,
    pub email: String,
    /// Where to go after signing in (a forward-authenticated site's URL), carried as a
    /// hidden field; `forward_auth::return_to` decides whether it is followed.
    pub next: String,
}

#[derive(Template)]
#[template(path = "web/signup.html")]
pub struct SignupPage {
    layout: Layout,
    tenant_name: String,
    name: String,
    email: String,
}

/// After sign-up: the first API key, shown this once.
#[derive(Template)]
#[template(path = "web/signed_up.html")]
pub struct SignedUpPage {
    layout: Layout,
    tenant: String,
    key: String,
}

page!(LoginPage, SignupPage, SignedUpPage);

pub fn home(app: &App, req: &mut Req) -> Result<Response, Error> {
    let signed_in = optional(credentials::portal_cookie_enrolling(app, req))?.is_some();
    Ok(Response::redirect(if signed_in { "/app" } else { "/login" }))
}

/// The confirmation a redirect to `/login?done=` asks for; fixed texts, so a link cannot
/// make the page say anything else.
pub(super) fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "signed-out" => Some("You are signed out."),
        "password-reset" => Some("Your new password is set. Sign in with it."),
        "email-changed" => Some("Your email address is changed. Sign in with it."),
        _ => None,
    }
}

/// The sign-in form; a browser already signed in goes straight on to `next`, unless
/// `again` asks for a fresh sign-in (an application's `prompt=login`). `login_hint` fills
/// in the email.
pub fn login_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    let next = req.query("next").unwrap_or_default();
    if req.query("again").is_none() && optional(credentials::portal_cookie(app, req))?.is_some() {
        return Ok(Response::redirect(&forward_auth::return_to(app, Some(&next))));
    }
    let layout = Layout::new(app, req, "Sign in").notice(done(req)).leading_to(app, &next);
    let email = req.query("login_hint").unwrap_or_default();
    render(app, &LoginPage { layout, action: "/login", portal: true, email, next })
}

pub fn login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let input = auth::Login { email: f.text("email").to_owned(), password: f.secret("password"), tenant_id: None };
    match auth::login(app, &req.origin(), input) {
        Ok(out) => {
            let to = forward_auth::return_to(app, f.optional("next"));
            Ok(enter(app, Cookie::Portal, &out.session.token, &to))
        }
        Err(Error::MfaRequired(c)) => super::login_mfa::ask(app, req, "/login/mfa", &c, f.text("next")),
        Err(e) => {
            let layout = Layout::new(app, req, "Sign in").leading_to(app, f.text("next")).failed(e)?;
            let (email, next) = (f.text("email").to_owned(), f.text("next").to_owned());
            render(app, &LoginPage { layout, action: "/login", portal: true, email, next })
        }
    }
}

pub fn logout(app: &App, req: &mut Req) -> Result<Response, Error> {
    if let Some(who) = optional(credentials::portal_cookie_enrolling(app, req))? {
        sessions::logout(app, &who)?;
    }
    Ok(Response::redirect("/login?done=signed-out").with_cookie(cookies::clear(app, Cookie::Portal)))
}

pub fn signup_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    auth::signup_open(app)?;
    let layout = Layout::new(app, req, "Sign up");
    render(app, &SignupPage { layout, tenant_name: String::new(), name: String::new(), email: String::new() })
}

pub fn signup(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let input = auth::Signup {
        tenant_name: f.text("tenant_name").to_owned(),
        email: f.text("email").to_owned(),
        password: f.secret("password"),
        name: f.optional("name").map(str::to_owned),
    };
    match auth::signup(app, &req.origin(), input) {
        Ok(out) => {
            let layout = Layout::new(app, req, "Welcome").status(201);
            let page = SignedUpPage { layout, tenant: out.tenant.name, key: out.key.key.expose().to_owned() };
            Ok(render(app, &page)?.with_cookie(cookies::set(app, Cookie::Portal, out.session.token.expose())))
        }
        Err(e) => {
            let layout = Layout::new(app, req, "Sign up").failed(e)?;
            let (tenant_name, name, email) =
                (f.text("tenant_name").to_owned(), f.text("name").to_owned(), f.text("email").to_owned());
            render(app, &SignupPage { layout, tenant_name, name, email })
        }
    }
}
