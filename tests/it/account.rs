//! The signed-in person's own routes: `/v1/me`, `/v1/me/password`, `GET /v1/tenant`,
//! `POST /v1/auth/switch-tenant`, `POST /v1/tenants` and `POST /v1/auth/logout`.
//!
//! Suspended tenants and removed memberships cannot be made through the API yet: the tests
//! write that state with a direct SQL `UPDATE`, standing in for the operator and member
//! routes of a later issue.
use keystead::types::SignupMode;
use serde_json::{Value, json};

use crate::account_fixtures::{
    assert_current_hash_of, assert_key_format, assert_not_in_audit, assert_nowhere_in_db, audit, count, exec,
    login_into, new_tenant, seed_owner, sha256, stored_hash, unix_of,
};
use crate::support::{PASSWORD, Res, TestServer, assert_error};

/// Every route of this file, with a body it would accept.
fn routes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/v1/me", None),
        ("PATCH", "/v1/me", Some(json!({ "name": "Someone" }))),
        (
            "POST",
            "/v1/me/password",
            Some(json!({ "current_password": PASSWORD, "new_password": "an entirely new passphrase" })),
        ),
        ("GET", "/v1/tenant", None),
        ("POST", "/v1/tenants", Some(json!({ "tenant_name": "Another" }))),
        ("POST", "/v1/auth/switch-tenant", Some(json!({ "tenant_id": "0d6c1a3e-8f0b-4e55-9a1e-5b8f0b8f0b8f" }))),
        ("POST", "/v1/auth/logout", None),
    ]
}

fn call(s: &TestServer, method: &str, path: &str, headers: &[(&str, &str)], body: &Option<Value>) -> Res {
    let bytes = body.as_ref().map(|b| b.to_string().into_bytes());
    let mut headers = headers.to_vec();
    if bytes.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    s.send(method, path, None, &headers, bytes.as_deref())
}

#[test]
fn every_route_needs_a_live_portal_session() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let admin = s.admin("op@example.test");
    let ended = s.login("ann@example.test", PASSWORD).str("/session_token");
    assert_eq!(s.post("/v1/auth/logout", Some(&ended), json!({})).status, 204);

    let bearer = |t: &str| format!("Bearer {t}");
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no credentials", None),
        ("a garbage token", Some(bearer("garbage"))),
        ("an empty bearer", Some("Bearer ".into())),
        ("another scheme", Some(format!("Basic {}", a.token))),
        ("an admin session", Some(bearer(&admin))),
        ("an API key", Some(bearer(&a.key))),
        ("a logged-out session", Some(bearer(&ended))),
    ];
    for (method, path, body) in routes() {
        for (what, header) in &credentials {
            let headers: Vec<(&str, &str)> = header.iter().map(|h| ("Authorization", h.as_str())).collect();
            let res = call(&s, method, path, &headers, &body);
            assert_eq!(res.status, 401, "{method} {path} with {what}: {}", res.text);
            assert_error(&res, 401, "unauthorized");
        }
    }
    // Nothing happened on the way.
    assert_eq!(count(&s, "SELECT count(*) FROM tenants", []), 1);
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Test Owner");
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200, "the password is unchanged");
}

#[test]
fn a_session_lapses_after_its_idle_timeout() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // An owner's session idles out after 12 hours (tests/it/sessions.rs has the others).
    s.app.clock.advance(11 * 3600);
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200, "used within 12 hours");
    s.app.clock.advance(13 * 3600);
    for (method, path, body) in routes() {
        let auth = format!("Bearer {}", a.token);
        assert_error(&call(&s, method, path, &[("Authorization", &auth)], &body), 401, "unauthorized");
    }
}

#[test]
fn get_me_shows_user_tenant_and_memberships() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let me = s.get("/v1/me", Some(&a.token));
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.str("/user/id"), a.user_id);
    assert_eq!(me.str("/user/tenant_id"), a.tenant_id);
    assert_eq!(me.str("/user/email"), a.email);
    assert_eq!(me.str("/user/name"), "Test Owner");
    assert_eq!(me.body["user"]["email_verified"], json!(false));
    assert_eq!(me.str("/user/role"), "owner");
    assert_eq!(me.str("/user/status"), "active");
    unix_of(&me, "/user/created_at");
    unix_of(&me, "/user/last_login_at");
    assert_eq!(me.str("/tenant/id"), a.tenant_id);
    assert_eq!(me.str("/tenant/status"), "active");
    let memberships = me.body["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0]["tenant"]["id"], json!(a.tenant_id));
    assert_eq!(memberships[0]["role"], "owner");
    assert!(!me.text.contains("password"), "no password field or hash: {}", me.text);
}

