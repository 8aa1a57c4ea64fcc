//! `/v1/admin/tenants*` and `/v1/admin/stats`: listing, counts, patching, the lifecycle
//! and its effects on sessions, keys, logins and memberships.
use serde_json::json;

use crate::support::operator::{found, ids, items, reason};
use crate::support::{PASSWORD, TestServer, assert_error, token_of};

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
    assert_eq!(items(&all)[0]["slug"], "tenant-of-cy");
    assert_eq!(items(&all)[0]["max_seats"], json!(null));

    let first = s.get("/v1/admin/tenants?limit=2", Some(&op));
    assert_eq!(ids(&first).len(), 2);
    let cursor = first.str("/next_cursor");
    let rest = s.get(&format!("/v1/admin/tenants?limit=2&cursor={cursor}"), Some(&op));
    assert_eq!(ids(&rest), [a.tenant_id.as_str()]);
    assert_eq!(rest.body["next_cursor"], json!(null));

    // q matches the name or the slug, anywhere, ignoring case.
    assert_eq!(ids(&s.get("/v1/admin/tenants?q=OF%20BOB", Some(&op))), [b.tenant_id.as_str()]);
    assert_eq!(ids(&s.get("/v1/admin/tenants?q=of-ann", Some(&op))), [a.tenant_id.as_str()]);
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

/// `q` is found in what a tenant is called now, and is text: FTS5 syntax in it means itself.
#[test]
fn search_finds_a_renamed_tenant_and_takes_the_term_literally() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let (a, b) = (s.signup("ann@example.test"), s.signup("bob@example.test"));
    let name = "Zed \"Q\" (OR) *Star*: -Minus NEAR";
    let renamed = s.patch(&format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op), json!({ "name": name }));
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let find = |q: &str| found(&s, &op, "/v1/admin/tenants", q);

    assert_eq!(find("ZED"), [a.tenant_id.as_str()]);
    assert!(find("tenant of ann").is_empty(), "the old name is gone");
    assert_eq!(find("tenant-of-ann"), [a.tenant_id.as_str()], "the slug stays");
    assert_eq!(find("of bob"), [b.tenant_id.as_str()]);
    for literal in [name, "\"q\"", "(or)", "*star*:", "-minus", "near", "\"", "z", ") *"] {
        assert_eq!(find(literal), [a.tenant_id.as_str()], "{literal:?}");
    }
    let junk = "\"(*".repeat(66);
    for nothing in
        ["zed OR bob", "NEAR(zed)", "zed*", "name:zed", "^zed", "zed AND star", "%", "_", "\0", "a\0b", &junk]
    {
        assert!(find(nothing).is_empty(), "{nothing:?}");
    }
    let active = s.get("/v1/admin/tenants?status=active&q=%22q%22", Some(&op));
    assert_eq!(ids(&active), [a.tenant_id.as_str()]);
    assert!(ids(&s.get("/v1/admin/tenants?status=suspended&q=%22q%22", Some(&op))).is_empty());
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
    assert_eq!(res.str("/tenant/slug"), "tenant-of-ann", "the slug stays");

    let event = s.last_event(&op, "tenant.updated");
    assert_eq!(event["before"]["name"], "Tenant of ann");
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
    s.add_member(&a, &bob, "member", "active");
    s.add_member(&a, &cy, "member", "removed"); // removed before the deletion
    s.add_member(&a, &dee, "admin", "invited");
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
    s.add_member(&a, &b, "admin", "active");

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
    // An invited account has no password until it activates.
    assert_eq!(s.invite(&a.token, "new@example.test", "member").status, 201);
    let res = s.get("/v1/admin/stats", Some(&op));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["tenants"], json!({ "active": 2, "suspended": 1, "deleted": 0 }));
    assert_eq!(res.body["users"]["active"], 3);
    assert_eq!(res.body["users"]["invited"], 1);
    assert_eq!(res.body["users"]["disabled"], 0);
    assert_eq!(res.body["sessions_active"], 2, "b's session was revoked");
    assert_eq!(res.body["keys_active"], 3);
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

