//! The pruner (`keystead::maintenance`): ended sessions, expired tokens no message names
//! and mail done with go, in bounded batches, once their grace has passed; live rows stay.
//! The app's clock is moved; the pruner's own thread waits a wall-clock minute before its
//! first pass, so only the tests' own calls prune here.
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use keystead::maintenance::{self, Pruned};
use serde_json::json;

use crate::support::{PASSWORD, TestServer, token_of, wait_until};

const DAY: i64 = 24 * 3600;

fn count(s: &TestServer, table: &str) -> i64 {
    s.db().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

fn prune_all(s: &TestServer, limit: i64) -> Pruned {
    maintenance::prune(&s.app, limit, Duration::ZERO, &AtomicBool::new(false)).expect("prune")
}

fn login(s: &TestServer, email: &str) -> String {
    let res = s.login(email, PASSWORD);
    assert_eq!(res.status, 200, "login: {}", res.text);
    res.str("/session_token")
}

#[test]
fn ended_sessions_go_a_month_after_they_end_and_live_ones_stay() {
    let s = TestServer::spawn();
    let a = s.signup("a@example.test");
    let b = s.signup("b@example.test");
    assert_eq!(s.post("/v1/auth/logout", Some(&b.token), json!({})).status, 204);

    // b's session was revoked at once, a's (an owner's) lapsed after 12 idle hours:
    // neither ended a month ago.
    s.app.clock.advance(29 * DAY);
    assert_eq!(prune_all(&s, 500).sessions, 0);
    let owner = login(&s, &a.email);
    let live = s.join(&owner, "mia@example.test", "member").token;

    s.app.clock.advance(DAY + 3600);
    assert_eq!(prune_all(&s, 500).sessions, 1, "the revoked session");

    s.app.clock.advance(DAY / 2);
    assert_eq!(prune_all(&s, 500).sessions, 1, "the lapsed session");
    assert_eq!(count(&s, "sessions"), 2, "the new owner session, lapsed a day ago, and the member's");
    assert_eq!(s.get("/v1/me", Some(&live)).status, 200, "the live session still works");
    assert!(count(&s, "audit_log") > 0, "the audit log is never pruned");
}

#[test]
fn a_batch_is_bounded_and_a_pass_takes_batches_until_none_is_left() {
    let s = TestServer::spawn();
    let a = s.signup("a@example.test");
    for _ in 0..4 {
        login(&s, &a.email);
    }
    s.app.clock.advance(40 * DAY);
    let live = login(&s, &a.email);

    let batch = maintenance::prune_batch(&s.app, 2).expect("batch");
    assert_eq!(batch.sessions, 2, "one batch deletes at most its limit");
    assert_eq!(count(&s, "sessions"), 4);
    assert_eq!(prune_all(&s, 2).sessions, 3, "the pass takes the rest in further batches");
    assert_eq!(count(&s, "sessions"), 1);
    assert_eq!(s.get("/v1/me", Some(&live)).status, 200);
}

#[test]
fn tokens_go_after_the_mail_naming_them_and_live_ones_stay() {
    let s = TestServer::spawn();
    let a = s.signup("a@example.test");
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": a.email })).status, 202);
    let (tokens, mails) = (count(&s, "tokens"), count(&s, "outbox"));
    assert!(tokens >= 1 && mails >= 1);

    // Expired more than a day ago, and their links scrubbed by the mail sender: the mail
    // is kept a month, and so are the tokens it names.
    s.app.clock.advance(2 * DAY);
    wait_until("every dead link is scrubbed", || s.outbox().iter().all(|m| m.scrubbed_at.is_some()));
    assert_eq!(prune_all(&s, 500), Pruned::default());

    s.app.clock.advance(31 * DAY);
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": a.email })).status, 202);
    let pruned = prune_all(&s, 500);
    assert_eq!((pruned.tokens, pruned.mail), (usize::try_from(tokens).unwrap(), usize::try_from(mails).unwrap()));
    let left = s.outbox();
    assert_eq!((left.len(), count(&s, "tokens")), (1, 1), "the new reset mail and its token: {left:?}");

    let link = left[0].body_text.split_whitespace().find(|w| w.contains("?token=")).expect("link").to_owned();
    let res = s.post(
        "/v1/auth/reset-password",
        None,
        json!({ "token": token_of(&link), "password": "another long passphrase" }),
    );
    assert_eq!(res.status, 204, "the live token still works: {}", res.text);
}

#[test]
fn a_replaced_signing_key_goes_a_day_after_it_left_the_jwks() {
    let s = TestServer::spawn();
    let rotated = keystead::core::signing::rotate(&s.app).expect("rotate");
    let until = rotated.retired_at.unix() - s.app.clock.now().unix();
    s.app.clock.advance(until + DAY - 60);
    assert_eq!(prune_all(&s, 500).signing_keys, 0, "not yet a day");
    s.app.clock.advance(120);
    assert_eq!(prune_all(&s, 500).signing_keys, 1, "the first EdDSA key");
    let left: Vec<String> = s
        .db()
        .prepare("SELECT kid FROM signing_keys ORDER BY kid")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .expect("keys");
    let mut signing: Vec<String> = rotated.keys.into_iter().map(|k| k.kid).collect();
    signing.sort();
    assert_eq!(left, signing, "the keys that sign stay, one per alg");
}

#[test]
fn second_step_challenges_go_a_day_after_they_expired() {
    let s = TestServer::spawn();
    let a = s.signup("a@example.test");
    s.enrol_totp("/v1/me/mfa", &a.token);
    let first = TestServer::mfa_token(&s.login(&a.email, PASSWORD));
    assert_eq!(count(&s, "mfa_challenges"), 1);
    // A day after it expired (5 minutes after it was issued) it goes; a newer one stays.
    s.app.clock.advance(DAY);
    let second = TestServer::mfa_token(&s.login(&a.email, PASSWORD));
    assert_ne!(first, second);
    assert_eq!(prune_all(&s, 500).mfa_challenges, 0, "the first expired less than a day ago");
    s.app.clock.advance(301);
    assert_eq!(prune_all(&s, 500).mfa_challenges, 1);
    assert_eq!(count(&s, "mfa_challenges"), 1, "the second is kept");
}

#[test]
fn codes_and_grants_go_before_the_sessions_they_name() {
    let s = TestServer::spawn();
    let op = s.admin("op@prune-oidc.test");
    let client = s.oidc_client(&op, "Dashboard", json!({}));
    let owner = s.signup("owner@prune-oidc.test");
    let session = login(&s, "owner@prune-oidc.test");
    let kept = s.sign_in_to(&client, &session, "openid offline_access");
    let revoked = s.sign_in_to(&client, &session, "openid offline_access");
    assert_eq!(s.refresh(&client, &kept.str("/refresh_token"), &[]).status, 200);
    let revoke = s.oauth_post("/v1/oauth/revoke", &client, &[("token", &revoked.str("/refresh_token"))]);
    assert_eq!(revoke.status, 200);
    // The session the grants came from ends now; the kept grant outlives it.
    assert_eq!(s.post("/v1/auth/logout", Some(&session), json!({})).status, 204);
    assert_eq!(prune_all(&s, 500), Pruned::default());

    s.app.clock.advance(DAY + 61);
    let pruned = prune_all(&s, 500);
    assert_eq!((pruned.oauth_codes, pruned.oauth_grants, pruned.sessions), (2, 1, 0), "{pruned:?}");
    assert_eq!(count(&s, "oauth_refresh_tokens"), 2, "the kept grant's used and current token");

    // A month on, the kept grant has expired; it goes in the same pass as its session.
    s.app.clock.advance(30 * DAY);
    let pruned = prune_all(&s, 500);
    assert_eq!(pruned.oauth_grants, 1, "{pruned:?}");
    let left = ["oauth_grants", "oauth_refresh_tokens", "oauth_codes", "sessions"].map(|t| count(&s, t));
    assert_eq!(left, [0; 4], "every session lapsed, the grants' among them");
    assert_eq!(s.get("/v1/me", Some(&owner.token)).status, 401);
}
