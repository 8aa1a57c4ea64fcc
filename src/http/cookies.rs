//! Cookies of the web UI. The session cookies hold the same session token the JSON API
//! returns, one cookie per realm, so a portal cookie never authenticates an operator page
//! and the reverse (as bearer tokens never cross realms).
//!
//! Every cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site
//! POSTs), `Path=/`, and `Secure` when the public base URL is https.
use super::Req;
use crate::app::App;

/// The portal session (`/app`, `/logout`).
pub const PORTAL: &str = "ks_session";
/// The operator session (`/admin`).
pub const ADMIN: &str = "ks_admin";
/// The per-browser CSRF token (see `csrf`).
pub const CSRF: &str = "ks_csrf";

/// The value of cookie `name` from the request's `Cookie` headers; the first when repeated.
pub fn get<'a>(req: &'a Req, name: &str) -> Option<&'a str> {
    find(req.header("cookie")?, name)
}

fn find<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value that stores `value` for the browser session.
pub fn set(app: &App, name: &str, value: &str) -> String {
    attributes(name, value, secure(app))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(app: &App, name: &str) -> String {
    attributes(name, "", secure(app)) + "; Max-Age=0"
}

fn secure(app: &App) -> bool {
    app.config.base_url.starts_with("https://")
}

fn attributes(name: &str, value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_others() {
        let header = "a=1; ks_session=tok-EN_1; ks_csrf=\"x\"; empty=";
        assert_eq!(find(header, "ks_session"), Some("tok-EN_1"));
        assert_eq!(find(header, "ks_csrf"), Some("x"));
        assert_eq!(find(header, "empty"), None);
        assert_eq!(find(header, "ks_admin"), None);
        assert_eq!(find("ks_session_old=1", "ks_session"), None);
    }

    #[test]
    fn attributes_lock_the_cookie_down() {
        assert_eq!(attributes("n", "v", false), "n=v; HttpOnly; SameSite=Lax; Path=/");
        assert_eq!(attributes("n", "v", true), "n=v; HttpOnly; SameSite=Lax; Path=/; Secure");
    }
}
