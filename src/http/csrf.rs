//! Cross-site request forgery: two independent checks on every POST to a page, run by the
//! router before the handler (so no page can forget them).
//!
//! 1. Origin: a browser's `Origin` header, when present, must be the origin of
//!    `--base-url`; when absent, `Referer` (sent same-origin under our Referrer-Policy)
//!    must start with it when present. A request carrying neither passes this check only.
//! 2. Double-submit token: each browser gets a random `ks_csrf` cookie (`__Host-ks_csrf` on https) (32 bytes from the
//!    CSPRNG, base64url; HttpOnly, SameSite=Lax), set by the first page it sees, and every
//!    form carries the same value in a hidden `csrf` field. Another site can make a
//!    browser send the cookie, but can neither read it nor guess it, so it cannot fill in
//!    the field. The two are compared through their SHA-256 digests, so the comparison's
//!    timing tells nothing about the token.
//!
//! The token is per browser rather than per session: the login form needs one before
//! there is a session, and a session cookie can only be set by our own pages.
use super::cookies::{self, Cookie};
use super::form::Form;
use super::{Req, Response};
use crate::app::App;
use crate::crypto::secret::{TokenHash, random_token};
use crate::error::Error;

/// The hidden form field.
pub const FIELD: &str = "csrf";

/// The browser's token, as the page's forms must carry it.
pub struct Token {
    pub value: String,
    /// New: the page sets it as the `ks_csrf` cookie.
    fresh: bool,
}

impl Token {
    /// The cookie's token when it holds a well-formed one, else a new one.
    pub fn of(app: &App, req: &Req) -> Self {
        match cookies::get(app, req, Cookie::Csrf).filter(|v| well_formed(v)) {
            Some(v) => Self { value: v.to_owned(), fresh: false },
            None => Self { value: random_token().expose().to_owned(), fresh: true },
        }
    }

    /// Sets the cookie on `response` when the token is new.
    pub fn attach(&self, app: &App, response: Response) -> Response {
        if self.fresh { response.with_cookie(cookies::set(app, Cookie::Csrf, &self.value)) } else { response }
    }
}

/// Both checks; `CsrfFailed` (403) when either fails, 415 when the body is not a form.
pub fn check(app: &App, req: &Req) -> Result<(), Error> {
    let form = Form::parse(req)?;
    let origin = origin_of(&app.config.base_url);
    if !same_origin(origin, req.header("origin"), req.header("referer")) {
        return Err(Error::CsrfFailed);
    }
    match cookies::get(app, req, Cookie::Csrf) {
        Some(cookie) if well_formed(cookie) && TokenHash::of(cookie) == TokenHash::of(form.text(FIELD)) => Ok(()),
        _ => Err(Error::CsrfFailed),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..].find('/').map_or(url, |i| &url[..after_scheme + i])
}

fn same_origin(ours: &str, origin: Option<&str>, referer: Option<&str>) -> bool {
    match (origin, referer) {
        (Some(o), _) => o == ours,
        (None, Some(r)) => r == ours || r.strip_prefix(ours).is_some_and(|rest| rest.starts_with(['/', '?'])),
        (None, None) => true,
    }
}

/// What `random_token` makes: 43 base64url characters.
fn well_formed(v: &str) -> bool {
    v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_the_base_url_without_its_path() {
        assert_eq!(origin_of("https://id.example.test"), "https://id.example.test");
        assert_eq!(origin_of("https://id.example.test/auth"), "https://id.example.test");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn only_our_origin_passes() {
        let ours = "https://id.example.test";
        assert!(same_origin(ours, Some(ours), None));
        assert!(same_origin(ours, Some(ours), Some("https://evil.test/")));
        assert!(!same_origin(ours, Some("https://evil.test"), Some("https://id.example.test/login")));
        assert!(!same_origin(ours, Some("null"), None));
        assert!(!same_origin(ours, Some("http://id.example.test"), None));
        assert!(same_origin(ours, None, Some("https://id.example.test/login?x=1")));
        assert!(same_origin(ours, None, Some("https://id.example.test")));
        assert!(!same_origin(ours, None, Some("https://id.example.test.evil.test/login")));
        assert!(!same_origin(ours, None, Some("https://evil.test/?https://id.example.test/")));
        assert!(same_origin(ours, None, None));
    }

    #[test]
    fn tokens_are_what_random_token_makes() {
        assert!(well_formed(random_token().expose()));
        assert!(!well_formed("short"));
        assert!(!well_formed(&("a".repeat(42) + "!")));
    }
}
