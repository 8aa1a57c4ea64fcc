//! `/v1/admin/tenants*`: operators run tenants. Creating one (with its owner's
//! invitation) and inviting members arrive with the members code.
use serde::Deserialize;
use serde_json::json;

use super::json::{List, Tenant, User};
use crate::app::App;
use crate::core::admin_tenants::{self, Lifecycle, TenantPatch};
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
