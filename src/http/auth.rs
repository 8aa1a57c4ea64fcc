//! Credentials on a request, checked in their realm: `Authorization: Bearer <token>` on
//! the API, the realm's session cookie on pages (never the other way round).
use super::Req;
use super::cookies::{self, Cookie};
use crate::app::App;
use crate::core::mfa::policy;
use crate::core::principal::{Operator, PortalUser, Staff};
use crate::core::sessions;
use crate::error::Error;
use crate::types::Person;

pub fn bearer(req: &Req) -> Option<&str> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// A portal session, on a route that a tenant's `require_mfa` closes until the person
/// enrols (403 mfa_enrolment_required).
pub fn portal(app: &App, req: &Req) -> Result<PortalUser, Error> {
    enforce_portal(app, portal_enrolling(app, req)?)
}

/// A portal session on the routes a person without a required second factor may still
/// use (`GET /v1/me`, `/v1/me/mfa…`, logout, switch-tenant).
pub fn portal_enrolling(app: &App, req: &Req) -> Result<PortalUser, Error> {
    let token = bearer(req).ok_or(Error::Unauthorized)?;
    acting(req, sessions::authenticate_portal(app, token, req.origin()))
}

/// An operator session, on a route that `--operator-mfa required` closes until the
/// operator enrols (403 mfa_enrolment_required).
pub fn admin(app: &App, req: &Req) -> Result<Operator, Error> {
    enforce_admin(app, admin_enrolling(app, req)?)
}

/// An operator session on the routes an operator without a required second factor may
/// still use (`/v1/admin/me/mfa…`, logout).
pub fn admin_enrolling(app: &App, req: &Req) -> Result<Operator, Error> {
    let token = bearer(req).ok_or(Error::Unauthorized)?;
    sessions::authenticate_admin(app, token, req.origin())
}

/// An operator acting through the API, as the operator-realm core operations take it.
pub fn staff(app: &App, req: &Req) -> Result<Staff, Error> {
    admin(app, req).map(Staff::Operator)
}

/// The portal session of a page, from the `ks_session` cookie (401: the page redirects to `/login`).
pub fn portal_cookie(app: &App, req: &Req) -> Result<PortalUser, Error> {
    enforce_portal(app, portal_cookie_enrolling(app, req)?)
}

/// As `portal_cookie`, on the pages a policy leaves open (logout, switching tenant).
pub fn portal_cookie_enrolling(app: &App, req: &Req) -> Result<PortalUser, Error> {
    let token = cookies::get(app, req, Cookie::Portal).ok_or(Error::Unauthorized)?;
    acting(req, sessions::authenticate_portal(app, token, req.origin()))
}

/// Notes the tenant a portal session acts in on the request, for its log line.
fn acting(req: &Req, who: Result<PortalUser, Error>) -> Result<PortalUser, Error> {
    if let Ok(who) = &who {
        req.acting_tenant.set(Some(who.tenant_id));
    }
    who
}

/// The operator session of a page, from the `ks_admin` cookie (401: the page redirects to `/admin/login`).
pub fn admin_cookie(app: &App, req: &Req) -> Result<Operator, Error> {
    enforce_admin(app, admin_cookie_enrolling(app, req)?)
}

/// As `admin_cookie`, on the pages a policy leaves open (logout).
pub fn admin_cookie_enrolling(app: &App, req: &Req) -> Result<Operator, Error> {
    let token = cookies::get(app, req, Cookie::Admin).ok_or(Error::Unauthorized)?;
    sessions::authenticate_admin(app, token, req.origin())
}

// The policies' one check (see `core::mfa::policy::gate`).
fn enforce_portal(app: &App, who: PortalUser) -> Result<PortalUser, Error> {
    policy::gate(app, Person::User(who.user_id), Some(who.tenant_id)).map(|()| who)
}

fn enforce_admin(app: &App, who: Operator) -> Result<Operator, Error> {
    policy::gate(app, Person::Admin(who.admin_id), None).map(|()| who)
}
