//! `/v1/tenant/members` (the people of the session's tenant) and `POST /v1/auth/activate`
//! (accepting an invitation).
use serde::Deserialize;
use serde_json::json;

use super::json::{List, Tenant, User, invited};
use crate::app::App;
use crate::core::members::{self, Activate, Invite};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::{MembershipStatus, Role};

fn role(raw: &str) -> Result<Role, Error> {
    raw.parse().map_err(|e: Error| Error::field("role", e.message()))
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let status = body::filter::<MembershipStatus>(req, "status")?;
    let (members, next_cursor) = members::list_members(app, &who.in_tenant(), status, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&members, next_cursor, User::of)))
}

/// `{email, role, name?}`: the portal's and the operator's invitations.
#[derive(Deserialize)]
pub(crate) struct InviteBody {
    email: String,
    role: String,
    name: Option<String>,
}

impl TryFrom<InviteBody> for Invite {
    type Error = Error;

    fn try_from(b: InviteBody) -> Result<Self, Error> {
        Ok(Invite { email: b.email, role: role(&b.role)?, name: b.name })
    }
}

pub fn invite(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let input = body::json::<InviteBody>(req)?.try_into()?;
    let out = members::invite_member(app, &who.in_tenant(), input)?;
    Ok(Response::json(201, &invited(&out, true)))
}

pub fn resend_invite(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let out = members::resend_invite(app, &who.in_tenant(), req.param("id").parse()?)?;
    Ok(Response::json(202, &invited(&out, false)))
}

#[derive(Deserialize)]
struct PatchBody {
    role: String,
}

pub fn patch(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let b: PatchBody = body::json(req)?;
    let member = members::change_role(app, &who.in_tenant(), req.param("id").parse()?, role(&b.role)?)?;
    Ok(Response::json(200, &json!({ "user": User::of(&member) })))
}

pub fn remove(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    members::remove_member(app, &who.in_tenant(), req.param("id").parse()?)?;
    Ok(Response::no_content())
}

#[derive(Deserialize)]
struct ActivateBody {
    token: String,
    password: Option<Secret>,
    name: Option<String>,
}

pub fn activate(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: ActivateBody = body::json(req)?;
    let out = members::activate(app, &req.origin(), Activate { token: b.token, password: b.password, name: b.name })?;
    Ok(Response::json(
        200,
        &json!({
            "session_token": out.session.token.expose(),
            "expires_at": out.session.expires_at,
            "user": User::of(&out.member),
            "tenant": Tenant::of(&out.tenant),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use crate::http::router::ROUTES;

    /// Every route of issue 4 is in the OpenAPI document, under its method.
    #[test]
    fn openapi_documents_the_member_and_token_routes() -> Result<(), serde_json::Error> {
        let doc: serde_json::Value = serde_json::from_str(super::super::health::OPENAPI)?;
        let ours = ["/v1/tenant/members", "/v1/auth/activate", "/v1/auth/forgot-password", "/v1/auth/reset-password"];
        let ours_too =
            ["/v1/auth/verify-email", "/v1/auth/confirm-email-change", "/v1/me/verify-email", "/v1/me/email"];
        for r in ROUTES.iter().filter(|r| ours.iter().chain(&ours_too).any(|p| r.path.starts_with(p))) {
            let method = r.method.as_str().to_lowercase();
            assert!(doc["paths"][r.path][&method].is_object(), "{method} {} is not in openapi.json", r.path);
        }
        Ok(())
    }
}
