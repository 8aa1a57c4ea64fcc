//! The operator's tenant pages: `/admin/tenants` (search, status filter, keyset pages),
//! `/admin/tenants/new` (a tenant and its owner's invitation) and `/admin/tenants/{id}`
//! (details, members, changes, and the lifecycle with its required reason). Each calls the
//! core operation of the matching `/v1/admin/tenants*` route.
use askama::Template;

use super::admin::{ChartLine, RECENT_EVENTS, charts};
use super::admin_oversight::EventLine;
use super::listing::{When, maybe, next_link, options, when};
use super::{AdminVisit, Layout, admin_visit, page, render};
use crate::app::App;
use crate::core::admin_tenants::{self, Lifecycle, NewTenant, TenantPatch};
use crate::core::principal::Staff;
use crate::core::{audit, oversight};
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::store::audit::AuditFilter;
use crate::store::page::Page;
use crate::store::tenants::TenantRow;
use crate::types::{Reason, TenantId, TenantStatus};

const STATUSES: &[&str] = &["active", "suspended", "deleted"];

pub struct TenantLine {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: &'static str,
    pub plan: String,
    pub max_seats: String,
    pub provider_key: String,
    pub created_at: When,
}

impl TenantLine {
    fn of(t: &TenantRow) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            slug: t.slug.clone(),
            status: t.status.as_str(),
            plan: t.plan.clone(),
            max_seats: t.max_seats.map(|n| n.to_string()).unwrap_or_default(),
            provider_key: match (&t.provider_key_hint, t.has_provider_key) {
                (Some(hint), true) => format!("set (…{hint})"),
                (None, true) => "set".to_owned(),
                _ => "none".to_owned(),
            },
            created_at: when(t.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "web/admin_tenants.html")]
pub struct TenantsPage {
    layout: Layout,
    q: String,
    statuses: Vec<(&'static str, bool)>,
    tenants: Vec<TenantLine>,
    next: Option<String>,
}

pub struct MemberLine {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub status: &'static str,
    pub created_at: When,
    pub last_login_at: When,
}

#[derive(Template)]
#[template(path = "web/admin_tenant.html")]
pub struct TenantPage {
    layout: Layout,
    t: TenantLine,
    /// The lifecycle changes the tenant's status allows (core's `Lifecycle::next`).
    can_suspend: bool,
    can_delete: bool,
    can_restore: bool,
    users: i64,
    keys: i64,
    sessions: i64,
    members: Vec<MemberLine>,
    members_next: Option<String>,
    /// The tenant's own daily charts and latest events (the dashboard's, scoped).
    charts: Vec<ChartLine>,
    events: Vec<EventLine>,
}

#[derive(Template)]
#[template(path = "web/admin_tenant_new.html")]
pub struct NewTenantPage {
    layout: Layout,
    name: String,
    slug: String,
    owner_email: String,
    owner_name: String,
    plan: String,
    max_seats: String,
}

#[derive(Template)]
#[template(path = "web/admin_tenant_created.html")]
pub struct CreatedTenantPage {
    layout: Layout,
    id: String,
    name: String,
    owner_email: String,
    sent: bool,
    /// The owner's invitation link, shown once when no mail will carry it (no SMTP).
    activation_url: Option<String>,
}

page!(TenantsPage, TenantPage, NewTenantPage, CreatedTenantPage);

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Tenants")?;
    let status = body::filter::<TenantStatus>(req, "status")?;
    let q = body::text(req, "q")?;
    let paging = body::page(req)?;
    let (rows, next) = admin_tenants::list_tenants(app, &Staff::Operator(who), status, q.as_deref(), &paging)?;
    let q = q.unwrap_or_default();
    let status = status.map(TenantStatus::as_str).unwrap_or_default();
    let page = TenantsPage {
        layout,
        next: next_link("/admin/tenants", &paging, next, &[("q", &q), ("status", status)]),
        statuses: options(STATUSES, Some(status)),
        q,
        tenants: rows.iter().map(TenantLine::of).collect(),
    };
    render(app, &page)
}

/// `?done=` after a change: what the details page confirms.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "updated" => Some("The tenant is updated."),
        "suspended" => Some("The tenant is suspended and its sessions are revoked."),
        "deleted" => Some("The tenant is deleted and its sessions are revoked."),
        "restored" => Some("The tenant is restored."),
        "sessions-revoked" => Some("Every session in this tenant is revoked."),
        _ => None,
    }
}

