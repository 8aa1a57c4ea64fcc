//! The token endpoint's `authorization_code` grant and userinfo, error by error: every
//! refusal in RFC 6749's shape (never the API's), a replayed code revoking what it gave,
//! and the claims of a sign-in with a second factor. Discovery names what is served.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::oidc_fixtures::{
    Client, Pkce, REDIRECT, assert_oauth_error, authorize, browser_of, claims, code_of, sign_in,
};
use crate::support::{PASSWORD, Res, TestServer};

/// A fresh code for `client` and the verifier it needs.
fn fresh_code(s: &TestServer, client: &Client, session: &str) -> (String, Pkce) {
    let pkce = Pkce::new();
    let code = code_of(s, &authorize(&browser_of(s, session), client, &pkce, &[]));
    (code, pkce)
}

#[test]
fn a_code_is_good_once_and_its_replay_revokes_what_it_gave() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-replay.test");
    let client = s.client(json!({}));
    let (code, pkce) = fresh_code(&s, &client, &owner.token);
    let first = s.redeem(&client, &code, &pkce);
    assert_eq!(first.status, 200, "{}", first.text);
    let access = first.str("/access_token");
    assert_eq!(s.get("/v1/oauth/userinfo", Some(&access)).status, 200);
    let gateway = s.client(json!({ "introspect": true }));
    let seen = s.oauth_post("/v1/oauth/introspect", &gateway, &[("token", &access)]);
    assert_eq!((seen.status, &seen.body["active"]), (200, &json!(true)), "{}", seen.text);
    assert_eq!(seen.body["client_id"], client.id.as_str());
    assert_eq!(seen.body["sub"], owner.user_id.as_str());
    assert_eq!(seen.body["scope"], "email openid profile");
    assert_oauth_error(&s.redeem(&client, &code, &pkce), 400, "invalid_grant");
    // Someone else held the code: the tokens of its first use end too.
    assert_oauth_error(&s.get("/v1/oauth/userinfo", Some(&access)), 401, "invalid_token");
    let seen = s.oauth_post("/v1/oauth/introspect", &gateway, &[("token", &access)]);
    assert_eq!(seen.body, json!({ "active": false }));
    let revoked: i64 =
        s.db().query_row("SELECT count(*) FROM oauth_grants WHERE revoked_at IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(revoked, 1);
    assert!(s.audit_text().contains("oauth.code_replayed"));
    assert!(!s.audit_text().contains(&code));
}

#[test]
fn a_code_is_bound_to_its_client_redirect_verifier_and_minute() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-bound.test");
    let client = s.client(json!({}));
    let other = s.client(json!({ "redirect_uris": [REDIRECT, "http://127.0.0.1:9/other"] }));
    let (code, pkce) = fresh_code(&s, &client, &owner.token);
    let wrong_verifier = Pkce::new().verifier;
    let with = |c: &Client, fields: &[(&str, &str)]| s.token_request(c, fields);
    let grant = ("grant_type", "authorization_code");
    let cases: Vec<Res> = vec![
        s.redeem(&other, &code, &pkce),
        with(&client, &[grant, ("code", &code), ("code_verifier", &pkce.verifier)]),
        with(
            &client,
            &[grant, ("code", &code), ("redirect_uri", "http://127.0.0.1:9/other"), ("code_verifier", &pkce.verifier)],
        ),
        with(&client, &[grant, ("code", &code), ("redirect_uri", REDIRECT)]),
        with(&client, &[grant, ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &wrong_verifier)]),
        with(&client, &[grant, ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", "short")]),
        with(&client, &[grant, ("code", "no-such-code"), ("redirect_uri", REDIRECT)]),
    ];
    for res in &cases {
        assert_oauth_error(res, 400, "invalid_grant");
    }
    // None of those spent it.
    assert_eq!(s.redeem(&client, &code, &pkce).status, 200);
    // A verifier for a request that had no challenge means the challenge was stripped.
    let b = browser_of(&s, &owner.token);
    let page = authorize(&b, &client, &pkce, &[("code_challenge", ""), ("code_challenge_method", "")]);
    let bare = code_of(&s, &page);
    assert_oauth_error(&s.redeem(&client, &bare, &pkce), 400, "invalid_grant");
    let res = with(&client, &[grant, ("code", &bare), ("redirect_uri", REDIRECT)]);
    assert_eq!(res.status, 200, "{}", res.text);
    // Sixty seconds, then the code is gone.
    let (late, pkce) = fresh_code(&s, &client, &owner.token);
    s.app.clock.advance(61);
    assert_oauth_error(&s.redeem(&client, &late, &pkce), 400, "invalid_grant");
}

