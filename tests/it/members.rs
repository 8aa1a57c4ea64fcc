//! `/v1/tenant/members` and `/v1/auth/activate`: invitations, the role matrix, seats, the
//! last owner, removal and tenant isolation. The server has no SMTP here, so invitation
//! answers carry `activation_url`.
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, assert_error, token_of};

#[test]
fn an_invitation_without_smtp_hands_over_the_link_and_activation_signs_in() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let res = s.invite(&owner.token, "  New@A.test ", "member");
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/user/email"), "new@a.test");
    assert_eq!(res.str("/user/status"), "invited");
    assert_eq!(res.str("/user/role"), "member");
    assert_eq!(res.body["user"]["email_verified"], Value::Null, "invited: nothing of the account shows");
    assert_eq!(res.body["user"]["last_login_at"], Value::Null);
    assert_eq!(res.str("/user/name"), "Invited Person", "what the inviter typed");
    assert_eq!(res.body["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    let url = res.str("/activation_url");
    assert!(url.starts_with(&format!("{}/activate?token=", s.app.config.base_url)), "{url}");
    let token = token_of(&url);
    let user_id = res.str("/user/id");

    // The invitation is in the outbox, unsent, and the only place beside the answer holding the link.
    let queued = s.outbox_to("new@a.test", "invitation");
    assert_eq!(queued.len(), 1);
    assert!(queued[0].sent_at.is_none() && queued[0].holds(&token));

    // A new account must choose a password, and a good one.
    let res = s.post("/v1/auth/activate", None, json!({ "token": token }));
    assert_error(&res, 400, "invalid_request");
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": "short" }));
    assert_error(&res, 400, "weak_password");
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": "x".repeat(257) }));
    assert_error(&res, 400, "invalid_request");

    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD, "name": "Nina" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/id"), user_id);
    assert_eq!(res.str("/user/status"), "active");
    assert_eq!(res.str("/user/name"), "Nina");
    // Issue 10 item 2: a link handed over by the inviter proves nothing about the address.
    assert_eq!(res.body["user"]["email_verified"], json!(false), "a handed-over link verifies no address");
    assert_eq!(s.outbox_to("new@a.test", "verify_email").len(), 1, "a verification mail is queued instead");
    assert_eq!(res.str("/tenant/id"), owner.tenant_id);
    let session = res.str("/session_token");
    assert_eq!(s.get("/v1/me", Some(&session)).str("/user/role"), "member");
    assert_eq!(s.login("new@a.test", PASSWORD).status, 200);

    // Single use, and the stored body lost its link.
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_error(&res, 400, "invalid_token");
    assert!(!s.outbox_to("new@a.test", "invitation")[0].holds(&token));
    let res = s.post("/v1/auth/activate", None, json!({ "token": "nope", "password": PASSWORD }));
    assert_error(&res, 400, "invalid_token");
}

#[test]
fn the_role_matrix_holds() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let admin = s.join(&owner.token, "admin@a.test", "admin");
    let member = s.join(&owner.token, "member@a.test", "member");

    // Members read their tenant but do not manage people.
    assert_error(&s.get("/v1/tenant/members", Some(&member.token)), 403, "forbidden");
    assert_error(&s.invite(&member.token, "x@a.test", "member"), 403, "forbidden");
    assert_error(&s.delete(&format!("/v1/tenant/members/{}", admin.user_id), Some(&member.token)), 403, "forbidden");

    // Admins invite and remove members only, and change no roles.
    assert_error(&s.invite(&admin.token, "x@a.test", "admin"), 403, "forbidden");
    assert_error(&s.invite(&admin.token, "x@a.test", "owner"), 403, "forbidden");
    let other_admin = s.join(&owner.token, "admin2@a.test", "admin");
    let path = format!("/v1/tenant/members/{}", other_admin.user_id);
    assert_error(&s.delete(&path, Some(&admin.token)), 403, "forbidden");
    let path = format!("/v1/tenant/members/{}", member.user_id);
    assert_error(&s.patch(&path, Some(&admin.token), json!({ "role": "admin" })), 403, "forbidden");
    assert_eq!(s.get("/v1/tenant/members", Some(&admin.token)).status, 200);
    let invited = s.invite(&admin.token, "x@a.test", "member");
    assert_eq!(invited.status, 201, "{}", invited.text);
    let resend = format!("/v1/tenant/members/{}/resend-invite", invited.str("/user/id"));
    assert_eq!(s.post(&resend, Some(&admin.token), json!({})).status, 202);
    assert_error(&s.post(&resend, Some(&member.token), json!({})), 403, "forbidden");
    let invited_admin = s.invite(&owner.token, "y@a.test", "admin");
    let resend = format!("/v1/tenant/members/{}/resend-invite", invited_admin.str("/user/id"));
    assert_error(&s.post(&resend, Some(&admin.token), json!({})), 403, "forbidden");

    // Nobody removes themself or an owner.
    let path = format!("/v1/tenant/members/{}", admin.user_id);
    assert_error(&s.delete(&path, Some(&admin.token)), 403, "forbidden");
    let path = format!("/v1/tenant/members/{}", owner.user_id);
    assert_error(&s.delete(&path, Some(&owner.token)), 403, "forbidden");
    assert_error(&s.delete(&path, Some(&admin.token)), 403, "forbidden");

    // Owners change roles.
    let path = format!("/v1/tenant/members/{}", member.user_id);
    let res = s.patch(&path, Some(&owner.token), json!({ "role": "admin" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/role"), "admin");
    assert_eq!(s.get("/v1/me", Some(&member.token)).str("/user/role"), "admin", "the new role applies at once");
    assert_error(&s.patch(&path, Some(&owner.token), json!({ "role": "boss" })), 400, "invalid_request");
    assert_error(&s.patch(&path, Some(&owner.token), json!({})), 400, "invalid_request");
    assert_error(&s.invite(&owner.token, "not an address", "member"), 400, "invalid_request");
    assert_error(&s.invite(&owner.token, "y@a.test", "boss"), 400, "invalid_request");
    assert_error(&s.get("/v1/tenant/members", None), 401, "unauthorized");
}

/// Issue 10 item 1 (critical): an invitation never hands over a link that opens an existing
/// account. Without mail the account sees the invitation when it signs in and accepts there.
#[test]
fn an_existing_account_gets_no_link_and_accepts_its_invitation_signed_in() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let b = s.signup("owner@b.test");
    let res = s.invite(&a.token, "owner@b.test", "admin");
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/user/id"), b.user_id, "the same account, now invited here");
    assert!(res.body.get("activation_url").is_none(), "a link to an existing account was handed over: {}", res.text);
    assert_eq!(res.body["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    // Nothing of the account's life elsewhere shows to the inviting tenant.
    assert_eq!(res.str("/user/name"), "Invited Person", "what the inviter typed, not the account's name");
    assert_eq!((&res.body["user"]["email_verified"], &res.body["user"]["last_login_at"]), (&Value::Null, &Value::Null));
    let listed = s.get("/v1/tenant/members?status=invited", Some(&a.token));
    assert_eq!(listed.body["items"][0]["name"], "Invited Person", "{}", listed.text);
    assert_eq!(listed.body["items"][0]["last_login_at"], Value::Null);
    assert_error(&s.invite(&a.token, "owner@b.test", "member"), 409, "already_member");
    let path = format!("/v1/tenant/members/{}/resend-invite", b.user_id);
    let resent = s.post(&path, Some(&a.token), json!({}));
    assert_eq!(resent.status, 202, "{}", resent.text);
    assert!(resent.body.get("activation_url").is_none(), "{}", resent.text);

    // Signed in, the account sees the pending invitation, in login and in /v1/me.
    let login = s.login("owner@b.test", PASSWORD);
    let pending = |body: &Value| {
        body["memberships"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["tenant"]["id"] == json!(a.tenant_id) && m["status"] == "invited")
    };
    assert!(pending(&login.body), "{}", login.text);
    let token = login.str("/session_token");
    assert!(pending(&s.get("/v1/me", Some(&token)).body));
    // An invited membership is not one to act in yet.
    let switch = json!({ "tenant_id": a.tenant_id });
    assert_error(&s.post("/v1/auth/switch-tenant", Some(&token), switch.clone()), 404, "not_found");

    let accept = format!("/v1/me/invitations/{}/accept", a.tenant_id);
    assert_error(&s.post(&accept, None, json!({})), 401, "unauthorized");
    let res = s.post(&accept, Some(&token), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/user/status"), res.str("/user/role")), ("active".into(), "admin".into()));
    assert_eq!(res.str("/tenant/id"), a.tenant_id);
    assert_eq!(s.post("/v1/auth/switch-tenant", Some(&token), switch).status, 200, "now a tenant to act in");
    assert_eq!(s.get("/v1/me", Some(&token)).str("/user/role"), "admin");
    assert_error(&s.post(&accept, Some(&token), json!({})), 404, "not_found");
    let event = s.db().query_row(
        "SELECT actor_id, tenant_id, after FROM audit_log WHERE action = 'member.activated'",
        [],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
    );
    let (actor, tenant, after) = event.expect("one activation event");
    assert_eq!((actor.as_str(), tenant.as_str()), (b.user_id.as_str(), a.tenant_id.as_str()));
    assert!(after.contains("signed_in"), "{after}");
    // The password did not change.
    assert_eq!(s.login("owner@b.test", PASSWORD).status, 200);
}

#[test]
fn accepting_an_invitation_signed_in_needs_one_and_an_active_tenant() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let b = s.signup("owner@b.test");
    let accept = format!("/v1/me/invitations/{}/accept", a.tenant_id);
    assert_error(&s.post(&accept, Some(&b.token), json!({})), 404, "not_found");
    assert_error(&s.post("/v1/me/invitations/not-an-id/accept", Some(&b.token), json!({})), 404, "not_found");
    // An owner's own active membership is no invitation either.
    let own = format!("/v1/me/invitations/{}/accept", b.tenant_id);
    assert_error(&s.post(&own, Some(&b.token), json!({})), 404, "not_found");
    assert_eq!(s.invite(&a.token, "owner@b.test", "member").status, 201);
    let op = s.admin("op@operator.test");
    let suspend = format!("/v1/admin/tenants/{}/suspend", a.tenant_id);
    assert_eq!(s.post(&suspend, Some(&op), json!({ "reason": "test" })).status, 200);
    assert_error(&s.post(&accept, Some(&b.token), json!({})), 403, "tenant_suspended");
    let restore = format!("/v1/admin/tenants/{}/restore", a.tenant_id);
    assert_eq!(s.post(&restore, Some(&op), json!({ "reason": "test" })).status, 200);
    assert_eq!(s.post(&accept, Some(&b.token), json!({})).status, 200);
}

#[test]
fn the_seat_limit_counts_active_and_invited_members() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    s.set_max_seats(&owner.tenant_id, Some(2));
    let first = s.invite(&owner.token, "one@a.test", "member");
    assert_eq!(first.status, 201);
    assert_error(&s.invite(&owner.token, "two@a.test", "member"), 403, "seat_limit_reached");
    // Removing the invited member frees its seat.
    let path = format!("/v1/tenant/members/{}", first.str("/user/id"));
    assert_eq!(s.delete(&path, Some(&owner.token)).status, 204);
    assert_eq!(s.invite(&owner.token, "two@a.test", "member").status, 201);
    assert_error(&s.invite(&owner.token, "one@a.test", "member"), 403, "seat_limit_reached");
}

#[test]
fn a_tenant_keeps_its_last_active_owner() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let me = format!("/v1/tenant/members/{}", owner.user_id);
    assert_error(&s.patch(&me, Some(&owner.token), json!({ "role": "admin" })), 409, "last_owner");
    // An invited owner does not count: it cannot act yet.
    let invited = s.invite(&owner.token, "next@a.test", "owner");
    assert_eq!(invited.status, 201);
    assert_error(&s.patch(&me, Some(&owner.token), json!({ "role": "admin" })), 409, "last_owner");
    let token = token_of(&invited.str("/activation_url"));
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200);
    let res = s.patch(&me, Some(&owner.token), json!({ "role": "admin" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/role"), "admin");
    // Now an admin, it may no longer change roles.
    assert_error(&s.patch(&me, Some(&owner.token), json!({ "role": "owner" })), 403, "forbidden");
}

#[test]
fn removal_ends_access_here_at_once_but_keeps_the_account_and_allows_a_new_invitation() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let b = s.signup("owner@b.test");
    let m = s.join(&a.token, "m@a.test", "member");
    // The same person is also a member of B, with a session acting there.
    let in_b = s.accept(&b.token, "m@a.test", "member");
    let path = format!("/v1/tenant/members/{}", m.user_id);

    assert_eq!(s.delete(&path, Some(&a.token)).status, 204);
    assert_error(&s.get("/v1/me", Some(&m.token)), 401, "unauthorized");
    assert_eq!(s.get("/v1/me", Some(&in_b.token)).status, 200, "other tenants are untouched");
    assert_error(&s.delete(&path, Some(&a.token)), 409, "invalid_transition");
    assert_error(&s.patch(&path, Some(&a.token), json!({ "role": "admin" })), 409, "invalid_transition");

    // Listed as removed, and filterable.
    let all = s.get("/v1/tenant/members", Some(&a.token));
    let statuses: Vec<(&str, &str)> = items(&all).iter().map(|u| (str_of(u, "email"), str_of(u, "status"))).collect();
    assert!(statuses.contains(&("m@a.test", "removed")), "{statuses:?}");
    let removed = s.get("/v1/tenant/members?status=removed", Some(&a.token));
    assert_eq!(items(&removed).len(), 1);
    let active = s.get("/v1/tenant/members?status=active", Some(&a.token));
    assert!(items(&active).iter().all(|u| str_of(u, "status") == "active"));
    assert_error(&s.get("/v1/tenant/members?status=bogus", Some(&a.token)), 400, "invalid_request");

    // Invited again: the membership is revived and only needs accepting, signed in (no link
    // is handed over for an account that has a password).
    let res = s.invite(&a.token, "m@a.test", "admin");
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/user/id"), m.user_id);
    assert_eq!(res.str("/user/status"), "invited");
    assert!(res.body.get("activation_url").is_none(), "{}", res.text);
    let path = format!("/v1/me/invitations/{}/accept", a.tenant_id);
    let res = s.post(&path, Some(&in_b.token), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/role"), "admin");
}

#[test]
fn removing_an_invited_member_kills_its_link() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let res = s.invite(&a.token, "late@a.test", "member");
    let token = token_of(&res.str("/activation_url"));
    assert_eq!(s.delete(&format!("/v1/tenant/members/{}", res.str("/user/id")), Some(&a.token)).status, 204);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_error(&res, 400, "invalid_token");
}

#[test]
fn resending_an_invitation_supersedes_the_old_link() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let res = s.invite(&a.token, "new@a.test", "member");
    let (id, old) = (res.str("/user/id"), token_of(&res.str("/activation_url")));
    let path = format!("/v1/tenant/members/{id}/resend-invite");
    let res = s.post(&path, Some(&a.token), json!({}));
    assert_eq!(res.status, 202, "{}", res.text);
    assert_eq!(res.body["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    let new = token_of(&res.str("/activation_url"));
    assert_ne!(old, new);
    assert_error(
        &s.post("/v1/auth/activate", None, json!({ "token": old, "password": PASSWORD })),
        400,
        "invalid_token",
    );
    assert_eq!(s.post("/v1/auth/activate", None, json!({ "token": new, "password": PASSWORD })).status, 200);

    assert_error(&s.post(&path, Some(&a.token), json!({})), 409, "not_invited");
    let unknown = format!("/v1/tenant/members/{}/resend-invite", uuid_like());
    assert_error(&s.post(&unknown, Some(&a.token), json!({})), 404, "not_found");
    assert_error(&s.post("/v1/tenant/members/junk/resend-invite", Some(&a.token), json!({})), 404, "not_found");
}

#[test]
fn another_tenants_members_are_not_found() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    let b = s.signup("owner@b.test");
    let invited = s.invite(&a.token, "x@a.test", "member");
    let member = s.join(&a.token, "m@a.test", "member");
    let path = format!("/v1/tenant/members/{}", member.user_id);

    assert_error(&s.patch(&path, Some(&b.token), json!({ "role": "admin" })), 404, "not_found");
    assert_error(&s.delete(&path, Some(&b.token)), 404, "not_found");
    let resend = format!("/v1/tenant/members/{}/resend-invite", invited.str("/user/id"));
    assert_error(&s.post(&resend, Some(&b.token), json!({})), 404, "not_found");
    let list = s.get("/v1/tenant/members", Some(&b.token));
    let emails: Vec<&str> = items(&list).iter().map(|u| str_of(u, "email")).collect();
    assert_eq!(emails, vec!["owner@b.test"]);
    assert_eq!(s.get("/v1/me", Some(&member.token)).status, 200, "nothing happened to it");
}

#[test]
fn the_member_list_pages_with_a_cursor() {
    let s = TestServer::spawn();
    let a = s.signup("owner@a.test");
    for n in 0..4 {
        assert_eq!(s.invite(&a.token, &format!("p{n}@a.test"), "member").status, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/tenant/members?limit=2".to_owned();
    loop {
        let page = s.get(&path, Some(&a.token));
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(items(&page).len() <= 2);
        seen.extend(items(&page).iter().map(|u| str_of(u, "email").to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/tenant/members?limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["owner@a.test", "p0@a.test", "p1@a.test", "p2@a.test", "p3@a.test"]);
    assert_error(&s.get("/v1/tenant/members?limit=0", Some(&a.token)), 400, "invalid_request");
    assert_error(&s.get("/v1/tenant/members?cursor=!!", Some(&a.token)), 400, "invalid_request");
}

fn items(res: &crate::support::Res) -> &Vec<Value> {
    res.body["items"].as_array().unwrap_or_else(|| panic!("no items in {}", res.text))
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

fn uuid_like() -> &'static str {
    "00000000-0000-4000-8000-000000000000"
}

/// Issue 10 item 6: more than 3 resends of one invitation within an hour are 429, counted
/// from the database (a restart forgets nothing), with Retry-After.
#[test]
fn resends_of_one_invitation_are_throttled() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let id = s.invite(&owner.token, "new@a.test", "member").str("/user/id");
    let other = s.invite(&owner.token, "other@a.test", "member").str("/user/id");
    let resend = |id: &str| s.post(&format!("/v1/tenant/members/{id}/resend-invite"), Some(&owner.token), json!({}));
    for _ in 0..3 {
        assert_eq!(resend(&id).status, 202);
        s.app.clock.advance(60);
    }
    let res = resend(&id);
    assert_error(&res, 429, "rate_limited");
    let wait: u64 = res.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((3300..=3600).contains(&wait), "the first resend leaves the hour in about 57 minutes: {wait}");
    assert_eq!(resend(&other).status, 202, "another invitation is not affected");
    s.app.clock.advance(wait as i64);
    assert_eq!(resend(&id).status, 202, "an hour after the first resend");
}

/// Issue 10 item 6: a tenant's invitation mails (invitations and resends) per day are capped
/// by `--invites-per-day`.
#[test]
fn a_tenants_invitation_mails_per_day_are_capped() {
    let s = TestServer::with(|c| c.invites_per_day = 3);
    let owner = s.signup("owner@a.test");
    let other = s.signup("owner@b.test");
    let id = s.invite(&owner.token, "one@a.test", "member").str("/user/id");
    assert_eq!(s.invite(&owner.token, "two@a.test", "member").status, 201);
    let resend = s.post(&format!("/v1/tenant/members/{id}/resend-invite"), Some(&owner.token), json!({}));
    assert_eq!(resend.status, 202);
    let res = s.invite(&owner.token, "three@a.test", "member");
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
    assert_error(
        &s.post(&format!("/v1/tenant/members/{id}/resend-invite"), Some(&owner.token), json!({})),
        429,
        "rate_limited",
    );
    assert_eq!(s.invite(&other.token, "three@a.test", "member").status, 201, "another tenant has its own allowance");
    s.app.clock.advance(24 * 3600);
    // An owner's session has idled out by then: sign in again.
    let token = s.login("owner@a.test", PASSWORD).str("/session_token");
    assert_eq!(s.invite(&token, "three@a.test", "member").status, 201, "a day later");
}
