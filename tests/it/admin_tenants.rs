//! `/v1/admin/tenants*` and `/v1/admin/stats`: listing, counts, patching, the lifecycle
//! and its effects on sessions, keys, logins and memberships.
use serde_json::json;

use crate::support::operator::{ids, items, reason};
use crate::support::{PASSWORD, TestServer, assert_error};

#[test]
fn operators_list_search_filter_and_page_tenants() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let signup = |name: &str| {
        s.app.clock.advance(1); // one second apart, so "newest first" has one answer
        s.signup(&format!("{name}@example.test"))
    };
    let (a, b, c) = (signup("ann"), signup("bob"), signup("cy"));

    let all = s.get("/v1/admin/tenants", Some(&op));
    assert_eq!(ids(&all), [c.tenant_id.as_str(), b.tenant_id.as_str(), a.tenant_id.as_str()], "newest first");
    assert_eq!(all.body["next_cursor"], json!(null));
    assert_eq!(items(&all)[0]["slug"], "tenant-of-cy-example-test");
    assert_eq!(items(&all)[0]["max_seats"], json!(null));

    let first = s.get("/v1/admin/tenants?limit=2", Some(&op));
    assert_eq!(ids(&first).len(), 2);
    let cursor = first.str("/next_cursor");
    let rest = s.get(&format!("/v1/admin/tenants?limit=2&cursor={cursor}"), Some(&op));
    assert_eq!(ids(&rest), [a.tenant_id.as_str()]);
    assert_eq!(rest.body["next_cursor"], json!(null));

    // q matches the name or the slug, anywhere, ignoring case.
    assert_eq!(ids(&s.get("/v1/admin/tenants?q=OF%20BOB", Some(&op))), [b.tenant_id.as_str()]);
    assert_eq!(ids(&s.get("/v1/admin/tenants?q=ann-example", Some(&op))), [a.tenant_id.as_str()]);
    assert!(ids(&s.get("/v1/admin/tenants?q=nobody", Some(&op))).is_empty());

    let suspended = s.post(&format!("/v1/admin/tenants/{}/suspend", b.tenant_id), Some(&op), reason("unpaid"));
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert_eq!(ids(&s.get("/v1/admin/tenants?status=suspended", Some(&op))), [b.tenant_id.as_str()]);
    assert_eq!(
        ids(&s.get("/v1/admin/tenants?status=active&q=tenant", Some(&op))),
        [c.tenant_id.as_str(), a.tenant_id.as_str()]
    );

    assert_error(&s.get("/v1/admin/tenants?status=bogus", Some(&op)), 400, "invalid_request");
    assert_eq!(ids(&s.get("/v1/admin/tenants?limit=500", Some(&op))).len(), 3, "over 200 is capped, not refused");
    assert_error(&s.get("/v1/admin/tenants?limit=0", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/tenants?limit=x", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/tenants?cursor=!!", Some(&op)), 400, "invalid_request");
}

#[test]
fn a_tenant_shows_its_counts_and_unknown_ones_are_404() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    s.login_to("ann@example.test", &a.tenant_id);

    let res = s.get(&format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/tenant/id"), a.tenant_id);
    assert_eq!(res.body["counts"], json!({ "users": 1, "keys": 1, "sessions": 2 }));

    assert_error(&s.get("/v1/admin/tenants/00000000-0000-4000-8000-000000000000", Some(&op)), 404, "not_found");
    assert_error(&s.get("/v1/admin/tenants/not-an-id", Some(&op)), 404, "not_found");
    assert_error(
        &s.send("PUT", &format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op), &[], None),
        405,
        "method_not_allowed",
    );
}

