//! `/oauth/authorize` as a browser meets it: the checks of the request (shown when the
//! client or its redirect URI cannot be trusted, sent back to the client otherwise), the
//! sign-in on the way (`prompt`, `max_age`, `login_hint`), the tenant choice and consent,
//! and the code it ends with.
use serde_json::json;

use crate::oidc_fixtures::{
    Client, Pkce, authorize, authorize_path, browser_of, claims, code_of, error_of, location_params, param, params_of,
    sign_in,
};
use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer};

#[test]
fn the_code_flow_signs_the_person_in_with_their_tenant_and_role() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-flow.test");
    let member = s.join(&owner.token, "member@oidc-flow.test", "member");
    let client = s.client(json!({}));
    let res = sign_in(&s, &client, &member.token, &[]);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 300);
    assert_eq!(res.body["scope"], "email openid profile");
    assert!(res.body.get("refresh_token").is_none(), "no refresh token without offline_access: {}", res.text);
    let id = claims(&res.str("/id_token"));
    assert_eq!(id["iss"], s.app.config.base_url.as_str());
    assert_eq!(id["aud"], client.id.as_str());
    assert_eq!(id["azp"], client.id.as_str());
    assert_eq!(id["sub"], member.user_id.as_str());
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["email"], "member@oidc-flow.test");
    // Activated through a handed-over link, which proves no address (API.md).
    assert_eq!(id["email_verified"], false);
    assert_eq!(id["tid"], owner.tenant_id.as_str());
    assert_eq!(id["role"], "member");
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id.get("acr").is_none(), "a password alone claims no acr: {id}");
    let auth_time = id["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time <= id["iat"].as_i64().expect("iat") && id["exp"].as_i64() > id["iat"].as_i64());
    // userinfo answers the same person for the access token.
    let info = s.get("/v1/oauth/userinfo", Some(&res.str("/access_token")));
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["sub"], member.user_id.as_str());
    assert_eq!(
        (info.body["email"].as_str(), info.body["role"].as_str()),
        (Some("member@oidc-flow.test"), Some("member"))
    );
    // Only the code's hash is stored, and it was used.
    let db = s.db();
    let codes: i64 =
        db.query_row("SELECT count(*) FROM oauth_codes WHERE redeemed_at IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(codes, 1);
    assert!(!s.audit_text().contains(&res.str("/access_token")));
}

#[test]
fn scopes_choose_the_claims_and_unknown_ones_are_dropped() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-scope.test");
    let client = s.client(json!({}));
    let res = sign_in(&s, &client, &owner.token, &[("scope", "openid groups")]);
    assert_eq!(res.body["scope"], "openid");
    let id = claims(&res.str("/id_token"));
    assert!(id.get("email").is_none() && id.get("name").is_none(), "{id}");
    let info = s.get("/v1/oauth/userinfo", Some(&res.str("/access_token")));
    assert_eq!(info.body, json!({ "sub": owner.user_id, "tid": owner.tenant_id, "role": "owner" }));
}

#[test]
fn a_request_from_an_unknown_client_or_redirect_is_shown_never_followed() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-shown.test");
    let client = s.client(json!({}));
    let b = browser_of(&s, &owner.token);
    let pkce = Pkce::new();
    let unknown = Client { id: uuid::Uuid::new_v4().to_string(), secret: None };
    let malformed = Client { id: "not-a-client".into(), secret: None };
    for page in [
        authorize(&b, &unknown, &pkce, &[]),
        authorize(&b, &malformed, &pkce, &[]),
        authorize(&b, &client, &pkce, &[("redirect_uri", "")]),
        authorize(&b, &client, &pkce, &[("redirect_uri", "http://127.0.0.1:9/cb/")]),
        authorize(&b, &client, &pkce, &[("redirect_uri", "https://evil.test/cb")]),
        b.get(&format!("{}&redirect_uri=https://evil.test/cb", authorize_path(&client, &pkce, &[]))),
    ] {
        page.assert_page(400);
        assert!(page.header("location").is_none());
        assert!(page.has("invalid_request"), "{}", page.text);
    }
    // A disabled client is unknown here.
    let op = s.operator();
    let res = s.post(&format!("/v1/admin/clients/{}/disable", client.id), Some(&op), json!({ "reason": "retired" }));
    assert_eq!(res.status, 200, "{}", res.text);
    authorize(&b, &client, &pkce, &[]).assert_page(400);
}