#[test]
fn get_tenant_shows_the_current_tenant() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let res = s.get("/v1/tenant", Some(&a.token));
    assert_eq!(res.status, 200, "{}", res.text);
    let t = &res.body["tenant"];
    assert_eq!(t["id"], json!(a.tenant_id));
    assert_eq!(t["name"], json!("Tenant of ann"));
    assert_eq!(t["slug"], json!("tenant-of-ann"));
    assert_eq!(t["status"], "active");
    assert_eq!(t["plan"], "free");
    assert_eq!(t["max_seats"], Value::Null);
    assert_eq!(t["has_provider_key"], json!(false));
    assert_eq!(t["provider_key_hint"], Value::Null);
    unix_of(&res, "/tenant/created_at");
    assert_eq!(res.body.as_object().map(|o| o.len()), Some(1), "only {{tenant}}: {}", res.text);
    assert_eq!(s.get("/v1/tenant", Some(&b.token)).str("/tenant/id"), b.tenant_id);
}

#[test]
fn patch_me_renames_the_account() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = s.patch("/v1/me", Some(&a.token), json!({ "name": "  Ann Lee  " }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/name"), "Ann Lee");
    assert_eq!(res.str("/user/id"), a.user_id);
    assert_eq!(res.str("/user/tenant_id"), a.tenant_id);
    assert_eq!(res.str("/user/role"), "owner");
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Ann Lee");
    assert_eq!(count(&s, "SELECT count(*) FROM portal_users WHERE id = ?1 AND name = 'Ann Lee'", [&a.user_id]), 1);

    // The name belongs to the account: the same in every tenant.
    let second = new_tenant(&s, &a.token, "Second");
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/tenant/id"), second);
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Ann Lee");

    let events = audit(&s, "account.profile_updated");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_type, "user");
    assert_eq!(events[0].actor_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(events[0].before, json!({ "name": "Test Owner" }));
    assert_eq!(events[0].after, json!({ "name": "Ann Lee" }));

    // An empty name clears it.
    assert_eq!(s.patch("/v1/me", Some(&a.token), json!({ "name": "" })).str("/user/name"), "");
}

#[test]
fn patch_me_refuses_wrong_types_and_bad_names() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for body in [json!({ "name": 5 }), json!({ "name": null }), json!({ "name": ["Ann"] }), json!("Ann"), json!([])] {
        assert_error(&s.patch("/v1/me", Some(&a.token), body), 400, "invalid_request");
    }
    let res = s.patch("/v1/me", Some(&a.token), json!({}));
    assert_error(&res, 400, "invalid_request");
    assert_eq!(res.body.pointer("/error/fields/name"), Some(&json!("is required")), "{}", res.text);
    for name in ["x".repeat(101), "Ann\nLee".into()] {
        let res = s.patch("/v1/me", Some(&a.token), json!({ "name": name }));
        assert_error(&res, 400, "invalid_request");
        assert!(res.body.pointer("/error/fields/name").is_some(), "{}", res.text);
    }
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Test Owner", "nothing changed");
    assert!(audit(&s, "account.profile_updated").is_empty());
}

