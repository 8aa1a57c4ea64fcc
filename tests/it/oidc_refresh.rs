//! The `refresh_token` grant at `POST /v1/oauth/token`: rotation on every use, a reused token
//! revoking its whole chain, tokens bound to their client, narrowing scopes, and grants
//! that end with the account's sessions (password reset, suspension, removal from the
//! tenant, an operator's revocation).
use serde_json::json;

use crate::oidc_fixtures::{Client, assert_oauth_error, claims};
use crate::support::operator::reason;
use crate::support::smtp::SmtpSink;
use crate::support::{Res, Signed, TestServer};

const OFFLINE: &str = "openid email offline_access";

/// An operator's trusted confidential client, and an owner signed in to it with
/// `offline_access`: the token response.
fn signed_in(s: &TestServer, email: &str) -> (Client, Signed, Res) {
    let op = s.admin(&format!("op-{email}"));
    let client = s.oidc_client(&op, "Dashboard", json!({}));
    let owner = s.signup(email);
    let tokens = s.sign_in_to(&client, &owner.token, OFFLINE);
    (client, owner, tokens)
}

fn userinfo(s: &TestServer, access_token: &str) -> Res {
    s.get("/v1/oauth/userinfo", Some(access_token))
}

#[test]
fn each_use_rotates_the_token_and_mints_fresh_tokens() {
    let s = TestServer::spawn();
    let (client, owner, first) = signed_in(&s, "owner@rot.test");
    let r1 = first.str("/refresh_token");
    let res = s.refresh(&client, &r1, &[]);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let r2 = res.str("/refresh_token");
    assert_ne!(r1, r2);
    assert_eq!(res.str("/token_type"), "Bearer");
    assert_eq!(res.str("/scope"), "email offline_access openid");
    let id = claims(&res.str("/id_token"));
    assert_eq!(id["sub"], owner.user_id.as_str());
    assert_eq!(id["aud"], client.id.as_str());
    assert_eq!(id["email"], "owner@rot.test");
    // The nonce belonged to the sign-in's request; a refresh has none (OIDC Core §12.2).
    assert_eq!(claims(&first.str("/id_token"))["nonce"], "n-1");
    assert!(id.get("nonce").is_none(), "{id}");
    // The same grant goes on: its auth_time is the sign-in's.
    assert_eq!(id["auth_time"], claims(&first.str("/id_token"))["auth_time"]);
    assert_eq!(userinfo(&s, &res.str("/access_token")).body["sub"], owner.user_id.as_str());
    assert_eq!(s.refresh(&client, &r2, &[]).status, 200);
    // The DB keeps hashes only, each used once.
    let used: i64 = s
        .db()
        .query_row("SELECT count(*) FROM oauth_refresh_tokens WHERE used_at IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(used, 2);
}

#[test]
fn a_reused_token_revokes_the_whole_chain() {
    let s = TestServer::spawn();
    let (client, _, first) = signed_in(&s, "owner@reuse.test");
    let r1 = first.str("/refresh_token");
    let second = s.refresh(&client, &r1, &[]);
    let r2 = second.str("/refresh_token");
    // r1 comes back: someone else holds the chain. Everything of the grant dies.
    assert_oauth_error(&s.refresh(&client, &r1, &[]), 400, "invalid_grant");
    assert_oauth_error(&s.refresh(&client, &r2, &[]), 400, "invalid_grant");
    assert!(s.grant_revoked(&first.str("/access_token")));
    assert_oauth_error(&userinfo(&s, &second.str("/access_token")), 401, "invalid_token");
    assert!(s.audit_text().contains("oauth.refresh_reused"));
}

#[test]
fn concurrent_uses_of_one_token_let_at_most_one_through() {
    let s = TestServer::spawn();
    let (client, _, first) = signed_in(&s, "owner@race.test");
    let r1 = first.str("/refresh_token");
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4).map(|_| scope.spawn(|| s.refresh(&client, &r1, &[]).status)).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(answers.iter().filter(|s| **s == 200).count() <= 1, "{answers:?}");
    assert!(answers.iter().all(|s| *s == 200 || *s == 400), "{answers:?}");
}

