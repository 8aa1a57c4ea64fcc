//! `GET /v1/forward-auth`: the answer a reverse proxy asks for before it lets a request
//! through to the application behind it. 200 with the identity in `X-Keystead-*` headers;
//! signed out, 401 with the login URL in `X-Keystead-Login-Url` (nginx's `auth_request`
//! takes only 2xx, 401 and 403), or a 302 to that URL for a browser (Caddy, Traefik); 403
//! when the demand (`?tenant=&role=&scope=`) is not met.
use crate::app::App;
use crate::core::forward_auth::{self, Credential, Demand, Identity, Verdict};
use crate::error::Error;
use crate::http::cookies::{self, Cookie};
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::Role;

pub fn check(app: &App, req: &mut Req) -> Result<Response, Error> {
    let demand = Demand {
        tenant: body::text(req, "tenant")?,
        role: body::filter::<Role>(req, "role")?,
        scope: body::text(req, "scope")?,
    };
    let credential = match credentials::bearer(req) {
        Some(token) => Some(Credential::Bearer(token)),
        None => cookies::get(app, req, Cookie::Portal).map(Credential::Cookie),
    };
    Ok(match forward_auth::check(app, &req.origin(), credential, &demand)? {
        Verdict::Pass(identity) => passed(identity),
        Verdict::Refused => crate::http::error::to_response(&Error::Forbidden),
        Verdict::SignIn => sign_in(app, req),
    })
}

fn passed(identity: Identity) -> Response {
    let response = Response::empty(200);
    match identity {
        Identity::Person { user, email, tenant, role } => response
            .with_header("X-Keystead-User-Id", user.to_string())
            .with_header("X-Keystead-Email", email.as_str())
            .with_header("X-Keystead-Tenant-Id", tenant.to_string())
            .with_header("X-Keystead-Role", role.as_str()),
        Identity::Key { key, tenant, scopes } => response
            .with_header("X-Keystead-Key-Id", key.to_string())
            .with_header("X-Keystead-Tenant-Id", tenant.to_string())
            .with_header("X-Keystead-Scopes", scopes.join(" ")),
    }
}

/// The login page, with the original URL as `next` when the proxy says what it was.
fn sign_in(app: &App, req: &Req) -> Response {
    let mut login = format!("{}/login", app.config.base_url);
    if let Some(original) = original_url(req) {
        login.push_str("?next=");
        login.extend(form_urlencoded::byte_serialize(original.as_bytes()));
    }
    let browser = req.header("accept").is_some_and(|a| a.contains("text/html"));
    if browser && req.query("redirect").as_deref() != Some("0") {
        return Response::empty(302).with_header("Location", login);
    }
    crate::http::error::to_response(&Error::Unauthorized).with_header("X-Keystead-Login-Url", login)
}

/// The URL the browser asked the proxy for: `X-Original-URL` (nginx), or
/// `X-Forwarded-Proto`, `-Host` and `-Uri` (Caddy, Traefik). The login page decides whether
/// it may return there (`forward_auth::return_to`), so a forged one only misleads its sender.
fn original_url(req: &Req) -> Option<String> {
    if let Some(url) = req.header("x-original-url") {
        return Some(url.to_owned());
    }
    let host = req.header("x-forwarded-host")?;
    let proto = req.header("x-forwarded-proto").unwrap_or("https");
    let uri = req.header("x-forwarded-uri").unwrap_or("/");
    Some(format!("{proto}://{host}{uri}"))
}
