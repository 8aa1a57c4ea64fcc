//! The operator's account pages: `/admin/users` (search, status and tenant filters, keyset
//! pages) and `/admin/users/{id}` (the account, its memberships, and the lifecycle:
//! disable, enable, delete, restore, each with a required reason). Each calls the core
//! operation of the matching `/v1/admin/users*` route.
use askama::Template;

use super::listing::{When, maybe, next_link, options, when};
use super::{AdminVisit, Layout, admin_visit, page, render};
use crate::app::App;
use crate::core::admin_users::{self, AccountChange, AccountFilter, AccountView};
use crate::core::membership_state;
use crate::core::principal::Staff;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::types::{AccountStatus, Reason, TenantId, UserId};

const STATUSES: &[&str] = &["active", "disabled", "deleted"];

pub struct MembershipLine {
    pub tenant_id: String,
    pub tenant: String,
    pub role: &'static str,
    pub status: &'static str,
    pub created_at: When,
}

pub struct AccountLine {
    pub id: String,
    pub email: String,
    pub name: String,
    pub status: &'static str,
    pub email_verified: bool,
    pub created_at: When,
    pub last_login_at: When,
    pub memberships: Vec<MembershipLine>,
}

impl AccountLine {
    fn of(v: &AccountView) -> Self {
        let a = &v.account;
        Self {
            id: a.id.to_string(),
            email: a.email.as_str().to_owned(),
            name: a.name.clone(),
            status: a.status.as_str(),
            email_verified: a.email_verified_at.is_some(),
            created_at: when(a.created_at),
            last_login_at: maybe(a.last_login_at, "–"),
            memberships: v
                .memberships
                .iter()
                .map(|(m, t)| MembershipLine {
                    tenant_id: t.id.to_string(),
                    tenant: t.name.clone(),
                    role: m.role.as_str(),
                    status: membership_state(m, t),
                    created_at: when(m.created_at),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "web/admin_users.html")]
pub struct UsersPage {
    layout: Layout,
    q: String,
    tenant_id: String,
    statuses: Vec<(&'static str, bool)>,
    accounts: Vec<AccountLine>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "web/admin_user.html")]
pub struct UserPage {
    layout: Layout,
    a: AccountLine,
    /// The changes the account's status allows (core's `AccountChange::next`).
    can_disable: bool,
    can_enable: bool,
    can_delete: bool,
    can_restore: bool,
}

page!(UsersPage, UserPage);

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Users")?;
    let tenant = body::text(req, "tenant_id")?
        .map(|t| t.parse::<TenantId>().map_err(|_| Error::field("tenant_id", "is not a tenant id")))
        .transpose()?;
    let filter =
        AccountFilter { status: body::filter::<AccountStatus>(req, "status")?, q: body::text(req, "q")?, tenant };
    let paging = body::page(req)?;
    let (views, next) = admin_users::list_accounts(app, &Staff::Operator(who), &filter, &paging)?;
    let q = filter.q.unwrap_or_default();
    let tenant_id = tenant.map(|t| t.to_string()).unwrap_or_default();
    let status = filter.status.map(AccountStatus::as_str).unwrap_or_default();
    let page = UsersPage {
        layout,
        next: next_link("/admin/users", &paging, next, &[("q", &q), ("status", status), ("tenant_id", &tenant_id)]),
        statuses: options(STATUSES, Some(status)),
        q,
        tenant_id,
        accounts: views.iter().map(AccountLine::of).collect(),
    };
    render(app, &page)
}

fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "disabled" => Some("The account is disabled and its sessions are revoked."),
        "enabled" => Some("The account is enabled."),
        "deleted" => Some("The account is deleted and its sessions are revoked."),
        "restored" => Some("The account is restored."),
        _ => None,
    }
}

fn details(app: &App, who: &Staff, id: UserId, mut layout: Layout) -> Result<Response, Error> {
    let view = admin_users::get_account(app, who, id)?;
    layout.title = format!("Account {}", view.account.email.as_str());
    let status = view.account.status;
    let page = UserPage {
        layout,
        a: AccountLine::of(&view),
        can_disable: AccountChange::Disable.next(status).is_some(),
        can_enable: AccountChange::Enable.next(status).is_some(),
        can_delete: AccountChange::Delete.next(status).is_some(),
        can_restore: AccountChange::Restore.next(status).is_some(),
    };
    render(app, &page)
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Account")?;
    let id = req.param("id").parse()?;
    details(app, &Staff::Operator(who), id, layout.notice(done(req)))
}

/// A lifecycle form: on success back to the account with `?done=`, else its page again
/// with the error (400 reason_required, 409 invalid_transition / last_owner).
fn change(app: &App, req: &mut Req, change: AccountChange, done: &'static str) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Account")?;
    let id: UserId = req.param("id").parse()?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    let changed = Reason::parse(Some(f.text("reason")))
        .and_then(|reason| admin_users::change_account(app, &who, id, change, &reason));
    match changed {
        Ok(_) => Ok(Response::redirect(&format!("/admin/users/{id}?done={done}"))),
        Err(e) => details(app, &who, id, layout.failed(e)?),
    }
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Disable, "disabled")
}

pub fn enable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Enable, "enabled")
}

pub fn delete(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Delete, "deleted")
}

pub fn restore(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Restore, "restored")
}