#[test]
fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let other = s.login("ann@example.test", PASSWORD).str("/session_token");
    // A session acting in another tenant of the same account ends too.
    let elsewhere = s.login("ann@example.test", PASSWORD).str("/session_token");
    new_tenant(&s, &elsewhere, "Second");
    let bob = s.signup("bob@example.test");
    let new_password = "a brand new passphrase for ann";
    let res = s.post(
        "/v1/me/password",
        Some(&a.token),
        json!({ "current_password": PASSWORD, "new_password": new_password }),
    );
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(res.text.is_empty());

    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200, "the current session is kept");
    assert_error(&s.get("/v1/me", Some(&other)), 401, "unauthorized");
    assert_error(&s.get("/v1/me", Some(&elsewhere)), 401, "unauthorized");
    assert_eq!(s.get("/v1/me", Some(&bob.token)).status, 200, "another account's session is untouched");
    let revoked: Option<i64> = s
        .db()
        .query_row("SELECT revoked_at FROM sessions WHERE hash = ?1", [sha256(&other)], |r| r.get(0))
        .expect("session row");
    assert!(revoked.is_some(), "the other session is revoked in the database");

    assert_current_hash_of(&stored_hash(&s, "ann@example.test"), new_password);
    assert_error(&s.login("ann@example.test", PASSWORD), 401, "invalid_credentials");
    assert_eq!(s.login("ann@example.test", new_password).status, 200);

    let events = audit(&s, "account.password_changed");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_type, "user");
    assert_eq!(events[0].actor_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(events[0].target_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(events[0].after, json!({ "other_sessions_revoked": 2 }));
    assert_not_in_audit(&s, &[PASSWORD, new_password, &a.token, &other]);
    assert_nowhere_in_db(&s, &[PASSWORD, new_password, &a.token, &other]);
}

#[test]
fn a_wrong_current_password_is_401_invalid_credentials_and_changes_nothing() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let other = s.login("ann@example.test", PASSWORD).str("/session_token");
    let hash = stored_hash(&s, "ann@example.test");
    let res = s.post(
        "/v1/me/password",
        Some(&a.token),
        json!({ "current_password": "not my password", "new_password": "a brand new passphrase for ann" }),
    );
    assert_error(&res, 401, "invalid_credentials");
    assert_eq!(stored_hash(&s, "ann@example.test"), hash);
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200, "the caller stays signed in");
    assert_eq!(s.get("/v1/me", Some(&other)).status, 200, "no session was revoked");
    assert!(audit(&s, "account.password_changed").is_empty());
}

#[test]
fn a_weak_or_malformed_new_password_is_400() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let other = s.login("ann@example.test", PASSWORD).str("/session_token");
    let hash = stored_hash(&s, "ann@example.test");
    let change = |new: Value| {
        s.post("/v1/me/password", Some(&a.token), json!({ "current_password": PASSWORD, "new_password": new }))
    };
    for weak in ["short", "Zq8#mV2!p", "password123", "ann@example.test", "Test Owner 1"] {
        assert_error(&change(json!(weak)), 400, "weak_password");
    }
    let long: String = "Tr0ub4dor&3-horse-".chars().cycle().take(257).collect();
    let res = change(json!(long));
    assert_error(&res, 400, "invalid_request");
    assert!(res.body.pointer("/error/fields/new_password").is_some(), "names new_password: {}", res.text);
    assert_error(&change(json!(12345678901234_u64)), 400, "invalid_request");
    assert_error(&change(Value::Null), 400, "invalid_request");
    let res = s.post("/v1/me/password", Some(&a.token), json!({ "current_password": PASSWORD }));
    assert_eq!(res.body.pointer("/error/fields/new_password"), Some(&json!("is required")), "{}", res.text);
    let res = s.post("/v1/me/password", Some(&a.token), json!({ "new_password": "a brand new passphrase" }));
    assert_eq!(res.body.pointer("/error/fields/current_password"), Some(&json!("is required")), "{}", res.text);

    assert_eq!(stored_hash(&s, "ann@example.test"), hash, "nothing changed");
    assert_eq!(s.get("/v1/me", Some(&other)).status, 200, "no session was revoked");
}

#[test]
fn switch_tenant_moves_the_session_and_becomes_the_one_used_last() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let second = new_tenant(&s, &a.token, "Second");
    let other = s.login("ann@example.test", PASSWORD).str("/session_token");
    assert_eq!(s.get("/v1/me", Some(&other)).str("/tenant/id"), second);

    let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": a.tenant_id }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/id"), a.user_id);
    assert_eq!(res.str("/user/tenant_id"), a.tenant_id);
    assert_eq!(res.str("/user/role"), "owner");
    assert_eq!(res.str("/tenant/id"), a.tenant_id);
    assert_eq!(res.str("/tenant/status"), "active");

    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/tenant/id"), a.tenant_id);
    assert_eq!(s.get("/v1/tenant", Some(&a.token)).str("/tenant/id"), a.tenant_id);
    assert_eq!(s.get("/v1/me", Some(&other)).str("/tenant/id"), second, "other sessions stay where they are");
    assert_eq!(
        count(&s, "SELECT count(*) FROM sessions WHERE hash = ?1 AND tenant_id = ?2", (sha256(&a.token), &a.tenant_id)),
        1
    );
    assert_eq!(s.login("ann@example.test", PASSWORD).str("/tenant/id"), a.tenant_id, "now the one used last");

    let events = audit(&s, "auth.tenant_switched");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_type, "user");
    assert_eq!(events[0].actor_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(events[0].tenant_id, None, "an account-level event: no tenant's audit shows it");
    assert_eq!(events[0].before, json!({ "tenant_id": second }));
    assert_eq!(events[0].after, json!({ "tenant_id": a.tenant_id }));
    assert_not_in_audit(&s, &[PASSWORD, &a.token, &other]);
}

