//! `/v1/me`, `/v1/me/password`, `/v1/me/invitations` and `GET /v1/tenant`: the caller's own
//! account and tenant.
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::json::{self, Tenant, User};
use crate::app::App;
use crate::core::{account, members};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

/// The body of `GET /v1/me`, serialized straight from the profile (a hot path: no
/// intermediate `serde_json::Value`).
#[derive(Serialize)]
struct Me<'a> {
    user: User<'a>,
    tenant: Tenant<'a>,
    memberships: Vec<json::Membership<'a>>,
    /// The caller's own setting (not in `user`, which is also what a tenant sees of it).
    new_device_notices: bool,
}

pub fn get(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    let p = account::profile(app, &who)?;
    // The body is a function of the cached profile alone: rendered once per profile.
    if let Some(body) = p.rendered.get() {
        return Ok(Response::json_bytes(200, body.clone()));
    }
    let me = Me {
        user: User::of(&p.member),
        tenant: Tenant::of(&p.tenant),
        memberships: json::memberships(&p.memberships),
        new_device_notices: p.member.account.new_device_notices,
    };
    let body = serde_json::to_vec(&me).map_err(Error::internal)?;
    let _ = p.rendered.set(body.clone());
    Ok(Response::json_bytes(200, body))
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    new_device_notices: Option<bool>,
}

pub fn patch(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: PatchBody = body::json(req)?;
    let change = account::ProfileChange { name: b.name.as_deref(), new_device_notices: b.new_device_notices };
    let member = account::update_profile(app, &who, change)?;
    let on = member.account.new_device_notices;
    Ok(Response::json(200, &json!({ "user": User::of(&member), "new_device_notices": on })))
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: Secret,
    new_password: Secret,
}

pub fn change_password(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: PasswordBody = body::json(req)?;
    account::change_password(app, &who, &b.current_password, &b.new_password)?;
    Ok(Response::no_content())
}

/// `POST /v1/me/invitations/{tenant_id}/accept`: `{user, tenant}` of the tenant joined.
pub fn accept_invitation(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let (member, tenant) = members::accept_invitation(app, &who, req.param("tenant_id").parse()?)?;
    Ok(Response::json(200, &json!({ "user": User::of(&member), "tenant": Tenant::of(&tenant) })))
}

pub fn tenant(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let p = account::profile(app, &who)?;
    Ok(Response::json(200, &json!({ "tenant": Tenant::of(&p.tenant) })))
}
