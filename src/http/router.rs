//! The route tables: every path of the JSON API (`ROUTES`, the paths `openapi.json`
//! documents) and of the web UI (`PAGES`), each with its method and handler.
use super::{Method, Req, Response, assets, csrf, error};
use crate::app::App;
use crate::error::Error;
use crate::{api, web};

pub type Handler = fn(&App, &mut Req) -> Result<Response, Error>;

pub struct Route {
    pub method: Method,
    /// The template, with `{name}` for a path parameter and `{*name}` for the rest of the
    /// path; also what the log line shows.
    pub path: &'static str,
    pub handler: Handler,
}

const fn route(method: Method, path: &'static str, handler: Handler) -> Route {
    Route { method, path, handler }
}

use Method::{Delete, Get, Patch, Post};

/// The JSON API. Routes are tried in order, so the hot paths come first.
pub static ROUTES: &[Route] = &[
    route(Get, "/healthz", api::health::healthz),
    route(Post, "/v1/verify/key", api::verify::key),
    route(Post, "/v1/verify/session", api::verify::session),
    route(Get, "/v1/me", api::me::get),
    route(Get, "/v1/forward-auth", api::forward_auth::check),
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
    route(Post, "/v1/auth/mfa", api::mfa::login),
    route(Get, "/v1/me/mfa", api::mfa::me),
    route(Post, "/v1/me/mfa/totp", api::mfa::me_totp),
    route(Post, "/v1/me/mfa/totp/confirm", api::mfa::me_totp_confirm),
    route(Post, "/v1/me/mfa/totp/disable", api::mfa::me_totp_disable),
    route(Post, "/v1/me/mfa/recovery-codes", api::mfa::me_recovery_codes),
    route(Get, "/v1/me/mfa/passkeys", api::mfa::me_passkeys),
    route(Post, "/v1/me/mfa/passkeys", api::mfa::me_passkeys_add),
    route(Delete, "/v1/me/mfa/passkeys/{id}", api::mfa::me_passkey_remove),
    route(Patch, "/v1/me", api::me::patch),
    route(Post, "/v1/me/password", api::me::change_password),
    route(Post, "/v1/me/verify-email", api::email::resend_verification),
    route(Post, "/v1/me/email", api::email::change),
    route(Post, "/v1/me/invitations/{tenant_id}/accept", api::me::accept_invitation),
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
    route(Post, "/v1/admin/auth/login", api::admin_auth::login),
    route(Post, "/v1/admin/auth/logout", api::admin_auth::logout),
    route(Post, "/v1/admin/auth/mfa", api::mfa::admin_login),
    route(Get, "/v1/admin/me/mfa", api::mfa::admin_me),
    route(Post, "/v1/admin/me/mfa/totp", api::mfa::admin_totp),
    route(Post, "/v1/admin/me/mfa/totp/confirm", api::mfa::admin_totp_confirm),
    route(Post, "/v1/admin/me/mfa/totp/disable", api::mfa::admin_totp_disable),
    route(Post, "/v1/admin/me/mfa/recovery-codes", api::mfa::admin_recovery_codes),
    route(Get, "/v1/admin/me/mfa/passkeys", api::mfa::admin_passkeys),
    route(Post, "/v1/admin/me/mfa/passkeys", api::mfa::admin_passkeys_add),
    route(Delete, "/v1/admin/me/mfa/passkeys/{id}", api::mfa::admin_passkey_remove),
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
    route(Post, "/v1/admin/users/{id}/reset-mfa", api::admin_users::reset_mfa),
    route(Get, "/v1/admin/admins", api::admin_admins::list),
    route(Post, "/v1/admin/admins", api::admin_admins::create),
    route(Post, "/v1/admin/admins/{id}/disable", api::admin_admins::disable),
    route(Get, "/v1/admin/clients", api::admin_clients::list),
    route(Post, "/v1/admin/clients", api::admin_clients::create),
    route(Get, "/v1/admin/clients/{id}", api::admin_clients::get),
    route(Patch, "/v1/admin/clients/{id}", api::admin_clients::patch),
    route(Post, "/v1/admin/clients/{id}/rotate-secret", api::admin_clients::rotate_secret),
    route(Post, "/v1/admin/clients/{id}/disable", api::admin_clients::disable),
    route(Post, "/v1/admin/clients/{id}/enable", api::admin_clients::enable),
    route(Post, "/v1/oauth/introspect", api::introspect::introspect),
    route(Get, "/.well-known/openid-configuration", api::oidc::configuration),
    route(Post, "/v1/oauth/token", api::oidc::token),
    route(Get, "/v1/oauth/userinfo", api::oidc::userinfo),
    route(Post, "/v1/oauth/userinfo", api::oidc::userinfo),
    route(Post, "/v1/oauth/revoke", api::oidc::revoke),
    route(Get, "/v1/admin/audit", api::audit::admin_list),
    route(Get, "/v1/admin/outbox", api::oversight::outbox),
];

