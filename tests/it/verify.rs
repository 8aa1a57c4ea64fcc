//! `/v1/verify/key` and `/v1/verify/session`: what a product's backend asks. Every
//! verdict, the checksum short-cut, last use, input errors and the failure rate limit.
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Res, TestServer, assert_error};
use keystead::limit::Rate;

fn writable(s: &TestServer) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(s.db_path()).expect("open db");
    c.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    c
}

fn verify_key(s: &TestServer, key: &str) -> Res {
    let res = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(res.status, 200, "{}", res.text);
    res
}

fn verify_session(s: &TestServer, token: &str) -> Res {
    let res = s.post("/v1/verify/session", None, json!({ "token": token }));
    assert_eq!(res.status, 200, "{}", res.text);
    res
}

fn invalid(code: &str) -> Value {
    json!({ "valid": false, "code": code })
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A well-formed key (right prefix, length, alphabet and CRC-32) that was never issued.
fn well_formed(prefix: &str, seed: u8) -> String {
    let mut key = prefix.to_owned();
    key.extend((0..43).map(|i| BASE62[(usize::from(seed) * 7 + i * 13) % 62] as char));
    let mut crc = crc32fast::hash(key.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    key.push_str(std::str::from_utf8(&check).expect("ascii"));
    key
}

fn future(secs: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(secs))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

#[test]
fn a_live_key_is_valid_with_its_tenant_scopes_and_meta() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let created = s.post(
        "/v1/keys",
        Some(&a.token),
        json!({ "name": "svc", "scopes": ["read", "write"], "meta": { "plan": "gold" }, "expires_at": "2099-05-06T07:08:09Z" }),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.str("/key");
    let slug: String =
        s.db().query_row("SELECT slug FROM tenants WHERE id = ?1", [&a.tenant_id], |r| r.get(0)).expect("tenant");

    let res = verify_key(&s, &key);
    assert_eq!(
        res.body,
        json!({
            "valid": true,
            "key_id": created.str("/id"),
            "tenant_id": a.tenant_id,
            "tenant_slug": slug,
            "scopes": ["read", "write"],
            "meta": { "plan": "gold" },
            "expires_at": "2099-05-06T07:08:09Z",
        })
    );

    // The first key of a sign-up: no scopes, no meta, no expiry.
    let first = verify_key(&s, &a.key);
    assert_eq!(first.body["valid"], json!(true));
    assert_eq!(first.body["key_id"], json!(a.key_id));
    assert_eq!(first.body["scopes"], json!([]));
    assert_eq!(first.body["meta"], Value::Null);
    assert_eq!(first.body["expires_at"], Value::Null);
}

#[test]
fn a_verification_records_last_use() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let last_used = |s: &TestServer| -> Option<i64> {
        s.db().query_row("SELECT last_used_at FROM keys WHERE id = ?1", [&a.key_id], |r| r.get(0)).expect("row")
    };
    assert_eq!(last_used(&s), None);
    verify_key(&s, &a.key);
    assert_eq!(last_used(&s), None, "recorded off the request path, by the flusher");
    s.flush_usage();
    let first = last_used(&s).expect("last_used_at set by a verification");
    let listed = s.get("/v1/keys", Some(&a.token));
    assert!(listed.body["items"][0]["last_used_at"].is_string(), "{}", listed.text);

    // Coalesced: at most one write a minute, but a later use moves it on.
    s.app.clock.advance(3600);
    verify_key(&s, &a.key);
    s.flush_usage();
    let later = last_used(&s).expect("still set");
    assert!(later >= first + 3600, "{later} vs {first}");
}

#[test]
fn unknown_mistyped_foreign_and_malformed_keys_are_unknown() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let never_issued = well_formed("ksk_", 1);
    // One character changed: the checksum no longer matches.
    let i = 20;
    let swapped = if &a.key[i..=i] == "a" { "b" } else { "a" };
    let typo = format!("{}{swapped}{}", &a.key[..i], &a.key[i + 1..]);
    let other_prefix = well_formed("xyz_", 2);
    let rebadged = format!("abc_{}", &a.key[4..]);
    for key in [
        never_issued.as_str(),
        typo.as_str(),
        other_prefix.as_str(),
        rebadged.as_str(),
        "not a key",
        "",
        "ksk_",
        &a.key[..a.key.len() - 1],
        &format!("{}0", a.key),
        &format!(" {}", a.key),
    ] {
        assert_eq!(verify_key(&s, key).body, invalid("unknown"), "{key:?}");
    }
    // The real key still verifies after all that.
    assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true));
}

