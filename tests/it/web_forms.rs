//! The portal's forms over HTTP: login, sign-up, logout and the tenant switcher, their
//! cookies, their answers to bad input, and the CSRF checks in front of every POST.
use serde_json::json;

use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer, assert_error};
use keystead::types::SignupMode;

const SIGNUP: [(&str, &str); 4] =
    [("tenant_name", "Acme"), ("email", "owner@a.test"), ("password", PASSWORD), ("name", "Olive Owner")];

#[test]
fn login_sets_a_locked_down_session_cookie_that_the_api_accepts() {
    let s = TestServer::spawn();
    s.signup("owner@a.test");
    let b = Browser::new(&s);
    let res = b.post("/login", &[("email", " Owner@A.test "), ("password", PASSWORD)]);
    res.assert_redirect("/app");
    let cookie = res.set_cookie("ks_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    // The cookie holds a session token like the API's.
    let token = b.cookie("ks_session").expect("stored");
    assert_eq!(s.get("/v1/me", Some(&token)).status, 200);
}

#[test]
fn cookies_are_secure_and_host_only_when_the_base_url_is_https() {
    let s = TestServer::with(|c| c.base_url = "https://auth.example.test".into());
    s.signup("owner@a.test");
    let b = Browser::new(&s);
    let login = b.get("/login");
    assert!(login.set_cookie("__Host-ks_csrf").is_some_and(|c| c.contains("; Secure")), "{:?}", login.headers);
    assert!(login.set_cookie("ks_csrf").is_none());
    let res = b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]);
    res.assert_redirect("/app");
    let cookie = res.set_cookie("__Host-ks_session").expect("a prefixed session cookie");
    // What the prefix asks of a cookie, or browsers drop it: Secure, Path=/, no Domain.
    assert!(cookie.ends_with("; Path=/; Secure") && !cookie.contains("Domain"), "{cookie}");
    assert_eq!(b.get("/app").status, 200);
    // A cookie without the prefix may have been planted by a sibling subdomain: not read.
    let token = b.cookie("__Host-ks_session").expect("stored");
    let tossed = Browser::new(&s);
    tossed.set_cookie("ks_session", &token);
    tossed.get("/app").assert_redirect("/login");
    let csrf = b.cookie("__Host-ks_csrf").expect("a token");
    tossed.set_cookie("ks_csrf", &csrf);
    tossed.post_raw("/logout", &[("Origin", "https://auth.example.test")], &[("csrf", &csrf)]).assert_page(403);
    let out = b.post("/logout", &[]);
    assert!(out.set_cookie("__Host-ks_session").is_some_and(|c| c.contains("Max-Age=0") && c.contains("Secure")));
}

#[test]
fn a_wrong_password_and_an_unknown_address_get_the_same_401_page() {
    let s = TestServer::spawn();
    s.signup("owner@a.test");
    let b = Browser::new(&s);
    let wrong = b.post("/login", &[("email", "owner@a.test"), ("password", "not the password")]);
    let unknown = b.post("/login", &[("email", "nobody@a.test"), ("password", "not the password")]);
    for page in [&wrong, &unknown] {
        page.assert_page(401);
        assert!(page.has("The email or password is incorrect."), "{}", page.text);
        assert!(page.set_cookie("ks_session").is_none());
        assert!(!page.has("not the password"), "a password is never rendered back");
    }
    assert!(wrong.has("value=\"owner@a.test\""), "the address is kept in the form");
}

#[test]
fn login_attempts_over_the_limit_get_429_with_retry_after() {
    let s = TestServer::with(|c| c.limits.login_by_ip = keystead::limit::Rate { burst: 2, per_hour: 2 });
    let b = Browser::new(&s);
    let mut last = None;
    for _ in 0..3 {
        last = Some(b.post("/login", &[("email", "x@a.test"), ("password", "wrong password here")]));
    }
    let page = last.expect("three tries");
    page.assert_page(429);
    assert!(page.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()), "{:?}", page.headers);
}

