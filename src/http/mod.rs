//! The thin plumbing between tiny_http and the handlers: requests, responses, routing,
//! JSON and form bodies, cookies, CSRF, static assets, credentials and the one mapping
//! from `Error` to a response.
pub mod assets;
pub mod auth;
pub mod body;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod form;
pub mod oauth;
#[cfg(test)]
mod properties;
pub mod proxies;
pub mod router;

use std::cell::Cell;
use std::net::IpAddr;

use serde::Serialize;

use crate::core::principal::Origin;
use crate::types::TenantId;
use proxies::TrustedProxies;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Self {
        match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }
}

/// A request as the handlers see it: the body is already read (and size-checked).
pub struct Req {
    pub method: Method,
    pub path: String,
    query: String,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client address: the peer, or with `--trust-proxy` the rightmost X-Forwarded-For
    /// hop that is not one of `--trusted-proxies`.
    pub ip: String,
    /// The matched route's template (for logs: never the raw URL, which may hold a token).
    pub route: &'static str,
    params: Vec<(&'static str, String)>,
    /// The tenant a portal session on this request acts in, once authenticated (for logs).
    pub acting_tenant: Cell<Option<TenantId>>,
}

impl Req {
    pub fn new(
        method: Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        peer: Option<IpAddr>,
        proxies: Option<&TrustedProxies>,
    ) -> Self {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut req = Self {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body,
            ip: String::new(),
            route: "(unmatched)",
            params: Vec::new(),
            acting_tenant: Cell::new(None),
        };
        req.ip = req.client_ip(peer, proxies);
        req
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A path parameter of the matched route, e.g. `{id}`.
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }

    pub(crate) fn set_route(&mut self, route: &'static str, params: Vec<(&'static str, String)>) {
        self.route = route;
        self.params = params;
    }

    /// A query parameter, percent-decoded; the first one when repeated.
    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// Every query parameter, percent-decoded, in order (repeats kept).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes()).into_owned().collect()
    }

    pub fn origin(&self) -> Origin {
        let user_agent: String = self.header("user-agent").unwrap_or_default().chars().take(256).collect();
        Origin { ip: self.ip.clone(), user_agent }
    }

    /// The full address (audit rows and sessions show it; the limiter groups IPv6 by /64).
    fn client_ip(&self, peer: Option<IpAddr>, proxies: Option<&TrustedProxies>) -> String {
        let Some(peer) = peer else { return "unknown".into() };
        let client = match proxies {
            // Security: every X-Forwarded-For line, read from the right past our own proxies.
            Some(proxies) => {
                let forwarded: Vec<&str> =
                    self.headers.iter().filter(|(n, _)| n == "x-forwarded-for").map(|(_, v)| v.as_str()).collect();
                proxies.client(peer, &forwarded)
            }
            None => peer.to_canonical(),
        };
        client.to_string()
    }
}

/// The policy of every page: our own script, style and images only (no inline ones),
/// forms post only to us, and no other site may frame the page.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self { status, headers: vec![("Content-Type", "application/json".into())], body },
            Err(e) => error::to_response(&crate::error::Error::internal(e)),
        }
    }

    /// A JSON body already serialized.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Self {
        Self { status, headers: vec![("Content-Type", "application/json".into())], body }
    }

    /// A JSON document kept as text (the OpenAPI document).
    pub fn json_text(text: &'static str) -> Self {
        Self { status: 200, headers: vec![("Content-Type", "application/json".into())], body: text.as_bytes().to_vec() }
    }

    /// A page.
    pub fn html(status: u16, body: String) -> Self {
        let headers =
            vec![("Content-Type", "text/html; charset=utf-8".into()), ("Content-Security-Policy", CSP.into())];
        Self { status, headers, body: body.into_bytes() }
    }

    /// 303 See Other: after a form's POST, the browser GETs `location`.
    pub fn redirect(location: &str) -> Self {
        Self { status: 303, headers: vec![("Location", location.into())], body: Vec::new() }
    }

    /// A page whose forms may lead to `origin` too (`form-action`, which a browser applies
    /// to the redirects after a POST): the sign-in pages of an authorization request, whose
    /// last redirect goes to the client.
    pub fn with_form_target(mut self, origin: &str) -> Self {
        for (name, value) in &mut self.headers {
            if *name == "Content-Security-Policy" {
                *value = value.replace("form-action 'self'", &format!("form-action 'self' {origin}"));
            }
        }
        self
    }

    /// Adds a `Set-Cookie` header (a value from `cookies::set` or `cookies::clear`).
    pub fn with_cookie(self, set_cookie: String) -> Self {
        self.with_header("Set-Cookie", set_cookie)
    }

    pub fn no_content() -> Self {
        Self::empty(204)
    }

    /// A status and headers only (forward authentication answers a proxy this way).
    pub fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}