#[test]
fn a_revoked_key_is_revoked() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_eq!(s.delete(&format!("/v1/keys/{}", a.key_id), Some(&a.token)).status, 204);
    assert_eq!(verify_key(&s, &a.key).body, invalid("revoked"));
}

#[test]
fn an_expired_key_is_expired() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let created = s.post("/v1/keys", Some(&a.token), json!({ "name": "short", "expires_at": future(3600) }));
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.str("/key");
    assert_eq!(verify_key(&s, &key).body["valid"], json!(true), "valid before its expiry");
    s.app.clock.advance(7200);
    assert_eq!(verify_key(&s, &key).body, invalid("expired"));
    assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true), "keys without expiry live on");
}

#[test]
fn a_key_of_a_suspended_tenant_is_tenant_inactive() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let op = s.admin("op@example.test");
    let change = |what: &str| {
        let res = s.post(&format!("/v1/admin/tenants/{}/{what}", a.tenant_id), Some(&op), json!({ "reason": "test" }));
        assert_eq!(res.status, 200, "{what}: {}", res.text);
    };
    change("suspend");
    assert_eq!(verify_key(&s, &a.key).body, invalid("tenant_inactive"));
    assert_eq!(verify_key(&s, &b.key).body["valid"], json!(true), "other tenants are unaffected");
    change("delete");
    assert_eq!(verify_key(&s, &a.key).body, invalid("tenant_inactive"));
    change("restore");
    assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true), "keys verify again after a restore");
}

#[test]
fn revocation_wins_over_expiry_and_tenant_state() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let created = s.post("/v1/keys", Some(&a.token), json!({ "name": "short", "expires_at": future(3600) }));
    let key = created.str("/key");
    assert_eq!(s.delete(&format!("/v1/keys/{}", created.str("/id")), Some(&a.token)).status, 204);
    s.app.clock.advance(7200);
    assert_eq!(verify_key(&s, &key).body, invalid("revoked"));
}

#[test]
fn bad_verify_requests_are_400_or_415() {
    let s = TestServer::spawn();
    for path in ["/v1/verify/key", "/v1/verify/session"] {
        let res = s.post(path, None, json!({}));
        assert_error(&res, 400, "invalid_request");
        assert!(res.body.pointer("/error/fields").is_some(), "the missing field is named: {}", res.text);
        assert_error(&s.post(path, None, json!({ "key": 5, "token": 5 })), 400, "invalid_request");
        let json_type = [("Content-Type", "application/json")];
        assert_error(&s.send("POST", path, None, &json_type, Some(b"{not json")), 400, "invalid_request");
        assert_error(&s.send("POST", path, None, &json_type, Some(b"")), 400, "invalid_request");
        let text = [("Content-Type", "text/plain")];
        assert_error(
            &s.send("POST", path, None, &text, Some(b"{\"key\":\"x\",\"token\":\"x\"}")),
            415,
            "unsupported_media_type",
        );
        assert_error(
            &s.send("POST", path, None, &[], Some(b"{\"key\":\"x\",\"token\":\"x\"}")),
            415,
            "unsupported_media_type",
        );
    }
    let missing = s.post("/v1/verify/key", None, json!({ "token": "x" }));
    assert_eq!(
        missing.body.pointer("/error/fields/key").and_then(Value::as_str),
        Some("is required"),
        "{}",
        missing.text
    );
}

#[test]
fn too_many_failed_verifications_are_rate_limited() {
    let s = TestServer::with(|c| c.limits.failed_verify_by_ip = Rate { burst: 3, per_hour: 1 });
    let a = s.signup("ann@example.test");
    // Successes cost nothing.
    for _ in 0..10 {
        assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true));
    }
    for n in 0..3 {
        assert_eq!(verify_key(&s, &format!("ksk_nope{n}")).body, invalid("unknown"));
    }
    let res = s.post("/v1/verify/key", None, json!({ "key": "ksk_nope" }));
    assert_error(&res, 429, "rate_limited");
    let retry: u64 = res.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    // The limit is per client IP and covers both verify routes.
    assert_error(&s.post("/v1/verify/session", None, json!({ "token": "nope" })), 429, "rate_limited");
    // Valid credentials never meet the limiter: a product's backend sharing the IP keeps working.
    assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true));
    assert_eq!(verify_session(&s, &a.token).body["valid"], json!(true));
    // An hour refills one attempt, and only one.
    s.app.clock.advance(3600);
    assert_eq!(verify_key(&s, "ksk_nope").body, invalid("unknown"));
    assert_error(&s.post("/v1/verify/key", None, json!({ "key": "ksk_nope" })), 429, "rate_limited");
}

