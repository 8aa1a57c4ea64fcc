//! `POST /v1/tenants`: a signed-in person starts another tenant.
use serde::Deserialize;
use serde_json::json;

use super::json::{ApiKey, Tenant, User};
use crate::app::App;
use crate::core::tenants;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

#[derive(Deserialize)]
struct CreateBody {
    tenant_name: String,
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: CreateBody = body::json(req)?;
    let (founded, member) = tenants::create_tenant(app, &who, &b.tenant_name)?;
    Ok(Response::json(
        201,
        &json!({ "tenant": Tenant::of(&founded.tenant), "user": User::of(&member), "api_key": ApiKey::created(&founded.key) }),
    ))
}
