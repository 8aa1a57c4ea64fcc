//! The portal's pages behind `/app/…`: keys, sessions, team, settings, audit. Each form's
//! effect is checked through the JSON API or the database; roles and tenants are enforced.
use serde_json::json;

use crate::support::web::{Browser, Page};
use crate::support::{PASSWORD, Signed, TestServer};

/// A browser signed in to the portal as `email` (password `PASSWORD`).
fn signed_in<'a>(s: &'a TestServer, email: &str) -> Browser<'a> {
    let b = Browser::new(s);
    b.post("/login", &[("email", email), ("password", PASSWORD)]).assert_redirect("/app");
    b
}

/// A tenant's owner and a plain member, each with a signed-in browser.
fn owner_and_member<'a>(s: &'a TestServer, tag: &str) -> (Signed, Browser<'a>, Browser<'a>) {
    let owner = s.signup(&format!("owner@{tag}.test"));
    s.join(&owner.token, &format!("member@{tag}.test"), "member");
    let ob = signed_in(s, &owner.email);
    let mb = signed_in(s, &format!("member@{tag}.test"));
    (owner, ob, mb)
}

/// The text between `start` and the next `end` after it.
fn between<'p>(page: &'p Page, start: &str, end: &str) -> &'p str {
    let at = page.text.find(start).unwrap_or_else(|| panic!("{start:?} not in {}", page.text)) + start.len();
    let rest = &page.text[at..];
    &rest[..rest.find(end).expect("end")]
}

fn verify_key(s: &TestServer, key: &str) -> serde_json::Value {
    let res = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

fn key_count(s: &TestServer) -> i64 {
    s.db().query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0)).expect("count")
}

#[test]
fn keys_page_lists_creates_once_and_revokes() {
    let s = TestServer::spawn();
    Browser::new(&s).get("/app/keys").assert_redirect("/login");
    let (owner, ob, mb) = owner_and_member(&s, "k");
    let page = mb.get("/app/keys");
    page.assert_page(200);
    assert!(page.has("Default key") && page.has(&owner.key[..12]), "{}", page.text);
    assert!(!page.has("action=\"/app/keys\"") && !page.has("/revoke"), "a member sees no controls");
    assert!(!page.has(&owner.key), "the signup key is never shown again");

    let page =
        ob.post("/app/keys", &[("name", "CI"), ("scopes", "read:users, write:users"), ("expires_at", "2099-01-31")]);
    page.assert_page(201);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let key = between(&page, "<code id=\"new-key\" class=\"secret\">", "</code>").to_owned();
    let v = verify_key(&s, &key);
    assert_eq!((v["valid"].clone(), v["scopes"].clone()), (json!(true), json!(["read:users", "write:users"])));
    assert_eq!(v["expires_at"], "2099-01-31T00:00:00Z");
    for later in [ob.get("/app/keys"), mb.get("/app/keys")] {
        later.assert_page(200);
        assert!(later.has("CI") && later.has(&key[..12]) && !later.has(&key), "the key is shown once");
    }

    let id = v["key_id"].as_str().expect("key id");
    ob.post(&format!("/app/keys/{id}/revoke"), &[]).assert_redirect("/app/keys");
    assert_eq!(verify_key(&s, &key)["code"], "revoked");
    assert!(ob.get("/app/keys").has("revoked"));
}

#[test]
fn members_cannot_create_or_revoke_keys() {
    let s = TestServer::spawn();
    let (owner, _ob, mb) = owner_and_member(&s, "km");
    let before = key_count(&s);
    let page = mb.post("/app/keys", &[("name", "Sneaky")]);
    page.assert_page(403);
    assert!(page.has("not allowed"), "{}", page.text);
    assert_eq!(key_count(&s), before);
    mb.post(&format!("/app/keys/{}/revoke", owner.key_id), &[]).assert_page(403);
    assert_eq!(verify_key(&s, &owner.key)["valid"], true);
}

#[test]
fn bad_key_forms_come_back_with_400() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@kb.test");
    let b = signed_in(&s, &owner.email);
    let before = key_count(&s);
    for fields in [
        vec![("name", "  ")],
        vec![("name", "x"), ("expires_at", "tomorrow")],
        vec![("name", "x"), ("expires_at", "2001-01-01")],
        vec![("name", "x"), ("scopes", "bad scope\"<")],
    ] {
        let page = b.post("/app/keys", &fields);
        page.assert_page(400);
        assert!(page.has("class=\"error\""), "{}", page.text);
    }
    assert_eq!(key_count(&s), before);
    b.get("/app/keys?cursor=garbage").assert_page(400);
}

