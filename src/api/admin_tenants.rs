//! `/v1/admin/tenants*`: operators run tenants: list, create (inviting its owner), look
//! at, change, the lifecycle, and the members (listed, invited).
use serde::Deserialize;
use serde_json::json;

use super::json::{self, List, Tenant, User};
use super::members::InviteBody;
use crate::app::App;
use crate::core::admin_tenants::{self, Lifecycle, NewTenant, TenantPatch};
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::TenantStatus;

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let status = body::filter::<TenantStatus>(req, "status")?;
    let q = body::text(req, "q")?;
    let (rows, next) = admin_tenants::list_tenants(app, &who, status, q.as_deref(), &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, Tenant::of)))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    slug: Option<String>,
    owner_email: String,
    owner_name: Option<String>,
    plan: Option<String>,
    max_seats: Option<i64>,
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let b: CreateBody = body::json(req)?;
    let input = NewTenant {
        name: b.name,
        slug: b.slug,
        owner_email: b.owner_email,
        owner_name: b.owner_name,
        plan: b.plan,
        max_seats: b.max_seats,
    };
    let out = admin_tenants::create_tenant(app, &who, input)?;
    Ok(Response::json(201, &json::created_tenant(&out)))
}

pub fn get(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let o = admin_tenants::get_tenant(app, &who, req.param("id").parse()?)?;
    let counts = json!({ "users": o.counts.users, "keys": o.counts.keys, "sessions": o.counts.sessions });
    Ok(Response::json(200, &json!({ "tenant": Tenant::of(&o.tenant), "counts": counts })))
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    plan: Option<String>,
    #[serde(default, deserialize_with = "body::nullable")]
    max_seats: Option<Option<i64>>,
}

pub fn patch(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let b: PatchBody = body::json(req)?;
    let patch = TenantPatch { name: b.name, plan: b.plan, max_seats: b.max_seats };
    let tenant = admin_tenants::update_tenant(app, &who, req.param("id").parse()?, patch)?;
    Ok(Response::json(200, &json!({ "tenant": Tenant::of(&tenant) })))
}

/// The three lifecycle routes differ only in the change they ask for.
fn lifecycle(app: &App, req: &Req, change: Lifecycle) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let tenant = admin_tenants::change_tenant(app, &who, id, change, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "tenant": Tenant::of(&tenant) })))
}

pub fn suspend(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Suspend)
}

pub fn delete(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Delete)
}

pub fn restore(app: &App, req: &mut Req) -> Result<Response, Error> {
    lifecycle(app, req, Lifecycle::Restore)
}

pub fn revoke_sessions(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let revoked = admin_tenants::revoke_tenant_sessions(app, &who, id, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "revoked": revoked })))
}

pub fn members(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let (members, next) = admin_tenants::list_tenant_members(app, &who, id, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&members, next, User::of)))
}

pub fn invite(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let input = body::json::<InviteBody>(req)?.try_into()?;
    let out = admin_tenants::invite_member(app, &who, id, input)?;
    Ok(Response::json(201, &json::invited(&out, true)))
}
