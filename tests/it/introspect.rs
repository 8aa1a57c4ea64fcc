//! `POST /v1/oauth/introspect` (RFC 7662): a gateway's client asks what an API key, a
//! portal session token or an access token is worth; anything not live is
//! `{"active": false}`; client authentication fails alike whatever failed.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::oauth_clients::{CALLBACK, confidential, register};
use crate::support::operator::reason;
use crate::support::{Res, TestServer};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Introspects `token` with Basic credentials.
fn ask(s: &TestServer, id: &str, secret: &str, token: &str) -> Res {
    let auth = basic(id, secret);
    let body = format!("token={}", encoded(token));
    s.send("POST", "/v1/oauth/introspect", None, &[FORM, ("Authorization", &auth)], Some(body.as_bytes()))
}

#[track_caller]
fn active(res: &Res) -> &Value {
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.body["active"], true, "{}", res.text);
    &res.body
}

#[track_caller]
fn inactive(res: &Res) {
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.body, json!({ "active": false }), "nothing but active: false");
}

#[track_caller]
fn refused(res: &Res) {
    assert_eq!(res.status, 401, "{}", res.text);
    assert_eq!(res.body, json!({ "error": "invalid_client", "error_description": "client authentication failed" }));
    assert_eq!(res.header("www-authenticate"), Some("Basic realm=\"keystead\""));
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

struct Gateway {
    op: String,
    id: String,
    secret: String,
}

fn gateway(s: &TestServer) -> Gateway {
    let op = s.admin("op@example.test");
    let (id, secret) = confidential(s, &op, json!({ "name": "Gateway", "introspect": true, "redirect_uris": [] }));
    Gateway { op, id, secret }
}

#[test]
fn an_api_key_is_active_until_revoked() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let a = s.signup("ann@example.test");
    let body = active(&ask(&s, &g.id, &g.secret, &a.key)).clone();
    assert_eq!((&body["token_type"], &body["scope"]), (&json!("api_key"), &json!("")));
    assert_eq!((&body["tid"], &body["key_id"]), (&json!(a.tenant_id), &json!(a.key_id)));
    assert!(body["iat"].is_i64() && body.get("exp").is_none() && body.get("sub").is_none(), "{body}");

    let res = s.post(
        "/v1/keys",
        Some(&a.token),
        json!({ "name": "ci", "scopes": ["read", "deploy:prod"], "expires_at": "2099-01-01T00:00:00Z" }),
    );
    let scoped = active(&ask(&s, &g.id, &g.secret, &res.str("/key"))).clone();
    assert_eq!((&scoped["scope"], &scoped["exp"]), (&json!("read deploy:prod"), &json!(4_070_908_800_i64)));

    assert_eq!(s.delete(&format!("/v1/keys/{}", a.key_id), Some(&a.token)).status, 204);
    inactive(&ask(&s, &g.id, &g.secret, &a.key));
    // A key of a suspended tenant is not live either.
    let b = s.signup("bob@example.test");
    s.post(&format!("/v1/admin/tenants/{}/suspend", b.tenant_id), Some(&g.op), reason("unpaid"));
    inactive(&ask(&s, &g.id, &g.secret, &b.key));
}

#[test]
fn a_session_token_is_active_until_logged_out() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let a = s.signup("ann@example.test");
    let body = active(&ask(&s, &g.id, &g.secret, &a.token)).clone();
    assert_eq!(
        (&body["token_type"], &body["sub"], &body["tid"]),
        (&json!("session_token"), &json!(a.user_id), &json!(a.tenant_id))
    );
    assert_eq!(body["role"], "owner");
    assert!(body["sid"].is_string() && body["iat"].is_i64() && body["exp"].as_i64() > body["iat"].as_i64(), "{body}");
    assert_eq!(s.post("/v1/auth/logout", Some(&a.token), json!({})).status, 204);
    inactive(&ask(&s, &g.id, &g.secret, &a.token));
}

