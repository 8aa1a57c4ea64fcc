//! `/v1/admin/admins*`: operators manage operators.
use serde::Deserialize;
use serde_json::json;

use super::json::{Admin, List};
use crate::app::App;
use crate::core::operators::{self, NewAdmin};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let (rows, next) = operators::list_admins(app, &who, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, Admin::of)))
}

#[derive(Deserialize)]
struct CreateBody {
    email: String,
    name: Option<String>,
    password: Secret,
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let b: CreateBody = body::json(req)?;
    let admin = operators::create_admin(
        app,
        who.actor(),
        who.origin(),
        NewAdmin { email: b.email, name: b.name, password: b.password },
    )?;
    Ok(Response::json(201, &json!({ "admin": Admin::of(&admin) })))
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let admin = operators::disable_admin(app, &who, id, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "admin": Admin::of(&admin) })))
}
