//! `/v1/auth/forgot-password` and `/v1/auth/reset-password`.
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::core::recovery;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, body};

#[derive(Deserialize)]
struct ForgotBody {
    email: String,
}

pub fn forgot(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: ForgotBody = body::json(req)?;
    recovery::forgot_password(app, &req.origin(), &b.email)?;
    Ok(Response::json(202, &json!({})))
}

#[derive(Deserialize)]
struct ResetBody {
    token: String,
    password: Secret,
}

pub fn reset(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: ResetBody = body::json(req)?;
    recovery::reset_password(app, &req.origin(), &b.token, &b.password)?;
    Ok(Response::no_content())
}