#[test]
fn a_token_is_only_good_for_its_own_client() {
    let s = TestServer::spawn();
    let (client, _, first) = signed_in(&s, "owner@other.test");
    let op = s.admin("op2@other.test");
    let other = s.oidc_client(&op, "Wiki", json!({}));
    let r1 = first.str("/refresh_token");
    assert_oauth_error(&s.refresh(&other, &r1, &[]), 400, "invalid_grant");
    // The other client's try revoked nothing: the owner's client goes on.
    assert_eq!(s.refresh(&client, &r1, &[]).status, 200);
    let wrong = Client { id: client.id.clone(), secret: Some("wrong".into()) };
    assert_oauth_error(&s.refresh(&wrong, "x", &[]), 401, "invalid_client");
    assert_oauth_error(&s.refresh(&client, "not-a-token", &[]), 400, "invalid_grant");
    assert_oauth_error(
        &s.oauth_post("/v1/oauth/token", &client, &[("grant_type", "refresh_token")]),
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &s.oauth_post("/v1/oauth/token", &client, &[("grant_type", "password")]),
        400,
        "unsupported_grant_type",
    );
}

#[test]
fn a_scope_may_narrow_but_not_widen() {
    let s = TestServer::spawn();
    let (client, _, first) = signed_in(&s, "owner@narrow.test");
    let r1 = first.str("/refresh_token");
    assert_oauth_error(&s.refresh(&client, &r1, &[("scope", "openid profile")]), 400, "invalid_scope");
    assert_oauth_error(&s.refresh(&client, &r1, &[("scope", "email")]), 400, "invalid_scope");
    // A refused scope did not spend the token.
    let res = s.refresh(&client, &r1, &[("scope", "openid")]);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/scope"), "openid");
    assert!(claims(&res.str("/id_token")).get("email").is_none());
    assert!(userinfo(&s, &res.str("/access_token")).body.get("email").is_none());
    // The refresh token keeps the grant's scope (RFC 6749 §6).
    let wide = s.refresh(&client, &res.str("/refresh_token"), &[]);
    assert_eq!(wide.str("/scope"), "email offline_access openid");
}

#[test]
fn without_offline_access_there_is_no_refresh_token() {
    let s = TestServer::spawn();
    let op = s.admin("op@noff.test");
    let client = s.oidc_client(&op, "Dashboard", json!({ "public": true }));
    let owner = s.signup("owner@noff.test");
    let res = s.sign_in_to(&client, &owner.token, "openid email");
    assert!(res.body.get("refresh_token").is_none(), "{}", res.text);
    let count: i64 = s.db().query_row("SELECT count(*) FROM oauth_refresh_tokens", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 0);
    // A public client refreshes with its client_id alone.
    let public = s.sign_in_to(&client, &owner.token, OFFLINE);
    assert_eq!(s.refresh(&client, &public.str("/refresh_token"), &[]).status, 200);
}

/// Asserts that the grant of `tokens` is revoked and its refresh token refused.
#[track_caller]
fn assert_ended(s: &TestServer, client: &Client, tokens: &Res) {
    assert!(s.grant_revoked(&tokens.str("/access_token")));
    assert_oauth_error(&s.refresh(client, &tokens.str("/refresh_token"), &[]), 400, "invalid_grant");
}

#[test]
fn a_password_reset_ends_the_grants() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let (client, _, tokens) = signed_in(&s, "owner@reset.test");
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@reset.test" })).status, 202);
    let token = sink.mail_to("owner@reset.test", "Reset").token("/reset-password");
    let res =
        s.post("/v1/auth/reset-password", None, json!({ "token": token, "password": "a brand new passphrase 2026" }));
    assert_eq!(res.status, 204, "{}", res.text);
    assert_ended(&s, &client, &tokens);
}

#[test]
fn a_suspension_ends_the_grants_and_a_restore_does_not_bring_them_back() {
    let s = TestServer::spawn();
    let (client, owner, tokens) = signed_in(&s, "owner@susp.test");
    let op = s.admin("op@susp.test");
    let path = |what: &str| format!("/v1/admin/tenants/{}/{what}", owner.tenant_id);
    assert_eq!(s.post(&path("suspend"), Some(&op), reason("unpaid")).status, 200);
    assert_eq!(s.post(&path("restore"), Some(&op), reason("paid")).status, 200);
    assert_ended(&s, &client, &tokens);
}

