//! The operator realm's pages: `/admin/login`, `/admin/logout` and the landing page
//! `/admin`. Its session cookie is `ks_admin`, which no portal page accepts.
use askama::Template;

use super::session::{LoginPage, done};
use super::{AdminVisit, Layout, admin_visit, enter, optional, page, render};
use crate::app::App;
use crate::core::operators;
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials, cookies};

#[derive(Template)]
#[template(path = "web/admin_home.html")]
pub struct AdminHomePage {
    layout: Layout,
    name: String,
    email: String,
}

page!(AdminHomePage);

fn login_page(layout: Layout, email: String) -> LoginPage {
    LoginPage { layout, action: "/admin/login", portal: false, email, next: String::new() }
}

pub fn login_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    let layout = Layout::new(app, req, "Operator sign in").notice(done(req));
    render(app, &login_page(layout, String::new()))
}

pub fn login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    match operators::admin_login(app, &req.origin(), f.text("email"), &f.secret("password")) {
        Ok(out) => Ok(enter(app, Cookie::Admin, &out.session.token, "/admin")),
        Err(Error::MfaRequired(c)) => super::login_mfa::ask(app, req, "/admin/login/mfa", &c, ""),
        Err(e) => {
            render(app, &login_page(Layout::new(app, req, "Operator sign in").failed(e)?, f.text("email").to_owned()))
        }
    }
}

pub fn logout(app: &App, req: &mut Req) -> Result<Response, Error> {
    if let Some(who) = optional(credentials::admin_cookie_enrolling(app, req))? {
        operators::admin_logout(app, &who)?;
    }
    Ok(Response::redirect("/admin/login?done=signed-out").with_cookie(cookies::clear(app, Cookie::Admin)))
}

pub fn home(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { admin, layout, .. } = admin_visit(app, req, "Operations")?;
    render(app, &AdminHomePage { layout, name: admin.name, email: admin.email.as_str().to_owned() })
}