#[test]
fn a_spoofed_x_forwarded_for_does_not_escape_the_limit() {
    let s = TestServer::with(|c| c.limits.failed_verify_by_ip = Rate { burst: 2, per_hour: 1 });
    for n in 0..4u8 {
        let forwarded = format!("198.51.100.{n}");
        let headers = [("Content-Type", "application/json"), ("X-Forwarded-For", forwarded.as_str())];
        let res = s.send("POST", "/v1/verify/key", None, &headers, Some(br#"{"key": "ksk_nope"}"#));
        if n < 2 {
            assert_eq!(res.body, invalid("unknown"), "attempt {n}: {}", res.text);
        } else {
            assert_error(&res, 429, "rate_limited");
        }
    }
}

#[test]
fn keys_carry_the_configured_prefix() {
    let s = TestServer::with(|c| c.key_prefix = "acme_".into());
    let a = s.signup("ann@example.test");
    assert!(a.key.starts_with("acme_") && a.key.len() == 5 + 43 + 6, "{}", a.key);
    assert_eq!(verify_key(&s, &a.key).body["valid"], json!(true));
    assert_eq!(verify_key(&s, &well_formed("ksk_", 3)).body, invalid("unknown"));
    let listed = s.get("/v1/keys", Some(&a.token));
    assert_eq!(listed.body["items"][0]["prefix"], json!(&a.key[..12]));
}

#[test]
fn failed_session_verifications_count_too() {
    let s = TestServer::with(|c| c.limits.failed_verify_by_ip = Rate { burst: 2, per_hour: 1 });
    for _ in 0..2 {
        assert_eq!(verify_session(&s, "garbage").body, json!({ "valid": false }));
    }
    assert_error(&s.post("/v1/verify/session", None, json!({ "token": "garbage" })), 429, "rate_limited");
}

#[test]
fn a_live_session_is_valid_with_its_user_tenant_and_role() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = verify_session(&s, &a.token);
    let session_id: String = s
        .db()
        .query_row("SELECT id FROM sessions WHERE user_id = ?1", [&a.user_id], |r| r.get(0))
        .expect("session row");
    assert_eq!(res.body["valid"], json!(true), "{}", res.text);
    assert_eq!(res.body["session_id"], json!(session_id));
    assert_eq!(res.body["user_id"], json!(a.user_id));
    assert_eq!(res.body["tenant_id"], json!(a.tenant_id));
    assert_eq!(res.body["role"], json!("owner"));
    let expires_at = res.str("/expires_at");
    assert!(time::OffsetDateTime::parse(&expires_at, &time::format_description::well_known::Rfc3339).is_ok());
    assert!(res.body.get("code").is_none());
}

#[test]
fn garbage_revoked_and_admin_tokens_are_not_valid_sessions() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let admin = s.admin("op@example.test");
    assert_eq!(verify_session(&s, "garbage").body, json!({ "valid": false }));
    assert_eq!(verify_session(&s, "").body, json!({ "valid": false }));
    assert_eq!(verify_session(&s, &a.key).body, json!({ "valid": false }), "an API key is not a session");
    assert_eq!(verify_session(&s, &admin).body, json!({ "valid": false }), "an operator session is another realm");

    assert_eq!(verify_session(&s, &a.token).body["valid"], json!(true));
    assert_eq!(s.post("/v1/auth/logout", Some(&a.token), json!({})).status, 204);
    assert_eq!(verify_session(&s, &a.token).body, json!({ "valid": false }));
}

#[test]
fn a_session_in_a_suspended_tenant_is_not_valid() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // Direct SQL on purpose: the suspend route also revokes the tenant's sessions, and this
    // proves verification checks the tenant's status even for a session still live.
    writable(&s).execute("UPDATE tenants SET status = 'suspended' WHERE id = ?1", [&a.tenant_id]).expect("suspended");
    assert_eq!(verify_session(&s, &a.token).body, json!({ "valid": false }));
}
