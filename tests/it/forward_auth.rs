//! `GET /v1/forward-auth` as a proxy asks it, and the login page's `next`: who passes with
//! which headers, the demands (`?tenant=&role=&scope=`), the signed-out answers (401 with
//! the login URL, or 302 for a browser) and the redirect rule that keeps `next` from
//! becoming an open redirect. Real Caddy and nginx in front: `proxies.rs`.
use serde_json::json;

use crate::support::web::Browser;
use crate::support::{PASSWORD, Res, TestServer, assert_error};

/// The proxy's question, with these headers (a credential among them, or none).
fn ask(s: &TestServer, query: &str, headers: &[(&str, &str)]) -> Res {
    s.send("GET", &format!("/v1/forward-auth{query}"), None, headers, None)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[track_caller]
fn assert_person(res: &Res, user: &str, email: &str, tenant: &str, role: &str) {
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("x-keystead-user-id"), Some(user));
    assert_eq!(res.header("x-keystead-email"), Some(email));
    assert_eq!(res.header("x-keystead-tenant-id"), Some(tenant));
    assert_eq!(res.header("x-keystead-role"), Some(role));
    assert_eq!(res.header("x-keystead-key-id"), None);
}

#[test]
fn a_session_an_access_token_and_the_cookie_pass_with_the_identity() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@fa.test");
    let member = s.join(&owner.token, "member@fa.test", "member");
    for auth in
        [bearer(&member.token), bearer(&s.post("/v1/auth/token", Some(&member.token), json!({})).str("/access_token"))]
    {
        let res = ask(&s, "", &[("Authorization", &auth)]);
        assert_person(&res, &member.user_id, "member@fa.test", &owner.tenant_id, "member");
    }
    let cookie = format!("ks_session={}", member.token);
    assert_person(&ask(&s, "", &[("Cookie", &cookie)]), &member.user_id, "member@fa.test", &owner.tenant_id, "member");
}

#[test]
fn roles_and_tenants_are_demanded_of_people() {
    let s = TestServer::spawn();
    let a = s.signup("owner@fa-a.test");
    let b = s.signup("owner@fa-b.test");
    let member = s.join(&a.token, "member@fa-a.test", "member");
    let auth = bearer(&member.token);
    let h = [("Authorization", auth.as_str())];
    assert_eq!(ask(&s, "?role=member", &h).status, 200);
    assert_error(&ask(&s, "?role=admin", &h), 403, "forbidden");
    assert_error(&ask(&s, "?role=emperor", &h), 400, "invalid_request");
    // Another tenant: only where the account is an active member, by id or by slug.
    assert_error(&ask(&s, &format!("?tenant={}", b.tenant_id), &h), 403, "forbidden");
    assert_error(&ask(&s, "?tenant=no-such-tenant", &h), 403, "forbidden");
    let slug_a = s.get("/v1/tenant", Some(&member.token)).str("/tenant/slug");
    assert_eq!(ask(&s, &format!("?tenant={slug_a}&role=member"), &h).status, 200);
    // The owner of B passes for A only once it is an active admin there, with that role.
    let hb = [("Authorization", &*bearer(&b.token))];
    s.add_member(&a, &b, "admin", "invited");
    assert_error(&ask(&s, &format!("?tenant={}", a.tenant_id), &hb), 403, "forbidden");
    let b_in_a = s.signup("owner@fa-c.test");
    s.add_member(&a, &b_in_a, "admin", "active");
    let hc = [("Authorization", &*bearer(&b_in_a.token))];
    let res = ask(&s, &format!("?tenant={}&role=admin", a.tenant_id), &hc);
    assert_person(&res, &b_in_a.user_id, "owner@fa-c.test", &a.tenant_id, "admin");
    assert_error(&ask(&s, &format!("?tenant={}&role=owner", a.tenant_id), &hc), 403, "forbidden");
    assert_person(&ask(&s, "", &hc), &b_in_a.user_id, "owner@fa-c.test", &b_in_a.tenant_id, "owner");
    // People have no scopes: a demand for one is for keys.
    assert_error(&ask(&s, "?scope=read", &h), 403, "forbidden");
}