#[test]
fn keys_of_another_tenant_are_not_found() {
    let s = TestServer::spawn();
    let a = s.signup("owner@ka.test");
    let b = s.signup("owner@kz.test");
    let bb = signed_in(&s, &b.email);
    bb.post(&format!("/app/keys/{}/revoke", a.key_id), &[]).assert_page(404);
    assert_eq!(verify_key(&s, &a.key)["valid"], true);
    assert!(!bb.get("/app/keys").has(&a.key[..12]));
}

#[test]
fn keys_page_pages_by_cursor() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@kp.test");
    let b = signed_in(&s, &owner.email);
    b.post("/app/keys", &[("name", "Second")]).assert_page(201);
    let first = b.get("/app/keys?limit=1");
    first.assert_page(200);
    let next = first.next_link().expect("a next link");
    assert!(next.starts_with("/app/keys?limit=1&cursor="), "{next}");
    let second = b.get(&next);
    second.assert_page(200);
    assert_eq!(first.has("Second"), !second.has("Second"), "each key on one page");
    assert!(first.has("Default key") || second.has("Default key"));
}

/// The id of the session behind a bearer token, as `GET /v1/sessions` marks it.
fn session_id(s: &TestServer, token: &str) -> String {
    let res = s.get("/v1/sessions", Some(token));
    assert_eq!(res.status, 200, "{}", res.text);
    let items = res.body["items"].as_array().expect("items");
    let current = items.iter().find(|i| i["current"] == true).expect("current session");
    current["id"].as_str().expect("id").to_owned()
}

#[test]
fn sessions_page_lists_and_revokes_own_sessions() {
    let s = TestServer::spawn();
    Browser::new(&s).get("/app/sessions").assert_redirect("/login");
    let (_owner, _ob, mb) = owner_and_member(&s, "s");
    let api = s.login("member@s.test", PASSWORD).str("/session_token");
    let page = mb.get("/app/sessions");
    page.assert_page(200);
    let api_id = session_id(&s, &api);
    assert!(page.has("current") && page.has(&api_id), "{}", page.text);
    assert!(!page.has(&api), "no session token on the page");

    mb.post(&format!("/app/sessions/{api_id}/revoke"), &[]).assert_redirect("/app/sessions?done=revoked");
    assert_eq!(s.get("/v1/me", Some(&api)).status, 401);
    mb.get("/app/sessions?done=revoked").assert_page(200);

    let other = s.login("member@s.test", PASSWORD).str("/session_token");
    mb.post("/app/sessions/revoke-others", &[]).assert_redirect("/app/sessions?done=others-revoked");
    assert_eq!(s.get("/v1/me", Some(&other)).status, 401);
    let page = mb.get("/app/sessions?done=others-revoked");
    page.assert_page(200);
    assert!(page.has("Every other session is revoked."));

    // Revoking the current session signs this browser out.
    let mine = between(&page, "action=\"/app/sessions/", "/revoke\"").to_owned();
    mb.post(&format!("/app/sessions/{mine}/revoke"), &[]).assert_redirect("/login?done=signed-out");
    mb.get("/app/sessions").assert_redirect("/login");
}

#[test]
fn sessions_of_another_account_are_not_found() {
    let s = TestServer::spawn();
    let a = s.signup("owner@sa.test");
    s.signup("owner@sz.test");
    let bb = signed_in(&s, "owner@sz.test");
    let a_id = session_id(&s, &a.token);
    bb.post(&format!("/app/sessions/{a_id}/revoke"), &[]).assert_page(404);
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
    let page = bb.post("/app/sessions/not-an-id/revoke", &[]);
    assert!(page.status == 400 || page.status == 404, "{}", page.status);
}

fn member_of(s: &TestServer, owner_token: &str, email: &str) -> Option<serde_json::Value> {
    let res = s.get("/v1/tenant/members", Some(owner_token));
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"].as_array().expect("items").iter().find(|u| u["email"] == email).cloned()
}

