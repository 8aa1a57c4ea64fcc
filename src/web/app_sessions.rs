//! `/app/sessions`: the account's live sessions (in every tenant), the current one marked;
//! revoke one, or all but the current one.
use askama::Template;

use super::listing::{When, next_link, when};
use super::{Layout, page, portal_visit, render};
use crate::app::App;
use crate::core::sessions;
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::{Req, Response, body, cookies};
use crate::types::SessionId;

#[derive(Template)]
#[template(path = "web/sessions.html")]
pub struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionLine>,
    next: Option<String>,
}

struct SessionLine {
    id: String,
    tenant: String,
    created_at: When,
    last_seen_at: When,
    expires_at: When,
    ip: String,
    user_agent: String,
    current: bool,
}

page!(SessionsPage);

/// The confirmation after a redirect here; fixed texts.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "revoked" => Some("The session is revoked."),
        "others-revoked" => Some("Every other session is revoked."),
        _ => None,
    }
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Sessions")?;
    let page = body::page(req)?;
    let (rows, next) = sessions::list_own(app, &v.who, &page)?;
    let tenant_name = |id| {
        v.profile.memberships.iter().find(|(_, t)| t.id == id).map_or_else(|| id.to_string(), |(_, t)| t.name.clone())
    };
    let lines = rows
        .iter()
        .map(|s| SessionLine {
            id: s.id.to_string(),
            tenant: tenant_name(s.tenant_id),
            created_at: when(s.created_at),
            last_seen_at: when(s.last_seen_at),
            expires_at: when(s.expires_at),
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
            current: s.id == v.who.session_id,
        })
        .collect();
    let layout = v.layout.notice(done(req));
    render(app, &SessionsPage { layout, sessions: lines, next: next_link("/app/sessions", &page, next, &[]) })
}

pub fn revoke(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Sessions")?;
    let id: SessionId = req.param("id").parse()?;
    sessions::revoke_own(app, &v.who, id)?;
    if id == v.who.session_id {
        // This browser's own session: it is signed out.
        return Ok(Response::redirect("/login?done=signed-out").with_cookie(cookies::clear(app, Cookie::Portal)));
    }
    Ok(Response::redirect("/app/sessions?done=revoked"))
}

pub fn revoke_others(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Sessions")?;
    sessions::revoke_others(app, &v.who)?;
    Ok(Response::redirect("/app/sessions?done=others-revoked"))
}
