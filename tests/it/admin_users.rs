//! `/v1/admin/users*`: accounts across tenants, their lifecycle and the last-owner rule.
use serde_json::json;

use crate::support::operator::{found, ids, items, reason};
use crate::support::{PASSWORD, TestServer, assert_error};

#[test]
fn operators_list_and_search_accounts_with_their_memberships() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    s.app.clock.advance(1);
    let b = s.signup("bob@example.test");
    s.add_member(&a, &b, "member", "active");

    let all = s.get("/v1/admin/users", Some(&op));
    assert_eq!(ids(&all), [b.user_id.as_str(), a.user_id.as_str()], "newest first");
    let bob = &items(&all)[0];
    assert_eq!(bob["email"], "bob@example.test");
    assert_eq!(bob["status"], "active");
    assert_eq!(bob["email_verified"], false, "accepting ann's invitation signed in proves no address");
    assert_eq!(items(&all)[1]["email_verified"], false, "ann only signed up");
    assert_eq!(bob["memberships"].as_array().map(Vec::len), Some(2));
    assert!(bob.get("password_hash").is_none());

    assert_eq!(ids(&s.get("/v1/admin/users?q=ANN@", Some(&op))), [a.user_id.as_str()]);
    assert_eq!(ids(&s.get("/v1/admin/users?q=test%20owner&limit=1", Some(&op))), [b.user_id.as_str()]);
    let in_b = s.get(&format!("/v1/admin/users?tenant_id={}", b.tenant_id), Some(&op));
    assert_eq!(ids(&in_b), [b.user_id.as_str()]);
    let in_a = s.get(&format!("/v1/admin/users?tenant_id={}", a.tenant_id), Some(&op));
    assert_eq!(ids(&in_a).len(), 2);
    assert!(ids(&s.get("/v1/admin/users?status=disabled", Some(&op))).is_empty());

    let page = s.get("/v1/admin/users?limit=1", Some(&op));
    let next = s.get(&format!("/v1/admin/users?limit=1&cursor={}", page.str("/next_cursor")), Some(&op));
    assert_eq!(ids(&next), [a.user_id.as_str()]);
    assert_eq!(next.body["next_cursor"], json!(null));

    assert_error(&s.get("/v1/admin/users?status=bogus", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/users?tenant_id=nope", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/users?limit=-1", Some(&op)), 400, "invalid_request");
}

/// `q` is found in an account's name as it is now, and is text: FTS5 syntax in it means itself.
#[test]
fn search_finds_a_renamed_account_and_takes_the_term_literally() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let find = |q: &str| found(&s, &op, "/v1/admin/users", q);
    let a = s.signup("ann@example.test");
    s.app.clock.advance(1);
    let b = s.signup("bob@example.test");
    assert_eq!(find("test owner"), [b.user_id.as_str(), a.user_id.as_str()], "newest first");

    let name = "O\"Brien (OR) *Star*: -Minus";
    assert_eq!(s.patch("/v1/me", Some(&a.token), json!({ "name": name })).status, 200);
    assert_eq!(find("O\"BRIEN"), [a.user_id.as_str()]);
    assert_eq!(find("test owner"), [b.user_id.as_str()], "the old name is gone");
    for literal in [name, "(or)", "*star*:", "-minus", "\"", "ann@example"] {
        assert_eq!(find(literal), [a.user_id.as_str()], "{literal:?}");
    }
    for nothing in ["o\"brien OR bob", "NEAR(ann)", "ann*", "email:ann", "%", "_", "a\0b"] {
        assert!(find(nothing).is_empty(), "{nothing:?}");
    }
    let in_b = s.get(&format!("/v1/admin/users?q=%28or%29&status=active&tenant_id={}", b.tenant_id), Some(&op));
    assert!(ids(&in_b).is_empty(), "ann is not in bob's tenant");
    let in_a = s.get(&format!("/v1/admin/users?q=%28or%29&status=active&tenant_id={}", a.tenant_id), Some(&op));
    assert_eq!(ids(&in_a), [a.user_id.as_str()]);
}