#[test]
fn team_page_invites_with_the_link_when_no_mail_server() {
    let s = TestServer::spawn();
    Browser::new(&s).get("/app/team").assert_redirect("/login");
    let (owner, ob, mb) = owner_and_member(&s, "t");
    let page = mb.get("/app/team");
    page.assert_page(200);
    assert!(page.has("Only the tenant") && !page.has("action=\"/app/team\""), "{}", page.text);

    let page = ob.get("/app/team");
    page.assert_page(200);
    assert!(page.has("owner@t.test") && page.has("member@t.test"));
    let page = ob.post("/app/team", &[("email", "New@T.test"), ("role", "admin"), ("name", "Newcomer")]);
    page.assert_page(201);
    let url = between(&page, "<code id=\"activation-url\" class=\"secret\">", "</code>").to_owned();
    let u = member_of(&s, &owner.token, "new@t.test").expect("invited");
    assert_eq!((u["status"].as_str(), u["role"].as_str()), (Some("invited"), Some("admin")));
    assert!(!ob.get("/app/team").has(&url), "the link is shown once");

    // Resent: a new link, which activates the account.
    let id = u["id"].as_str().expect("id");
    let page = ob.post(&format!("/app/team/{id}/resend"), &[]);
    page.assert_page(202);
    let url2 = between(&page, "<code id=\"activation-url\" class=\"secret\">", "</code>").to_owned();
    assert_ne!(url, url2);
    let res =
        s.post("/v1/auth/activate", None, json!({ "token": crate::support::token_of(&url2), "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    ob.post(&format!("/app/team/{id}/resend"), &[]).assert_page(409);
}

#[test]
fn team_page_invites_by_mail_when_smtp_is_configured() {
    let s = TestServer::with_smtp("smtp://127.0.0.1:9?tls=none");
    let owner = s.signup("owner@tm.test");
    let b = signed_in(&s, &owner.email);
    let page = b.post("/app/team", &[("email", "x@tm.test"), ("role", "member")]);
    page.assert_page(201);
    assert!(page.has("on its way") && !page.has("activation-url") && !page.has("?token="), "{}", page.text);
}

#[test]
fn team_page_changes_roles_and_removes() {
    let s = TestServer::spawn();
    let (owner, ob, mb) = owner_and_member(&s, "tr");
    let member = member_of(&s, &owner.token, "member@tr.test").expect("member");
    let id = member["id"].as_str().expect("id");
    ob.post(&format!("/app/team/{id}/role"), &[("role", "admin")]).assert_redirect("/app/team?done=role");
    assert_eq!(member_of(&s, &owner.token, "member@tr.test").expect("m")["role"], "admin");
    // The last owner stays an owner.
    let page = ob.post(&format!("/app/team/{}/role", owner.user_id), &[("role", "member")]);
    page.assert_page(409);
    assert!(page.has("class=\"error\""));
    ob.post(&format!("/app/team/{id}/role"), &[("role", "emperor")]).assert_page(400);
    ob.post(&format!("/app/team/{id}/remove"), &[]).assert_redirect("/app/team?done=removed");
    assert_eq!(member_of(&s, &owner.token, "member@tr.test").expect("m")["status"], "removed");
    mb.get("/app/team").assert_redirect("/login");
}

/// The actions (`/app/team/{id}/<action>`) the team page offers for member `id`.
fn offered(page: &Page, id: &str) -> Vec<&'static str> {
    ["role", "remove", "resend"].into_iter().filter(|a| page.has(&format!("action=\"/app/team/{id}/{a}\""))).collect()
}

#[test]
fn team_page_offers_exactly_what_core_allows() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@to.test");
    let co_owner = s.join(&owner.token, "co@to.test", "owner");
    let admin = s.join(&owner.token, "admin@to.test", "admin");
    let peer = s.join(&owner.token, "peer@to.test", "admin");
    let member = s.join(&owner.token, "member@to.test", "member");
    let invited = s.invite(&owner.token, "invited@to.test", "member").str("/user/id");
    let ab = signed_in(&s, &admin.email);
    let page = ab.get("/app/team");
    page.assert_page(200);
    // An admin manages plain members only, changes no role, and never removes an owner or itself.
    for id in [&owner.user_id, &co_owner.user_id, &admin.user_id, &peer.user_id] {
        assert_eq!(offered(&page, id), Vec::<&str>::new(), "{id}: {}", page.text);
    }
    assert_eq!(offered(&page, &member.user_id), ["remove"]);
    assert_eq!(offered(&page, &invited), ["remove", "resend"]);
    // What is not offered is refused, and what is offered works.
    ab.post(&format!("/app/team/{}/remove", owner.user_id), &[]).assert_page(403);
    ab.post(&format!("/app/team/{}/remove", peer.user_id), &[]).assert_page(403);
    ab.post(&format!("/app/team/{}/role", member.user_id), &[("role", "admin")]).assert_page(403);
    ab.post(&format!("/app/team/{invited}/resend"), &[]).assert_page(202);
    ab.post(&format!("/app/team/{}/remove", member.user_id), &[]).assert_redirect("/app/team?done=removed");

    // An owner changes every role (its own too: core stops only the last owner) and removes
    // anyone but owners and itself; a removed member is offered nothing.
    let ob = signed_in(&s, &owner.email);
    let page = ob.get("/app/team");
    assert_eq!(offered(&page, &owner.user_id), ["role"]);
    assert_eq!(offered(&page, &co_owner.user_id), ["role"]);
    assert_eq!(offered(&page, &peer.user_id), ["role", "remove"]);
    assert_eq!(offered(&page, &member.user_id), Vec::<&str>::new());
    ob.post(&format!("/app/team/{}/remove", co_owner.user_id), &[]).assert_page(403);
    ob.post(&format!("/app/team/{}/role", member.user_id), &[("role", "admin")]).assert_page(409);
}

#[test]
fn team_forms_refuse_members_bad_input_and_full_tenants() {
    let s = TestServer::spawn();
    let (owner, ob, mb) = owner_and_member(&s, "tf");
    mb.post("/app/team", &[("email", "x@tf.test"), ("role", "member")]).assert_page(403);
    mb.post(&format!("/app/team/{}/remove", owner.user_id), &[]).assert_page(403);
    assert!(member_of(&s, &owner.token, "x@tf.test").is_none());
    let page = ob.post("/app/team", &[("email", "not-an-email"), ("role", "member")]);
    page.assert_page(400);
    assert!(page.has("value=\"not-an-email\""), "the form keeps its values");
    ob.post("/app/team", &[("email", "member@tf.test"), ("role", "member")]).assert_page(409);
    s.set_max_seats(&owner.tenant_id, Some(2));
    let page = ob.post("/app/team", &[("email", "y@tf.test"), ("role", "member")]);
    page.assert_page(403);
    assert!(page.has("no free seat"), "{}", page.text);
    assert!(member_of(&s, &owner.token, "y@tf.test").is_none());
}

#[test]
fn members_of_another_tenant_are_not_found() {
    let s = TestServer::spawn();
    let (a, _ab, _am) = owner_and_member(&s, "ta");
    let m = member_of(&s, &a.token, "member@ta.test").expect("member");
    let id = m["id"].as_str().expect("id");
    s.signup("owner@tb.test");
    let bb = signed_in(&s, "owner@tb.test");
    bb.post(&format!("/app/team/{id}/role"), &[("role", "admin")]).assert_page(404);
    bb.post(&format!("/app/team/{id}/remove"), &[]).assert_page(404);
    bb.post(&format!("/app/team/{id}/resend"), &[]).assert_page(404);
    let after = member_of(&s, &a.token, "member@ta.test").expect("member");
    assert_eq!((after["role"].as_str(), after["status"].as_str()), (Some("member"), Some("active")));
}

fn tenant_of(s: &TestServer, token: &str) -> serde_json::Value {
    let res = s.get("/v1/tenant", Some(token));
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["tenant"].clone()
}

#[test]
fn settings_page_changes_the_tenant_and_its_provider_key() {
    let s = TestServer::spawn();
    Browser::new(&s).get("/app/settings").assert_redirect("/login");
    let (owner, ob, mb) = owner_and_member(&s, "st");
    let page = mb.get("/app/settings");
    page.assert_page(200);
    assert!(!page.has("action=\"/app/settings/tenant\"") && !page.has("action=\"/app/settings/provider-key\""));
    mb.post("/app/settings/tenant", &[("name", "Hijacked")]).assert_page(403);
    mb.post("/app/settings/provider-key", &[("provider_key", "sk-member-12345678")]).assert_page(403);
    assert_eq!(tenant_of(&s, &owner.token)["name"], "Tenant of owner");

    ob.post("/app/settings/tenant", &[("name", "Acme Renamed")]).assert_redirect("/app/settings?done=tenant");
    assert_eq!(tenant_of(&s, &owner.token)["name"], "Acme Renamed");
    ob.post("/app/settings/tenant", &[("name", "   ")]).assert_page(400);

    let secret = "sk-live-SECRETVALUE-9876";
    ob.post("/app/settings/provider-key", &[("provider_key", secret)])
        .assert_redirect("/app/settings?done=provider-key");
    let t = tenant_of(&s, &owner.token);
    assert_eq!((t["has_provider_key"].clone(), t["provider_key_hint"].clone()), (json!(true), json!("9876")));
    for page in [ob.get("/app/settings?done=provider-key"), mb.get("/app/settings")] {
        page.assert_page(200);
        assert!(page.has("9876") && !page.has("SECRETVALUE"), "only the hint: {}", page.text);
    }
    let page = ob.post("/app/settings/provider-key", &[("provider_key", "short")]);
    page.assert_page(400);
    assert!(!page.has("short\""), "a refused key is not echoed");
    assert_eq!(tenant_of(&s, &owner.token)["provider_key_hint"], "9876");
    ob.post("/app/settings/provider-key/clear", &[]).assert_redirect("/app/settings?done=provider-key-cleared");
    assert_eq!(tenant_of(&s, &owner.token)["has_provider_key"], false);
    assert!(ob.get("/app/settings").has("Not set."));
}

#[test]
fn settings_page_changes_name_and_password() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@sp.test");
    let b = signed_in(&s, &owner.email);
    b.post("/app/settings/name", &[("name", "Ada Lovelace")]).assert_redirect("/app/settings?done=name");
    assert_eq!(s.get("/v1/me", Some(&owner.token)).str("/user/name"), "Ada Lovelace");
    b.post("/app/settings/name", &[("name", &"x".repeat(1000))]).assert_page(400);

    let page = b.post(
        "/app/settings/password",
        &[("current_password", "wrong password!!"), ("new_password", "a fresh long passphrase 42")],
    );
    page.assert_page(401);
    assert!(page.has("class=\"error\""));
    let page = b.post("/app/settings/password", &[("current_password", PASSWORD), ("new_password", "password")]);
    page.assert_page(400);
    assert!(page.has("too weak"), "{}", page.text);
    let new = "a fresh long passphrase 42";
    b.post("/app/settings/password", &[("current_password", PASSWORD), ("new_password", new)])
        .assert_redirect("/app/settings?done=password");
    assert_eq!(s.get("/v1/me", Some(&owner.token)).status, 401, "other sessions are revoked");
    assert_eq!(s.login(&owner.email, new).status, 200);
    assert_eq!(s.login(&owner.email, PASSWORD).status, 401);
    b.get("/app/settings?done=password").assert_page(200);
}

