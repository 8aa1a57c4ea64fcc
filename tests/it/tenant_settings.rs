use serde_json::json;

use crate::support::{TestServer, assert_error};

#[test]
fn an_owner_sets_replaces_and_clears_the_provider_key_seeing_only_a_hint() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let secret = "sk-live-provider-0123456789abcdWXYZ";
    let res = s.patch("/v1/tenant", Some(&a.token), json!({ "provider_key": secret, "name": "Renamed Co" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["tenant"]["has_provider_key"], true);
    assert_eq!(res.str("/tenant/provider_key_hint"), "WXYZ");
    assert_eq!(res.str("/tenant/name"), "Renamed Co");
    assert!(!res.text.contains(secret));

    // Stored sealed: the raw key is in no column of any table, nor in the audit log.
    let db = s.db();
    let sealed: Vec<u8> =
        db.query_row("SELECT provider_key FROM tenants WHERE id = ?1", [&a.tenant_id], |r| r.get(0)).unwrap();
    assert!(!sealed.windows(10).any(|w| w == &secret.as_bytes()[..10]));
    let audit: String = db
        .query_row("SELECT group_concat(coalesce(before,'') || coalesce(after,''), ' ') FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!audit.contains("sk-live"), "audit: {audit}");
    assert!(audit.contains("WXYZ"));

    let got = s.get("/v1/tenant", Some(&a.token));
    assert_eq!(got.body["tenant"]["provider_key_hint"], "WXYZ");
    assert!(!got.text.contains(secret));

    let untouched = s.patch("/v1/tenant", Some(&a.token), json!({ "name": "Again" }));
    assert_eq!(untouched.body["tenant"]["has_provider_key"], true, "an absent provider_key leaves it");

    let cleared = s.patch("/v1/tenant", Some(&a.token), json!({ "provider_key": null }));
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.body["tenant"]["has_provider_key"], false);
    assert_eq!(cleared.body["tenant"]["provider_key_hint"], serde_json::Value::Null);
    let stored: Option<Vec<u8>> =
        s.db().query_row("SELECT provider_key FROM tenants WHERE id = ?1", [&a.tenant_id], |r| r.get(0)).unwrap();
    assert_eq!(stored, None);
}

#[test]
fn bad_tenant_patches_are_400_and_only_owners_may_patch() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_error(&s.patch("/v1/tenant", Some(&a.token), json!({ "provider_key": "short" })), 400, "invalid_request");
    assert_error(&s.patch("/v1/tenant", Some(&a.token), json!({ "provider_key": 42 })), 400, "invalid_request");
    assert_error(&s.patch("/v1/tenant", Some(&a.token), json!({ "name": "  " })), 400, "invalid_request");
    assert_error(&s.patch("/v1/tenant", None, json!({ "name": "X" })), 401, "unauthorized");

    // An admin of the tenant may not.
    let admin = s.join(&a.token, "admin@example.test", "admin");
    assert_error(&s.patch("/v1/tenant", Some(&admin.token), json!({ "name": "Mine now" })), 403, "forbidden");
}