#[test]
fn operators_patch_name_plan_and_seats() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let path = format!("/v1/admin/tenants/{}", a.tenant_id);

    let res = s.patch(&path, Some(&op), json!({ "name": " Acme ", "plan": "pro", "max_seats": 5 }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/tenant/name"), res.str("/tenant/plan")), ("Acme".into(), "pro".into()));
    assert_eq!(res.body["tenant"]["max_seats"], 5);
    assert_eq!(res.str("/tenant/slug"), "tenant-of-ann-example-test", "the slug stays");

    let event = s.last_event(&op, "tenant.updated");
    assert_eq!(event["before"]["name"], "Tenant of ann@example.test");
    assert_eq!(event["after"], json!({ "name": "Acme", "plan": "pro", "max_seats": 5, "status": "active" }));

    // Absent fields stay; null seats means unlimited.
    let res = s.patch(&path, Some(&op), json!({ "max_seats": null }));
    assert_eq!(res.body["tenant"]["max_seats"], json!(null), "{}", res.text);
    assert_eq!(res.str("/tenant/name"), "Acme");

    assert_error(&s.patch(&path, Some(&op), json!({ "max_seats": 0 })), 400, "invalid_request");
    assert_error(&s.patch(&path, Some(&op), json!({ "max_seats": "ten" })), 400, "invalid_request");
    assert_error(&s.patch(&path, Some(&op), json!({ "name": "   " })), 400, "invalid_request");
    assert_error(&s.patch(&path, Some(&op), json!({ "plan": 7 })), 400, "invalid_request");
    let raw = s.send("PATCH", &path, Some(&op), &[], Some(b"{\"name\": \"x\"}"));
    assert_error(&raw, 415, "unsupported_media_type");
    let missing = "/v1/admin/tenants/00000000-0000-4000-8000-000000000000";
    assert_error(&s.patch(missing, Some(&op), json!({ "name": "x" })), 404, "not_found");
}

#[test]
fn suspension_ends_sessions_stops_keys_and_logins_until_restored() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let other = s.signup("bob@example.test");
    assert_eq!(s.verify_key(&a.key)["valid"], true);

    let res = s.post(&format!("/v1/admin/tenants/{}/suspend", a.tenant_id), Some(&op), reason("unpaid invoice"));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/tenant/status"), "suspended");
    assert_eq!(
        s.db()
            .query_row(
                "SELECT COUNT(*) FROM sessions WHERE tenant_id = ?1 AND revoked_at IS NULL",
                [&a.tenant_id],
                |r| r.get::<_, i64>(0)
            )
            .unwrap(),
        0,
        "its sessions are revoked"
    );
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_eq!(s.verify_key(&a.key), json!({ "valid": false, "code": "tenant_inactive" }));
    assert_error(&s.login("ann@example.test", PASSWORD), 403, "tenant_suspended");
    // Other tenants carry on.
    assert_eq!(s.get("/v1/me", Some(&other.token)).status, 200);
    assert_eq!(s.verify_key(&other.key)["valid"], true);

    let again = s.post(&format!("/v1/admin/tenants/{}/suspend", a.tenant_id), Some(&op), reason("twice"));
    assert_error(&again, 409, "invalid_transition");

    let res = s.post(&format!("/v1/admin/tenants/{}/restore", a.tenant_id), Some(&op), reason("paid"));
    assert_eq!(res.str("/tenant/status"), "active", "{}", res.text);
    assert_eq!(s.verify_key(&a.key)["valid"], true);
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200);
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized"); // revoked stays revoked
}

#[test]
fn only_the_lifecycle_transitions_of_the_contract_are_allowed() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let go = |what: &str| s.post(&format!("/v1/admin/tenants/{}/{what}", a.tenant_id), Some(&op), reason("test"));

    assert_error(&go("restore"), 409, "invalid_transition"); // active
    assert_eq!(go("suspend").str("/tenant/status"), "suspended");
    assert_error(&go("suspend"), 409, "invalid_transition");
    assert_eq!(go("delete").str("/tenant/status"), "deleted"); // suspended -> deleted
    assert_error(&go("delete"), 409, "invalid_transition");
    assert_error(&go("suspend"), 409, "invalid_transition");
    assert_eq!(go("restore").str("/tenant/status"), "active"); // deleted -> active
    assert_eq!(go("delete").str("/tenant/status"), "deleted"); // active -> deleted
    assert_eq!(go("restore").str("/tenant/status"), "active");

    let missing = "/v1/admin/tenants/00000000-0000-4000-8000-000000000000/suspend";
    assert_error(&s.post(missing, Some(&op), reason("x")), 404, "not_found");
}