/// The pages of the web UI. Every POST here is a form, checked by `csrf::check` before
/// its handler runs.
pub static PAGES: &[Route] = &[
    route(Get, "/", web::session::home),
    route(Get, "/login", web::session::login_form),
    route(Post, "/login", web::session::login),
    route(Get, "/login/mfa", web::login_mfa::portal_form),
    route(Post, "/login/mfa", web::login_mfa::portal),
    route(Get, "/oauth/authorize", web::oauth_authorize::request),
    route(Post, "/oauth/authorize", web::oauth_authorize::answer),
    route(Get, "/oauth/logout", web::oauth_logout::request),
    route(Post, "/oauth/logout", web::oauth_logout::posted),
    route(Post, "/oauth/logout/confirm", web::oauth_logout::confirm),
    route(Post, "/logout", web::session::logout),
    route(Get, "/signup", web::session::signup_form),
    route(Post, "/signup", web::session::signup),
    route(Get, "/forgot-password", web::links::forgot_form),
    route(Post, "/forgot-password", web::links::forgot),
    route(Get, "/reset-password", web::links::reset_form),
    route(Post, "/reset-password", web::links::reset),
    route(Get, "/activate", web::links::activate_form),
    route(Post, "/activate", web::links::activate),
    route(Get, "/verify-email", web::links::verify_form),
    route(Post, "/verify-email", web::links::verify),
    route(Get, "/confirm-email", web::links::confirm_email_form),
    route(Post, "/confirm-email", web::links::confirm_email),
    route(Get, "/app", web::app::overview),
    route(Post, "/app/switch-tenant", web::app::switch_tenant),
    route(Post, "/app/invitations/{tenant_id}/accept", web::app::accept_invitation),
    route(Get, "/app/keys", web::app_keys::list),
    route(Post, "/app/keys", web::app_keys::create),
    route(Post, "/app/keys/{id}/revoke", web::app_keys::revoke),
    route(Get, "/app/sessions", web::app_sessions::list),
    route(Get, "/app/apps", web::app_apps::list),
    route(Post, "/app/apps/grants/{id}/revoke", web::app_apps::revoke_grant),
    route(Post, "/app/apps/consents/{client_id}/revoke", web::app_apps::revoke_consent),
    route(Post, "/app/sessions/revoke-others", web::app_sessions::revoke_others),
    route(Post, "/app/sessions/{id}/revoke", web::app_sessions::revoke),
    route(Get, "/app/team", web::app_team::list),
    route(Post, "/app/team", web::app_team::invite),
    route(Post, "/app/team/{id}/role", web::app_team::change_role),
    route(Post, "/app/team/{id}/remove", web::app_team::remove),
    route(Post, "/app/team/{id}/resend", web::app_team::resend),
    route(Get, "/app/settings", web::app_settings::show),
    route(Post, "/app/settings/name", web::app_settings::name),
    route(Post, "/app/settings/tenant", web::app_settings::tenant),
    route(Post, "/app/settings/provider-key", web::app_settings::provider_key),
    route(Post, "/app/settings/provider-key/clear", web::app_settings::clear_provider_key),
    route(Post, "/app/settings/password", web::app_settings::password),
    route(Post, "/app/settings/email", web::app_settings::change_email),
    route(Post, "/app/settings/verify-email", web::app_settings::resend_verification),
    route(Get, "/app/audit", web::app_audit::list),
    route(Get, "/app/security", web::security::show),
    route(Post, "/app/security/totp", web::security::start),
    route(Post, "/app/security/totp/confirm", web::security::confirm),
    route(Post, "/app/security/totp/disable", web::security::disable),
    route(Post, "/app/security/recovery-codes", web::security::regenerate),
    route(Post, "/app/security/passkeys", web::security::passkey_start),
    route(Post, "/app/security/passkeys/finish", web::security::passkey_finish),
    route(Post, "/app/security/passkeys/{id}/remove", web::security::passkey_remove),
    route(Post, "/app/security/notices", web::security::notices),
    route(Get, "/admin/login", web::admin::login_form),
    route(Post, "/admin/login", web::admin::login),
    route(Post, "/admin/login/mfa", web::login_mfa::operator),
    route(Post, "/admin/logout", web::admin::logout),
    route(Get, "/admin", web::admin::home),
    route(Get, "/admin/tenants", web::admin_tenants::list),
    route(Post, "/admin/tenants", web::admin_tenants::create),
    route(Get, "/admin/tenants/new", web::admin_tenants::new_form),
    route(Get, "/admin/tenants/{id}", web::admin_tenants::show),
    route(Post, "/admin/tenants/{id}", web::admin_tenants::update),
    route(Post, "/admin/tenants/{id}/suspend", web::admin_tenants::suspend),
    route(Post, "/admin/tenants/{id}/delete", web::admin_tenants::delete),
    route(Post, "/admin/tenants/{id}/restore", web::admin_tenants::restore),
    route(Post, "/admin/tenants/{id}/revoke-sessions", web::admin_tenants::revoke_sessions),
    route(Get, "/admin/users", web::admin_users::list),
    route(Get, "/admin/users/{id}", web::admin_users::show),
    route(Post, "/admin/users/{id}/disable", web::admin_users::disable),
    route(Post, "/admin/users/{id}/enable", web::admin_users::enable),
    route(Post, "/admin/users/{id}/delete", web::admin_users::delete),
    route(Post, "/admin/users/{id}/restore", web::admin_users::restore),
    route(Get, "/admin/clients", web::admin_clients::list),
    route(Post, "/admin/clients", web::admin_clients::create),
    route(Get, "/admin/clients/{id}", web::admin_clients::show),
    route(Post, "/admin/clients/{id}", web::admin_clients::update),
    route(Post, "/admin/clients/{id}/rotate-secret", web::admin_clients::rotate_secret),
    route(Post, "/admin/clients/{id}/disable", web::admin_clients::disable),
    route(Post, "/admin/clients/{id}/enable", web::admin_clients::enable),
    route(Get, "/admin/audit", web::admin_oversight::audit),
    route(Get, "/admin/security", web::security::show),
    route(Post, "/admin/security/totp", web::security::start),
    route(Post, "/admin/security/totp/confirm", web::security::confirm),
    route(Post, "/admin/security/totp/disable", web::security::disable),
    route(Post, "/admin/security/recovery-codes", web::security::regenerate),
    route(Post, "/admin/security/passkeys", web::security::passkey_start),
    route(Post, "/admin/security/passkeys/finish", web::security::passkey_finish),
    route(Post, "/admin/security/passkeys/{id}/remove", web::security::passkey_remove),
    route(Get, "/admin/outbox", web::admin_oversight::outbox),
    route(Get, "/admin/admins", web::admin_admins::list),
    route(Post, "/admin/admins", web::admin_admins::create),
    route(Post, "/admin/admins/{id}/disable", web::admin_admins::disable),
    route(Get, "/assets/{*path}", assets::serve),
];

