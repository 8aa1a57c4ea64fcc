//! The pages behind the links of our mail: forgotten and reset passwords, invitations,
//! email verification and change. A GET only shows a form that carries the link's token
//! in a hidden field; the change happens on its POST, because mail scanners follow links.
//! Every bad, used or expired token shows the same `invalid_token` message.
use askama::Template;

use super::{Layout, enter, page, render};
use crate::app::App;
use crate::core::members::{self, Activate, Invitation};
use crate::core::principal::Origin;
use crate::core::{email, recovery};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response, cookies};
use crate::types::TokenKind;

#[derive(Template)]
#[template(path = "web/forgot.html")]
pub struct ForgotPage {
    layout: Layout,
    email: String,
    sent: bool,
    /// How long the reset link lives, in words (core's `lifetime_secs`).
    valid_for: String,
}

#[derive(Template)]
#[template(path = "web/reset.html")]
pub struct ResetPage {
    layout: Layout,
    token: String,
}

#[derive(Template)]
#[template(path = "web/activate.html")]
pub struct ActivatePage {
    layout: Layout,
    token: String,
    name: String,
    /// The account has a password already: the page asks for it instead of a new one.
    existing: bool,
}

/// A link whose whole job is one button: verify an address, confirm a new one.
#[derive(Template)]
#[template(path = "web/confirm.html")]
pub struct ConfirmPage {
    layout: Layout,
    link: &'static Link,
    token: String,
    done: bool,
}

page!(ForgotPage, ResetPage, ActivatePage, ConfirmPage);

/// The layout of a page a link opened: without a token in the URL it says what a bad
/// token says (there is nothing to submit).
fn link_layout(app: &App, req: &Req, title: &str, token: &str) -> Result<Layout, Error> {
    let layout = Layout::new(app, req, title);
    if token.is_empty() { layout.failed(Error::InvalidToken) } else { Ok(layout) }
}

fn query_token(req: &Req) -> String {
    req.query("token").unwrap_or_default()
}

pub fn forgot_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    render(
        app,
        &ForgotPage {
            layout: Layout::new(app, req, "Forgot password"),
            email: String::new(),
            sent: false,
            valid_for: crate::mail::valid_for(TokenKind::Reset),
        },
    )
}

/// Answers the same whether or not the address has an account.
pub fn forgot(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let email = f.text("email").to_owned();
    let (layout, sent) = match recovery::forgot_password(app, &req.origin(), &email) {
        Ok(()) => (Layout::new(app, req, "Check your mail"), true),
        Err(e) => (Layout::new(app, req, "Forgot password").failed(e)?, false),
    };
    render(app, &ForgotPage { layout, email, sent, valid_for: crate::mail::valid_for(TokenKind::Reset) })
}

pub fn reset_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    let token = query_token(req);
    render(app, &ResetPage { layout: link_layout(app, req, "Choose a new password", &token)?, token })
}

pub fn reset(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match recovery::reset_password(app, &req.origin(), f.text("token"), &f.secret("password")) {
        Ok(()) => Ok(Response::redirect("/login?done=password-reset")),
        Err(e) => {
            let layout = Layout::new(app, req, "Choose a new password").failed(e)?;
            render(app, &ResetPage { layout, token: f.text("token").to_owned() })
        }
    }
}

/// Asks core who the link is for (without using it): a new account chooses a password, an
/// existing one gives its own.
pub fn activate_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    let token = query_token(req);
    let title = "Accept the invitation";
    let layout = link_layout(app, req, title, &token)?;
    let blank = |layout, token| ActivatePage { layout, token, name: String::new(), existing: false };
    let page = if token.is_empty() {
        blank(layout, token)
    } else {
        match members::peek_invitation(app, &req.origin(), &token) {
            Ok(who) => ActivatePage { existing: who == Invitation::ExistingAccount, ..blank(layout, token) },
            // A bad link shows its error and no form.
            Err(e) => blank(layout.failed(e)?, String::new()),
        }
    };
    render(app, &page)
}

/// The password is always sent: chosen for a new account, the account's own otherwise
/// (the link alone never opens an existing account; core checks it).
pub fn activate(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let input = Activate {
        token: f.text("token").to_owned(),
        password: f.optional("password").map(|p| Secret::new(p.to_owned())),
        name: f.optional("name").map(str::to_owned),
    };
    match members::activate(app, &req.origin(), input) {
        Ok(out) => Ok(enter(app, Cookie::Portal, &out.session.token, "/app")),
        Err(Error::MfaRequired(c)) => super::login_mfa::ask(app, req, "/login/mfa", &c, ""),
        Err(e) => {
            let layout = Layout::new(app, req, "Accept the invitation").failed(e)?;
            // Which form to show again is only presentation: core decides on the next POST.
            let existing = f.text("existing") == "1";
            let page =
                ActivatePage { layout, token: f.text("token").to_owned(), name: f.text("name").to_owned(), existing };
            render(app, &page)
        }
    }
}

/// What a one-button link page says, and the core operation its button runs.
pub struct Link {
    pub action: &'static str,
    pub title: &'static str,
    pub ask: &'static str,
    pub button: &'static str,
    pub done: &'static str,
    run: fn(&App, &Origin, &str) -> Result<(), Error>,
    /// The operation ends every session, the browser's too.
    signs_out: bool,
}

static VERIFY: Link = Link {
    action: "/verify-email",
    title: "Verify your email address",
    ask: "Confirm that this address is yours.",
    button: "Verify my address",
    done: "Your email address is verified.",
    run: email::verify_email,
    signs_out: false,
};

static CONFIRM: Link = Link {
    action: "/confirm-email",
    title: "Confirm your new email address",
    ask: "Make this address the one of your account. Every session of the account ends, this one too.",
    button: "Change my address",
    done: "Your email address is changed. Sign in again with the new one.",
    run: email::confirm_email_change,
    signs_out: true,
};

fn confirm_form(app: &App, req: &Req, link: &'static Link) -> Result<Response, Error> {
    let token = query_token(req);
    render(app, &ConfirmPage { layout: link_layout(app, req, link.title, &token)?, link, token, done: false })
}

fn confirm_post(app: &App, req: &Req, link: &'static Link) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let token = f.text("token").to_owned();
    match (link.run)(app, &req.origin(), &token) {
        Ok(()) => {
            let page =
                ConfirmPage { layout: Layout::new(app, req, link.title), link, token: String::new(), done: true };
            let response = render(app, &page)?;
            Ok(if link.signs_out { response.with_cookie(cookies::clear(app, Cookie::Portal)) } else { response })
        }
        Err(e) => {
            render(app, &ConfirmPage { layout: Layout::new(app, req, link.title).failed(e)?, link, token, done: false })
        }
    }
}

pub fn verify_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    confirm_form(app, req, &VERIFY)
}

pub fn verify(app: &App, req: &mut Req) -> Result<Response, Error> {
    confirm_post(app, req, &VERIFY)
}

pub fn confirm_email_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    confirm_form(app, req, &CONFIRM)
}

pub fn confirm_email(app: &App, req: &mut Req) -> Result<Response, Error> {
    confirm_post(app, req, &CONFIRM)
}