#[test]
fn every_change_needs_a_reason_that_is_a_string() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    for what in ["suspend", "delete", "restore", "revoke-sessions"] {
        let path = format!("/v1/admin/tenants/{}/{what}", a.tenant_id);
        assert_error(&s.send("POST", &path, Some(&op), &[], None), 400, "reason_required");
        for body in [json!({}), json!({ "reason": null }), json!({ "reason": " \n\t " })] {
            assert_error(&s.post(&path, Some(&op), body), 400, "reason_required");
        }
        for body in [json!({ "reason": 5 }), json!({ "reason": ["x"] }), json!({ "reason": "x".repeat(501) })] {
            assert_error(&s.post(&path, Some(&op), body), 400, "invalid_request");
        }
    }
    let huge = json!({ "reason": "x".repeat(70 * 1024) }).to_string();
    let path = format!("/v1/admin/tenants/{}/suspend", a.tenant_id);
    let res = s.send("POST", &path, Some(&op), &[("Content-Type", "application/json")], Some(huge.as_bytes()));
    assert_error(&res, 413, "payload_too_large");
    assert_eq!(s.tenant_status(&op, &a.tenant_id), "active", "nothing changed");
}

#[test]
fn deletion_disables_memberships_and_restore_brings_back_exactly_those() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let (bob, cy, dee) = (s.signup("bob@example.test"), s.signup("cy@example.test"), s.signup("dee@example.test"));
    s.add_membership(&a.tenant_id, &bob.user_id, "member", "active");
    s.add_membership(&a.tenant_id, &cy.user_id, "member", "removed"); // removed before the deletion
    s.add_membership(&a.tenant_id, &dee.user_id, "admin", "invited");
    let bob_in_a = s.login_to("bob@example.test", &a.tenant_id);

    let res = s.post(&format!("/v1/admin/tenants/{}/delete", a.tenant_id), Some(&op), reason("closed account"));
    assert_eq!(res.str("/tenant/status"), "deleted", "{}", res.text);
    for user in [&a.user_id, &bob.user_id, &dee.user_id] {
        assert_eq!(s.membership_status(&a.tenant_id, user), "disabled");
    }
    assert_eq!(s.membership_status(&a.tenant_id, &cy.user_id), "removed");
    let by_tenant: i64 = s
        .db()
        .query_row(
            "SELECT COUNT(*) FROM memberships WHERE tenant_id = ?1 AND disabled_by_tenant = 1",
            [&a.tenant_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by_tenant, 3);
    assert_error(&s.get("/v1/me", Some(&bob_in_a)), 401, "unauthorized");
    assert_eq!(s.get("/v1/me", Some(&bob.token)).status, 200, "bob's own tenant is untouched");
    assert_eq!(s.verify_key(&a.key)["code"], "tenant_inactive");
    assert_error(&s.login("ann@example.test", PASSWORD), 403, "no_active_membership");
    // Nothing is erased: the tenant and its members are still listed.
    let members = s.get(&format!("/v1/admin/tenants/{}/members", a.tenant_id), Some(&op));
    assert_eq!(items(&members).len(), 4);

    let res = s.post(&format!("/v1/admin/tenants/{}/restore", a.tenant_id), Some(&op), reason("reopened"));
    assert_eq!(res.str("/tenant/status"), "active", "{}", res.text);
    assert_eq!(s.membership_status(&a.tenant_id, &a.user_id), "active");
    assert_eq!(s.membership_status(&a.tenant_id, &bob.user_id), "active");
    assert_eq!(s.membership_status(&a.tenant_id, &dee.user_id), "invited", "back to what it was");
    assert_eq!(s.membership_status(&a.tenant_id, &cy.user_id), "removed", "not brought back");
    assert_eq!(s.verify_key(&a.key)["valid"], true);
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200);
    let event = s.last_event(&op, "tenant.restored");
    assert_eq!(event["after"]["memberships_changed"], 3);
}

#[test]
fn operators_revoke_all_sessions_of_a_tenant() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let second = s.login_to("ann@example.test", &a.tenant_id);
    let b = s.signup("bob@example.test");

    let res = s.post(&format!("/v1/admin/tenants/{}/revoke-sessions", a.tenant_id), Some(&op), reason("leak"));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({ "revoked": 2 }));
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_error(&s.get("/v1/me", Some(&second)), 401, "unauthorized");
    assert_eq!(s.get("/v1/me", Some(&b.token)).status, 200);
    assert_eq!(s.tenant_status(&op, &a.tenant_id), "active");
    let again = s.post(&format!("/v1/admin/tenants/{}/revoke-sessions", a.tenant_id), Some(&op), reason("again"));
    assert_eq!(again.body, json!({ "revoked": 0 }));
    let missing = "/v1/admin/tenants/00000000-0000-4000-8000-000000000000/revoke-sessions";
    assert_error(&s.post(missing, Some(&op), reason("x")), 404, "not_found");
}