#[test]
fn switch_tenant_to_a_tenant_without_membership_is_404() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let second = new_tenant(&s, &a.token, "Second");
    for tenant in [b.tenant_id.as_str(), "0d6c1a3e-8f0b-4e55-9a1e-5b8f0b8f0b8f", "not-an-id"] {
        let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": tenant }));
        assert_error(&res, 404, "not_found");
        assert!(!res.text.contains(&b.email) && !res.text.contains("Tenant of bob"), "{}", res.text);
    }
    // A removed membership is no way in either. Direct SQL: no route removes an owner
    // (nor oneself), and ann owns the first tenant.
    exec(
        &s,
        "UPDATE memberships SET status = 'removed' WHERE tenant_id = ?1 AND user_id = ?2",
        [&a.tenant_id, &a.user_id],
    );
    assert_error(
        &s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": a.tenant_id })),
        404,
        "not_found",
    );
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/tenant/id"), second, "the session did not move");
    assert!(audit(&s, "auth.tenant_switched").is_empty());

    let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({}));
    assert_error(&res, 400, "invalid_request");
    assert_eq!(res.body.pointer("/error/fields/tenant_id"), Some(&json!("is required")));
    assert_error(&s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": 5 })), 400, "invalid_request");
}

#[test]
fn switch_tenant_to_a_suspended_tenant_is_403() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let second = new_tenant(&s, &a.token, "Second");
    // An operator suspends the first tenant; the session acts in the second, so it lives on.
    let op = s.admin("op@example.test");
    let change = |what: &str| {
        let res = s.post(&format!("/v1/admin/tenants/{}/{what}", a.tenant_id), Some(&op), json!({ "reason": "x" }));
        assert_eq!(res.status, 200, "{what}: {}", res.text);
    };
    change("suspend");
    let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": a.tenant_id }));
    assert_error(&res, 403, "tenant_suspended");
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/tenant/id"), second, "the session did not move");
    // A deleted tenant is no longer a membership at all.
    change("delete");
    assert_error(
        &s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": a.tenant_id })),
        404,
        "not_found",
    );
}

#[test]
fn post_tenants_founds_a_tenant_owned_by_the_caller_and_acts_in_it() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": "  Second Shop  " }));
    assert_eq!(res.status, 201, "{}", res.text);
    let tenant = res.str("/tenant/id");
    assert_ne!(tenant, a.tenant_id);
    assert_eq!(res.str("/tenant/name"), "Second Shop");
    assert_eq!(res.str("/tenant/slug"), "second-shop");
    assert_eq!(res.str("/tenant/status"), "active");
    assert_eq!(res.str("/user/id"), a.user_id);
    assert_eq!(res.str("/user/tenant_id"), tenant);
    assert_eq!(res.str("/user/role"), "owner");
    assert_eq!(res.str("/user/status"), "active");
    let key = res.str("/api_key/key");
    assert_key_format(&key);
    assert_eq!(res.str("/api_key/tenant_id"), tenant);
    assert_eq!(res.str("/api_key/created_by"), a.user_id);
    let verified = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(verified.body["valid"], json!(true), "{}", verified.text);
    assert_eq!(verified.str("/tenant_id"), tenant);

    // The session now acts in the new tenant; the first one is still a membership.
    let me = s.get("/v1/me", Some(&a.token));
    assert_eq!(me.str("/tenant/id"), tenant);
    assert_eq!(me.str("/user/role"), "owner");
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(2));
    assert_eq!(s.get("/v1/tenant", Some(&a.token)).str("/tenant/name"), "Second Shop");
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM memberships WHERE tenant_id = ?1 AND user_id = ?2 AND role = 'owner' AND status = 'active'",
            [&tenant, &a.user_id]
        ),
        1
    );
    assert_eq!(count(&s, "SELECT count(*) FROM keys WHERE tenant_id = ?1 AND hash = ?2", (&tenant, sha256(&key))), 1);

    let created = audit(&s, "tenant.created");
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].actor_type, "user");
    assert_eq!(created[1].actor_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(created[1].tenant_id.as_deref(), Some(tenant.as_str()));
    assert_not_in_audit(&s, &[PASSWORD, &a.token, &key]);
    assert_nowhere_in_db(&s, &[&key]);

    // Isolation: the first tenant's key and session are untouched, and the name may repeat.
    assert_eq!(s.post("/v1/verify/key", None, json!({ "key": a.key })).str("/tenant_id"), a.tenant_id);
    let again = s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": "Second Shop" }));
    assert_eq!(again.status, 201, "{}", again.text);
    assert_ne!(again.str("/tenant/slug"), "second-shop");
}

