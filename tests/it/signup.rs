//! `POST /v1/auth/signup`: a new account owning a new tenant, with its first API key.
use keystead::limit::Rate;
use keystead::types::SignupMode;
use serde_json::{Value, json};

use crate::account_fixtures::{
    assert_current_hash_of, assert_key_format, assert_not_in_audit, assert_nowhere_in_db, audit, count, now, sha256,
    unix_of,
};
use crate::support::{PASSWORD, Res, TestServer, assert_error};

fn signup(s: &TestServer, body: Value) -> Res {
    s.post("/v1/auth/signup", None, body)
}

fn body(email: &str, password: &str) -> Value {
    json!({ "tenant_name": "Acme, Inc.", "email": email, "password": password, "name": "Ann Lee" })
}

fn accounts(s: &TestServer) -> i64 {
    count(s, "SELECT count(*) FROM portal_users", [])
}

fn tenants(s: &TestServer) -> i64 {
    count(s, "SELECT count(*) FROM tenants", [])
}

#[test]
fn signup_answers_owner_tenant_key_and_a_working_session() {
    let s = TestServer::spawn();
    let res = signup(&s, body("ann@example.test", PASSWORD));
    assert_eq!(res.status, 201, "{}", res.text);

    let token = res.str("/session_token");
    assert!(token.len() >= 43, "session token too short: {token}");
    let expires = unix_of(&res, "/expires_at");
    assert!((expires - now(&s) - 12 * 3600).abs() < 60, "an owner's portal session lapses after 12 idle hours");

    let (user_id, tenant_id) = (res.str("/user/id"), res.str("/tenant/id"));
    assert_ne!(user_id, tenant_id);
    let user = &res.body["user"];
    assert_eq!(user["tenant_id"], json!(tenant_id));
    assert_eq!(user["email"], "ann@example.test");
    assert_eq!(user["name"], "Ann Lee");
    assert_eq!(user["email_verified"], json!(false));
    assert_eq!(user["role"], "owner");
    assert_eq!(user["status"], "active");
    unix_of(&res, "/user/created_at");

    let tenant = &res.body["tenant"];
    assert_eq!(tenant["name"], "Acme, Inc.");
    assert_eq!(tenant["slug"], "acme-inc");
    assert_eq!(tenant["status"], "active");
    assert_eq!(tenant["plan"], "free");
    assert_eq!(tenant["max_seats"], Value::Null);
    assert_eq!(tenant["has_provider_key"], json!(false));
    assert_eq!(tenant["provider_key_hint"], Value::Null);
    unix_of(&res, "/tenant/created_at");

    let key = res.str("/api_key/key");
    assert_key_format(&key);
    let api_key = &res.body["api_key"];
    assert_eq!(api_key["tenant_id"], json!(tenant_id));
    assert_eq!(api_key["prefix"], json!(&key[..12]));
    assert_eq!(api_key["scopes"], json!([]));
    assert_eq!(api_key["meta"], Value::Null);
    assert_eq!(api_key["created_by"], json!(user_id));
    assert_eq!(api_key["revoked_at"], Value::Null);
    assert_eq!(api_key["expires_at"], Value::Null);
    assert!(api_key["name"].as_str().is_some_and(|n| !n.is_empty()), "the first key has a name");

    assert!(!res.text.contains("$argon2") && !res.text.contains(PASSWORD), "no hash or password goes out");

    // The session acts as the owner in the new tenant.
    let me = s.get("/v1/me", Some(&token));
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.str("/user/id"), user_id);
    assert_eq!(me.str("/tenant/id"), tenant_id);
    assert_eq!(me.str("/user/role"), "owner");
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(1));
    // The key verifies for that tenant.
    let verified = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(verified.body["valid"], json!(true), "{}", verified.text);
    assert_eq!(verified.str("/tenant_id"), tenant_id);

    // Stored: argon2id of the password, SHA-256 of the token and of the key, an active owner.
    let db = s.db();
    let (email, verified_at): (String, Option<i64>) = db
        .query_row("SELECT email, email_verified_at FROM portal_users WHERE id = ?1", [&user_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("account row");
    assert_eq!((email.as_str(), verified_at), ("ann@example.test", None));
    assert_current_hash_of(
        &s.db().query_row("SELECT password_hash FROM portal_users", [], |r| r.get::<_, String>(0)).expect("hash"),
        PASSWORD,
    );
    let session_hash: Vec<u8> = db
        .query_row("SELECT hash FROM sessions WHERE user_id = ?1 AND tenant_id = ?2", [&user_id, &tenant_id], |r| {
            r.get(0)
        })
        .expect("session row");
    assert_eq!(session_hash, sha256(&token));
    let key_hash: Vec<u8> =
        db.query_row("SELECT hash FROM keys WHERE tenant_id = ?1", [&tenant_id], |r| r.get(0)).expect("key row");
    assert_eq!(key_hash, sha256(&key));
    let (role, status): (String, String) = db
        .query_row(
            "SELECT role, status FROM memberships WHERE tenant_id = ?1 AND user_id = ?2",
            [&tenant_id, &user_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("membership row");
    assert_eq!((role.as_str(), status.as_str()), ("owner", "active"));

    // Audited as the new user, without a secret.
    for action in ["account.created", "tenant.created", "api_key.created"] {
        let rows = audit(&s, action);
        assert_eq!(rows.len(), 1, "one {action} event");
        assert_eq!(rows[0].actor_type, "user", "{action}");
        assert_eq!(rows[0].actor_id.as_deref(), Some(user_id.as_str()), "{action}");
    }
    assert_eq!(audit(&s, "tenant.created")[0].tenant_id.as_deref(), Some(tenant_id.as_str()));
    assert_not_in_audit(&s, &[PASSWORD, &token, &key]);
    assert_nowhere_in_db(&s, &[PASSWORD, &token, &key]);
}

#[test]
fn name_is_optional() {
    let s = TestServer::spawn();
    let res = signup(&s, json!({ "tenant_name": "Solo", "email": "solo@example.test", "password": PASSWORD }));
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["user"]["name"], "");
}

#[test]
fn email_is_trimmed_and_lower_cased() {
    let s = TestServer::spawn();
    let res = signup(&s, body("  Ann.Lee@Example.TEST \t", PASSWORD));
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/user/email"), "ann.lee@example.test");
    assert_eq!(count(&s, "SELECT count(*) FROM portal_users WHERE email = 'ann.lee@example.test'", []), 1);
    assert_eq!(s.login(" ANN.LEE@example.test ", PASSWORD).status, 200);
}

#[test]
fn a_taken_email_is_409_whatever_its_case_or_spacing() {
    let s = TestServer::spawn();
    s.signup("ann@example.test");
    for email in ["ann@example.test", "ANN@Example.Test", "  ann@example.test  "] {
        assert_error(&signup(&s, body(email, PASSWORD)), 409, "email_taken");
    }
    assert_eq!((accounts(&s), tenants(&s)), (1, 1), "nothing is created on a conflict");
}

#[test]
fn same_tenant_name_gets_distinct_slugs() {
    let s = TestServer::spawn();
    let a = signup(&s, body("a@example.test", PASSWORD));
    let b = signup(&s, body("b@example.test", PASSWORD));
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.str("/tenant/slug"), "acme-inc");
    assert!(b.str("/tenant/slug").starts_with("acme-inc-"), "{}", b.text);
    assert_eq!(b.str("/tenant/name"), "Acme, Inc.");
}

#[test]
fn malformed_emails_are_invalid_request_naming_the_field() {
    let s = TestServer::spawn();
    for email in ["", "ann", "ann@", "@example.test", "ann@example", "a b@example.test", "ann@@example.test"] {
        let res = signup(&s, body(email, PASSWORD));
        assert_error(&res, 400, "invalid_request");
        assert!(res.body.pointer("/error/fields/email").is_some(), "{email:?}: {}", res.text);
    }
    assert_eq!(accounts(&s), 0);
}

#[test]
fn missing_fields_are_named() {
    let s = TestServer::spawn();
    let full = body("ann@example.test", PASSWORD);
    for field in ["tenant_name", "email", "password"] {
        let mut partial = full.clone();
        partial.as_object_mut().map(|o| o.remove(field));
        let res = signup(&s, partial);
        assert_error(&res, 400, "invalid_request");
        assert_eq!(res.body.pointer(&format!("/error/fields/{field}")), Some(&json!("is required")), "{}", res.text);
    }
    assert_eq!(accounts(&s), 0);
}

#[test]
fn wrong_json_types_and_bodies_are_invalid_request() {
    let s = TestServer::spawn();
    let full = body("ann@example.test", PASSWORD);
    let wrong =
        [("email", json!(5)), ("password", json!(true)), ("tenant_name", Value::Null), ("name", json!(["Ann"]))];
    for (field, value) in wrong {
        let mut b = full.clone();
        b[field] = value;
        assert_error(&signup(&s, b), 400, "invalid_request");
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let duplicate = r#"{"tenant_name":"A","email":"a@example.test","email":"b@example.test","password":"x"}"#;
    let raws: [&[u8]; 9] = [
        b"[]",
        b"null",
        b"\"ann\"",
        b"{\"email\":",
        b"not json",
        b"",
        b"{\"tenant_name\":\"A\",\"email\":\"a@example.test\",\"password\":\"\xff\xfe long password\"}",
        deep.as_bytes(),
        duplicate.as_bytes(),
    ];
    for raw in raws {
        let res = s.send("POST", "/v1/auth/signup", None, &[("Content-Type", "application/json")], Some(raw));
        assert_error(&res, 400, "invalid_request");
    }
    assert_eq!(accounts(&s), 0);
}

#[test]
fn blank_or_overlong_names_are_invalid_request() {
    let s = TestServer::spawn();
    let cases = [
        ("tenant_name", json!("   ")),
        ("tenant_name", json!("x".repeat(101))),
        ("name", json!("y".repeat(101))),
        ("name", json!("Ann\u{0}Lee")),
    ];
    for (field, value) in cases {
        let mut b = body("ann@example.test", PASSWORD);
        b[field] = value;
        let res = signup(&s, b);
        assert_error(&res, 400, "invalid_request");
        assert!(res.body.pointer(&format!("/error/fields/{field}")).is_some(), "{}", res.text);
    }
    assert_eq!((accounts(&s), tenants(&s)), (0, 0));
}

#[test]
fn a_password_over_256_characters_is_invalid_request_not_weak() {
    let s = TestServer::spawn();
    let long: String = "Tr0ub4dor&3-horse-".chars().cycle().take(257).collect();
    let res = signup(&s, body("ann@example.test", &long));
    assert_error(&res, 400, "invalid_request");
    assert!(res.body.pointer("/error/fields/password").is_some(), "{}", res.text);
    assert_eq!(accounts(&s), 0);
    // 256 characters is the longest accepted.
    let res = signup(&s, body("ann@example.test", &long[..256]));
    assert_eq!(res.status, 201, "{}", res.text);
}

#[test]
fn short_or_guessable_passwords_are_weak() {
    let s = TestServer::spawn();
    for pw in ["short", "Zq8#mV2!p", "password123", "aaaaaaaaaaaaaaaa", "ann@example.test1"] {
        let res = signup(&s, body("ann@example.test", pw));
        assert_error(&res, 400, "weak_password");
    }
    assert_eq!((accounts(&s), tenants(&s)), (0, 0));
    // Ten characters that are hard to guess pass.
    assert_eq!(signup(&s, body("ann@example.test", "Zq8#mV2!pL")).status, 201);
}

#[test]
fn the_minimum_length_is_configurable() {
    let s = TestServer::with(|c| c.password_min_length = 30);
    assert_error(&signup(&s, body("ann@example.test", PASSWORD)), 400, "weak_password"); // 28 characters
    let longer = format!("{PASSWORD} again");
    assert_eq!(signup(&s, body("ann@example.test", &longer)).status, 201);
}

#[test]
fn signup_is_disabled_unless_the_mode_is_open() {
    for mode in [SignupMode::Invite, SignupMode::Closed] {
        let s = TestServer::with(|c| c.signup = mode);
        assert_error(&signup(&s, body("ann@example.test", PASSWORD)), 403, "signup_disabled");
        assert_eq!((accounts(&s), tenants(&s)), (0, 0), "{mode:?}");
    }
}

#[test]
fn signup_is_rate_limited_per_client_ip() {
    let s = TestServer::with(|c| c.limits.signup_by_ip = Rate { burst: 2, per_hour: 1 });
    s.signup("a@example.test");
    s.signup("b@example.test");
    let res = signup(&s, body("c@example.test", PASSWORD));
    assert_error(&res, 429, "rate_limited");
    let retry: u64 = res.header("retry-after").expect("Retry-After header").parse().expect("seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    assert_eq!(accounts(&s), 2, "a throttled sign-up creates nothing");
    // One attempt comes back per hour.
    s.app.clock.advance(3600);
    assert_eq!(signup(&s, body("c@example.test", PASSWORD)).status, 201);
    assert_error(&signup(&s, body("d@example.test", PASSWORD)), 429, "rate_limited");
}

#[test]
fn concurrent_signups_with_one_email_give_one_account_and_409s() {
    let s = TestServer::spawn();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let s = &s;
                scope.spawn(move || signup(s, body(&format!(" Ann@Example.test{}", " ".repeat(i)), PASSWORD)).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![201, 409, 409, 409], "never a 500: {statuses:?}");
    assert_eq!((accounts(&s), tenants(&s)), (1, 1));
}
