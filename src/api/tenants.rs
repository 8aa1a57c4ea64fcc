//! `POST /v1/tenants` (a signed-in person starts another tenant) and `PATCH /v1/tenant`.
use serde::Deserialize;
use serde_json::json;

use super::json::{ApiKey, Tenant, User};
use crate::app::App;
use crate::core::tenants::{self, TenantChanges};
use crate::crypto::secret::Secret;
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

#[derive(Deserialize)]
struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    // Absent leaves the key; null clears it; a string replaces it.
    #[serde(default, deserialize_with = "present")]
    provider_key: Option<Option<Secret>>,
    require_mfa: Option<bool>,
}

/// A field that is present, even as null, is `Some`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub fn patch(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: PatchBody = body::json(req)?;
    let name = b.name.map(|n| n.ok_or_else(|| Error::field("name", "must be a string, not null"))).transpose()?;
    let tenant = tenants::update_tenant(
        app,
        &who,
        TenantChanges { name, provider_key: b.provider_key, require_mfa: b.require_mfa },
    )?;
    Ok(Response::json(200, &json!({ "tenant": Tenant::of(&tenant) })))
}