#[test]
fn post_tenants_refuses_blank_or_malformed_names() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for name in [json!(""), json!("   "), json!("x".repeat(101))] {
        let res = s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": name }));
        assert_error(&res, 400, "invalid_request");
        assert!(res.body.pointer("/error/fields/tenant_name").is_some(), "{}", res.text);
    }
    let res = s.post("/v1/tenants", Some(&a.token), json!({}));
    assert_eq!(res.body.pointer("/error/fields/tenant_name"), Some(&json!("is required")), "{}", res.text);
    for body in [json!({ "tenant_name": 3 }), json!({ "tenant_name": null }), json!([])] {
        assert_error(&s.post("/v1/tenants", Some(&a.token), body), 400, "invalid_request");
    }
    assert_eq!(count(&s, "SELECT count(*) FROM tenants", []), 1, "no tenant was created");
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/tenant/id"), a.tenant_id, "the session did not move");
}

#[test]
fn post_tenants_is_refused_unless_signup_is_open() {
    for mode in [SignupMode::Invite, SignupMode::Closed] {
        let s = TestServer::with(|c| c.signup = mode);
        let (_, tenant) = seed_owner(&s, "ann@example.test");
        let login = login_into(&s, "ann@example.test", PASSWORD, None);
        assert_eq!(login.status, 200, "{}", login.text);
        let token = login.str("/session_token");
        let res = s.post("/v1/tenants", Some(&token), json!({ "tenant_name": "Second" }));
        assert_error(&res, 403, "signup_disabled");
        assert_eq!(count(&s, "SELECT count(*) FROM tenants", []), 1, "{mode:?}: no tenant was created");
        assert_eq!(s.get("/v1/me", Some(&token)).str("/tenant/id"), tenant);
    }
}

#[test]
fn logout_revokes_only_this_session() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let other = s.login("ann@example.test", PASSWORD).str("/session_token");
    let res = s.post("/v1/auth/logout", Some(&a.token), json!({}));
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(res.text.is_empty());
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_error(&s.post("/v1/auth/logout", Some(&a.token), json!({})), 401, "unauthorized");
    assert_eq!(s.get("/v1/me", Some(&other)).status, 200, "the other session lives on");
    assert_eq!(s.post("/v1/verify/session", None, json!({ "token": a.token })).body, json!({ "valid": false }));

    let revoked: Option<i64> = s
        .db()
        .query_row("SELECT revoked_at FROM sessions WHERE hash = ?1", [sha256(&a.token)], |r| r.get(0))
        .expect("session row");
    assert!(revoked.is_some());
    let events = audit(&s, "auth.logout");
    assert_eq!(events.len(), 1, "the second attempt wrote nothing");
    assert_eq!(events[0].actor_type, "user");
    assert_eq!(events[0].actor_id.as_deref(), Some(a.user_id.as_str()));
    assert_eq!(events[0].target_type.as_deref(), Some("session"));
    assert_not_in_audit(&s, &[&a.token, &other]);

    // Logging out needs no body at all.
    let res = s.send("POST", "/v1/auth/logout", Some(&other), &[], None);
    assert_eq!(res.status, 204, "{}", res.text);
    assert_error(&s.get("/v1/me", Some(&other)), 401, "unauthorized");
}