#[test]
fn bad_input_brings_the_form_back_instead_of_a_500() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    let empty = b.post("/login", &[("email", ""), ("password", "")]);
    empty.assert_page(400);
    assert!(empty.has("action=\"/login\"") && empty.has("class=\"error\""), "{}", empty.text);

    let short = b.post("/signup", &[("tenant_name", "Acme"), ("email", "owner@a.test"), ("password", "short")]);
    short.assert_page(400);
    assert!(short.has("too weak") && short.has("value=\"Acme\"") && short.has("value=\"owner@a.test\""));
    let no_email = b.post("/signup", &[("tenant_name", "Acme"), ("email", ""), ("password", PASSWORD)]);
    no_email.assert_page(400);
    let no_tenant = b.post("/signup", &[("tenant_name", " "), ("email", "owner@a.test"), ("password", PASSWORD)]);
    no_tenant.assert_page(400);
    assert!(no_tenant.has("action=\"/signup\""));
    b.post("/forgot-password", &[("email", "not an address")]).assert_page(400);
    assert_error(&s.login("owner@a.test", PASSWORD), 401, "invalid_credentials");

    s.signup("taken@a.test");
    let taken = b.post("/signup", &[("tenant_name", "Acme"), ("email", "taken@a.test"), ("password", PASSWORD)]);
    taken.assert_page(409);
    assert!(taken.has("already has an account"));
}

#[test]
fn signup_signs_in_and_shows_the_first_key_once() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    let page = b.post("/signup", &SIGNUP);
    page.assert_page(201);
    assert!(page.has("Acme") && page.has("shown only this once"), "{}", page.text);
    let key = page.text.split("id=\"api-key\">").nth(1).and_then(|r| r.split('<').next()).expect("the key");
    assert!(key.starts_with("ksk_"), "{key}");
    let res = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(res.body["valid"], json!(true), "{}", res.text);
    assert_eq!(page.header("cache-control"), Some("no-store"));

    let app = b.get("/app");
    app.assert_page(200);
    assert!(app.has("Acme") && app.has("Olive Owner") && !app.has(key), "the key is never shown again");
}

#[test]
fn signup_is_403_unless_it_is_open() {
    for mode in [SignupMode::Closed, SignupMode::Invite] {
        let s = TestServer::with(|c| c.signup = mode);
        let b = Browser::new(&s);
        let form = b.get("/signup");
        form.assert_page(403);
        assert!(form.has("Sign-up is disabled"), "{}", form.text);
        b.post("/signup", &SIGNUP).assert_page(403);
        assert_error(&s.login("owner@a.test", PASSWORD), 401, "invalid_credentials");
    }
}

#[test]
fn logout_revokes_the_session_and_clears_the_cookie() {
    let s = TestServer::spawn();
    s.signup("owner@a.test");
    let b = Browser::new(&s);
    b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]);
    let token = b.cookie("ks_session").expect("signed in");
    let out = b.post("/logout", &[]);
    out.assert_redirect("/login?done=signed-out");
    assert!(out.set_cookie("ks_session").is_some_and(|c| c.contains("Max-Age=0")));
    assert!(b.cookie("ks_session").is_none());
    assert_error(&s.get("/v1/me", Some(&token)), 401, "unauthorized");
    assert!(b.get("/login?done=signed-out").has("You are signed out."));
    // Logging out again, signed out, is harmless.
    b.post("/logout", &[]).assert_redirect("/login?done=signed-out");

    let op = Browser::new(&s);
    s.admin("op@a.test");
    op.post("/admin/login", &[("email", "op@a.test"), ("password", PASSWORD)]).assert_redirect("/admin");
    let token = op.cookie("ks_admin").expect("operator signed in");
    op.post("/admin/logout", &[]).assert_redirect("/admin/login?done=signed-out");
    assert_error(&s.get("/v1/admin/stats", Some(&token)), 401, "unauthorized");
    op.get("/admin").assert_redirect("/admin/login");
}

