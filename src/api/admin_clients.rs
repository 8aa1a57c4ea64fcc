//! `/v1/admin/clients*`: operators register and run the OpenID Connect clients (and the
//! gateways' introspecting clients): list, register, edit, rotate the secret, disable,
//! enable.
use serde::Deserialize;
use serde_json::json;

use super::json::{self, Client, List};
use crate::app::App;
use crate::core::oidc::clients::{self, ClientChange, ClientPatch, NewClient};
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let (rows, next) = clients::list_clients(app, &who, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, Client::of)))
}

// Absent name and redirect URIs are empty, so that core's 400 names the field and says why.
#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    trusted: bool,
    #[serde(default)]
    introspect: bool,
    tenant_id: Option<String>,
    id_token_alg: Option<String>,
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let b: CreateBody = body::json(req)?;
    let input = NewClient {
        name: b.name,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        public: b.public,
        trusted: b.trusted,
        introspect: b.introspect,
        tenant_id: b.tenant_id.as_deref().map(clients::tenant_ref).transpose()?,
        id_token_alg: b.id_token_alg.as_deref().map(clients::signing_alg).transpose()?,
    };
    let out = clients::register(app, &who, input)?;
    Ok(Response::json(201, &json::with_secret(&out)))
}

pub fn get(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let client = clients::get_client(app, &who, req.param("id").parse()?)?;
    Ok(Response::json(200, &json!({ "client": Client::of(&client) })))
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    trusted: Option<bool>,
    introspect: Option<bool>,
    #[serde(default, deserialize_with = "body::nullable")]
    tenant_id: Option<Option<String>>,
    id_token_alg: Option<String>,
}

pub fn patch(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let b: PatchBody = body::json(req)?;
    let patch = ClientPatch {
        name: b.name,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        trusted: b.trusted,
        introspect: b.introspect,
        tenant_id: b.tenant_id.map(|t| t.as_deref().map(clients::tenant_ref).transpose()).transpose()?,
        id_token_alg: b.id_token_alg.as_deref().map(clients::signing_alg).transpose()?,
    };
    let client = clients::update_client(app, &who, id, patch)?;
    Ok(Response::json(200, &json!({ "client": Client::of(&client) })))
}

pub fn rotate_secret(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let out = clients::rotate_secret(app, &who, req.param("id").parse()?)?;
    Ok(Response::json(200, &json::with_secret(&out)))
}

/// The two status routes differ only in the change they ask for.
fn change(app: &App, req: &Req, change: ClientChange) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let client = clients::change_client(app, &who, id, change, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "client": Client::of(&client) })))
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, ClientChange::Disable)
}

pub fn enable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, ClientChange::Enable)
}