#[test]
fn an_access_token_is_active_until_it_expires() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let a = s.signup("ann@example.test");
    let token = s.post("/v1/auth/token", Some(&a.token), json!({})).str("/access_token");
    let body = active(&ask(&s, &g.id, &g.secret, &token)).clone();
    assert_eq!(
        (&body["token_type"], &body["sub"], &body["tid"]),
        (&json!("Bearer"), &json!(a.user_id), &json!(a.tenant_id))
    );
    assert_eq!((&body["iss"], &body["aud"], &body["role"]), (&json!(s.base), &json!(s.base), &json!("owner")));
    assert_eq!(body["exp"].as_i64().zip(body["iat"].as_i64()).map(|(e, i)| e - i), Some(300));
    assert!(body["sid"].is_string());

    // A tampered token, or one past its expiry, is not.
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    inactive(&ask(&s, &g.id, &g.secret, &tampered));
    s.app.clock.advance(301);
    inactive(&ask(&s, &g.id, &g.secret, &token));
}

#[test]
fn garbage_is_inactive_and_a_request_without_a_token_is_invalid() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    for junk in ["", "x", "a.b.c", "ksk_nope", &"A".repeat(43), "Bearer abc"] {
        if junk.is_empty() {
            continue;
        }
        inactive(&ask(&s, &g.id, &g.secret, junk));
    }
    // An operator's session token is of the other realm: no portal credential.
    inactive(&ask(&s, &g.id, &g.secret, &g.op));
    let auth = basic(&g.id, &g.secret);
    let send = |headers: &[(&str, &str)], body: &str| {
        s.send("POST", "/v1/oauth/introspect", None, headers, Some(body.as_bytes()))
    };
    for body in ["", "token=", "token_type_hint=access_token", "token=a&token=b"] {
        let res = send(&[FORM, ("Authorization", &auth)], body);
        assert_eq!((res.status, &res.body["error"]), (400, &json!("invalid_request")), "{body}: {}", res.text);
    }
    let res = send(&[("Content-Type", "application/json"), ("Authorization", &auth)], "{\"token\": \"x\"}");
    assert_eq!((res.status, &res.body["error"]), (400, &json!("invalid_request")), "{}", res.text);
    // The hint is accepted, and does not decide the kind.
    let a = s.signup("ann@example.test");
    let body = format!("token={}&token_type_hint=refresh_token", encoded(&a.key));
    active(&send(&[FORM, ("Authorization", &auth)], &body));
}

#[test]
fn client_authentication_fails_alike_whatever_failed() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let a = s.signup("ann@example.test");
    let (plain_id, plain_secret) = confidential(&s, &g.op, json!({ "name": "Wiki" }));
    let public_id = register(&s, &g.op, json!({ "public": true })).str("/client/id");
    refused(&ask(&s, &g.id, "wrong", &a.key));
    refused(&ask(&s, &g.id, "", &a.key));
    refused(&ask(&s, "00000000-0000-4000-8000-000000000000", &g.secret, &a.key));
    refused(&ask(&s, "nope", &g.secret, &a.key));
    // A client that may not introspect is refused as one that failed to authenticate.
    refused(&ask(&s, &plain_id, &plain_secret, &a.key));
    let send = |headers: &[(&str, &str)], body: String| {
        s.send("POST", "/v1/oauth/introspect", None, headers, Some(body.as_bytes()))
    };
    refused(&send(&[FORM], format!("token={}", encoded(&a.key))));
    refused(&send(&[FORM], format!("client_id={public_id}&token={}", encoded(&a.key))));
    refused(&send(&[FORM, ("Authorization", "Basic !!!")], format!("token={}", encoded(&a.key))));
    // A secret in the header and in the form: one method per request.
    let auth = basic(&g.id, &g.secret);
    let res = send(&[FORM, ("Authorization", &auth)], format!("client_secret={}&token=x", g.secret));
    assert_eq!((res.status, &res.body["error"]), (400, &json!("invalid_request")), "{}", res.text);

    // client_secret_post works, and so does Basic with every character form-urlencoded
    // (RFC 6749 §2.3.1), even those that need no encoding.
    active(&send(&[FORM], format!("client_id={}&client_secret={}&token={}", g.id, g.secret, encoded(&a.key))));
    let every: String = g.secret.bytes().map(|b| format!("%{b:02X}")).collect();
    active(&ask(&s, &g.id, &every, &a.key));
}

