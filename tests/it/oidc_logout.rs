//! RP-initiated logout at `/oauth/logout`: the session ends at once when the
//! `id_token_hint` names it, after a confirmation otherwise; the browser goes back only to
//! a registered `post_logout_redirect_uri` (with `state`), else to our signed-out page;
//! bad hints and clients are refused with nothing ended.
use serde_json::json;

use crate::oidc_fixtures::{Client, LOGOUT_REDIRECT, REDIRECT};
use crate::support::web::{Browser, Page};
use crate::support::{PASSWORD, TestServer};

/// A browser signed in to the portal, the client, and the ID token of a sign-in to it
/// from that browser's session.
fn signed_in<'a>(s: &'a TestServer, tag: &str) -> (Browser<'a>, Client, String) {
    let op = s.admin(&format!("op@{tag}.test"));
    let client = s.oidc_client(&op, "Dashboard", json!({}));
    let email = format!("owner@{tag}.test");
    s.signup(&email);
    let b = Browser::new(s);
    b.post("/login", &[("email", &email), ("password", PASSWORD)]).assert_redirect("/app");
    let session = b.cookie("ks_session").expect("a session");
    let id_token = s.sign_in_to(&client, &session, "openid").str("/id_token");
    (b, client, id_token)
}

fn logout_path(pairs: &[(&str, &str)]) -> String {
    format!("/oauth/logout?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}

/// Whether the browser's portal session still works.
fn signed_in_still(s: &TestServer, b: &Browser<'_>) -> bool {
    b.cookie("ks_session").is_some_and(|t| s.get("/v1/me", Some(&t)).status == 200)
}

#[track_caller]
fn assert_signed_out(s: &TestServer, page: &Page, session: &str, location: &str) {
    page.assert_redirect(location);
    assert!(page.set_cookie("ks_session").is_some_and(|c| c.contains("Max-Age=0")), "{:?}", page.headers);
    assert_eq!(s.get("/v1/me", Some(session)).status, 401);
}

#[test]
fn a_hint_naming_this_session_signs_out_at_once_and_goes_back_with_state() {
    let s = TestServer::spawn();
    let (b, _, id_token) = signed_in(&s, "lo-hint");
    let session = b.cookie("ks_session").unwrap();
    let page = b.get(&logout_path(&[
        ("id_token_hint", &id_token),
        ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ("state", "s 1&x"),
    ]));
    assert_signed_out(&s, &page, &session, &format!("{LOGOUT_REDIRECT}?state=s+1%26x"));
    assert!(s.audit_text().contains("auth.logout"));
}

#[test]
fn an_expired_hint_still_names_the_session() {
    let s = TestServer::spawn();
    let (b, _, id_token) = signed_in(&s, "lo-expired");
    let session = b.cookie("ks_session").unwrap();
    s.app.clock.advance(3600);
    let page = b.get(&logout_path(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", LOGOUT_REDIRECT)]));
    assert_signed_out(&s, &page, &session, LOGOUT_REDIRECT);
}

#[test]
fn without_a_hint_of_this_session_the_person_confirms() {
    let s = TestServer::spawn();
    let (b, client, id_token) = signed_in(&s, "lo-confirm");
    let session = b.cookie("ks_session").unwrap();
    // The hint of another browser's session of the same account does not name this one.
    let other = Browser::new(&s);
    other.post("/login", &[("email", "owner@lo-confirm.test"), ("password", PASSWORD)]).assert_redirect("/app");
    for params in [
        vec![("client_id", client.id.as_str()), ("post_logout_redirect_uri", LOGOUT_REDIRECT), ("state", "st")],
        vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", LOGOUT_REDIRECT), ("state", "st")],
    ] {
        let from = if params[0].0 == "client_id" { &b } else { &other };
        let page = from.get(&logout_path(&params));
        page.assert_page(200);
        assert!(page.has("Dashboard asks") && page.has("action=\"/oauth/logout/confirm\""), "{}", page.text);
        // The form's POST ends at the client: the page's CSP lets it.
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("form-action 'self' http://127.0.0.1:9"), "{csp}");
        assert!(signed_in_still(&s, from));
    }
    // A forged confirmation (no CSRF token) ends nothing.
    let forged = b.post_raw(
        "/oauth/logout/confirm",
        &[("Origin", "https://evil.test")],
        &[("client_id", &client.id), ("post_logout_redirect_uri", LOGOUT_REDIRECT)],
    );
    assert_eq!(forged.status, 403);
    assert!(signed_in_still(&s, &b));
    let page = b.post(
        "/oauth/logout/confirm",
        &[("client_id", &client.id), ("post_logout_redirect_uri", LOGOUT_REDIRECT), ("state", "st")],
    );
    assert_signed_out(&s, &page, &session, &format!("{LOGOUT_REDIRECT}?state=st"));
}

#[test]
fn a_client_may_post_its_request_from_its_own_site() {
    let s = TestServer::spawn();
    let (b, _, id_token) = signed_in(&s, "lo-post");
    let session = b.cookie("ks_session").unwrap();
    let fields = [("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", LOGOUT_REDIRECT)];
    let page = b.post_raw("/oauth/logout", &[("Origin", "http://127.0.0.1:9")], &fields);
    assert_signed_out(&s, &page, &session, LOGOUT_REDIRECT);
}

#[test]
fn only_a_registered_uri_of_the_client_is_followed() {
    let s = TestServer::spawn();
    let (b, client, id_token) = signed_in(&s, "lo-uri");
    let session = b.cookie("ks_session").unwrap();
    // Its sign-in redirect URI is not a logout one; without a client no URI is trusted.
    let page = b.get(&logout_path(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", REDIRECT)]));
    assert_signed_out(&s, &page, &session, "/login?done=signed-out");
    let nobody = Browser::new(&s);
    nobody
        .get(&logout_path(&[("post_logout_redirect_uri", LOGOUT_REDIRECT)]))
        .assert_redirect("/login?done=signed-out");
    // No session: nothing to confirm, straight back to the client.
    nobody
        .get(&logout_path(&[("client_id", &client.id), ("post_logout_redirect_uri", LOGOUT_REDIRECT)]))
        .assert_redirect(LOGOUT_REDIRECT);
}

#[test]
fn bad_hints_and_clients_are_refused_and_end_nothing() {
    let s = TestServer::spawn();
    let (b, client, id_token) = signed_in(&s, "lo-bad");
    let op = s.admin("op2@lo-bad.test");
    let other = s.oidc_client(&op, "Wiki", json!({}));
    let (signed, _) = id_token.rsplit_once('.').unwrap();
    let tampered = format!("{signed}.AAAA");
    let long_state = "x".repeat(600);
    // A portal access token is ours, but no client's ID token: its audience names none.
    let session = b.cookie("ks_session").unwrap();
    let portal_token = s.post("/v1/auth/token", Some(&session), json!({})).str("/access_token");
    for params in [
        vec![("id_token_hint", "not-a-jwt")],
        vec![("id_token_hint", tampered.as_str())],
        vec![("id_token_hint", portal_token.as_str())],
        vec![("id_token_hint", id_token.as_str()), ("client_id", other.id.as_str())],
        vec![("client_id", "00000000-0000-4000-8000-000000000000")],
        vec![("client_id", "nope")],
        vec![("client_id", client.id.as_str()), ("client_id", client.id.as_str())],
        vec![("client_id", client.id.as_str()), ("state", long_state.as_str())],
    ] {
        let page = b.get(&logout_path(&params));
        page.assert_page(400);
        assert!(page.has("invalid_request"), "{}", page.text);
        assert!(signed_in_still(&s, &b), "{params:?}");
    }
    let res = s.get("/.well-known/openid-configuration", None);
    assert_eq!(res.str("/end_session_endpoint"), format!("{}/oauth/logout", s.base));
}
