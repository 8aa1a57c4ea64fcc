//! `/app/settings`: the account's name, password and email (any member), and the tenant's
//! name and provider key (owners; the core enforces it). The provider key is never shown:
//! only whether one is set and its last four characters.
use askama::Template;

use super::{Layout, PortalVisit, page, portal_visit, render};
use crate::app::App;
use crate::core::principal::PortalUser;
use crate::core::tenants::{self, TenantChanges};
use crate::core::{Profile, account, email};
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response};

#[derive(Template)]
#[template(path = "web/settings.html")]
pub struct SettingsPage {
    layout: Layout,
    name: String,
    email: String,
    email_verified: bool,
    tenant: String,
    owner: bool,
    provider_key_hint: Option<String>,
    has_provider_key: bool,
    /// The email-change form's address when it comes back with an error.
    new_email: String,
}

page!(SettingsPage);

const PATH: &str = "/app/settings";

/// The confirmation after a redirect here; fixed texts.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "name" => Some("Your name is saved."),
        "tenant" => Some("The tenant's name is saved."),
        "provider-key" => Some("The provider key is saved."),
        "provider-key-cleared" => Some("The provider key is removed."),
        "password" => Some("Your password is changed; your other sessions are signed out."),
        "email" => Some("A confirmation link is on its way to the new address."),
        "verification" => Some("A new verification email is on its way."),
        _ => None,
    }
}

fn settings_page(who: &PortalUser, p: &Profile, layout: Layout) -> SettingsPage {
    SettingsPage {
        layout,
        name: p.member.account.name.clone(),
        email: p.member.account.email.as_str().to_owned(),
        email_verified: p.member.account.email_verified_at.is_some(),
        tenant: p.tenant.name.clone(),
        owner: who.role.at_least(tenants::CHANGE_TENANT),
        provider_key_hint: p.tenant.provider_key_hint.clone(),
        has_provider_key: p.tenant.has_provider_key,
        new_email: String::new(),
    }
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    let PortalVisit { who, profile, layout } = portal_visit(app, req, "Settings")?;
    render(app, &settings_page(&who, &profile, layout.notice(done(req))))
}

/// Runs a form's core call: on success to `?done=…`, else the page again with the error.
fn submit(
    app: &App,
    req: &mut Req,
    done: &str,
    act: impl FnOnce(&PortalUser, &Form) -> Result<(), Error>,
) -> Result<Response, Error> {
    let PortalVisit { who, profile, layout } = portal_visit(app, req, "Settings")?;
    let f = Form::parse(req)?;
    match act(&who, &f) {
        Ok(()) => Ok(Response::redirect(&format!("{PATH}?done={done}"))),
        Err(e) => {
            let mut page = settings_page(&who, &profile, layout.failed(e)?);
            page.new_email = f.text("new_email").to_owned();
            render(app, &page)
        }
    }
}

pub fn name(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "name", |who, f| {
        let change = account::ProfileChange { name: Some(f.text("name")), ..Default::default() };
        account::update_profile(app, who, change).map(|_| ())
    })
}

pub fn tenant(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "tenant", |who, f| {
        let changes = TenantChanges { name: Some(f.text("name").to_owned()), provider_key: None, require_mfa: None };
        tenants::update_tenant(app, who, changes).map(|_| ())
    })
}

pub fn provider_key(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "provider-key", |who, f| {
        let changes =
            TenantChanges { name: None, provider_key: Some(Some(f.secret("provider_key"))), require_mfa: None };
        tenants::update_tenant(app, who, changes).map(|_| ())
    })
}

pub fn clear_provider_key(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "provider-key-cleared", |who, _| {
        tenants::update_tenant(app, who, TenantChanges { name: None, provider_key: Some(None), require_mfa: None })
            .map(|_| ())
    })
}

pub fn password(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "password", |who, f| {
        account::change_password(app, who, &f.secret("current_password"), &f.secret("new_password"))
    })
}

pub fn change_email(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "email", |who, f| {
        email::request_email_change(app, who, f.text("new_email"), &f.secret("password"))
    })
}

pub fn resend_verification(app: &App, req: &mut Req) -> Result<Response, Error> {
    submit(app, req, "verification", |who, _| email::resend_verification(app, who))
}