/// `POST /v1/admin/tenants` with this body.
fn create(s: &TestServer, op: &str, body: serde_json::Value) -> crate::support::Res {
    s.post("/v1/admin/tenants", Some(op), body)
}

fn tenant_count(s: &TestServer) -> i64 {
    s.db().query_row("SELECT COUNT(*) FROM tenants", [], |r| r.get(0)).unwrap()
}

#[test]
fn operators_create_a_tenant_whose_invited_owner_activates_and_runs_it() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let op_id = s.admin_id(&op, "op@example.test");
    let other = s.signup("bob@example.test");

    let body = json!({
        "name": " Acme Corp ", "owner_email": " Olga@Acme.TEST ", "owner_name": "Olga", "plan": "pro", "max_seats": 5,
    });
    let res = create(&s, &op, body);
    assert_eq!(res.status, 201, "{}", res.text);
    let tenant_id = res.str("/tenant/id");
    assert_eq!(res.str("/tenant/name"), "Acme Corp");
    assert_eq!(res.str("/tenant/slug"), "acme-corp", "derived from the name, as at sign-up");
    assert_eq!((res.str("/tenant/status"), res.str("/tenant/plan")), ("active".into(), "pro".into()));
    assert_eq!(res.body["tenant"]["max_seats"], 5);
    assert_eq!(res.body["tenant"]["has_provider_key"], false);
    let owner = &res.body["owner"];
    assert_eq!(owner["email"], "olga@acme.test");
    assert_eq!(owner["name"], "Olga");
    assert_eq!((&owner["role"], &owner["status"]), (&json!("owner"), &json!("invited")));
    assert_eq!(owner["tenant_id"], tenant_id.as_str());
    assert_eq!(owner["email_verified"], json!(null), "invited: nothing of the account shows");
    let owner_id = res.str("/owner/id");
    assert_eq!(res.body["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    let url = res.str("/activation_url");
    assert!(url.starts_with(&format!("{}/activate?token=", s.app.config.base_url)), "{url}");
    assert!(res.body.get("api_key").is_none(), "no key is made for the operator to see: {}", res.text);
    let token = token_of(&url);
    let queued = s.outbox_to("olga@acme.test", "invitation");
    assert_eq!(queued.len(), 1);
    assert!(queued[0].holds(&token) && queued[0].sent_at.is_none());

    let overview = s.get(&format!("/v1/admin/tenants/{tenant_id}"), Some(&op));
    assert_eq!(overview.body["counts"], json!({ "users": 1, "keys": 0, "sessions": 0 }), "{}", overview.text);
    let listed = items(&s.get(&format!("/v1/admin/tenants/{tenant_id}/members"), Some(&op)));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "invited");

    // Audited as the operator, in the order it happened.
    let created = s.last_event(&op, "tenant.created");
    assert_eq!((&created["actor_type"], &created["actor_id"]), (&json!("admin"), &json!(op_id)));
    assert_eq!((&created["tenant_id"], &created["target_id"]), (&json!(tenant_id), &json!(tenant_id)));
    assert_eq!(created["after"]["slug"], "acme-corp");
    assert_eq!(created["after"]["owner_email"], "olga@acme.test");
    let invited = s.last_event(&op, "member.invited");
    assert_eq!((&invited["actor_type"], &invited["actor_id"]), (&json!("admin"), &json!(op_id)));
    assert_eq!((&invited["tenant_id"], &invited["target_id"]), (&json!(tenant_id), &json!(owner_id)));
    assert_eq!(invited["after"]["role"], "owner");
    let account = s.last_event(&op, "account.created");
    assert_eq!((&account["actor_type"], &account["target_id"]), (&json!("admin"), &json!(owner_id)));

    // The owner follows the link, chooses a password and runs the tenant.
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/user/id"), res.str("/tenant/id")), (owner_id.clone(), tenant_id.clone()));
    assert_eq!((res.str("/user/role"), res.str("/user/status")), ("owner".into(), "active".into()));
    assert_eq!(res.body["user"]["email_verified"], false, "a handed-over link proves no address");
    let session = res.str("/session_token");
    assert_eq!(s.get("/v1/tenant", Some(&session)).str("/tenant/slug"), "acme-corp");
    let key = s.post("/v1/keys", Some(&session), json!({ "name": "first" }));
    assert_eq!(key.status, 201, "the owner makes its own first key: {}", key.text);
    assert_eq!(s.invite(&session, "member@acme.test", "member").status, 201);
    let login = s.login("olga@acme.test", PASSWORD);
    assert_eq!((login.status, login.str("/tenant/id")), (200, tenant_id.clone()));
    let again = json!({ "token": token, "password": PASSWORD });
    assert_error(&s.post("/v1/auth/activate", None, again), 400, "invalid_token");

    // Isolation: neither tenant sees the other's people or keys.
    let people = items(&s.get("/v1/tenant/members", Some(&session)));
    assert!(people.iter().all(|u| u["tenant_id"] == tenant_id.as_str()), "{people:?}");
    assert!(!people.iter().any(|u| u["email"] == "bob@example.test"));
    assert_error(&s.delete(&format!("/v1/keys/{}", other.key_id), Some(&session)), 404, "not_found");
    assert_error(&s.delete(&format!("/v1/tenant/members/{}", other.user_id), Some(&session)), 404, "not_found");
    let bobs = items(&s.get("/v1/tenant/members", Some(&other.token)));
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_error(&s.delete(&format!("/v1/tenant/members/{owner_id}"), Some(&other.token)), 404, "not_found");
}

