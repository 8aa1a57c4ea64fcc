//! Email ownership: `/v1/auth/verify-email`, `/v1/auth/confirm-email-change` (links from
//! mail), `/v1/me/verify-email` and `/v1/me/email` (a signed-in person asking for them).
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::core::email;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

pub fn verify(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: TokenBody = body::json(req)?;
    email::verify_email(app, &req.origin(), &b.token)?;
    Ok(Response::no_content())
}

pub fn confirm_change(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: TokenBody = body::json(req)?;
    email::confirm_email_change(app, &req.origin(), &b.token)?;
    Ok(Response::no_content())
}

pub fn resend_verification(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    email::resend_verification(app, &who)?;
    Ok(Response::json(202, &json!({})))
}

#[derive(Deserialize)]
struct ChangeBody {
    new_email: String,
    password: Secret,
}

pub fn change(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: ChangeBody = body::json(req)?;
    email::request_email_change(app, &who, &b.new_email, &b.password)?;
    Ok(Response::json(202, &json!({})))
}