/// Pages that another site posts to by design, without our CSRF token: a client's logout
/// request (RP-Initiated Logout 1.0 §2), which ends a session by itself only when its
/// `id_token_hint` names that session (`core::oidc::logout`), as its GET does.
const CROSS_SITE_POSTS: [&str; 1] = ["/oauth/logout"];

/// Paths of the JSON API, whose errors are JSON; every other path is a page's (so the
/// OAuth endpoints clients call directly live under `/v1/oauth/`, and `/oauth/authorize`
/// and `/oauth/logout` are pages a browser visits).
fn is_api(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/") || path.starts_with("/.well-known/") || path.starts_with("/healthz")
}

/// Matches `path` against a template; the captured parameters on success.
fn matches(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    // Most templates have no parameter: one comparison, no splitting (this runs for every
    // route tried on every request).
    if !template.contains('{') {
        return (template == path).then(Vec::new);
    }
    let mut params = Vec::new();
    let mut want = template.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with("{*") && w.ends_with('}') && !h.is_empty() => {
                let rest: Vec<&str> = std::iter::once(h).chain(have).collect();
                params.push((&w[2..w.len() - 1], rest.join("/")));
                return Some(params);
            }
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {
                params.push((&w[1..w.len() - 1], h.to_owned()));
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// Runs the handler of the route matching the request, or answers 405 (and a handler's
/// errors) as JSON on the API's paths, as a page elsewhere; a path no route knows is 404
/// as the client asks (`unknown`).
pub fn dispatch(app: &App, req: &mut Req) -> Response {
    if is_api(&req.path) {
        return match find(ROUTES, req) {
            Err(Error::NotFound) => unknown(app, req),
            found => found.and_then(|handler| handler(app, req)).unwrap_or_else(|e| error::to_response(&e)),
        };
    }
    let found = match find(PAGES, req) {
        Err(Error::NotFound) => return unknown(app, req),
        found => found,
    };
    let page = found.and_then(|handler| {
        if req.method == Method::Post && !CROSS_SITE_POSTS.contains(&req.route) {
            csrf::check(app, req)?;
        }
        handler(app, req)
    });
    page.unwrap_or_else(|e| web::error::to_page(app, req, &e))
}

/// A path no route knows (API.md): the API's JSON 404, or the web UI's error page when the
/// client asks for HTML as a browser does.
fn unknown(app: &App, req: &Req) -> Response {
    let html = req.header("accept").is_some_and(|accept| {
        accept
            .split(',')
            .any(|range| range.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/html")))
    });
    if html { web::error::to_page(app, req, &Error::NotFound) } else { error::to_response(&Error::NotFound) }
}

/// The handler of the route in `table` matching the request (whose route it records).
fn find(table: &'static [Route], req: &mut Req) -> Result<Handler, Error> {
    let mut allowed: Vec<&'static str> = Vec::new();
    for r in table {
        let Some(params) = matches(r.path, &req.path) else { continue };
        // HEAD is GET without the body (tiny_http leaves the body out of the answer).
        if r.method == req.method || (r.method == Method::Get && req.method == Method::Head) {
            req.set_route(r.path, params);
            return Ok(r.handler);
        }
        allowed.push(r.method.as_str());
        if r.method == Method::Get {
            allowed.push(Method::Head.as_str());
        }
        req.route = r.path;
    }
    Err(if allowed.is_empty() { Error::NotFound } else { Error::MethodNotAllowed { allow: allowed.join(", ") } })
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

    #[test]
    fn a_tail_parameter_takes_the_rest_of_the_path() {
        assert_eq!(matches("/assets/{*path}", "/assets/app.css"), Some(vec![("path", "app.css".to_owned())]));
        assert_eq!(matches("/assets/{*path}", "/assets/img/a.svg"), Some(vec![("path", "img/a.svg".to_owned())]));
        assert_eq!(matches("/assets/{*path}", "/assets/"), None);
        assert_eq!(matches("/assets/{*path}", "/assets"), None);
    }

    #[test]
    fn api_paths_and_pages_do_not_overlap() {
        assert!(ROUTES.iter().all(|r| is_api(r.path)));
        assert!(PAGES.iter().all(|r| !is_api(r.path)));
    }
}