#[test]
fn an_existing_account_is_invited_as_owner_and_keeps_its_password() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let bob = s.signup("bob@example.test");
    let body = json!({ "name": "Second", "owner_email": "BOB@example.test", "owner_name": "Someone Else" });
    let res = create(&s, &op, body);
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/owner/id"), bob.user_id, "the same account");
    assert_eq!(res.str("/owner/status"), "invited");
    // While invited, the tenant sees what the operator typed, not the account's own name.
    assert_eq!(res.str("/owner/name"), "Someone Else");
    assert!(res.body.get("activation_url").is_none(), "no link opens an existing account: {}", res.text);
    let tenant_id = res.str("/tenant/id");
    assert!(s.outbox_to("bob@example.test", "invitation")[0].body_text.contains("existing account"));
    let accounts: i64 = s.db().query_row("SELECT COUNT(*) FROM portal_users", [], |r| r.get(0)).unwrap();
    assert_eq!(accounts, 1, "no second account");

    let path = format!("/v1/me/invitations/{tenant_id}/accept");
    let res = s.post(&path, Some(&bob.token), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/tenant/id"), res.str("/user/role")), (tenant_id.clone(), "owner".into()));
    assert_eq!(res.str("/user/name"), "Test Owner", "an existing account keeps its name");
    let me = s.get("/v1/me", Some(&bob.token));
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(2));
    // The old password signs in to both tenants; the first tenant and its session are untouched.
    s.login_to("bob@example.test", &tenant_id);
    s.login_to("bob@example.test", &bob.tenant_id);
    assert_eq!(s.get("/v1/me", Some(&bob.token)).str("/tenant/id"), bob.tenant_id);
}

