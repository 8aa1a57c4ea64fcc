//! `/app/security` and `/admin/security`: one's own second factor on the pages of either
//! realm (the path says which), through the same core operations as `/v1/me/mfa…`. A
//! policy never closes these pages (they are where a policy sends people).
use askama::Template;

use super::{Layout, page, portal_visit, portal_visit_enrolling, render};
use crate::app::App;
use crate::core::account::{self, ProfileChange};
use crate::core::mfa::{self, Holder, recovery, totp};
use crate::core::operators;
use crate::core::principal::{Operator, PortalUser};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::auth as credentials;
use crate::http::form::Form;
use crate::http::{Req, Response};

#[derive(Template)]
#[template(path = "web/security.html")]
pub struct SecurityPage {
    layout: Layout,
    /// `/app/security` or `/admin/security`: where the forms post.
    base: &'static str,
    totp: bool,
    left: i64,
    required: bool,
    pending: Option<PendingView>,
    /// Recovery codes just issued, shown this once.
    codes: Vec<String>,
    /// A portal account's new-device notice setting (operators have none: None).
    new_device_notices: Option<bool>,
}

struct PendingView {
    secret: String,
    /// Drawn by the server from the otpauth URI: paths only, no text or script.
    qr_svg: String,
}

page!(SecurityPage);

/// Whose page this is: a portal account's or an operator's.
enum Visitor {
    /// With its new-device notice setting.
    Portal(PortalUser, bool),
    Operator(Operator),
}

impl Visitor {
    fn holder(&self) -> Holder<'_> {
        match self {
            Visitor::Portal(who, _) => Holder::from(who),
            Visitor::Operator(who) => Holder::from(who),
        }
    }
}

fn base(req: &Req) -> &'static str {
    if req.path.starts_with("/admin/") { "/admin/security" } else { "/app/security" }
}

/// The visitor of the realm the path names, with its page layout.
fn visit(app: &App, req: &Req) -> Result<(Visitor, Layout), Error> {
    if base(req) == "/admin/security" {
        let who = credentials::admin_cookie_enrolling(app, req)?;
        let admin = operators::current_admin(app, &who)?;
        Ok((Visitor::Operator(who), Layout::new(app, req, "Security").operator(&admin)))
    } else {
        let v = portal_visit_enrolling(app, req, "Security")?;
        let notices = v.profile.member.account.new_device_notices;
        Ok((Visitor::Portal(v.who, notices), v.layout))
    }
}

/// The page, with what the last action produced and its error, if any.
fn show_with(
    app: &App,
    req: &Req,
    pending: Option<totp::Pending>,
    codes: Option<Vec<Secret>>,
    failure: Option<Error>,
) -> Result<Response, Error> {
    let (who, layout) = visit(app, req)?;
    let status = mfa::status(app, &who.holder())?;
    let new_device_notices = match who {
        Visitor::Portal(_, on) => Some(on),
        Visitor::Operator(_) => None,
    };
    let layout = match failure {
        Some(e) => layout.failed(e)?,
        None => layout,
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
            base: base(req),
            totp: status.totp,
            left: status.recovery_codes_left,
            required: status.required,
            pending,
            codes,
            new_device_notices,
        },
    )
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    show_with(app, req, None, None, None)
}

pub fn start(app: &App, req: &mut Req) -> Result<Response, Error> {
    let (who, _) = visit(app, req)?;
    let f = Form::parse(req)?;
    match totp::start(app, &who.holder(), &f.secret("password")) {
        Ok(pending) => show_with(app, req, Some(pending), None, None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    let (who, _) = visit(app, req)?;
    let f = Form::parse(req)?;
    match totp::confirm(app, &who.holder(), f.text("code")) {
        Ok(codes) => show_with(app, req, None, codes, None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let (who, _) = visit(app, req)?;
    let f = Form::parse(req)?;
    match totp::disable(app, &who.holder(), &f.secret("password"), f.text("code")) {
        Ok(()) => Ok(Response::redirect(base(req))),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

pub fn regenerate(app: &App, req: &mut Req) -> Result<Response, Error> {
    let (who, _) = visit(app, req)?;
    let f = Form::parse(req)?;
    match recovery::regenerate(app, &who.holder(), &f.secret("password"), f.text("code")) {
        Ok(codes) => show_with(app, req, None, Some(codes), None),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}

/// `POST /app/security/notices`: the new-device notice on or off (`PATCH /v1/me`'s
/// `new_device_notices`). Behind the policy gate, as that route is.
pub fn notices(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Security")?;
    let f = Form::parse(req)?;
    let change = ProfileChange { new_device_notices: Some(f.optional("new_device_notices").is_some()), name: None };
    match account::update_profile(app, &v.who, change) {
        Ok(_) => Ok(Response::redirect("/app/security")),
        Err(e) => show_with(app, req, None, None, Some(e)),
    }
}
