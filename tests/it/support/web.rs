//! A browser as far as the pages care: a cookie jar, forms posted urlencoded with the CSRF
//! token of the jar and the Origin of the base URL, and redirects not followed (so a test
//! sees each 303 and its cookies).
use std::cell::RefCell;
use std::time::Duration;

use super::TestServer;

pub struct Browser<'a> {
    s: &'a TestServer,
    agent: ureq::Agent,
    jar: RefCell<Vec<(String, String)>>,
}

/// A page or redirect as received.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    /// Names lower-cased; `set-cookie` once per cookie.
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Page {
    /// The href of the page's "next page" link (`rel="next"`), unescaped.
    pub fn next_link(&self) -> Option<String> {
        let link = self.text.find("rel=\"next\"")?;
        let tag = self.text[..link].rfind("<a ")?;
        let href = self.text[tag..].find("href=\"")? + tag + 6;
        let end = self.text[href..].find('"')? + href;
        Some(self.text[href..end].replace("&#38;", "&").replace("&amp;", "&"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `Set-Cookie` header that sets (or clears) `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.headers.iter().find(|(n, v)| n == "set-cookie" && v.starts_with(&prefix)).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, text: &str) -> bool {
        self.text.contains(text)
    }

    /// The `value` of the first input named `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        let at = self.text.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.text[at..];
        let value = &rest[rest.find("value=\"")? + 7..];
        Some(value[..value.find('"')?].to_owned())
    }

    /// Asserts an HTML page with our Content-Security-Policy.
    #[track_caller]
    pub fn assert_page(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(self.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", self.headers);
        let csp = self.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "CSP: {csp:?}");
        assert!(!csp.contains("unsafe-inline"), "CSP: {csp:?}");
    }

    /// Asserts a 303 to `location`.
    #[track_caller]
    pub fn assert_redirect(&self, location: &str) {
        assert_eq!((self.status, self.header("location")), (303, Some(location)), "{}", self.text);
    }
}

impl<'a> Browser<'a> {
    pub fn new(s: &'a TestServer) -> Self {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(30)).build();
        Self { s, agent, jar: RefCell::new(Vec::new()) }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.borrow().iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.jar.borrow_mut();
        jar.retain(|(n, _)| n != name);
        jar.push((name.to_owned(), value.to_owned()));
    }

    /// The CSRF cookie's name: on an https base URL it carries the `__Host-` prefix.
    fn csrf_cookie(&self) -> &'static str {
        if self.s.app.config.base_url.starts_with("https://") { "__Host-ks_csrf" } else { "ks_csrf" }
    }

    pub fn get(&self, path: &str) -> Page {
        self.send("GET", path, &[], None)
    }

    /// Posts a form as the page would: with the jar's CSRF token (fetching `/login` first
    /// when the jar has none) and our own Origin.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let name = self.csrf_cookie();
        if self.cookie(name).is_none() {
            self.get("/login");
        }
        let csrf = self.cookie(name).expect("a CSRF cookie");
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        let origin = self.s.app.config.base_url.clone();
        self.post_raw(path, &[("Origin", &origin)], &all)
    }

    /// Posts exactly these fields with these headers (no token or Origin added).
    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, Some(body.as_bytes()))
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Page {
        let cookies: Vec<String> = self.jar.borrow().iter().map(|(n, v)| format!("{n}={v}")).collect();
        let cookie = cookies.join("; ");
        let mut all: Vec<(&str, &str)> = if cookie.is_empty() { Vec::new() } else { vec![("Cookie", &cookie)] };
        // As a browser asks for a page (unknown paths answer JSON to other clients).
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
            all.push(("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"));
        }
        all.extend_from_slice(headers);
        let (status, headers, text) =
            super::exchange(&self.agent, method, &format!("{}{path}", self.s.base), &all, body);
        let page = Page { status, headers, text };
        for (_, set) in page.headers.iter().filter(|(n, _)| n == "set-cookie") {
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attributes.contains("Max-Age=0") {
                self.jar.borrow_mut().retain(|(n, _)| n != name);
            } else {
                self.set_cookie(name, value);
            }
        }
        page
    }
}