#[test]
fn a_slug_given_is_checked_and_unique_and_an_absent_one_is_derived() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let res = create(&s, &op, json!({ "name": "Acme", "slug": "acme-2", "owner_email": "a@acme.test" }));
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/tenant/slug"), "acme-2");
    assert_eq!((res.str("/tenant/plan"), &res.body["tenant"]["max_seats"]), ("free".into(), &json!(null)));

    // Taken: 409, and nothing of the attempt remains (no tenant, account, invitation).
    let before = tenant_count(&s);
    let again = create(&s, &op, json!({ "name": "Other", "slug": "acme-2", "owner_email": "b@acme.test" }));
    assert_error(&again, 409, "slug_taken");
    assert_eq!(tenant_count(&s), before);
    assert!(s.outbox_to("b@acme.test", "invitation").is_empty());
    let found = items(&s.get("/v1/admin/users?q=b@acme.test", Some(&op)));
    assert!(found.is_empty(), "{found:?}");
    // A deleted tenant keeps its slug.
    let id = res.str("/tenant/id");
    assert_eq!(s.post(&format!("/v1/admin/tenants/{id}/delete"), Some(&op), reason("x")).status, 200);
    assert_error(
        &create(&s, &op, json!({ "name": "X", "slug": "acme-2", "owner_email": "c@acme.test" })),
        409,
        "slug_taken",
    );

    // Absent or null: derived from the name, with a suffix when that is taken.
    let first = create(&s, &op, json!({ "name": "Acme 2", "owner_email": "d@acme.test", "slug": null }));
    let derived = first.str("/tenant/slug");
    assert!(derived.starts_with("acme-2-") && derived.len() == "acme-2-".len() + 6, "{derived}");

    for slug in [json!(""), json!("Acme"), json!("acme inc"), json!("acme_inc"), json!("a".repeat(41)), json!(7)] {
        let res = create(&s, &op, json!({ "name": "Acme", "slug": slug, "owner_email": "e@acme.test" }));
        assert_error(&res, 400, "invalid_request");
    }
    let forty = "a".repeat(40);
    assert_eq!(create(&s, &op, json!({ "name": "A", "slug": forty, "owner_email": "f@acme.test" })).status, 201);
}

#[test]
fn tenant_creation_refuses_bad_fields_and_other_realms() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let ok = json!({ "name": "Acme", "owner_email": "o@acme.test" });
    let with = |field: &str, value: serde_json::Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    let bad = [
        json!({ "owner_email": "o@acme.test" }),
        json!({ "name": "Acme" }),
        with("name", json!("   ")),
        with("name", json!("x".repeat(101))),
        with("name", json!(5)),
        with("owner_email", json!("not an address")),
        with("owner_email", json!(null)),
        with("owner_name", json!("bad\u{7}name")),
        with("plan", json!("")),
        with("plan", json!(7)),
        with("max_seats", json!(0)),
        with("max_seats", json!(-3)),
        with("max_seats", json!(2.5)),
        with("max_seats", json!("ten")),
        with("max_seats", json!(1_000_001)),
        json!([]),
    ];
    let before = tenant_count(&s);
    for body in bad {
        let res = create(&s, &op, body.clone());
        assert_error(&res, 400, "invalid_request");
        assert!(res.text.len() < 1000, "{body}: {}", res.text);
    }
    let missing = create(&s, &op, json!({ "name": "Acme" }));
    assert_eq!(missing.body["error"]["fields"]["owner_email"], "is required", "{}", missing.text);
    let blank = create(&s, &op, with("max_seats", json!(0)));
    assert!(blank.body["error"]["fields"]["max_seats"].is_string(), "{}", blank.text);
    let raw = s.send("POST", "/v1/admin/tenants", Some(&op), &[], Some(ok.to_string().as_bytes()));
    assert_error(&raw, 415, "unsupported_media_type");
    assert_error(&create(&s, &a.token, ok.clone()), 401, "unauthorized");
    assert_error(&s.post("/v1/admin/tenants", None, ok.clone()), 401, "unauthorized");
    assert_eq!(tenant_count(&s), before, "nothing was created");

    let res = create(&s, &op, with("max_seats", json!(null)));
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["tenant"]["max_seats"], json!(null));
    let res = create(&s, &op, json!({ "name": "One", "owner_email": "one@acme.test", "max_seats": 1 }));
    assert_eq!(res.body["tenant"]["max_seats"], 1, "the owner fits in one seat: {}", res.text);
    let full = s.post(
        &format!("/v1/admin/tenants/{}/members", res.str("/tenant/id")),
        Some(&op),
        json!({ "email": "two@acme.test", "role": "member" }),
    );
    assert_error(&full, 403, "seat_limit_reached");
}