#[test]
fn api_keys_pass_with_their_tenant_and_scopes() {
    let s = TestServer::spawn();
    let a = s.signup("owner@fk.test");
    let b = s.signup("owner@fk-b.test");
    let res = s.post("/v1/keys", Some(&a.token), json!({ "name": "proxy", "scopes": ["read", "write"] }));
    assert_eq!(res.status, 201, "{}", res.text);
    let (key, key_id) = (res.str("/key"), res.str("/id"));
    let auth = bearer(&key);
    let h = [("Authorization", auth.as_str())];
    let res = ask(&s, "?scope=write", &h);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("x-keystead-key-id"), Some(key_id.as_str()));
    assert_eq!(res.header("x-keystead-tenant-id"), Some(a.tenant_id.as_str()));
    assert_eq!(res.header("x-keystead-scopes"), Some("read write"));
    assert_eq!(res.header("x-keystead-user-id"), None);
    assert_error(&ask(&s, "?scope=admin", &h), 403, "forbidden");
    assert_error(&ask(&s, "?role=member", &h), 403, "forbidden"); // a key is not a member
    assert_error(&ask(&s, &format!("?tenant={}", b.tenant_id), &h), 403, "forbidden");
    assert_eq!(ask(&s, &format!("?tenant={}", a.tenant_id), &h).status, 200);
    // Revoked: signed out at once.
    assert_eq!(s.delete(&format!("/v1/keys/{key_id}"), Some(&a.token)).status, 204);
    assert_error(&ask(&s, "", &h), 401, "unauthorized");
}

#[test]
fn signed_out_is_401_with_the_login_url_or_a_redirect_for_browsers() {
    let s = TestServer::spawn();
    let base = s.app.config.base_url.clone();
    let nginx = [("X-Original-URL", "https://wiki.example.test/page?x=1")];
    let res = ask(&s, "", &nginx);
    assert_error(&res, 401, "unauthorized");
    let login = format!("{base}/login?next=https%3A%2F%2Fwiki.example.test%2Fpage%3Fx%3D1");
    assert_eq!(res.header("x-keystead-login-url"), Some(login.as_str()));
    // Caddy and Traefik name the parts; a browser is sent on, unless the query says not to.
    let caddy = [
        ("Accept", "text/html,application/xhtml+xml"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "wiki.example.test"),
        ("X-Forwarded-Uri", "/page?x=1"),
    ];
    // (A browser-like client: the test's API client would follow the redirect.)
    let res = Browser::new(&s).send("GET", "/v1/forward-auth", &caddy, None);
    assert_eq!((res.status, res.header("location")), (302, Some(login.as_str())), "{}", res.text);
    assert_error(&ask(&s, "?redirect=0", &caddy), 401, "unauthorized");
    // Credentials that are not (or no longer) good are signed out too.
    for bad in ["Bearer nope", "Bearer a.b.c", "Bearer ksk_0000000000000000000000000000000000000000000000000"] {
        assert_error(&ask(&s, "", &[("Authorization", bad)]), 401, "unauthorized");
    }
    assert_error(&ask(&s, "", &[("Cookie", "ks_session=forged")]), 401, "unauthorized");
    let owner = s.signup("owner@fo.test");
    let op = s.admin("op@fo.test");
    let res = s.post(&format!("/v1/admin/tenants/{}/suspend", owner.tenant_id), Some(&op), json!({ "reason": "x" }));
    assert_eq!(res.status, 200);
    assert_error(&ask(&s, "", &[("Authorization", &bearer(&owner.token))]), 401, "unauthorized");
    // An operator's session is no portal session.
    assert_error(&ask(&s, "", &[("Authorization", &bearer(&op))]), 401, "unauthorized");
}