#[test]
fn a_plain_member_may_use_its_own_routes() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@example.test");
    let a = s.join(&owner.token, "ann@example.test", "member");
    assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/role"), "member");
    assert_eq!(s.get("/v1/tenant", Some(&a.token)).str("/tenant/id"), owner.tenant_id);
    assert_eq!(s.patch("/v1/me", Some(&a.token), json!({ "name": "Ann" })).str("/user/role"), "member");
    let new_password = "a brand new passphrase for ann";
    let res = s.post(
        "/v1/me/password",
        Some(&a.token),
        json!({ "current_password": PASSWORD, "new_password": new_password }),
    );
    assert_eq!(res.status, 204, "{}", res.text);
    let res = s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": "Mine" }));
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/user/role"), "owner", "the founder owns the new tenant");
    let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": owner.tenant_id }));
    assert_eq!(res.str("/user/role"), "member", "and is still a member of the first");
    assert_eq!(s.post("/v1/auth/logout", Some(&a.token), json!({})).status, 204);
}

#[test]
fn wrong_current_passwords_spend_the_accounts_login_allowance() {
    let s = TestServer::with(|c| c.limits.login_by_account = keystead::limit::Rate { burst: 2, per_hour: 1 });
    let a = s.signup("ann@example.test");
    let change = |current: &str| {
        s.post(
            "/v1/me/password",
            Some(&a.token),
            json!({ "current_password": current, "new_password": "a brand new passphrase" }),
        )
    };
    for _ in 0..2 {
        assert_error(&change("not my password at all"), 401, "invalid_credentials");
    }
    let res = change(PASSWORD);
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
    assert_error(&s.login("ann@example.test", PASSWORD), 429, "rate_limited");
    s.app.clock.advance(3600);
    assert_eq!(change(PASSWORD).status, 204);
}

/// Issue 10 item 6: a tenant's name is quoted in invitation mail, so it may not carry a
/// link or pass for an address, wherever it is set.
#[test]
fn tenant_names_that_look_like_links_are_refused_wherever_they_are_set() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let op = s.admin("op@operator.test");
    let bad = ["Visit https://evil.test", "support@acme", "www.acme", "acme.com", "Pay at login.example.org"];
    for name in bad {
        let signup = json!({ "tenant_name": name, "email": "new@example.test", "password": PASSWORD });
        let answers = [
            ("tenant_name", s.post("/v1/auth/signup", None, signup)),
            ("tenant_name", s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": name }))),
            ("name", s.patch("/v1/tenant", Some(&a.token), json!({ "name": name }))),
            ("name", s.post("/v1/admin/tenants", Some(&op), json!({ "name": name, "owner_email": "o@x.test" }))),
            ("name", s.patch(&format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op), json!({ "name": name }))),
        ];
        for (field, res) in answers {
            assert_error(&res, 400, "invalid_request");
            assert!(res.body["error"]["fields"][field].is_string(), "{name}: {}", res.text);
        }
    }
    let res = s.patch("/v1/tenant", Some(&a.token), json!({ "name": "Acme Inc. v2.0" }));
    assert_eq!(res.status, 200, "ordinary names with dots stay fine: {}", res.text);
}

/// Issue 10 item 9: names and addresses with invisible or bidirectional-control characters
/// (Unicode Cc, Cf, Co, Cn) are 400.
#[test]
fn names_and_emails_with_invisible_characters_are_refused() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for bad in ["Ann\u{202E}nimda", "zero\u{200B}width", "private\u{E000}use", "unassigned\u{0378}"] {
        let res = s.patch("/v1/me", Some(&a.token), json!({ "name": bad }));
        assert_error(&res, 400, "invalid_request");
        let res = s.invite(&a.token, &format!("x{bad}@example.test"), "member");
        assert_error(&res, 400, "invalid_request");
        assert!(res.body["error"]["fields"]["email"].is_string(), "{}", res.text);
        let signup = json!({ "tenant_name": "T", "email": "b@example.test", "password": PASSWORD, "name": bad });
        assert_error(&s.post("/v1/auth/signup", None, signup), 400, "invalid_request");
    }
    assert_eq!(s.patch("/v1/me", Some(&a.token), json!({ "name": "Zoë Ångström 李" })).status, 200);
}
