//! The route table: every path of the API, its method and its handler, in one list.
use super::{Method, Req, Response, error};
use crate::api;
use crate::app::App;
use crate::error::Error;

pub type Handler = fn(&App, &mut Req) -> Result<Response, Error>;

pub struct Route {
    pub method: Method,
    /// The template, with `{name}` for a path parameter; also what the log line shows.
    pub path: &'static str,
    pub handler: Handler,
}

const fn route(method: Method, path: &'static str, handler: Handler) -> Route {
    Route { method, path, handler }
}

use Method::{Delete, Get, Patch, Post};

pub static ROUTES: &[Route] = &[
    route(Get, "/healthz", api::health::healthz),
    route(Get, "/v1/openapi.json", api::health::openapi),
    route(Post, "/v1/auth/signup", api::auth::signup),
    route(Post, "/v1/auth/login", api::auth::login),
    route(Post, "/v1/auth/switch-tenant", api::auth::switch_tenant),
    route(Post, "/v1/auth/logout", api::auth::logout),
    route(Post, "/v1/auth/token", api::access_tokens::issue),
    route(Get, "/.well-known/jwks.json", api::access_tokens::jwks),
    route(Post, "/v1/auth/activate", api::members::activate),
    route(Post, "/v1/auth/forgot-password", api::recovery::forgot),
    route(Post, "/v1/auth/reset-password", api::recovery::reset),
    route(Post, "/v1/auth/verify-email", api::email::verify),
    route(Post, "/v1/auth/confirm-email-change", api::email::confirm_change),
    route(Get, "/v1/me", api::me::get),
    route(Patch, "/v1/me", api::me::patch),
    route(Post, "/v1/me/password", api::me::change_password),
    route(Post, "/v1/me/verify-email", api::email::resend_verification),
    route(Post, "/v1/me/email", api::email::change),
    route(Get, "/v1/tenant", api::me::tenant),
    route(Patch, "/v1/tenant", api::tenants::patch),
    route(Post, "/v1/tenants", api::tenants::create),
    route(Get, "/v1/tenant/members", api::members::list),
    route(Post, "/v1/tenant/members", api::members::invite),
    route(Patch, "/v1/tenant/members/{id}", api::members::patch),
    route(Delete, "/v1/tenant/members/{id}", api::members::remove),
    route(Post, "/v1/tenant/members/{id}/resend-invite", api::members::resend_invite),
    route(Get, "/v1/keys", api::keys::list),
    route(Post, "/v1/keys", api::keys::create),
    route(Delete, "/v1/keys/{id}", api::keys::revoke),
    route(Get, "/v1/sessions", api::sessions::list),
    route(Delete, "/v1/sessions", api::sessions::revoke_others),
    route(Delete, "/v1/sessions/{id}", api::sessions::revoke),
    route(Post, "/v1/verify/key", api::verify::key),
    route(Post, "/v1/verify/session", api::verify::session),
    route(Post, "/v1/admin/auth/login", api::admin_auth::login),
    route(Post, "/v1/admin/auth/logout", api::admin_auth::logout),
    route(Get, "/v1/tenant/audit", api::audit::tenant_list),
    route(Get, "/v1/admin/stats", api::oversight::stats),
    route(Get, "/v1/admin/tenants", api::admin_tenants::list),
    route(Post, "/v1/admin/tenants", api::admin_tenants::create),
    route(Get, "/v1/admin/tenants/{id}", api::admin_tenants::get),
    route(Patch, "/v1/admin/tenants/{id}", api::admin_tenants::patch),
    route(Post, "/v1/admin/tenants/{id}/suspend", api::admin_tenants::suspend),
    route(Post, "/v1/admin/tenants/{id}/delete", api::admin_tenants::delete),
    route(Post, "/v1/admin/tenants/{id}/restore", api::admin_tenants::restore),
    route(Post, "/v1/admin/tenants/{id}/revoke-sessions", api::admin_tenants::revoke_sessions),
    route(Get, "/v1/admin/tenants/{id}/members", api::admin_tenants::members),
    route(Post, "/v1/admin/tenants/{id}/members", api::admin_tenants::invite),
    route(Get, "/v1/admin/users", api::admin_users::list),
    route(Post, "/v1/admin/users/{id}/disable", api::admin_users::disable),
    route(Post, "/v1/admin/users/{id}/enable", api::admin_users::enable),
    route(Post, "/v1/admin/users/{id}/delete", api::admin_users::delete),
    route(Post, "/v1/admin/users/{id}/restore", api::admin_users::restore),
    route(Get, "/v1/admin/admins", api::admin_admins::list),
    route(Post, "/v1/admin/admins", api::admin_admins::create),
    route(Post, "/v1/admin/admins/{id}/disable", api::admin_admins::disable),
    route(Get, "/v1/admin/audit", api::audit::admin_list),
    route(Get, "/v1/admin/outbox", api::oversight::outbox),
];

/// Matches `path` against a template; the captured parameters on success.
fn matches(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut want = template.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {
                params.push((&w[1..w.len() - 1], h.to_owned()));
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// Runs the handler of the route matching the request, or answers 404 / 405.
pub fn dispatch(app: &App, req: &mut Req) -> Response {
    let mut allowed: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        let Some(params) = matches(r.path, &req.path) else { continue };
        if r.method == req.method {
            req.set_route(r.path, params);
            return (r.handler)(app, req).unwrap_or_else(|e| error::to_response(&e));
        }
        allowed.push(r.method.as_str());
        req.route = r.path;
    }
    let e = if allowed.is_empty() { Error::NotFound } else { Error::MethodNotAllowed { allow: allowed.join(", ") } };
    error::to_response(&e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_capture_parameters() {
        assert_eq!(matches("/v1/keys/{id}", "/v1/keys/abc"), Some(vec![("id", "abc".to_owned())]));
        assert_eq!(matches("/v1/keys/{id}", "/v1/keys/"), None);
        assert_eq!(matches("/v1/keys/{id}", "/v1/keys/a/b"), None);
        assert_eq!(matches("/v1/keys", "/v1/keys"), Some(vec![]));
        assert_eq!(matches("/v1/keys", "/v1/keys/"), None);
    }
}