#[test]
fn an_access_token_of_a_removed_member_no_longer_passes() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@fr.test");
    let member = s.join(&owner.token, "member@fr.test", "member");
    let access = s.post("/v1/auth/token", Some(&member.token), json!({})).str("/access_token");
    let h = [("Authorization", &*bearer(&access))];
    assert_eq!(ask(&s, "", &h).status, 200);
    assert_eq!(s.delete(&format!("/v1/tenant/members/{}", member.user_id), Some(&owner.token)).status, 204);
    assert_error(&ask(&s, "", &h), 401, "unauthorized");
}

#[test]
fn after_signing_in_the_browser_returns_only_to_allowed_hosts() {
    let s = TestServer::with(|c| c.allowed_redirect_hosts = vec!["wiki.example.test".into()]);
    s.signup("ann@fn.test");
    let base = s.app.config.base_url.clone();
    let cases = [
        ("https://wiki.example.test/page?x=1", "https://wiki.example.test/page?x=1"),
        (&*format!("{base}/app/keys"), &*format!("{base}/app/keys")),
        ("/app/sessions", "/app/sessions"),
        ("https://evil.example.test/", "/app"),
        ("//evil.example.test/", "/app"),
        ("/\\evil.example.test/", "/app"),
        ("javascript:alert(1)", "/app"),
        ("https://user@wiki.example.test/", "/app"),
        ("https://wiki.example.test.evil.test/", "/app"),
        ("", "/app"),
    ];
    for (next, expected) in cases {
        let b = Browser::new(&s);
        let form =
            b.get(&format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()));
        form.assert_page(200);
        let page = b.post("/login", &[("email", "ann@fn.test"), ("password", PASSWORD), ("next", next)]);
        page.assert_redirect(expected);
        // Signed in already, the login page sends the browser on by the same rule.
        b.get(&format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()))
            .assert_redirect(expected);
    }
}

#[test]
fn a_cookie_domain_shares_the_portal_session_with_sibling_hosts() {
    let s = TestServer::with(|c| {
        c.base_url = "https://auth.example.test".into();
        c.cookie_domain = Some("example.test".into());
    });
    s.signup("ann@fd.test");
    let b = Browser::new(&s);
    let page = b.post("/login", &[("email", "ann@fd.test"), ("password", PASSWORD)]);
    page.assert_redirect("/app");
    let set = page.set_cookie("__Secure-ks_session").expect("the portal cookie");
    assert!(set.contains("; Domain=example.test") && set.contains("; Secure") && set.contains("HttpOnly"), "{set}");
    // The CSRF and operator cookies stay with this host alone.
    let csrf = b.get("/login");
    assert!(b.cookie("__Host-ks_csrf").is_some(), "{:?}", csrf.headers);
    let cookie = format!("__Secure-ks_session={}", b.cookie("__Secure-ks_session").expect("kept"));
    assert_eq!(ask(&s, "", &[("Cookie", &cookie)]).status, 200);
}

#[test]
fn a_cookie_domain_must_hold_the_base_url() {
    let mut config = keystead::config::Config::new("unused.db".into());
    config.base_url = "https://auth.example.test".into();
    for (domain, ok) in [("example.test", true), ("auth.example.test", true), ("other.test", false), ("test", false)] {
        config.cookie_domain = Some(domain.into());
        assert_eq!(config.validate().is_ok(), ok, "{domain}");
    }
}

#[test]
fn a_tenant_that_requires_a_second_factor_lets_through_only_members_who_hold_one() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@fm.test");
    let member = s.join(&owner.token, "member@fm.test", "member");
    s.enrol_totp("/v1/me/mfa", &owner.token);
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": true })).status, 200);
    let h = [("Authorization", &*bearer(&member.token))];
    assert_error(&ask(&s, "", &h), 403, "forbidden");
    s.enrol_totp("/v1/me/mfa", &member.token);
    assert_person(&ask(&s, "", &h), &member.user_id, "member@fm.test", &owner.tenant_id, "member");
}
