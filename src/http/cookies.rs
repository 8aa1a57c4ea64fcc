//! Cookies of the web UI. The session cookies hold the same session token the JSON API
//! returns, one cookie per realm, so a portal cookie never authenticates an operator page
//! and the reverse (as bearer tokens never cross realms).
//!
//! Every cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site
//! POSTs), `Path=/`, and, when the public base URL is https, `Secure` with the `__Host-`
//! name prefix: a browser then keeps the cookie only when this very host set it (Secure,
//! Path=/, no Domain), so a sibling subdomain cannot plant or overwrite a session or the
//! CSRF token ("cookie tossing"). On https an unprefixed cookie is never read.
//!
//! With `--cookie-domain` the portal session cookie alone carries that `Domain`, so the
//! browser also sends it to the sibling hosts that forward authentication guards; on https
//! it is then `__Secure-` prefixed (Secure required), since `__Host-` forbids a Domain.
use super::Req;
use crate::app::App;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    /// The portal session (`/app`, `/logout`).
    Portal,
    /// The operator session (`/admin`).
    Admin,
    /// The per-browser CSRF token (see `csrf`).
    Csrf,
}

impl Cookie {
    fn name(self, secure: bool, shared: bool) -> &'static str {
        match (self, secure) {
            (Cookie::Portal, false) => "ks_session",
            (Cookie::Portal, true) if shared => "__Secure-ks_session",
            (Cookie::Portal, true) => "__Host-ks_session",
            (Cookie::Admin, false) => "ks_admin",
            (Cookie::Admin, true) => "__Host-ks_admin",
            (Cookie::Csrf, false) => "ks_csrf",
            (Cookie::Csrf, true) => "__Host-ks_csrf",
        }
    }
}

/// The value of `cookie` from the request's `Cookie` headers; the first when repeated.
pub fn get<'a>(app: &App, req: &'a Req, cookie: Cookie) -> Option<&'a str> {
    find(req.header("cookie")?, cookie.name(secure(app), domain(app, cookie).is_some()))
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
pub fn set(app: &App, cookie: Cookie, value: &str) -> String {
    attributes(cookie, value, secure(app), domain(app, cookie))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(app: &App, cookie: Cookie) -> String {
    attributes(cookie, "", secure(app), domain(app, cookie)) + "; Max-Age=0"
}

fn secure(app: &App) -> bool {
    app.config.base_url.starts_with("https://")
}

/// The Domain of a cookie: `--cookie-domain` for the portal session, none for the others.
fn domain(app: &App, cookie: Cookie) -> Option<&str> {
    if cookie == Cookie::Portal { app.config.cookie_domain.as_deref() } else { None }
}

fn attributes(cookie: Cookie, value: &str, secure: bool, domain: Option<&str>) -> String {
    let name = cookie.name(secure, domain.is_some());
    let secure = if secure { "; Secure" } else { "" };
    let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
    format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/{domain}{secure}")
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
        assert_eq!(attributes(Cookie::Portal, "v", false, None), "ks_session=v; HttpOnly; SameSite=Lax; Path=/");
        assert_eq!(
            attributes(Cookie::Csrf, "v", true, None),
            "__Host-ks_csrf=v; HttpOnly; SameSite=Lax; Path=/; Secure"
        );
        assert_eq!(
            attributes(Cookie::Portal, "v", true, Some("example.test")),
            "__Secure-ks_session=v; HttpOnly; SameSite=Lax; Path=/; Domain=example.test; Secure"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 512, failure_persistence: None, ..Default::default() })]

        /// Whatever the header, a cookie found is a non-empty part of it, and one we set is found.
        #[test]
        fn any_cookie_header_gives_a_value_or_none(header in ".{0,80}", value in "[A-Za-z0-9_-]{1,43}") {
            if let Some(found) = find(&header, "ks_session") {
                proptest::prop_assert!(!found.is_empty() && header.contains(found));
            }
            // The first of repeated names counts: only a header without one gets ours.
            if !header.contains("ks_session") {
                let sent = format!("{header}; ks_session={value}");
                proptest::prop_assert_eq!(find(&sent, "ks_session"), Some(value.as_str()));
            }
        }
    }
}