#[test]
fn disabling_an_account_ends_its_sessions_everywhere_until_enabled() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    // Bob co-owns Ann's tenant, so Ann is not its last owner, and Bob belongs to two tenants.
    s.add_member(&a, &b, "owner", "active");
    s.add_member(&b, &a, "owner", "active");
    let ann_in_b = s.login_to("ann@example.test", &b.tenant_id);
    let go = |what: &str| s.post(&format!("/v1/admin/users/{}/{what}", a.user_id), Some(&op), reason("abuse report"));

    let res = go("disable");
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/account/status"), "disabled");
    assert_eq!(res.body["account"]["memberships"].as_array().map(Vec::len), Some(2));
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_error(&s.get("/v1/me", Some(&ann_in_b)), 401, "unauthorized");
    assert_error(&s.login("ann@example.test", PASSWORD), 403, "account_disabled");
    assert_eq!(s.get("/v1/me", Some(&b.token)).status, 200, "others carry on");
    let members = items(&s.get(&format!("/v1/admin/tenants/{}/members", a.tenant_id), Some(&op)));
    let ann = members.iter().find(|u| u["id"] == a.user_id.as_str()).unwrap();
    assert_eq!(ann["status"], "disabled", "a disabled account shows as disabled in every tenant");
    assert_error(&go("disable"), 409, "invalid_transition");
    assert_error(&go("restore"), 409, "invalid_transition");

    assert_eq!(go("enable").str("/account/status"), "active");
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200);
    assert_error(&go("enable"), 409, "invalid_transition");

    assert_eq!(go("delete").str("/account/status"), "deleted");
    assert_error(&s.login("ann@example.test", PASSWORD), 403, "account_disabled");
    assert_error(&go("delete"), 409, "invalid_transition");
    assert_error(&go("enable"), 409, "invalid_transition");
    assert_eq!(go("restore").str("/account/status"), "active");
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200);

    let event = s.last_event(&op, "account.disabled");
    assert_eq!(event["target_id"], a.user_id.as_str());
    assert_eq!(event["reason"], "abuse report");
    assert_eq!(event["before"], json!({ "status": "active" }));
    assert_eq!(event["after"], json!({ "status": "disabled", "sessions_revoked": 2 }));
}

#[test]
fn an_account_that_is_the_last_active_owner_cannot_lose_access() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    s.add_member(&a, &b, "member", "active");
    for what in ["disable", "delete"] {
        let res = s.post(&format!("/v1/admin/users/{}/{what}", a.user_id), Some(&op), reason("x"));
        assert_error(&res, 409, "last_owner");
    }
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200, "nothing changed, no session ended");

    // A second active owner lifts the rule; a disabled co-owner does not count.
    let c = s.signup("cy@example.test");
    s.add_member(&a, &c, "owner", "active");
    s.add_member(&c, &a, "owner", "active");
    let res = s.post(&format!("/v1/admin/users/{}/disable", c.user_id), Some(&op), reason("x"));
    assert_eq!(res.status, 200, "ann still owns tenant a and c: {}", res.text);
    let res = s.post(&format!("/v1/admin/users/{}/disable", a.user_id), Some(&op), reason("x"));
    assert_error(&res, 409, "last_owner");
    // Disabled accounts may be deleted: they hold no access any more.
    let res = s.post(&format!("/v1/admin/users/{}/delete", c.user_id), Some(&op), reason("x"));
    assert_eq!(res.str("/account/status"), "deleted");
}

#[test]
fn account_changes_need_a_reason_and_a_known_account() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    for what in ["disable", "enable", "delete", "restore"] {
        let path = format!("/v1/admin/users/{}/{what}", a.user_id);
        assert_error(&s.post(&path, Some(&op), json!({})), 400, "reason_required");
        assert_error(&s.post(&path, Some(&op), json!({ "reason": "" })), 400, "reason_required");
        assert_error(&s.post(&path, Some(&op), json!({ "reason": true })), 400, "invalid_request");
        let missing = format!("/v1/admin/users/00000000-0000-4000-8000-000000000000/{what}");
        assert_error(&s.post(&missing, Some(&op), reason("x")), 404, "not_found");
        assert_error(&s.post(&format!("/v1/admin/users/nope/{what}"), Some(&op), reason("x")), 404, "not_found");
    }
}