#[test]
fn settings_page_requests_email_change_and_verification() {
    let s = TestServer::spawn();
    let (owner, ob, mb) = owner_and_member(&s, "se");
    let page = ob.get("/app/settings");
    assert!(page.has("action=\"/app/settings/verify-email\""), "unverified: the resend button");
    // The sign-up's email went out just now: too soon for another.
    let page = ob.post("/app/settings/verify-email", &[]);
    page.assert_page(429);
    assert!(page.header("retry-after").is_some());
    s.app.clock.advance(61);
    ob.post("/app/settings/verify-email", &[]).assert_redirect("/app/settings?done=verification");
    assert_eq!(s.outbox_to(&owner.email, "verify_email").len(), 2);
    // The member joined through a handed-over link: its address is not verified either.
    mb.post("/app/settings/verify-email", &[]).assert_redirect("/app/settings?done=verification");
    mb.post("/app/settings/verify-email", &[]).assert_page(429);

    let page = ob.post("/app/settings/email", &[("new_email", "not-an-email"), ("password", PASSWORD)]);
    page.assert_page(400);
    assert!(page.has("value=\"not-an-email\""));
    ob.post("/app/settings/email", &[("new_email", "new@se.test"), ("password", "wrong password!!")]).assert_page(401);
    ob.post("/app/settings/email", &[("new_email", "member@se.test"), ("password", PASSWORD)]).assert_page(409);
    assert!(s.outbox_to("new@se.test", "email_change").is_empty());
    ob.post("/app/settings/email", &[("new_email", "New@SE.test"), ("password", PASSWORD)])
        .assert_redirect("/app/settings?done=email");
    assert_eq!(s.outbox_to("new@se.test", "email_change").len(), 1);
}