#[test]
fn an_operators_revocation_of_the_tenants_sessions_ends_the_grants() {
    let s = TestServer::spawn();
    let (client, owner, tokens) = signed_in(&s, "owner@oprev.test");
    let op = s.admin("op@oprev.test");
    let res = s.post(&format!("/v1/admin/tenants/{}/revoke-sessions", owner.tenant_id), Some(&op), reason("leak"));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_ended(&s, &client, &tokens);
}

#[test]
fn a_removed_member_loses_its_grants_in_that_tenant_only() {
    let s = TestServer::spawn();
    let op = s.admin("op@rm.test");
    let client = s.oidc_client(&op, "Dashboard", json!({ "tenant_id": null }));
    let owner = s.signup("owner@rm.test");
    let member = s.join(&owner.token, "member@rm.test", "member");
    let tokens = s.sign_in_to(&client, &member.token, OFFLINE);
    let owners = s.sign_in_to(&client, &owner.token, OFFLINE);
    let res = s.delete(&format!("/v1/tenant/members/{}", member.user_id), Some(&owner.token));
    assert_eq!(res.status, 204, "{}", res.text);
    assert_ended(&s, &client, &tokens);
    assert_eq!(s.refresh(&client, &owners.str("/refresh_token"), &[]).status, 200);
}

#[test]
fn a_disabled_account_loses_its_grants_and_enabling_it_does_not_bring_them_back() {
    let s = TestServer::spawn();
    let op = s.admin("op@dis.test");
    let client = s.oidc_client(&op, "Dashboard", json!({}));
    let owner = s.signup("owner@dis.test");
    let member = s.join(&owner.token, "member@dis.test", "member");
    let tokens = s.sign_in_to(&client, &member.token, OFFLINE);
    let path = |what: &str| format!("/v1/admin/users/{}/{what}", member.user_id);
    assert_eq!(s.post(&path("disable"), Some(&op), reason("left")).status, 200);
    assert_eq!(s.post(&path("enable"), Some(&op), reason("back")).status, 200);
    assert_ended(&s, &client, &tokens);
}

#[test]
fn a_password_change_ends_the_grants_and_the_session_that_made_it_signs_in_again() {
    let s = TestServer::spawn();
    let (client, owner, tokens) = signed_in(&s, "owner@chg.test");
    let body = json!({ "current_password": crate::support::PASSWORD, "new_password": "a brand new passphrase 2026" });
    assert_eq!(s.post("/v1/me/password", Some(&owner.token), body).status, 204);
    assert_ended(&s, &client, &tokens);
    // The session that changed it stays, and signs in to the client afresh.
    let again = s.sign_in_to(&client, &owner.token, OFFLINE);
    assert_eq!(s.refresh(&client, &again.str("/refresh_token"), &[]).status, 200);
}

#[test]
fn a_grant_goes_no_further_than_its_client_and_the_tenants_policy_allow() {
    let s = TestServer::spawn();
    let (client, owner, tokens) = signed_in(&s, "owner@gr-limit.test");
    let member = s.join(&owner.token, "member@gr-limit.test", "member");
    let members = s.sign_in_to(&client, &member.token, OFFLINE);
    // The tenant turns on its second-factor policy: the member, who has none, is shut out
    // here as everywhere else; the owner, who enrolled, goes on.
    s.enrol_totp("/v1/me/mfa", &owner.token);
    let res = s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": true }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_oauth_error(&s.refresh(&client, &members.str("/refresh_token"), &[]), 400, "invalid_grant");
    assert_oauth_error(&userinfo(&s, &members.str("/access_token")), 401, "invalid_token");
    let again = s.refresh(&client, &tokens.str("/refresh_token"), &[]);
    assert_eq!(again.status, 200, "{}", again.text);
    // The operator limits the client to another tenant: the owner's grant stops with it.
    let other = s.signup("owner@gr-other.test");
    let op = s.admin("op2@gr-limit.test");
    let res = s.patch(&format!("/v1/admin/clients/{}", client.id), Some(&op), json!({ "tenant_id": other.tenant_id }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_oauth_error(&s.refresh(&client, &again.str("/refresh_token"), &[]), 400, "invalid_grant");
    assert_oauth_error(&userinfo(&s, &again.str("/access_token")), 401, "invalid_token");
}