#[test]
fn a_bad_request_goes_back_to_the_client_with_its_error_and_state() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-back.test");
    let client = s.client(json!({}));
    let public = s.client(json!({ "public": true }));
    let b = browser_of(&s, &owner.token);
    let pkce = Pkce::new();
    type Case<'a> = (&'a Client, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (&client, &[("response_type", "token")], "unsupported_response_type"),
        (&client, &[("response_type", "")], "unsupported_response_type"),
        (&client, &[("scope", "email profile")], "invalid_scope"),
        (&client, &[("code_challenge_method", "plain")], "invalid_request"),
        (&client, &[("code_challenge_method", "")], "invalid_request"),
        (&client, &[("code_challenge", "too-short")], "invalid_request"),
        (&client, &[("code_challenge", ""), ("code_challenge_method", "S256")], "invalid_request"),
        (&public, &[("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
        (&client, &[("prompt", "none login")], "invalid_request"),
        (&client, &[("prompt", "sometimes")], "invalid_request"),
        (&client, &[("max_age", "-1")], "invalid_request"),
        (&client, &[("max_age", "soon")], "invalid_request"),
        (&client, &[("response_mode", "fragment")], "invalid_request"),
        (&client, &[("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
        (&client, &[("request_uri", "https://client.test/r")], "request_uri_not_supported"),
        (&client, &[("nonce", &"n".repeat(513))], "invalid_request"),
    ];
    for (c, extra, error) in cases {
        assert_eq!(error_of(&authorize(&b, c, &pkce, extra)), *error, "{extra:?}");
    }
    let repeated = format!("{}&scope=openid", authorize_path(&client, &pkce, &[]));
    assert_eq!(error_of(&b.get(&repeated)), "invalid_request");
    // A repeated state goes back without one (which of the two would it be?).
    let page = b.get(&format!("{}&state=st-2", authorize_path(&client, &pkce, &[])));
    assert_eq!(page.status, 303);
    let params = location_params(&page);
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert_eq!(param(&params, "state"), None);
    let long = "s".repeat(513);
    let params = location_params(&authorize(&b, &client, &pkce, &[("state", &long)]));
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    // A confidential client may leave PKCE out; a public one may not (above).
    let page = authorize(&b, &client, &pkce, &[("code_challenge", ""), ("code_challenge_method", "")]);
    code_of(&s, &page);
}

#[test]
fn a_signed_out_browser_signs_in_and_comes_back() {
    let s = TestServer::spawn();
    s.signup("owner@oidc-login.test");
    let client = s.client(json!({}));
    let b = Browser::new(&s);
    let pkce = Pkce::new();
    assert_eq!(error_of(&authorize(&b, &client, &pkce, &[("prompt", "none")])), "login_required");
    let page = authorize(&b, &client, &pkce, &[("login_hint", "owner@oidc-login.test")]);
    assert_eq!(page.status, 303);
    let login = page.header("location").unwrap().to_owned();
    assert!(login.starts_with("/login?next=%2Foauth%2Fauthorize%3F"), "{login}");
    let form = b.get(&login);
    form.assert_page(200);
    assert_eq!(form.field("email").as_deref(), Some("owner@oidc-login.test"), "login_hint fills in the email");
    // The login page's forms may end at the client (the browser applies form-action to
    // the redirects after the POST).
    let csp = form.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9;"), "{csp}");
    let next = form.field("next").unwrap().replace("&amp;", "&").replace("&#38;", "&");
    let signed_in =
        b.post("/login", &[("email", "owner@oidc-login.test"), ("password", PASSWORD), ("next", next.as_str())]);
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    let back = signed_in.header("location").unwrap().to_owned();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let code = code_of(&s, &b.get(&back));
    assert_eq!(s.redeem(&client, &code, &pkce).status, 200);
    // Other pages keep the strict policy.
    let plain = Browser::new(&s).get("/login");
    assert!(plain.header("content-security-policy").unwrap().contains("form-action 'self';"));
}

#[test]
fn prompt_login_and_max_age_ask_for_a_fresh_sign_in() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-again.test");
    let client = s.client(json!({}));
    let b = browser_of(&s, &owner.token);
    let pkce = Pkce::new();
    for extra in [[("prompt", "login")], [("max_age", "0")]] {
        s.app.clock.advance(2);
        let page = authorize(&b, &client, &pkce, &extra);
        let login = page.header("location").unwrap_or_default().to_owned();
        assert!(login.starts_with("/login?next=") && login.ends_with("&again=1"), "{login}");
        // The way back drops what asked for the fresh sign-in, or it would be asked again.
        let next: String = form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "next")
            .unwrap()
            .1
            .into_owned();
        assert!(!next.contains("prompt=") && !next.contains("max_age="), "{next}");
        // The login form is shown although the browser is signed in.
        b.get(&login).assert_page(200);
    }
    s.app.clock.advance(2);
    assert_eq!(error_of(&authorize(&b, &client, &pkce, &[("prompt", "none"), ("max_age", "0")])), "login_required");
    // A max_age the sign-in meets passes.
    code_of(&s, &authorize(&b, &client, &pkce, &[("max_age", "3600")]));
}

#[test]
fn an_account_in_several_tenants_chooses_one_unless_the_client_names_it() {
    let s = TestServer::spawn();
    let a = s.signup("owner@oidc-ta.test");
    let b_owner = s.signup("owner@oidc-tb.test");
    s.add_member(&a, &b_owner, "admin", "active");
    let client = s.client(json!({}));
    let browser = browser_of(&s, &b_owner.token);
    let pkce = Pkce::new();
    let page = authorize(&browser, &client, &pkce, &[]);
    page.assert_page(200);
    assert!(page.has("Tenant of owner") && page.has(&a.tenant_id) && page.has(&b_owner.tenant_id), "{}", page.text);
    let answer = |tenant: &str| {
        let mut fields: Vec<(String, String)> = params_of(&authorize_path(&client, &pkce, &[]));
        fields.push(("tenant".into(), tenant.into()));
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        browser.post("/oauth/authorize", &borrowed)
    };
    let code = code_of(&s, &answer(&a.tenant_id));
    let id = claims(&s.redeem(&client, &code, &pkce).str("/id_token"));
    assert_eq!((id["tid"].as_str(), id["role"].as_str()), (Some(a.tenant_id.as_str()), Some("admin")));
    // A tenant the account is not in, or no tenant id at all.
    let stranger = s.signup("owner@oidc-tc.test");
    assert_eq!(error_of(&answer(&stranger.tenant_id)), "access_denied");
    answer("not-an-id").assert_page(404);
    // A client limited to one tenant skips the choice; one limited to a tenant the
    // account is not in refuses it.
    let only_a = s.client(json!({ "tenant_id": a.tenant_id }));
    let id = claims(&sign_in(&s, &only_a, &b_owner.token, &[]).str("/id_token"));
    assert_eq!(id["tid"], a.tenant_id.as_str());
    let only_c = s.client(json!({ "tenant_id": stranger.tenant_id }));
    assert_eq!(error_of(&authorize(&browser, &only_c, &pkce, &[])), "access_denied");
    // prompt=none cannot ask: the tenant the session acts in.
    let id_none = {
        let code = code_of(&s, &authorize(&browser, &client, &pkce, &[("prompt", "none")]));
        claims(&s.redeem(&client, &code, &pkce).str("/id_token"))
    };
    assert_eq!(id_none["tid"], b_owner.tenant_id.as_str());
    // A suspended tenant is not offered; with one tenant left there is no choice.
    let op = s.operator();
    let res = s.post(&format!("/v1/admin/tenants/{}/suspend", a.tenant_id), Some(&op), json!({ "reason": "unpaid" }));
    assert_eq!(res.status, 200, "{}", res.text);
    let id = claims(&sign_in(&s, &client, &b_owner.token, &[]).str("/id_token"));
    assert_eq!(id["tid"], b_owner.tenant_id.as_str());
    assert_eq!(error_of(&authorize(&browser, &only_a, &pkce, &[])), "access_denied");
}

#[test]
fn a_client_that_is_not_trusted_is_allowed_once_per_scope_set() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@oidc-consent.test");
    let client = s.client(json!({ "trusted": false, "name": "Wiki" }));
    let b = browser_of(&s, &owner.token);
    let pkce = Pkce::new();
    assert_eq!(error_of(&authorize(&b, &client, &pkce, &[("prompt", "none")])), "consent_required");
    let page = authorize(&b, &client, &pkce, &[]);
    page.assert_page(200);
    assert!(page.has("Wiki wants to sign you in") && page.has("see your email address"), "{}", page.text);
    assert!(page.header("content-security-policy").unwrap().contains("form-action 'self' http://127.0.0.1:9;"));
    let decide = |decision: &str, extra: &[(&str, &str)]| {
        let mut fields = params_of(&authorize_path(&client, &pkce, extra));
        fields.push(("tenant".into(), owner.tenant_id.clone()));
        fields.push(("decision".into(), decision.into()));
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        b.post("/oauth/authorize", &borrowed)
    };
    assert_eq!(error_of(&decide("deny", &[])), "access_denied");
    let consents =
        |s: &TestServer| -> i64 { s.db().query_row("SELECT count(*) FROM oauth_consents", [], |r| r.get(0)).unwrap() };
    assert_eq!(consents(&s), 0);
    code_of(&s, &decide("allow", &[]));
    assert_eq!(consents(&s), 1);
    assert!(s.audit_text().contains("oauth.consent_given"));
    // Remembered: no page the second time, nor for fewer scopes.
    code_of(&s, &authorize(&b, &client, &pkce, &[]));
    code_of(&s, &authorize(&b, &client, &pkce, &[("scope", "openid")]));
    // More scopes, or prompt=consent, ask again.
    authorize(&b, &client, &pkce, &[("scope", "openid email offline_access")]).assert_page(200);
    authorize(&b, &client, &pkce, &[("prompt", "consent")]).assert_page(200);
    // A form posted without our CSRF token is refused.
    let mut fields = params_of(&authorize_path(&client, &pkce, &[]));
    fields.push(("decision".into(), "allow".into()));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(b.post_raw("/oauth/authorize", &[], &borrowed).status, 403);
}