#[test]
fn audit_page_shows_the_tenants_events_with_filters_and_paging() {
    let s = TestServer::spawn();
    Browser::new(&s).get("/app/audit").assert_redirect("/login");
    let (owner, ob, mb) = owner_and_member(&s, "au");
    let page = mb.get("/app/audit");
    page.assert_page(200);
    assert!(page.has("Only the tenant") && !page.has("tenant.created"), "{}", page.text);

    let key = ob.post("/app/keys", &[("name", "Audited")]);
    key.assert_page(201);
    let raw = between(&key, "<code id=\"new-key\" class=\"secret\">", "</code>").to_owned();
    let page = ob.get("/app/audit");
    page.assert_page(200);
    assert!(page.has("tenant.created") && page.has("api_key.created") && page.has("Audited"), "{}", page.text);
    assert!(!page.has(&raw) && !page.has(&owner.key), "no key in the log");

    let page = ob.get("/app/audit?action=api_key.created");
    page.assert_page(200);
    assert!(page.has("api_key.created") && !page.has("<code>tenant.created</code>"), "{}", page.text);
    assert!(page.has("value=\"api_key.created\""), "the filter stays in the form");
    let page = ob.get(&format!("/app/audit?actor_id={}&action=api_key.created&limit=1", owner.user_id));
    page.assert_page(200);
    let next = page.next_link().expect("a next link");
    assert!(next.contains("action=api_key.created") && next.contains("cursor=") && next.contains("limit=1"), "{next}");
    let second = ob.get(&next);
    second.assert_page(200);
    assert!(second.has("<code>api_key.created</code>"));

    // Another tenant's events are not listed.
    s.signup("owner@other-au.test");
    let other = signed_in(&s, "owner@other-au.test");
    let page = other.get(&format!("/app/audit?actor_id={}", owner.user_id));
    page.assert_page(200);
    assert!(page.has("No events."), "{}", page.text);
    let page = ob.get("/app/audit?since=yesterday");
    page.assert_page(400);
    assert!(page.has("since"));
}