#[test]
fn a_post_without_the_right_token_or_from_another_origin_is_403_and_changes_nothing() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    b.get("/signup");
    let csrf = b.cookie("ks_csrf").expect("token");
    let ours = s.base.clone();
    fn with(token: &str) -> Vec<(&str, &str)> {
        let mut fields = SIGNUP.to_vec();
        fields.push(("csrf", token));
        fields
    }
    let wrong = "A".repeat(43);
    type Fields<'a> = Vec<(&'a str, &'a str)>;
    let cases: [(&str, Fields, Fields); 6] = [
        ("no token", SIGNUP.to_vec(), vec![("Origin", &ours)]),
        ("a wrong token", with(&wrong), vec![("Origin", &ours)]),
        ("an empty token", with(""), vec![("Origin", &ours)]),
        ("a foreign Origin", with(&csrf), vec![("Origin", "https://evil.test")]),
        ("Origin null", with(&csrf), vec![("Origin", "null")]),
        ("a foreign Referer", with(&csrf), vec![("Referer", "https://evil.test/form")]),
    ];
    for (what, fields, headers) in &cases {
        let page = b.post_raw("/signup", headers, fields);
        page.assert_page(403);
        assert!(page.has("came from another site"), "{what}: {}", page.text);
    }
    // Without the cookie, the field alone proves nothing.
    let cookieless = Browser::new(&s);
    cookieless.post_raw("/signup", &[("Origin", &ours)], &with(&csrf)).assert_page(403);
    assert_error(&s.login("owner@a.test", PASSWORD), 401, "invalid_credentials");

    // The same form with our token passes, with our Origin, our Referer, or neither.
    b.post_raw("/signup", &[("Referer", &format!("{ours}/signup"))], &with(&csrf)).assert_page(201);
    assert_eq!(s.login("owner@a.test", PASSWORD).status, 200);

    // A signed-in session is no exception: logout without the token keeps the session.
    let token = b.cookie("ks_session").expect("signed in");
    b.post_raw("/logout", &[("Origin", &ours)], &[]).assert_page(403);
    assert_eq!(s.get("/v1/me", Some(&token)).status, 200);
    // A JSON body is not a form.
    let json = b.send("POST", "/logout", &[("Content-Type", "application/json"), ("Origin", &ours)], Some(b"{}"));
    json.assert_page(415);
}

#[test]
fn the_switcher_moves_the_session_to_another_tenant() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let res = s.post("/v1/tenants", Some(&owner.token), json!({ "tenant_name": "Second Co" }));
    assert_eq!(res.status, 201, "{}", res.text);
    let second = res.str("/tenant/id");
    let b = Browser::new(&s);
    b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]);
    let app = b.get("/app");
    assert!(app.has("Tenant of owner") && app.has("Second Co"), "{}", app.text);
    let first = &owner.tenant_id;
    let current = |page: &crate::support::web::Page| {
        page.text.split("id=\"current-tenant\">").nth(1).and_then(|r| r.split('<').next()).map(str::to_owned)
    };
    let before = current(&app).expect("a current tenant");
    let target = if before == "Second Co" { first.clone() } else { second.clone() };
    b.post("/app/switch-tenant", &[("tenant_id", &target)]).assert_redirect("/app");
    let after = current(&b.get("/app")).expect("a current tenant");
    assert_ne!(before, after);
    let token = b.cookie("ks_session").expect("signed in");
    assert_eq!(s.get("/v1/tenant", Some(&token)).str("/tenant/id"), target);
    // A tenant the account is not a member of is not found.
    let stranger = s.signup("other@a.test");
    b.post("/app/switch-tenant", &[("tenant_id", &stranger.tenant_id)]).assert_page(404);
}