#[test]
fn operators_list_a_tenants_members() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    s.add_membership(&a.tenant_id, &b.user_id, "admin", "active");

    let res = s.get(&format!("/v1/admin/tenants/{}/members?limit=1", a.tenant_id), Some(&op));
    let first = items(&res);
    assert_eq!(first.len(), 1);
    let cursor = res.str("/next_cursor");
    let rest = items(&s.get(&format!("/v1/admin/tenants/{}/members?cursor={cursor}", a.tenant_id), Some(&op)));
    let all: Vec<_> = first.into_iter().chain(rest).collect();
    let mut seen: Vec<(String, String)> =
        all.iter().map(|u| (u["email"].as_str().unwrap().to_owned(), u["role"].as_str().unwrap().to_owned())).collect();
    seen.sort();
    assert_eq!(seen, [("ann@example.test".into(), "owner".into()), ("bob@example.test".into(), "admin".into())]);
    assert!(all.iter().all(|u| u["tenant_id"] == a.tenant_id.as_str() && u["status"] == "active"));
    assert_error(&s.get("/v1/admin/tenants/00000000-0000-4000-8000-000000000000/members", Some(&op)), 404, "not_found");
}

#[test]
fn stats_count_tenants_accounts_sessions_and_keys() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    s.signup("cy@example.test");
    s.post(&format!("/v1/admin/tenants/{}/suspend", b.tenant_id), Some(&op), reason("x"));
    // An invited account has no password until it activates (the invitation code writes it).
    s.db_rw()
        .execute(
            "INSERT INTO portal_users (id, email, status, created_at, updated_at)
             VALUES ('00000000-0000-4000-8000-0000000000aa', 'new@example.test', 'active', 1, 1)",
            [],
        )
        .unwrap();
    let res = s.get("/v1/admin/stats", Some(&op));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["tenants"], json!({ "active": 2, "suspended": 1, "deleted": 0 }));
    assert_eq!(res.body["users"]["active"], 3);
    assert_eq!(res.body["users"]["invited"], 1);
    assert_eq!(res.body["users"]["disabled"], 0);
    assert_eq!(res.body["sessions_active"], 2, "b's session was revoked");
    assert_eq!(res.body["keys_active"], 3);
    let _ = a;
}

#[test]
fn the_two_realms_never_accept_each_others_tokens() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let t = &a.tenant_id;
    let admin_gets = [
        "/v1/admin/stats".to_owned(),
        "/v1/admin/tenants".into(),
        format!("/v1/admin/tenants/{t}"),
        format!("/v1/admin/tenants/{t}/members"),
        "/v1/admin/users".into(),
        "/v1/admin/admins".into(),
        "/v1/admin/audit".into(),
        "/v1/admin/outbox".into(),
    ];
    for path in &admin_gets {
        assert_error(&s.get(path, Some(&a.token)), 401, "unauthorized");
        assert_error(&s.get(path, None), 401, "unauthorized");
    }
    let admin_posts = [
        format!("/v1/admin/tenants/{t}/suspend"),
        format!("/v1/admin/tenants/{t}/delete"),
        format!("/v1/admin/tenants/{t}/restore"),
        format!("/v1/admin/tenants/{t}/revoke-sessions"),
        format!("/v1/admin/users/{}/disable", a.user_id),
        format!("/v1/admin/users/{}/enable", a.user_id),
        format!("/v1/admin/users/{}/delete", a.user_id),
        format!("/v1/admin/users/{}/restore", a.user_id),
        "/v1/admin/admins".into(),
        "/v1/admin/admins/00000000-0000-4000-8000-000000000000/disable".into(),
    ];
    for path in &admin_posts {
        assert_error(&s.post(path, Some(&a.token), reason("x")), 401, "unauthorized");
    }
    assert_error(
        &s.patch(&format!("/v1/admin/tenants/{t}"), Some(&a.token), json!({ "name": "x" })),
        401,
        "unauthorized",
    );
    for path in ["/v1/me", "/v1/tenant", "/v1/tenant/audit", "/v1/keys"] {
        assert_error(&s.get(path, Some(&op)), 401, "unauthorized");
    }
    assert_eq!(s.tenant_status(&op, t), "active");
}
