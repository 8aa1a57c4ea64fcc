//! `/app/team`: the tenant's members (owners and admins), inviting, changing roles
//! (owners), removing, and resending invitations. Without SMTP an invitation's link is
//! shown on the response page, exactly when the API's `invite_email.sent` is false.
use askama::Template;

use super::listing::{When, maybe, next_link, when};
use super::{Layout, PortalVisit, page, portal_visit, render};
use crate::app::App;
use crate::core::members::{self, Invite, Invited, MemberActions};
use crate::core::principal::PortalUser;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::store::page::Page;
use crate::types::Role;

#[derive(Template)]
#[template(path = "web/team.html")]
pub struct TeamPage {
    layout: Layout,
    /// False for plain members: the list is for owners and admins.
    allowed: bool,
    members: Vec<MemberLine>,
    next: Option<String>,
    /// The invitation just made or resent.
    invited: Option<InviteShown>,
    /// The invite form's values when it comes back with an error.
    email: String,
    name: String,
    role: String,
}

struct MemberLine {
    id: String,
    email: String,
    name: String,
    role: &'static str,
    status: &'static str,
    verified: bool,
    joined: When,
    last_login: When,
    you: bool,
    /// What core allows the visitor to do to this member.
    can: MemberActions,
}

struct InviteShown {
    email: String,
    /// The activation link when no mail could carry it (no SMTP server configured).
    activation_url: Option<String>,
}

page!(TeamPage);

const ROLES: [&str; 3] = ["member", "admin", "owner"];

fn team_page(app: &App, who: &PortalUser, layout: Layout, page: &Page) -> Result<TeamPage, Error> {
    let listed = members::list_members(app, &who.in_tenant(), None, page);
    let (rows, next, allowed) = match listed {
        Ok((rows, next)) => (rows, next, true),
        Err(Error::Forbidden) => (Vec::new(), None, false),
        Err(e) => return Err(e),
    };
    let members = rows
        .iter()
        .map(|m| (m, m.seen()))
        .map(|(m, seen)| MemberLine {
            id: m.account.id.to_string(),
            email: m.account.email.as_str().to_owned(),
            name: seen.name.unwrap_or_default().to_owned(),
            role: m.membership.role.as_str(),
            status: m.status(),
            verified: seen.email_verified == Some(true),
            joined: when(m.membership.created_at),
            last_login: maybe(seen.last_login_at, "never"),
            you: m.account.id == who.user_id,
            can: members::actions(&who.in_tenant(), m),
        })
        .collect();
    Ok(TeamPage {
        layout,
        allowed,
        members,
        next: next_link("/app/team", page, next, &[]),
        invited: None,
        email: String::new(),
        name: String::new(),
        role: "member".to_owned(),
    })
}

/// The confirmation after a redirect here; fixed texts.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "role" => Some("The role is changed."),
        "removed" => Some("The member is removed."),
        _ => None,
    }
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Team")?;
    let layout = v.layout.notice(done(req));
    let page = team_page(app, &v.who, layout, &body::page(req)?)?;
    render(app, &page)
}

fn role(raw: &str) -> Result<Role, Error> {
    raw.parse().map_err(|e: Error| Error::field("role", e.message()))
}

/// The page after an invitation (new or resent): 201/202 with what became of its email.
fn invited(app: &App, v: PortalVisit, out: &Invited, status: u16) -> Result<Response, Error> {
    let layout = v.layout.status(status);
    let mut page = team_page(app, &v.who, layout, &Page::default())?;
    let activation_url = out.activation_url.as_ref().map(|l| l.expose().to_owned());
    page.invited = Some(InviteShown { email: out.member.account.email.as_str().to_owned(), activation_url });
    // The page may hold an activation link: no cache keeps it.
    Ok(render(app, &page)?.with_header("Cache-Control", "no-store"))
}

/// The team page again, with the error of its form (or the error page).
fn failed(app: &App, v: PortalVisit, e: Error, f: Option<&Form>) -> Result<Response, Error> {
    let layout = v.layout.failed(e)?;
    let mut page = team_page(app, &v.who, layout, &Page::default())?;
    if let Some(f) = f {
        page.email = f.text("email").to_owned();
        page.name = f.text("name").to_owned();
        page.role = f.text("role").to_owned();
    }
    render(app, &page)
}

pub fn invite(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Team")?;
    let f = Form::parse(req)?;
    let out = role(f.text("role")).and_then(|role| {
        let input = Invite { email: f.text("email").to_owned(), role, name: f.optional("name").map(str::to_owned) };
        members::invite_member(app, &v.who.in_tenant(), input)
    });
    match out {
        Ok(out) => invited(app, v, &out, 201),
        Err(e) => failed(app, v, e, Some(&f)),
    }
}

pub fn resend(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Team")?;
    match members::resend_invite(app, &v.who.in_tenant(), req.param("id").parse()?) {
        Ok(out) => invited(app, v, &out, 202),
        Err(e) => failed(app, v, e, None),
    }
}

pub fn change_role(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Team")?;
    let f = Form::parse(req)?;
    let id = req.param("id").parse()?;
    match role(f.text("role")).and_then(|r| members::change_role(app, &v.who.in_tenant(), id, r)) {
        Ok(_) => Ok(Response::redirect("/app/team?done=role")),
        Err(e) => failed(app, v, e, None),
    }
}

pub fn remove(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Team")?;
    match members::remove_member(app, &v.who.in_tenant(), req.param("id").parse()?) {
        Ok(()) => Ok(Response::redirect("/app/team?done=removed")),
        Err(e) => failed(app, v, e, None),
    }
}

impl TeamPage {
    fn roles(&self) -> &'static [&'static str] {
        &ROLES
    }
}