#[test]
fn portal_pages_have_no_inline_script_or_style() {
    let s = TestServer::spawn();
    let (_owner, ob, mb) = owner_and_member(&s, "csp");
    for b in [&ob, &mb] {
        for path in ["/app/keys", "/app/sessions", "/app/team", "/app/settings", "/app/audit"] {
            let page = b.get(path);
            page.assert_page(200);
            assert!(!page.has("<script") && !page.has("style="), "{path} has inline script or style");
            assert!(page.has("href=\"/app/keys\"") && page.has("action=\"/logout\""), "{path}: the portal nav");
        }
    }
}

#[test]
fn scopes_in_use_are_offered_as_checkboxes() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@ks.test");
    let b = signed_in(&s, &owner.email);
    assert!(!b.get("/app/keys").has("type=\"checkbox\""), "no scope in use yet");
    b.post("/app/keys", &[("name", "One"), ("scopes", "read:users write:users")]).assert_page(201);
    let page = b.get("/app/keys");
    assert!(page.has("name=\"scope\" value=\"read:users\"") && page.has("name=\"scope\" value=\"write:users\""));
    let page =
        b.post("/app/keys", &[("name", "Two"), ("scope", "write:users"), ("scope", "read:users"), ("scopes", "extra")]);
    page.assert_page(201);
    let key = between(&page, "<code id=\"new-key\" class=\"secret\">", "</code>").to_owned();
    assert_eq!(verify_key(&s, &key)["scopes"], json!(["write:users", "read:users", "extra"]));
    // A refused form keeps its ticks.
    let page = b.post("/app/keys", &[("name", ""), ("scope", "read:users")]);
    page.assert_page(400);
    assert!(page.has("value=\"read:users\" checked"), "{}", page.text);
}
