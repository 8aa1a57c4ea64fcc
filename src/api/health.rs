//! `/healthz` and the OpenAPI document.
use serde_json::json;

use crate::app::App;
use crate::error::Error;
use crate::http::{Req, Response};

/// The OpenAPI 3.1 document of every route, kept in the repository.
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn healthz(app: &App, _req: &mut Req) -> Result<Response, Error> {
    app.db.ping()?;
    Ok(Response::json(200, &json!({ "status": "ok" })))
}

pub fn openapi(_app: &App, _req: &mut Req) -> Result<Response, Error> {
    Ok(Response::json_text(OPENAPI))
}
