//! `/v1/auth/*` of portal accounts.
use serde::Deserialize;
use serde_json::json;

use super::json::{self, ApiKey, Tenant, User};
use crate::app::App;
use crate::core::{auth, sessions};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::TenantId;

#[derive(Deserialize)]
struct SignupBody {
    tenant_name: String,
    email: String,
    password: Secret,
    name: Option<String>,
}

pub fn signup(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: SignupBody = body::json(req)?;
    let input = auth::Signup { tenant_name: b.tenant_name, email: b.email, password: b.password, name: b.name };
    let out = auth::signup(app, &req.origin(), input)?;
    Ok(Response::json(
        201,
        &json!({
            "session_token": out.session.token.expose(),
            "expires_at": out.session.expires_at,
            "user": User::of(&out.member),
            "tenant": Tenant::of(&out.tenant),
            "api_key": ApiKey::created(&out.key),
        }),
    ))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: Secret,
    tenant_id: Option<String>,
}

pub fn login(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: LoginBody = body::json(req)?;
    let out =
        auth::login(app, &req.origin(), auth::Login { email: b.email, password: b.password, tenant_id: b.tenant_id })?;
    Ok(logged_in(&out))
}

/// The answer to a successful login, whether it took one step or two.
pub(crate) fn logged_in(out: &auth::LoggedIn) -> Response {
    let p = &out.profile;
    Response::json(
        200,
        &json!({
            "session_token": out.session.token.expose(),
            "expires_at": out.session.expires_at,
            "user": User::of(&p.member),
            "tenant": Tenant::of(&p.tenant),
            "memberships": json::memberships(&p.memberships),
        }),
    )
}

#[derive(Deserialize)]
struct SwitchBody {
    tenant_id: String,
}

pub fn switch_tenant(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    let b: SwitchBody = body::json(req)?;
    let tenant: TenantId = b.tenant_id.parse()?;
    let p = auth::switch_tenant(app, &who, tenant)?;
    Ok(Response::json(200, &json!({ "user": User::of(&p.member), "tenant": Tenant::of(&p.tenant) })))
}

pub fn logout(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_enrolling(app, req)?;
    sessions::logout(app, &who)?;
    Ok(Response::no_content())
}