#[test]
fn clients_authenticate_as_registered() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-auth.test");
    let client = s.client(json!({}));
    let public = s.client(json!({ "public": true }));
    assert!(public.secret.is_none());
    let (code, pkce) = fresh_code(&s, &client, &owner.token);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let form = |headers: &[(&str, &str)], extra: &[(&str, &str)]| {
        let mut all = fields.to_vec();
        all.extend_from_slice(extra);
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(all).finish();
        let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        s.send("POST", "/v1/oauth/token", None, &h, Some(body.as_bytes()))
    };
    let wrong = format!("Basic {}", STANDARD.encode(format!("{}:wrong", client.id)));
    let res = form(&[("Authorization", &wrong)], &[]);
    assert_oauth_error(&res, 401, "invalid_client");
    assert_eq!(res.header("www-authenticate"), Some("Basic realm=\"keystead\""));
    assert_oauth_error(&form(&[], &[]), 401, "invalid_client");
    assert_oauth_error(&form(&[], &[("client_id", &client.id)]), 401, "invalid_client");
    // A public client that sends a secret is guessing.
    assert_oauth_error(&form(&[], &[("client_id", &public.id), ("client_secret", "x")]), 401, "invalid_client");
    // client_secret_post works as Basic does.
    let secret = client.secret.clone().unwrap();
    let res = form(&[], &[("client_id", &client.id), ("client_secret", &secret)]);
    assert_eq!(res.status, 200, "{}", res.text);
    // Not a form; no grant type; an unknown one.
    let res = s.post("/v1/oauth/token", None, json!({ "grant_type": "authorization_code" }));
    assert_oauth_error(&res, 400, "invalid_request");
    assert_oauth_error(&s.token_request(&client, &[("code", "x")]), 400, "invalid_request");
    assert_oauth_error(&s.token_request(&client, &[("grant_type", "password")]), 400, "unsupported_grant_type");
    assert_oauth_error(
        &s.token_request(&client, &[("grant_type", "authorization_code"), ("grant_type", "authorization_code")]),
        400,
        "invalid_request",
    );
    // A public client redeems with PKCE alone.
    let res = sign_in(&s, &public, &owner.token, &[]);
    assert_eq!(claims(&res.str("/id_token"))["aud"], public.id.as_str());
}