/// `POST /v1/admin/tenants/{id}/members`.
fn admin_invite(s: &TestServer, op: &str, tenant_id: &str, email: &str, role: &str) -> crate::support::Res {
    s.post(&format!("/v1/admin/tenants/{tenant_id}/members"), Some(op), json!({ "email": email, "role": role }))
}

#[test]
fn operators_invite_members_with_the_portals_rules() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let op_id = s.admin_id(&op, "op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");

    // An owner's powers: any role, here an admin.
    let res = admin_invite(&s, &op, &a.tenant_id, " New@Example.test", "admin");
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!((res.str("/user/email"), res.str("/user/role")), ("new@example.test".into(), "admin".into()));
    assert_eq!((res.str("/user/status"), res.str("/user/tenant_id")), ("invited".into(), a.tenant_id.clone()));
    assert_eq!(res.body["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    let user_id = res.str("/user/id");
    let event = s.last_event(&op, "member.invited");
    assert_eq!((&event["actor_type"], &event["actor_id"]), (&json!("admin"), &json!(op_id)));
    assert_eq!((&event["tenant_id"], &event["target_id"]), (&json!(a.tenant_id), &json!(user_id)));
    // The tenant's owner sees the invitation and may resend it.
    let listed = s.get("/v1/tenant/members?status=invited", Some(&a.token));
    assert_eq!(listed.body["items"][0]["id"], user_id.as_str(), "{}", listed.text);

    let token = token_of(&res.str("/activation_url"));
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/tenant/id"), res.str("/user/role")), (a.tenant_id.clone(), "admin".into()));
    let admin_session = res.str("/session_token");
    assert_eq!(s.get("/v1/tenant/members", Some(&admin_session)).status, 200);
    // Only tenant a: b's people and the admin API stay out of reach.
    assert_error(&s.delete(&format!("/v1/tenant/members/{}", b.user_id), Some(&admin_session)), 404, "not_found");
    assert_error(&s.get("/v1/admin/tenants", Some(&admin_session)), 401, "unauthorized");

    // An owner too; an existing account from another tenant only accepts.
    let res = admin_invite(&s, &op, &a.tenant_id, "bob@example.test", "owner");
    assert_eq!((res.status, res.str("/user/id")), (201, b.user_id.clone()), "{}", res.text);

    assert_error(&admin_invite(&s, &op, &a.tenant_id, "new@example.test", "member"), 409, "already_member");
    assert_error(&admin_invite(&s, &op, &a.tenant_id, "ann@example.test", "member"), 409, "already_member");
    assert_error(&admin_invite(&s, &op, &a.tenant_id, "bob@example.test", "member"), 409, "already_member");
    assert_error(&admin_invite(&s, &op, &a.tenant_id, "x@example.test", "boss"), 400, "invalid_request");
    assert_error(&admin_invite(&s, &op, &a.tenant_id, "not an address", "member"), 400, "invalid_request");
    let path = format!("/v1/admin/tenants/{}/members", a.tenant_id);
    assert_error(&s.post(&path, Some(&op), json!({ "email": "x@example.test" })), 400, "invalid_request");
    assert_error(&s.send("POST", &path, Some(&op), &[], Some(b"{}")), 415, "unsupported_media_type");
    assert_error(
        &s.post(&path, Some(&a.token), json!({ "email": "x@example.test", "role": "member" })),
        401,
        "unauthorized",
    );
    let missing = "00000000-0000-4000-8000-000000000000";
    assert_error(&admin_invite(&s, &op, missing, "x@example.test", "member"), 404, "not_found");
    assert_error(&admin_invite(&s, &op, "junk", "x@example.test", "member"), 404, "not_found");

    // Seats: ann, new, bob = 3.
    let patched = s.patch(&format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op), json!({ "max_seats": 3 }));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_error(&admin_invite(&s, &op, &a.tenant_id, "x@example.test", "member"), 403, "seat_limit_reached");

    // A suspended or deleted tenant takes no invitations.
    s.post(&format!("/v1/admin/tenants/{}/suspend", b.tenant_id), Some(&op), reason("x"));
    assert_error(&admin_invite(&s, &op, &b.tenant_id, "y@example.test", "member"), 409, "invalid_transition");
    s.post(&format!("/v1/admin/tenants/{}/delete", b.tenant_id), Some(&op), reason("x"));
    assert_error(&admin_invite(&s, &op, &b.tenant_id, "y@example.test", "member"), 409, "invalid_transition");
    assert!(s.outbox_to("y@example.test", "invitation").is_empty());
}

