//! `/admin/admins`: operators list operators (keyset pages), create one (email, name,
//! password) and disable one with a reason, as `/v1/admin/admins*` does. The last active
//! operator can never be disabled (409 last_admin).
use askama::Template;

use super::listing::{When, maybe, next_link, when};
use super::{AdminVisit, Layout, admin_visit, page, render};
use crate::app::App;
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::Staff;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::types::{AdminId, AdminStatus, Reason};

pub struct AdminLine {
    pub id: String,
    pub email: String,
    pub name: String,
    pub status: &'static str,
    pub active: bool,
    pub me: bool,
    pub created_at: When,
    pub last_login_at: When,
}

#[derive(Template)]
#[template(path = "web/admin_admins.html")]
pub struct AdminsPage {
    layout: Layout,
    admins: Vec<AdminLine>,
    next: Option<String>,
    /// The creation form's fields, kept when it comes back with an error.
    email: String,
    name: String,
}

page!(AdminsPage);

fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "created" => Some("The operator is created."),
        "disabled" => Some("The operator is disabled and its sessions are revoked."),
        _ => None,
    }
}

fn admins_page(
    app: &App,
    req: &Req,
    who: &Staff,
    me: AdminId,
    layout: Layout,
    email: String,
    name: String,
) -> Result<Response, Error> {
    let paging = body::page(req)?;
    let (rows, next) = operators::list_admins(app, who, &paging)?;
    let admins = rows
        .iter()
        .map(|a| AdminLine {
            id: a.id.to_string(),
            email: a.email.as_str().to_owned(),
            name: a.name.clone(),
            status: a.status.as_str(),
            active: a.status == AdminStatus::Active,
            me: a.id == me,
            created_at: when(a.created_at),
            last_login_at: maybe(a.last_login_at, "–"),
        })
        .collect();
    render(app, &AdminsPage { layout, admins, next: next_link("/admin/admins", &paging, next, &[]), email, name })
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, admin } = admin_visit(app, req, "Operators")?;
    let layout = layout.notice(done(req));
    admins_page(app, req, &Staff::Operator(who), admin.id, layout, String::new(), String::new())
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, admin } = admin_visit(app, req, "Operators")?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    let input = NewAdmin {
        email: f.text("email").to_owned(),
        name: f.optional("name").map(str::to_owned),
        password: f.secret("password"),
    };
    match operators::create_admin(app, who.actor(), who.origin(), input) {
        Ok(_) => Ok(Response::redirect("/admin/admins?done=created")),
        Err(e) => {
            let (email, name) = (f.text("email").to_owned(), f.text("name").to_owned());
            admins_page(app, req, &who, admin.id, layout.failed(e)?, email, name)
        }
    }
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, admin } = admin_visit(app, req, "Operators")?;
    let id: AdminId = req.param("id").parse()?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    let disabled =
        Reason::parse(Some(f.text("reason"))).and_then(|reason| operators::disable_admin(app, &who, id, &reason));
    match disabled {
        Ok(_) => Ok(Response::redirect("/admin/admins?done=disabled")),
        Err(e) => admins_page(app, req, &who, admin.id, layout.failed(e)?, String::new(), String::new()),
    }
}
