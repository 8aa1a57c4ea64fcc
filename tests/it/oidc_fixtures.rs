//! What the OpenID Connect tests share: clients registered by an operator, PKCE, a browser
//! signed in to the portal, the code flow as a client runs it, and form posts to the
//! endpoints that clients call directly.
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::web::{Browser, Page};
use crate::support::{Res, TestServer};

/// Where the clients of these tests are sent back: nothing listens there, the tests read
/// the `Location` header.
pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
/// Where RP-initiated logout may send them (registered with every client here).
pub const LOGOUT_REDIRECT: &str = "http://127.0.0.1:9/signed-out";

pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

/// A PKCE pair (RFC 7636): a random verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self { verifier, challenge }
    }
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(page: &Page) -> Vec<(String, String)> {
    let location = page.header("location").unwrap_or_else(|| panic!("no Location: {} {}", page.status, page.text));
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The claims of a JWT, unchecked (the signature is the library tests' and the real
/// client's to check).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

static OPERATORS: AtomicUsize = AtomicUsize::new(0);

impl TestServer {
    /// A new operator's session token (each call makes another operator).
    pub fn operator(&self) -> String {
        self.admin(&format!("op{}@oidc.test", OPERATORS.fetch_add(1, Ordering::Relaxed)))
    }

    /// Registers a trusted confidential client as a new operator (see `oidc_client`).
    pub fn client(&self, extra: Value) -> Client {
        self.oidc_client(&self.operator(), "Dashboard", extra)
    }

    /// Registers a trusted confidential client sent back to `REDIRECT` (and after logout
    /// to `LOGOUT_REDIRECT`) as the operator `admin`, `extra` adding or overriding fields.
    pub fn oidc_client(&self, admin: &str, name: &str, extra: Value) -> Client {
        let mut body = json!({
            "name": name,
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [LOGOUT_REDIRECT],
            "trusted": true,
        });
        for (k, v) in extra.as_object().expect("an object") {
            body[k] = v.clone();
        }
        let res = self.post("/v1/admin/clients", Some(admin), body);
        assert_eq!(res.status, 201, "register a client: {}", res.text);
        Client { id: res.str("/client/id"), secret: res.body["client_secret"].as_str().map(str::to_owned) }
    }

    /// A token-endpoint request (RFC 6749 §4.1.3) as the client makes it.
    pub fn token_request(&self, client: &Client, fields: &[(&str, &str)]) -> Res {
        self.oauth_post("/v1/oauth/token", client, fields)
    }

    /// A form POST by a client to one of our endpoints: a confidential one with its secret
    /// as Basic credentials, a public one with only its `client_id`.
    pub fn oauth_post(&self, path: &str, client: &Client, fields: &[(&str, &str)]) -> Res {
        let mut fields = fields.to_vec();
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        let basic = client
            .secret
            .as_ref()
            .map(|secret| format!("Basic {}", STANDARD.encode(format!("{}:{secret}", client.id))));
        match &basic {
            Some(b) => headers.push(("Authorization", b.as_str())),
            None => fields.push(("client_id", &client.id)),
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.send("POST", path, None, &headers, Some(body.as_bytes()))
    }

    /// Exchanges a code with the verifier of `pkce`.
    pub fn redeem(&self, client: &Client, code: &str, pkce: &Pkce) -> Res {
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
        ];
        self.token_request(client, &fields)
    }

    /// The token response of a whole sign-in for `scope` (see `sign_in`).
    pub fn sign_in_to(&self, client: &Client, session: &str, scope: &str) -> Res {
        sign_in(self, client, session, &[("scope", scope)])
    }

    /// A refresh with `token` (and these extra fields).
    pub fn refresh(&self, client: &Client, token: &str, extra: &[(&str, &str)]) -> Res {
        let mut fields = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
        fields.extend_from_slice(extra);
        self.token_request(client, &fields)
    }

    /// Whether the grant behind a client's `access_token` is revoked in the database.
    pub fn grant_revoked(&self, access_token: &str) -> bool {
        let gid = claims(access_token)["gid"].as_str().expect("gid").to_owned();
        self.db()
            .query_row("SELECT revoked_at IS NOT NULL FROM oauth_grants WHERE id = ?1", [gid], |r| r.get(0))
            .expect("the grant")
    }
}

/// An OAuth error answer (RFC 6749 §5.2): its status, `error` and a description, never
/// cached.
#[track_caller]
pub fn assert_oauth_error(res: &Res, status: u16, error: &str) {
    assert_eq!((res.status, res.body["error"].as_str()), (status, Some(error)), "{}", res.text);
    assert!(res.body["error_description"].is_string(), "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

/// A browser signed in to the portal with `session` (a session token of the API).
pub fn browser_of<'a>(s: &'a TestServer, session: &str) -> Browser<'a> {
    let b = Browser::new(s);
    b.set_cookie("ks_session", session);
    b
}

/// `/oauth/authorize` with the usual request of `client` (code, openid email profile,
/// state, nonce, PKCE), `extra` adding or replacing parameters.
pub fn authorize(b: &Browser<'_>, client: &Client, pkce: &Pkce, extra: &[(&str, &str)]) -> Page {
    b.get(&authorize_path(client, pkce, extra))
}

pub fn authorize_path(client: &Client, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email profile"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    format!("/oauth/authorize?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish())
}

/// The code of a redirect back to the client, after checking its `state` and `iss`.
#[track_caller]
pub fn code_of(s: &TestServer, page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.text);
    let location = page.header("location").unwrap_or_default();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let params = location_params(page);
    assert_eq!(param(&params, "error"), None, "{location}");
    assert_eq!(param(&params, "state"), Some("st-1"));
    assert_eq!(param(&params, "iss"), Some(s.app.config.base_url.as_str()));
    param(&params, "code").expect("a code").to_owned()
}

/// The `error` of a redirect back to the client, after checking its `state`.
#[track_caller]
pub fn error_of(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.text);
    assert!(page.header("location").is_some_and(|l| l.starts_with(REDIRECT)), "{:?}", page.header("location"));
    let params = location_params(page);
    assert_eq!(param(&params, "state"), Some("st-1"));
    assert!(param(&params, "code").is_none());
    param(&params, "error").expect("an error").to_owned()
}

/// The whole flow for a signed-in browser and a trusted client: its token response.
pub fn sign_in(s: &TestServer, client: &Client, session: &str, extra: &[(&str, &str)]) -> Res {
    let pkce = Pkce::new();
    let code = code_of(s, &authorize(&browser_of(s, session), client, &pkce, extra));
    let res = s.redeem(client, &code, &pkce);
    assert_eq!(res.status, 200, "{}", res.text);
    res
}

/// The parameters of an authorize path, as the pages' hidden fields carry them.
pub fn params_of(path: &str) -> Vec<(String, String)> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}