/// Sessions (live or not) ever opened for this account in this tenant.
fn sessions_of(s: &TestServer, tenant_id: &str, user_id: &str) -> i64 {
    s.db()
        .query_row("SELECT COUNT(*) FROM sessions WHERE tenant_id = ?1 AND user_id = ?2", [tenant_id, user_id], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn activation_is_refused_while_the_tenant_is_deleted_or_suspended_and_after_removal() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let activate = |token: &str| s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    let invite = |email: &str| {
        let res = s.invite(&a.token, email, "member");
        (res.str("/user/id"), token_of(&res.str("/activation_url")))
    };
    let (x, x_token) = invite("x@example.test");
    let (y, y_token) = invite("y@example.test");

    // Deleted: the invitation is disabled "by tenant", so its link is invalid, and nothing happens.
    s.post(&format!("/v1/admin/tenants/{}/delete", a.tenant_id), Some(&op), reason("closed"));
    assert_eq!(s.membership_status(&a.tenant_id, &x), "disabled");
    assert_error(&activate(&x_token), 400, "invalid_token");
    assert_eq!(sessions_of(&s, &a.tenant_id, &x), 0, "no session in a deleted tenant");
    assert_error(&s.login("x@example.test", PASSWORD), 401, "invalid_credentials");
    // Restored: the invitation is back, and its (unexpired) link works.
    s.post(&format!("/v1/admin/tenants/{}/restore", a.tenant_id), Some(&op), reason("reopened"));
    assert_eq!(s.membership_status(&a.tenant_id, &x), "invited");
    let res = activate(&x_token);
    assert_eq!((res.status, res.str("/tenant/id")), (200, a.tenant_id.clone()), "{}", res.text);

    // Removed: the link dies with the membership.
    let path = format!("/v1/tenant/members/{y}");
    assert_eq!(s.delete(&path, Some(&s.login_to("ann@example.test", &a.tenant_id))).status, 204);
    assert_error(&activate(&y_token), 400, "invalid_token");
    assert_eq!(sessions_of(&s, &a.tenant_id, &y), 0);

    // Suspended: refused as a login would be, no session, no password set; fine once restored.
    let created = s.post("/v1/admin/tenants", Some(&op), json!({ "name": "Zed", "owner_email": "z@example.test" }));
    let (t, z) = (created.str("/tenant/id"), created.str("/owner/id"));
    let z_token = token_of(&created.str("/activation_url"));
    s.post(&format!("/v1/admin/tenants/{t}/suspend"), Some(&op), reason("unpaid"));
    assert_error(&activate(&z_token), 403, "tenant_suspended");
    assert_eq!(sessions_of(&s, &t, &z), 0, "no session in a suspended tenant");
    assert_error(&s.login("z@example.test", PASSWORD), 401, "invalid_credentials");
    s.post(&format!("/v1/admin/tenants/{t}/restore"), Some(&op), reason("paid"));
    let res = activate(&z_token);
    assert_eq!((res.status, res.str("/user/role")), (200, "owner".into()), "{}", res.text);

    // An operator-created tenant deleted before its owner accepts: the link is dead.
    let created = s.post("/v1/admin/tenants", Some(&op), json!({ "name": "Gone", "owner_email": "g@example.test" }));
    let (t, g) = (created.str("/tenant/id"), created.str("/owner/id"));
    s.post(&format!("/v1/admin/tenants/{t}/delete"), Some(&op), reason("mistake"));
    assert_error(&activate(&token_of(&created.str("/activation_url"))), 400, "invalid_token");
    assert_eq!(sessions_of(&s, &t, &g), 0);
}
