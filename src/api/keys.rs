//! `/v1/keys`: the tenant's API keys.
use serde::Deserialize;

use super::json::{ApiKey, List};
use crate::app::App;
use crate::core::keys::{self, NewKey};
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::{KeyStatus, Timestamp};

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let status = body::filter::<KeyStatus>(req, "status")?;
    let (rows, next_cursor) = keys::list_keys(app, &who, status, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next_cursor, ApiKey::of)))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    scopes: Option<Vec<String>>,
    expires_at: Option<String>,
    meta: Option<serde_json::Map<String, serde_json::Value>>,
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: CreateBody = body::json(req)?;
    let input = NewKey {
        name: b.name,
        scopes: b.scopes.unwrap_or_default(),
        expires_at: b.expires_at.map(|t| Timestamp::parse("expires_at", &t)).transpose()?,
        meta: b.meta,
    };
    let created = keys::create_key(app, &who, input)?;
    Ok(Response::json(201, &ApiKey::created(&created)))
}

pub fn revoke(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    keys::revoke_key(app, &who, req.param("id").parse()?)?;
    Ok(Response::no_content())
}
