//! `/v1/admin/auth/*`: operator login and logout.
use serde::Deserialize;
use serde_json::json;

use super::json::Admin;
use crate::app::App;
use crate::core::operators;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: Secret,
}

pub fn login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: LoginBody = body::json(req)?;
    let out = operators::admin_login(app, &req.origin(), &b.email, &b.password)?;
    Ok(logged_in(&out))
}

/// The answer to a successful operator login, whether it took one step or two.
pub(crate) fn logged_in(out: &operators::AdminLoggedIn) -> Response {
    Response::json(
        200,
        &json!({ "session_token": out.session.token.expose(), "expires_at": out.session.expires_at, "admin": Admin::of(&out.admin) }),
    )
}

pub fn logout(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::admin_enrolling(app, req)?;
    operators::admin_logout(app, &who)?;
    Ok(Response::no_content())
}