#[test]
fn a_rotated_secret_or_a_disabled_client_no_longer_authenticates() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let a = s.signup("ann@example.test");
    let res = s.post(&format!("/v1/admin/clients/{}/rotate-secret", g.id), Some(&g.op), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    let new = res.str("/client_secret");
    assert_ne!(new, g.secret);
    assert!(res.body["client"]["secret_rotated_at"].is_string());
    refused(&ask(&s, &g.id, &g.secret, &a.key));
    active(&ask(&s, &g.id, &new, &a.key));
    assert!(!s.audit_text().contains(&new) && !s.audit_text().contains(&g.secret));
    assert_eq!(s.last_event(&g.op, "oauth_client.secret_rotated")["target_id"], g.id.as_str());

    s.post(&format!("/v1/admin/clients/{}/disable", g.id), Some(&g.op), reason("compromised"));
    refused(&ask(&s, &g.id, &new, &a.key));
    s.post(&format!("/v1/admin/clients/{}/enable", g.id), Some(&g.op), reason("fixed"));
    active(&ask(&s, &g.id, &new, &a.key));
    // Taking introspection away refuses it at once (a client that signs people in has a
    // redirect URI: without one the change is refused).
    let path = format!("/v1/admin/clients/{}", g.id);
    let res = s.patch(&path, Some(&g.op), json!({ "introspect": false }));
    assert_eq!((res.status, res.body["error"]["fields"]["redirect_uris"].is_string()), (400, true), "{}", res.text);
    let res = s.patch(&path, Some(&g.op), json!({ "introspect": false, "redirect_uris": [CALLBACK] }));
    assert_eq!(res.status, 200, "{}", res.text);
    refused(&ask(&s, &g.id, &new, &a.key));
}

#[test]
fn a_client_limited_to_a_tenant_sees_other_tenants_credentials_inactive() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let (a, b) = (s.signup("ann@example.test"), s.signup("bob@example.test"));
    let (id, secret) = confidential(&s, &op, json!({ "introspect": true, "tenant_id": a.tenant_id }));
    active(&ask(&s, &id, &secret, &a.key));
    active(&ask(&s, &id, &secret, &a.token));
    inactive(&ask(&s, &id, &secret, &b.key));
    inactive(&ask(&s, &id, &secret, &b.token));
    let token = s.post("/v1/auth/token", Some(&b.token), json!({})).str("/access_token");
    inactive(&ask(&s, &id, &secret, &token));
}

/// What `/v1/verify/session` and forward authentication refuse, introspection calls
/// inactive: a member whom the tenant's second-factor policy shuts out, with a session
/// token or an access token got before the policy came.
#[test]
fn credentials_shut_out_by_a_policy_are_inactive() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let owner = s.signup("owner@example.test");
    let member = s.join(&owner.token, "mia@example.test", "member");
    let token = s.post("/v1/auth/token", Some(&member.token), json!({})).str("/access_token");
    active(&ask(&s, &g.id, &g.secret, &token));
    s.enrol_totp("/v1/me/mfa", &owner.token);
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": true })).status, 200);
    inactive(&ask(&s, &g.id, &g.secret, &member.token));
    inactive(&ask(&s, &g.id, &g.secret, &token));
    active(&ask(&s, &g.id, &g.secret, &owner.token));
}

/// A removed member's access token stops being active at once, though its signature and
/// expiry still check out.
#[test]
fn an_access_token_of_a_removed_member_is_inactive() {
    let s = TestServer::spawn();
    let g = gateway(&s);
    let owner = s.signup("owner@example.test");
    let member = s.join(&owner.token, "mia@example.test", "member");
    let token = s.post("/v1/auth/token", Some(&member.token), json!({})).str("/access_token");
    assert_eq!(active(&ask(&s, &g.id, &g.secret, &token))["role"], "member");
    assert_eq!(s.delete(&format!("/v1/tenant/members/{}", member.user_id), Some(&owner.token)).status, 204);
    inactive(&ask(&s, &g.id, &g.secret, &token));
}
