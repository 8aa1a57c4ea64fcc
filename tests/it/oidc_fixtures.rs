//! Fixtures of the OpenID Connect tests: an operator's client, a signed-in browser's trip
//! through `/oauth/authorize` (PKCE, no consent: the clients are trusted), and form posts
//! to the endpoints that clients call directly.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::web::Browser;
use crate::support::{Res, TestServer};

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub const LOGOUT_REDIRECT: &str = "http://127.0.0.1:9/signed-out";
/// A PKCE verifier and its S256 challenge (computed with Python's hashlib, not our code).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K1HsXcsTwQojk7KiDUdL3_Pb0M";
pub const CHALLENGE: &str = "YSR4ayf5in_nTNltDn1cp5oLdr7iPF03ETwO-j9XnA4";

/// A registered client and, for a confidential one, its secret.
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

impl Client {
    /// Its credentials as the token endpoint takes them: Basic for a confidential client,
    /// `client_id` in the form for a public one.
    fn credentials(&self) -> (Vec<(String, String)>, Option<String>) {
        match &self.secret {
            Some(secret) => (Vec::new(), Some(format!("Basic {}", STANDARD.encode(format!("{}:{secret}", self.id))))),
            None => (vec![("client_id".to_owned(), self.id.clone())], None),
        }
    }
}

impl TestServer {
    /// Registers a trusted client as the operator `admin`, with `extra` fields on top.
    pub fn oidc_client(&self, admin: &str, name: &str, extra: Value) -> Client {
        let mut body = json!({
            "name": name,
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [LOGOUT_REDIRECT],
            "trusted": true,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let res = self.post("/v1/admin/clients", Some(admin), body);
        assert_eq!(res.status, 201, "{}", res.text);
        let secret = res.body["client_secret"].as_str().map(str::to_owned);
        Client { id: res.str("/client/id"), secret }
    }

    /// The code `/oauth/authorize` sends the browser back with, for the portal session
    /// `session` (a signed-in browser's `ks_session` cookie) asking `scope`.
    pub fn code_for(&self, client: &Client, session: &str, scope: &str) -> String {
        let b = Browser::new(self);
        b.set_cookie("ks_session", session);
        let page = b.get(&format!("/oauth/authorize?{}", authorize_query(client, scope)));
        code_of(page.header("location").unwrap_or_else(|| panic!("no redirect: {}", page.text)))
    }

    /// Redeems `code` at the token endpoint.
    pub fn redeem(&self, client: &Client, code: &str) -> Res {
        let res = self.oauth_post(
            "/oauth/token",
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        );
        assert_eq!(res.status, 200, "{}", res.text);
        res
    }

    /// A form post to one of the client endpoints (`/oauth/token`, `/oauth/revoke`) as
    /// `client` authenticates.
    pub fn oauth_post(&self, path: &str, client: &Client, fields: &[(&str, &str)]) -> Res {
        let (mut pairs, authorization) = client.credentials();
        pairs.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend(authorization.as_deref().map(|a| ("Authorization", a)));
        self.send("POST", path, None, &headers, Some(body.as_bytes()))
    }

    /// The token response of a whole sign-in: a code for `scope`, redeemed.
    pub fn sign_in_to(&self, client: &Client, session: &str, scope: &str) -> Res {
        let code = self.code_for(client, session, scope);
        self.redeem(client, &code)
    }

    /// A refresh with `token` (and these extra fields).
    pub fn refresh(&self, client: &Client, token: &str, extra: &[(&str, &str)]) -> Res {
        let mut fields = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
        fields.extend_from_slice(extra);
        self.oauth_post("/oauth/token", client, &fields)
    }

    /// The claims of a JWT, unverified (the tests of signing verify them).
    pub fn claims_of(&self, jwt: &str) -> Value {
        let part = jwt.split('.').nth(1).expect("a JWT");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON claims")
    }

    /// Whether the grant behind `access_token` is revoked in the database.
    pub fn grant_revoked(&self, access_token: &str) -> bool {
        let gid = self.claims_of(access_token)["gid"].as_str().expect("gid").to_owned();
        self.db()
            .query_row("SELECT revoked_at IS NOT NULL FROM oauth_grants WHERE id = ?1", [gid], |r| r.get(0))
            .expect("the grant")
    }
}

/// An OAuth error answer: its status and `error` code, never cached.
#[track_caller]
pub fn assert_oauth_error(res: &Res, status: u16, code: &str) {
    assert_eq!((res.status, res.body["error"].as_str()), (status, Some(code)), "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

/// The authorization request's parameters (with PKCE) of `client` for `scope`.
pub fn authorize_params<'a>(client: &'a Client, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

pub fn authorize_query(client: &Client, scope: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(authorize_params(client, scope)).finish()
}

/// The `code` of the redirect back to the client.
pub fn code_of(location: &str) -> String {
    let url = url::Url::parse(location).expect("a URL");
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code: {location}"))
}
