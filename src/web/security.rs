//! `/app/security` and `/admin/security`: one's own second factors on the pages of either
//! realm (the path says which), through the same core operations as `/v1/me/mfa…`. A
//! policy never closes these pages (they are where a policy sends people). Passkeys are
//! registered in two posts, as through the API: name and password open the ceremony, and
//! the browser's answer (`assets/passkeys.js` fills it in) closes it.
use askama::Template;

use super::listing::{When, maybe, when};
use super::{Layout, page, portal_visit, portal_visit_enrolling, render};
use crate::app::App;
use crate::core::account::{self, ProfileChange};
use crate::core::mfa::{self, Holder, passkeys, recovery, totp};
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
    passkeys: Vec<PasskeyLine>,
    left: i64,
    required: bool,
    pending: Option<PendingView>,
    ceremony: Option<CeremonyView>,
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

struct PasskeyLine {
    id: String,
    name: String,
    added: When,
    last_used: When,
}

/// A passkey registration the browser is to answer.
struct CeremonyView {
    id: String,
    name: String,
    /// The creation options, as JSON, for `navigator.credentials.create()`.
    options: String,
}

page!(SecurityPage);

/// What the last post produced, shown once with the page.
#[derive(Default)]
struct Outcome {
    pending: Option<totp::Pending>,
    ceremony: Option<CeremonyView>,
    codes: Option<Vec<Secret>>,
    failure: Option<Error>,
}

impl Outcome {
    fn failed(e: Error) -> Self {
        Outcome { failure: Some(e), ..Outcome::default() }
    }

    fn codes(codes: Option<Vec<Secret>>) -> Self {
        Outcome { codes, ..Outcome::default() }
    }
}

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

/// The page, with what the last post produced.
fn show_with(app: &App, req: &Req, outcome: Outcome) -> Result<Response, Error> {
    let (who, layout) = visit(app, req)?;
    let status = mfa::status(app, &who.holder())?;
    let new_device_notices = match who {
        Visitor::Portal(_, on) => Some(on),
        Visitor::Operator(_) => None,
    };
    let layout = match outcome.failure {
        Some(e) => layout.failed(e)?,
        None => layout,
    };
    let layout = if outcome.ceremony.is_some() { layout.script("passkeys.js") } else { layout };
    let pending = outcome.pending.map(|p| PendingView {
        secret: p.secret.expose().to_owned(),
        qr_svg: p.qr_svg.find("<svg").map_or(String::new(), |at| p.qr_svg[at..].to_owned()),
    });
    let codes = outcome.codes.unwrap_or_default().iter().map(|c| c.expose().to_owned()).collect();
    render(
        app,
        &SecurityPage {
            layout,
            base: base(req),
            totp: status.totp,
            passkeys: status
                .passkeys
                .into_iter()
                .map(|p| PasskeyLine {
                    id: p.id.to_string(),
                    name: p.name,
                    added: when(p.created_at),
                    last_used: maybe(p.last_used_at, "never"),
                })
                .collect(),
            left: status.recovery_codes_left,
            required: status.required,
            pending,
            ceremony: outcome.ceremony,
            codes,
            new_device_notices,
        },
    )
}

/// Runs a form's core call as the visitor; the page again with its outcome, or (`done`)
/// back to the page.
fn post(
    app: &App,
    req: &mut Req,
    call: impl FnOnce(&Holder<'_>, &Form) -> Result<Option<Outcome>, Error>,
) -> Result<Response, Error> {
    let (who, _) = visit(app, req)?;
    let f = Form::parse(req)?;
    match call(&who.holder(), &f) {
        Ok(Some(outcome)) => show_with(app, req, outcome),
        Ok(None) => Ok(Response::redirect(base(req))),
        Err(e) => show_with(app, req, Outcome::failed(e)),
    }
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    show_with(app, req, Outcome::default())
}

pub fn start(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| {
        let pending = totp::start(app, holder, &f.secret("password"))?;
        Ok(Some(Outcome { pending: Some(pending), ..Outcome::default() }))
    })
}

pub fn confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| Ok(Some(Outcome::codes(totp::confirm(app, holder, f.text("code"))?))))
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| totp::disable(app, holder, &f.secret("password"), f.text("code")).map(|()| None))
}

pub fn regenerate(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| {
        Ok(Some(Outcome::codes(Some(recovery::regenerate(app, holder, &f.secret("password"), f.text("code"))?))))
    })
}

/// `POST …/passkeys`: name and password open a registration for the browser to answer.
pub fn passkey_start(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| {
        let name = passkeys::checked_name(f.text("name"))?.to_owned();
        let c = passkeys::start(app, holder, &f.secret("password"))?;
        let ceremony = CeremonyView { id: c.id.to_string(), name, options: c.options.to_string() };
        Ok(Some(Outcome { ceremony: Some(ceremony), ..Outcome::default() }))
    })
}

/// `POST …/passkeys/finish`: the browser's answer.
pub fn passkey_finish(app: &App, req: &mut Req) -> Result<Response, Error> {
    post(app, req, |holder, f| {
        let credential = serde_json::from_str(f.text("credential")).map_err(|_| Error::InvalidCredential)?;
        let added = passkeys::finish(app, holder, f.text("ceremony_id"), f.text("name"), &credential)?;
        Ok(Some(Outcome::codes(added.recovery_codes)))
    })
}

/// `POST …/passkeys/{id}/remove` with the password.
pub fn passkey_remove(app: &App, req: &mut Req) -> Result<Response, Error> {
    let id = req.param("id").to_owned();
    post(app, req, |holder, f| passkeys::remove(app, holder, &id, &f.secret("password")).map(|()| None))
}

/// `POST /app/security/notices`: the new-device notice on or off (`PATCH /v1/me`'s
/// `new_device_notices`). Behind the policy gate, as that route is.
pub fn notices(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Security")?;
    let f = Form::parse(req)?;
    let change = ProfileChange { new_device_notices: Some(f.optional("new_device_notices").is_some()), name: None };
    match account::update_profile(app, &v.who, change) {
        Ok(_) => Ok(Response::redirect("/app/security")),
        Err(e) => show_with(app, req, Outcome::failed(e)),
    }
}
