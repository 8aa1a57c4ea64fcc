//! `POST /v1/auth/token` and `GET /.well-known/jwks.json`.
use serde_json::json;

use crate::app::App;
use crate::core::{access_tokens, signing};
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials};

pub fn issue(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let t = access_tokens::issue(app, &who)?;
    Ok(Response::json(200, &json!({ "access_token": t.token, "token_type": "Bearer", "expires_in": t.expires_in })))
}

pub fn jwks(app: &App, _req: &mut Req) -> Result<Response, Error> {
    let keys = signing::jwks(app)?;
    let cache = format!("public, max-age={}", signing::JWKS_MAX_AGE_SECS);
    Ok(Response::json(200, &json!({ "keys": keys })).with_header("Cache-Control", &cache))
}
