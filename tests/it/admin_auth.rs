//! `/v1/admin/auth/*`: operator login and logout, and the wall between the operator and
//! portal realms.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{PASSWORD, Res, TestServer, assert_error};
use keystead::core::operators::{self, NewAdmin};
use keystead::core::principal::Actor;
use keystead::crypto::secret::Secret;
use keystead::limit::Rate;

/// An operator made as `keystead admin create` makes one, not yet logged in.
fn create_admin(s: &TestServer, email: &str) -> String {
    let input =
        NewAdmin { email: email.into(), name: Some("Olga Operator".into()), password: Secret::new(PASSWORD.into()) };
    operators::create_admin(&s.app, Actor::System, None, input).expect("admin created").id.to_string()
}

fn login(s: &TestServer, email: &str, password: &str) -> Res {
    s.post("/v1/admin/auth/login", None, json!({ "email": email, "password": password }))
}

fn logout(s: &TestServer, token: &str) -> Res {
    s.send("POST", "/v1/admin/auth/logout", Some(token), &[], None)
}

fn count(s: &TestServer, sql: &str, param: &str) -> i64 {
    s.db().query_row(sql, [param], |r| r.get(0)).expect("count")
}

#[test]
fn an_operator_logs_in() {
    let s = TestServer::spawn();
    let id = create_admin(&s, "op@example.test");
    let res = login(&s, "  OP@Example.TEST ", PASSWORD);
    assert_eq!(res.status, 200, "{}", res.text);
    let token = res.str("/session_token");
    assert!(token.len() >= 43, "a 256-bit token: {token}");
    let expires_at = res.str("/expires_at");
    assert!(time::OffsetDateTime::parse(&expires_at, &time::format_description::well_known::Rfc3339).is_ok());
    let admin = &res.body["admin"];
    assert_eq!(admin["id"], json!(id));
    assert_eq!(admin["email"], json!("op@example.test"));
    assert_eq!(admin["name"], json!("Olga Operator"));
    assert_eq!(admin["status"], json!("active"));
    assert!(admin["created_at"].is_string());
    assert!(admin["last_login_at"].is_string(), "last_login_at is set by this login: {admin}");
    assert!(admin.get("password_hash").is_none() && !res.text.contains("argon2"), "{}", res.text);

    let db = s.db();
    let (realm, hash, admin_id): (String, Vec<u8>, String) = db
        .query_row("SELECT realm, hash, admin_id FROM sessions WHERE admin_id = ?1", [&id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("an admin session row");
    assert_eq!((realm.as_str(), admin_id.as_str()), ("admin", id.as_str()));
    assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec(), "only SHA-256 of the token is stored");
    assert_eq!(count(&s, "SELECT count(*) FROM audit_log WHERE action = 'admin.login' AND actor_id = ?1", &id), 1);
    let leaks = count(
        &s,
        "SELECT count(*) FROM audit_log WHERE instr(coalesce(before, '') || coalesce(after, ''), ?1) > 0",
        &token,
    );
    assert_eq!(leaks, 0);
}

#[test]
fn unknown_email_and_wrong_password_look_the_same() {
    let s = TestServer::spawn();
    let id = create_admin(&s, "op@example.test");
    let unknown = login(&s, "nobody@example.test", PASSWORD);
    let wrong = login(&s, "op@example.test", "wrong password entirely");
    assert_error(&unknown, 401, "invalid_credentials");
    assert_error(&wrong, 401, "invalid_credentials");
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(count(&s, "SELECT count(*) FROM sessions WHERE admin_id = ?1", &id), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM audit_log WHERE action = ?1", "admin.login_failed"), 2);
    // A portal account is no operator, even with the right password.
    s.signup("ann@example.test");
    assert_error(&login(&s, "ann@example.test", PASSWORD), 401, "invalid_credentials");
}

#[test]
fn malformed_login_requests_are_400_or_415() {
    let s = TestServer::spawn();
    create_admin(&s, "op@example.test");
    assert_error(&s.post("/v1/admin/auth/login", None, json!({ "email": "op@example.test" })), 400, "invalid_request");
    assert_error(&s.post("/v1/admin/auth/login", None, json!({ "password": PASSWORD })), 400, "invalid_request");
    assert_error(
        &s.post("/v1/admin/auth/login", None, json!({ "email": 1, "password": PASSWORD })),
        400,
        "invalid_request",
    );
    assert_error(&login(&s, "not an email", PASSWORD), 400, "invalid_request");
    let body = json!({ "email": "op@example.test", "password": PASSWORD }).to_string();
    let res = s.send("POST", "/v1/admin/auth/login", None, &[("Content-Type", "text/plain")], Some(body.as_bytes()));
    assert_error(&res, 415, "unsupported_media_type");
}

#[test]
fn a_disabled_operator_is_refused_after_a_correct_password_only() {
    let s = TestServer::spawn();
    let id = create_admin(&s, "op@example.test");
    let token = login(&s, "op@example.test", PASSWORD).str("/session_token");
    // Another operator disables it (the last active one could not be).
    let other = s.admin("other@example.test");
    let res = s.post(&format!("/v1/admin/admins/{id}/disable"), Some(&other), json!({ "reason": "left" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_error(&login(&s, "op@example.test", PASSWORD), 403, "account_disabled");
    assert_error(&login(&s, "op@example.test", "wrong password entirely"), 401, "invalid_credentials");
    assert_error(&logout(&s, &token), 401, "unauthorized");
    assert_eq!(count(&s, "SELECT count(*) FROM sessions WHERE admin_id = ?1", &id), 1, "no session for a refusal");
}

#[test]
fn login_attempts_are_rate_limited_per_ip() {
    let s = TestServer::with(|c| c.limits.login_by_ip = Rate { burst: 2, per_hour: 1 });
    create_admin(&s, "op@example.test");
    assert_eq!(login(&s, "op@example.test", PASSWORD).status, 200);
    assert_error(&login(&s, "op@example.test", "wrong password entirely"), 401, "invalid_credentials");
    let res = login(&s, "op@example.test", PASSWORD);
    assert_error(&res, 429, "rate_limited");
    let retry: u64 = res.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!(retry >= 1);
    s.app.clock.advance(3600);
    assert_eq!(login(&s, "op@example.test", PASSWORD).status, 200, "an hour refills one attempt");
}

#[test]
fn failed_logins_are_rate_limited_per_account() {
    let s = TestServer::with(|c| c.limits.login_by_account = Rate { burst: 2, per_hour: 1 });
    create_admin(&s, "op@example.test");
    create_admin(&s, "other@example.test");
    for _ in 0..2 {
        assert_error(&login(&s, "op@example.test", "wrong password entirely"), 401, "invalid_credentials");
    }
    let res = login(&s, "op@example.test", PASSWORD);
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
    assert_eq!(login(&s, "other@example.test", PASSWORD).status, 200, "other operators are not locked out");
}

#[test]
fn logout_ends_the_session() {
    let s = TestServer::spawn();
    let id = create_admin(&s, "op@example.test");
    let token = login(&s, "op@example.test", PASSWORD).str("/session_token");
    let other = login(&s, "op@example.test", PASSWORD).str("/session_token");
    let res = logout(&s, &token);
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(res.text.is_empty());
    assert_error(&logout(&s, &token), 401, "unauthorized");
    assert_eq!(
        count(&s, "SELECT count(*) FROM sessions WHERE admin_id = ?1 AND revoked_at IS NOT NULL", &id),
        1,
        "only this session is revoked"
    );
    assert_eq!(count(&s, "SELECT count(*) FROM audit_log WHERE action = 'admin.logout' AND actor_id = ?1", &id), 1);
    assert_eq!(logout(&s, &other).status, 204, "the operator's other session was still live");
}

#[test]
fn logout_needs_a_live_admin_token() {
    let s = TestServer::spawn();
    assert_error(&logout(&s, "garbage"), 401, "unauthorized");
    let res = s.send("POST", "/v1/admin/auth/logout", None, &[], None);
    assert_error(&res, 401, "unauthorized");
    let res = s.send("POST", "/v1/admin/auth/logout", None, &[("Authorization", "Basic b3A6cGFzcw==")], None);
    assert_error(&res, 401, "unauthorized");
}

#[test]
fn an_idle_operator_session_lapses_after_an_hour() {
    let s = TestServer::spawn();
    create_admin(&s, "op@example.test");
    let token = login(&s, "op@example.test", PASSWORD).str("/session_token");
    s.app.clock.advance(2 * 3600);
    assert_error(&logout(&s, &token), 401, "unauthorized");
}

#[test]
fn the_realms_never_accept_each_others_tokens() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let admin = s.admin("op@example.test");
    for (method, path) in [("GET", "/v1/me"), ("GET", "/v1/keys"), ("GET", "/v1/sessions"), ("GET", "/v1/tenant")] {
        assert_error(&s.send(method, path, Some(&admin), &[], None), 401, "unauthorized");
    }
    assert_error(&s.post("/v1/auth/logout", Some(&admin), Value::Null), 401, "unauthorized");
    assert_error(&logout(&s, &a.token), 401, "unauthorized");
    // Neither attempt did harm: both sessions are still live in their own realm.
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
    assert_eq!(logout(&s, &admin).status, 204);
}
