//! `/app/apps`: the applications the person signed in to with Keystead — consents given
//! to clients that are not trusted, and live grants — each revocable.
use askama::Template;

use super::listing::{When, when};
use super::{Layout, page, portal_visit, render};
use crate::app::App;
use crate::core::oidc::apps;
use crate::error::Error;
use crate::http::{Req, Response};

#[derive(Template)]
#[template(path = "web/apps.html")]
pub struct AppsPage {
    layout: Layout,
    consents: Vec<ConsentItem>,
    grants: Vec<GrantItem>,
}

struct ConsentItem {
    client_id: String,
    client: String,
    scopes: String,
    granted_at: When,
}

struct GrantItem {
    id: String,
    client: String,
    tenant: String,
    scopes: String,
    created_at: When,
    last_used_at: When,
}

page!(AppsPage);

/// The confirmation after a redirect here; fixed texts.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "grant-revoked" => Some("The application's access is revoked."),
        "consent-revoked" => Some("The consent is taken back, and the application's access with it."),
        _ => None,
    }
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Apps")?;
    let found = apps::list(app, &v.who)?;
    let consents = found
        .consents
        .into_iter()
        .map(|c| ConsentItem {
            client_id: c.client_id.to_string(),
            client: c.client_name,
            scopes: apps::shown_scopes(&c.scope),
            granted_at: when(c.granted_at),
        })
        .collect();
    let grants = found
        .grants
        .into_iter()
        .map(|g| GrantItem {
            id: g.id.to_string(),
            client: g.client_name,
            tenant: g.tenant_name,
            scopes: apps::shown_scopes(&g.scope),
            created_at: when(g.created_at),
            last_used_at: when(g.last_used_at),
        })
        .collect();
    render(app, &AppsPage { layout: v.layout.notice(done(req)), consents, grants })
}

pub fn revoke_grant(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Apps")?;
    apps::revoke_grant(app, &v.who, req.param("id").parse()?)?;
    Ok(Response::redirect("/app/apps?done=grant-revoked"))
}

pub fn revoke_consent(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Apps")?;
    apps::revoke_consent(app, &v.who, req.param("client_id").parse()?)?;
    Ok(Response::redirect("/app/apps?done=consent-revoked"))
}