#[test]
fn a_disabled_client_or_a_suspended_tenant_ends_the_exchange() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-end.test");
    let client = s.client(json!({}));
    let op = s.operator();
    let (code, pkce) = fresh_code(&s, &client, &owner.token);
    let res =
        s.post(&format!("/v1/admin/tenants/{}/suspend", owner.tenant_id), Some(&op), json!({ "reason": "unpaid" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_oauth_error(&s.redeem(&client, &code, &pkce), 400, "invalid_grant");
    let res = s.post(&format!("/v1/admin/tenants/{}/restore", owner.tenant_id), Some(&op), json!({ "reason": "paid" }));
    assert_eq!(res.status, 200, "{}", res.text);
    // The suspension ended the owner's sessions.
    let session = s.login("owner@oidc-end.test", PASSWORD).str("/session_token");
    let (code, pkce) = fresh_code(&s, &client, &session);
    let res = s.post(&format!("/v1/admin/clients/{}/disable", client.id), Some(&op), json!({ "reason": "retired" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_oauth_error(&s.redeem(&client, &code, &pkce), 401, "invalid_client");
}

#[test]
fn userinfo_takes_only_a_live_client_access_token() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-info.test");
    let client = s.client(json!({}));
    let res = s.get("/v1/oauth/userinfo", None);
    assert_oauth_error(&res, 401, "invalid_token");
    assert_eq!(res.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
    // Not ours to answer: a portal access token, a session token, garbage.
    let portal = s.post("/v1/auth/token", Some(&owner.token), json!({})).str("/access_token");
    for token in [portal.as_str(), owner.token.as_str(), "garbage", "a.b.c"] {
        assert_oauth_error(&s.get("/v1/oauth/userinfo", Some(token)), 401, "invalid_token");
    }
    let access = sign_in(&s, &client, &owner.token, &[]).str("/access_token");
    let post = s.send("POST", "/v1/oauth/userinfo", Some(&access), &[], None);
    assert_eq!((post.status, post.body["sub"].as_str()), (200, Some(owner.user_id.as_str())), "{}", post.text);
    // It lives five minutes.
    s.app.clock.advance(301);
    assert_oauth_error(&s.get("/v1/oauth/userinfo", Some(&access)), 401, "invalid_token");
}

#[test]
fn a_second_factor_shows_in_amr_and_acr() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-mfa.test");
    let app = s.enrol_totp("/v1/me/mfa", &owner.token);
    let res = s.login("owner@oidc-mfa.test", PASSWORD);
    let token = TestServer::mfa_token(&res);
    let res = s.post("/v1/auth/mfa", None, json!({ "mfa_token": token, "code": app.code(&s) }));
    assert_eq!(res.status, 200, "{}", res.text);
    let client = s.client(json!({}));
    let id = claims(&sign_in(&s, &client, &res.str("/session_token"), &[]).str("/id_token"));
    assert_eq!(id["amr"], json!(["pwd", "otp"]));
    assert_eq!(id["acr"], "mfa");
}

#[test]
fn discovery_names_the_endpoints_served() {
    let s = TestServer::spawn();
    let res = s.get("/.well-known/openid-configuration", None);
    assert_eq!(res.status, 200, "{}", res.text);
    let base = s.app.config.base_url.clone();
    assert_eq!(res.body["issuer"], base.as_str());
    assert_eq!(res.body["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(res.body["id_token_signing_alg_values_supported"][0], "RS256");
    for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] {
        let url = res.str(&format!("/{endpoint}"));
        let path = url.strip_prefix(&base).unwrap_or_else(|| panic!("{endpoint} {url} is not on {base}"));
        let method = if endpoint == "token_endpoint" { "POST" } else { "GET" };
        assert_ne!(s.send(method, path, None, &[], None).status, 404, "{endpoint} {path}");
    }
}

#[test]
fn an_id_token_is_signed_with_the_clients_algorithm_and_a_published_key() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-alg.test");
    let header = |jwt: &str| -> serde_json::Value {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let part = jwt.split('.').next().expect("a header");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    for (alg, body) in [
        ("RS256", json!({})),
        ("ES256", json!({ "id_token_alg": "ES256" })),
        ("EdDSA", json!({ "id_token_alg": "EdDSA" })),
    ] {
        let client = s.client(body);
        let h = header(&sign_in(&s, &client, &owner.token, &[]).str("/id_token"));
        assert_eq!(h["alg"], alg, "{h}");
        let jwks = s.get("/.well-known/jwks.json", None);
        let published =
            jwks.body["keys"].as_array().expect("keys").iter().any(|k| k["kid"] == h["kid"] && k["alg"] == alg);
        assert!(published, "{alg}: {h} not in {}", jwks.text);
    }
}
