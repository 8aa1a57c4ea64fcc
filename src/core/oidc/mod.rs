//! The OpenID Connect provider (OpenID Connect Core 1.0, RFC 6749, 7636, 7009, 7662): one
//! module per endpoint or grant. Its errors are the RFCs' (`OAuthError`), never the API's
//! error shape, since the clients are standard libraries.

pub mod apps;
pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod code_grant;
pub mod consent;
pub mod discovery;
pub mod grants;
pub mod id_token;
pub mod introspect;
pub mod logout;
pub mod refresh_grant;
pub mod revocation;
pub mod userinfo;

use std::fmt;

use crate::error::Error;

/// An error as RFC 6749 §5.2 shapes it: a code from the RFC's list and a description for
/// the developer reading the client's log (never a secret, never who else exists).
#[derive(Debug)]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self { code, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// The client's credentials are missing, wrong, or name a disabled client.
    pub fn invalid_client() -> Self {
        Self::new("invalid_client", "client authentication failed")
    }

    /// The status of the JSON answer (the token, revocation, introspection and userinfo
    /// endpoints): 401 for a client that did not authenticate (RFC 6749 §5.2) or a bad
    /// access token (RFC 6750 §3.1), 503 while the server is
    /// saturated, 500 for our own failures, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self.code {
            "invalid_client" | "invalid_token" => 401,
            "temporarily_unavailable" => 503,
            "server_error" => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

/// Our own failures are logged here and reach the client only as a code: a full hashing
/// pool or a rate limit is `temporarily_unavailable`, anything else `server_error`.
impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(_) | Error::RateLimited { .. } => {
                Self::new("temporarily_unavailable", "try again shortly")
            }
            Error::InvalidRequest { message, .. } => Self::invalid_request(message),
            other => {
                log::error!("oauth: {other}");
                Self::new("server_error", "the server could not answer")
            }
        }
    }
}

/// The scopes this provider knows (OIDC Core §5.4 and §11). Others in a request are
/// dropped rather than refused (RFC 6749 §3.3 lets a server grant less than asked, and
/// says so in the token response's `scope`): clients such as Grafana ask for `groups`.
const KNOWN_SCOPES: [&str; 4] = ["email", "offline_access", "openid", "profile"];

/// A set of known scopes, sorted: compared and stored as its space-separated text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scope(Vec<&'static str>);

impl Scope {
    pub fn parse(raw: &str) -> Self {
        Self(KNOWN_SCOPES.iter().copied().filter(|known| raw.split(' ').any(|s| s == *known)).collect())
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `other` is in this set (a consent covers a request).
    pub fn covers(&self, other: &Scope) -> bool {
        other.0.iter().all(|s| self.0.contains(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_keep_only_known_ones_in_one_order() {
        let s = Scope::parse("profile openid groups  email openid");
        assert_eq!(s.to_string(), "email openid profile");
        assert!(s.covers(&Scope::parse("openid email")));
        assert!(!s.covers(&Scope::parse("openid offline_access")));
        assert_eq!(Scope::parse("openidx").to_string(), "");
    }
}