/// The details page of tenant `id` with `layout` (a notice, or the error a form came back with).
fn details(app: &App, req: &Req, who: &Staff, id: TenantId, mut layout: Layout) -> Result<Response, Error> {
    let o = admin_tenants::get_tenant(app, who, id)?;
    let paging = body::page(req)?;
    let (members, next) = admin_tenants::list_tenant_members(app, who, id, &paging)?;
    let activity = oversight::activity(app, who, Some(id))?;
    let recent = Page { limit: RECENT_EVENTS, after: None };
    let filter = AuditFilter { tenant_id: Some(id.to_string()), ..AuditFilter::default() };
    let (events, _) = audit::list_events(app, who, &filter, &recent)?;
    layout.title = format!("Tenant {}", o.tenant.name);
    let status = o.tenant.status;
    let page = TenantPage {
        layout,
        t: TenantLine::of(&o.tenant),
        can_suspend: Lifecycle::Suspend.next(status).is_some(),
        can_delete: Lifecycle::Delete.next(status).is_some(),
        can_restore: Lifecycle::Restore.next(status).is_some(),
        users: o.counts.users,
        keys: o.counts.keys,
        sessions: o.counts.sessions,
        members: members
            .iter()
            .map(|m| MemberLine {
                id: m.account.id.to_string(),
                email: m.account.email.as_str().to_owned(),
                name: m.account.name.clone(),
                role: m.membership.role.as_str(),
                status: m.status(),
                created_at: when(m.membership.created_at),
                last_login_at: maybe(m.account.last_login_at, "–"),
            })
            .collect(),
        members_next: next_link(&format!("/admin/tenants/{id}"), &paging, next, &[]),
        charts: charts("tenant", &activity),
        events: events.iter().map(EventLine::of).collect(),
    };
    render(app, &page)
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Tenant")?;
    let id = req.param("id").parse()?;
    details(app, req, &Staff::Operator(who), id, layout.notice(done(req)))
}

/// A form of the details page: on success back to it with `?done=`, else the page again
/// with the error (a blank reason is 400, a change its status does not allow is 409).
fn act(
    app: &App,
    req: &mut Req,
    op: impl FnOnce(&Staff, TenantId, &Form) -> Result<&'static str, Error>,
) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Tenant")?;
    let id: TenantId = req.param("id").parse()?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    match op(&who, id, &f) {
        Ok(done) => Ok(Response::redirect(&format!("/admin/tenants/{id}?done={done}"))),
        Err(e) => details(app, req, &who, id, layout.failed(e)?),
    }
}

fn reason(f: &Form) -> Result<Reason, Error> {
    Reason::parse(Some(f.text("reason")))
}

fn lifecycle(app: &App, req: &mut Req, change: Lifecycle, done: &'static str) -> Result<Response, Error> {
    act(app, req, |who, id, f| admin_tenants::change_tenant(app, who, id, change, &reason(f)?).map(|_| done))
}

pub fn suspend(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Suspend, "suspended")
}

pub fn delete(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Delete, "deleted")
}

pub fn restore(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Restore, "restored")
}

pub fn revoke_sessions(app: &App, req: &mut Req) -> Result<Response, Error> {
    act(app, req, |who, id, f| {
        admin_tenants::revoke_tenant_sessions(app, who, id, &reason(f)?).map(|_| "sessions-revoked")
    })
}

/// `max_seats` of a form: empty is unlimited.
fn max_seats(f: &Form) -> Result<Option<i64>, Error> {
    f.optional("max_seats")
        .map(|v| v.trim().parse::<i64>().map_err(|_| Error::field("max_seats", "must be a whole number, or empty")))
        .transpose()
}

/// Name, plan and seats, as `PATCH /v1/admin/tenants/{id}`.
pub fn update(app: &App, req: &mut Req) -> Result<Response, Error> {
    act(app, req, |who, id, f| {
        let patch = TenantPatch {
            name: Some(f.text("name").to_owned()),
            plan: Some(f.text("plan").to_owned()),
            max_seats: Some(max_seats(f)?),
        };
        admin_tenants::update_tenant(app, who, id, patch).map(|_| "updated")
    })
}

pub fn new_form(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { layout, .. } = admin_visit(app, req, "New tenant")?;
    let page = NewTenantPage {
        layout,
        name: String::new(),
        slug: String::new(),
        owner_email: String::new(),
        owner_name: String::new(),
        plan: String::new(),
        max_seats: String::new(),
    };
    render(app, &page)
}

/// As `POST /v1/admin/tenants`: the tenant, and its owner invited (no API key is made).
pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "New tenant")?;
    let f = Form::parse(req)?;
    let created = max_seats(&f).and_then(|max_seats| {
        let input = NewTenant {
            name: f.text("name").to_owned(),
            slug: f.optional("slug").map(|s| s.trim().to_owned()),
            owner_email: f.text("owner_email").to_owned(),
            owner_name: f.optional("owner_name").map(str::to_owned),
            plan: f.optional("plan").map(str::to_owned),
            max_seats,
        };
        admin_tenants::create_tenant(app, &Staff::Operator(who), input)
    });
    match created {
        Ok(out) => {
            let mut layout = layout;
            layout.title = "Tenant created".to_owned();
            let page = CreatedTenantPage {
                layout: layout.status(201),
                id: out.tenant.id.to_string(),
                name: out.tenant.name.clone(),
                owner_email: out.owner.member.account.email.as_str().to_owned(),
                sent: out.owner.sent,
                activation_url: out.owner.activation_url.as_ref().map(|l| l.expose().to_owned()),
            };
            render(app, &page)
        }
        Err(e) => {
            let page = NewTenantPage {
                layout: layout.failed(e)?,
                name: f.text("name").to_owned(),
                slug: f.text("slug").to_owned(),
                owner_email: f.text("owner_email").to_owned(),
                owner_name: f.text("owner_name").to_owned(),
                plan: f.text("plan").to_owned(),
                max_seats: f.text("max_seats").to_owned(),
            };
            render(app, &page)
        }
    }
}
