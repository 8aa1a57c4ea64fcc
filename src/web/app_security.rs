//! `/app/security`: the account's second factor on the pages, through the same core
//! operations as `/v1/me/mfa…`. A policy never closes this page (it is where a policy
//! sends the member).
use askama::Template;

use super::{Layout, page, portal_visit_enrolling, render};
use crate::app::App;
use crate::core::mfa::{self, Holder, recovery, totp};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response};

#[derive(Template)]
#[template(path = "web/security.html")]
pub struct SecurityPage {
    layout: Layout,
    totp: bool,
    left: i64,
    required: bool,
    pending: Option<PendingView>,
    /// Recovery codes just issued, shown this once.
    codes: Vec<String>,
}

struct PendingView {
    secret: String,
    /// Drawn by the server from the otpauth URI: paths only, no text or script.
    qr_svg: String,
}

page!(SecurityPage);

/// The page, with what the last action produced and its error, if any.
fn show_with(
    app: &App,
    req: &Req,
    pending: Option<totp::Pending>,
    codes: Option<Vec<Secret>>,
    failure: Option<Error>,
) -> Result<Response, Error> {
    let v = portal_visit_enrolling(app, req, "Security")?;
    let status = mfa::status(app, &Holder::from(&v.who))?;
    let layout = match failure {
        Some(e) => v.layout.failed(e)?,
        None => v.layout,
    };
    let pending = pending.map(|p| PendingView {
        secret: p.secret.expose().to_owned(),
        qr_svg: p.qr_svg.find("<svg").map_or(String::new(), |at| p.qr_svg[at..].to_owned()),
    });
    let codes = codes.unwrap_or_default().iter().map(|c| c.expose().to_owned()).collect();
    render(
        app,
        &SecurityPage {
            layout,
            totp: status.totp,
            left: status.recovery_codes_left,
            required: status.required,
            pending,
            codes,
        },
    )
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    show_with(app, req, None, None, None)
}

pub fn start(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit_enrolling(app, req, "Security")?;
    let f = Form::parse(req)?;
    match totp::start(app, &Holder::from(&v.who), &f.secret("password")) {
        Ok(pending) => show_with(app, req, Some(pending), None, None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit_enrolling(app, req, "Security")?;
    let f = Form::parse(req)?;
    match totp::confirm(app, &Holder::from(&v.who), f.text("code")) {
        Ok(codes) => show_with(app, req, None, codes, None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit_enrolling(app, req, "Security")?;
    let f = Form::parse(req)?;
    match totp::disable(app, &Holder::from(&v.who), &f.secret("password"), f.text("code")) {
        Ok(()) => Ok(Response::redirect("/app/security")),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn regenerate(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit_enrolling(app, req, "Security")?;
    let f = Form::parse(req)?;
    match recovery::regenerate(app, &Holder::from(&v.who), &f.secret("password"), f.text("code")) {
        Ok(codes) => show_with(app, req, None, Some(codes), None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}
