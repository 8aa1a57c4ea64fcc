//! The operator realm's pages: `/admin/login`, `/admin/logout` and the dashboard
//! `/admin` (counts, daily charts, the latest audit events). Its session cookie is
//! `ks_admin`, which no portal page accepts.
use askama::Template;

use super::admin_oversight::EventLine;
use super::chart::{self, Chart};
use super::session::{LoginPage, done};
use super::{AdminVisit, Layout, admin_visit, enter, optional, page, render};
use crate::app::App;
use crate::core::oversight::{self, Activity};
use crate::core::principal::Staff;
use crate::core::{audit, operators};
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials, cookies};
use crate::store::activity::Metric;
use crate::store::audit::AuditFilter;
use crate::store::page::Page;
use crate::store::stats::Stats;

/// Audit events the dashboard shows; the rest are a click away on `/admin/audit`.
pub(super) const RECENT_EVENTS: usize = 10;

/// One chart of a dashboard.
pub struct ChartLine {
    pub title: &'static str,
    pub total: i64,
    pub today: i64,
    pub svg: Chart,
}

fn title(m: Metric) -> &'static str {
    match m {
        Metric::Signups => "Sign-ups",
        Metric::LoginsSucceeded => "Logins succeeded",
        Metric::LoginsFailed => "Logins failed",
        Metric::VerificationsValid => "Verifications accepted",
        Metric::VerificationsInvalid => "Verifications refused",
        Metric::MailFailed => "Mail deliveries failed",
    }
}

/// The charts of `activity`; `scope` keeps their element ids apart from another page's.
pub(super) fn charts(scope: &str, activity: &Activity) -> Vec<ChartLine> {
    activity
        .series
        .iter()
        .map(|(m, days)| ChartLine {
            title: title(*m),
            total: days.iter().map(|d| d.1).sum(),
            today: days.last().map_or(0, |d| d.1),
            svg: chart::bars(&format!("{scope}-{}", m.as_str()), title(*m), days),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "web/admin_home.html")]
pub struct AdminHomePage {
    layout: Layout,
    name: String,
    email: String,
    stats: Stats,
    mail_failing: i64,
    charts: Vec<ChartLine>,
    events: Vec<EventLine>,
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
    let AdminVisit { admin, who, layout } = admin_visit(app, req, "Operations")?;
    let who = Staff::Operator(who);
    let stats = oversight::stats(app, &who)?;
    let activity = oversight::activity(app, &who, None)?;
    let recent = Page { limit: RECENT_EVENTS, after: None };
    let (events, _) = audit::list_events(app, &who, &AuditFilter::default(), &recent)?;
    render(
        app,
        &AdminHomePage {
            layout,
            name: admin.name,
            email: admin.email.as_str().to_owned(),
            stats,
            mail_failing: activity.mail_failing,
            charts: charts("all", &activity),
            events: events.iter().map(EventLine::of).collect(),
        },
    )
}
