//! Single-use tokens over HTTP: activation races and expiry, forgot/reset password,
//! email verification and change of address, and the per-IP limits on their use. Links
//! are read from a real SMTP listener where the answer does not carry them.
use std::sync::Arc;

use keystead::limit::Rate;
use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::{PASSWORD, TestServer, assert_error, loose_limits, token_of, wait_until};

const NEW_PASSWORD: &str = "a brand new passphrase 2026";

#[test]
fn two_concurrent_uses_of_one_token_give_exactly_one_success() {
    let s = Arc::new(TestServer::spawn());
    let owner = s.signup("owner@a.test");
    for round in 0..3 {
        let res = s.invite(&owner.token, &format!("race{round}@a.test"), "member");
        let token = token_of(&res.str("/activation_url"));
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (s, token, barrier) = (s.clone(), token.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }))
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().expect("racer")).collect();
        let ok = results.iter().filter(|r| r.status == 200).count();
        assert_eq!(ok, 1, "round {round}: {:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
        let loser = results.iter().find(|r| r.status != 200).expect("a loser");
        assert_error(loser, 400, "invalid_token");
    }
}

#[test]
fn tokens_expire_at_their_lifetime() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let token = token_of(&s.invite(&owner.token, "slow@a.test", "member").str("/activation_url"));
    s.app.clock.advance(7 * 24 * 3600 + 1);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_error(&res, 400, "invalid_token");

    // Still within 7 days: usable. (The owner's session idled out meanwhile.)
    let session = s.login("owner@a.test", PASSWORD).str("/session_token");
    let token = token_of(&s.invite(&session, "quick@a.test", "member").str("/activation_url"));
    s.app.clock.advance(7 * 24 * 3600 - 60);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
}

#[test]
fn forgot_and_reset_password_revoke_every_session() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let second = s.login("owner@a.test", PASSWORD).str("/session_token");

    // Unknown addresses get the same answer and no mail.
    let res = s.post("/v1/auth/forgot-password", None, json!({ "email": "nobody@a.test" }));
    assert_eq!((res.status, &res.body), (202, &json!({})));
    assert!(s.outbox_to("nobody@a.test", "password_reset").is_empty());
    assert_error(&s.post("/v1/auth/forgot-password", None, json!({ "email": "nope" })), 400, "invalid_request");
    assert_error(&s.post("/v1/auth/forgot-password", None, json!({})), 400, "invalid_request");

    let res = s.post("/v1/auth/forgot-password", None, json!({ "email": " Owner@A.test " }));
    assert_eq!((res.status, &res.body), (202, &json!({})));
    let token = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    // Again within 5 minutes: 202, and nothing more is queued.
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" })).status, 202);
    assert_eq!(s.outbox_to("owner@a.test", "password_reset").len(), 1);

    let reset = |token: &str, password: &str| {
        s.post("/v1/auth/reset-password", None, json!({ "token": token, "password": password }))
    };
    assert_error(&reset(&token, "short"), 400, "weak_password");
    assert_error(&reset("not-a-token", NEW_PASSWORD), 400, "invalid_token");
    assert_eq!(reset(&token, NEW_PASSWORD).status, 204);
    assert_error(&reset(&token, NEW_PASSWORD), 400, "invalid_token");
    for session in [&owner.token, &second] {
        assert_error(&s.get("/v1/me", Some(session)), 401, "unauthorized");
    }
    assert_error(&s.login("owner@a.test", PASSWORD), 401, "invalid_credentials");
    assert_eq!(s.login("owner@a.test", NEW_PASSWORD).status, 200);

    // After 5 minutes another link may go; a reset link lives one hour.
    s.app.clock.advance(301);
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" })).status, 202);
    assert_eq!(s.outbox_to("owner@a.test", "password_reset").len(), 2);
    let token = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    s.app.clock.advance(3601);
    assert_error(&reset(&token, PASSWORD), 400, "invalid_token");
}

#[test]
fn a_newer_reset_link_supersedes_the_older_one() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    s.signup("owner@a.test");
    s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" }));
    let old = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    s.app.clock.advance(301);
    s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" }));
    let new = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": old, "password": NEW_PASSWORD }));
    assert_error(&res, 400, "invalid_token");
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": new, "password": NEW_PASSWORD }));
    assert_eq!(res.status, 204, "{}", res.text);
}

#[test]
fn signup_queues_a_verification_that_the_link_confirms() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let first = sink.mail_to("owner@a.test", "Confirm your email").token("/verify-email");

    // A resend right away is throttled; a minute later it goes, and supersedes the first link.
    assert_error(&s.post("/v1/me/verify-email", Some(&owner.token), json!({})), 429, "rate_limited");
    s.app.clock.advance(61);
    let res = s.post("/v1/me/verify-email", Some(&owner.token), json!({}));
    assert_eq!((res.status, &res.body), (202, &json!({})));
    let second = sink.mail_to("owner@a.test", "Confirm your email").token("/verify-email");
    assert_error(&s.post("/v1/auth/verify-email", None, json!({ "token": first })), 400, "invalid_token");

    assert_eq!(s.get("/v1/me", Some(&owner.token)).body["user"]["email_verified"], json!(false));
    assert_eq!(s.post("/v1/auth/verify-email", None, json!({ "token": second })).status, 204);
    assert_eq!(s.get("/v1/me", Some(&owner.token)).body["user"]["email_verified"], json!(true));
    assert_error(&s.post("/v1/auth/verify-email", None, json!({ "token": second })), 400, "invalid_token");
    s.app.clock.advance(61);
    assert_error(&s.post("/v1/me/verify-email", Some(&owner.token), json!({})), 409, "already_verified");
    assert_error(&s.post("/v1/me/verify-email", None, json!({})), 401, "unauthorized");
}

#[test]
fn a_verification_link_lives_24_hours() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    s.signup("owner@a.test");
    let token = sink.mail_to("owner@a.test", "Confirm your email").token("/verify-email");
    s.app.clock.advance(24 * 3600 + 1);
    assert_error(&s.post("/v1/auth/verify-email", None, json!({ "token": token })), 400, "invalid_token");
}

#[test]
fn changing_the_email_needs_the_password_and_a_link_to_the_new_address() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    s.signup("taken@b.test");
    let change = |new_email: &str, password: &str| {
        s.post("/v1/me/email", Some(&owner.token), json!({ "new_email": new_email, "password": password }))
    };
    assert_error(&change("new@a.test", "wrong password here"), 401, "invalid_credentials");
    assert_error(&change("Taken@B.test", PASSWORD), 409, "email_taken");
    assert_error(&change("not an address", PASSWORD), 400, "invalid_request");
    assert_error(&change("owner@a.test", PASSWORD), 400, "invalid_request");
    let res = change("new@a.test", PASSWORD);
    assert_eq!((res.status, &res.body), (202, &json!({})));
    assert_error(&change("newer@a.test", PASSWORD), 429, "rate_limited");

    let token = sink.mail_to("new@a.test", "new").token("/confirm-email");
    // Nothing changed yet.
    assert_eq!(s.get("/v1/me", Some(&owner.token)).str("/user/email"), "owner@a.test");
    assert_error(&s.post("/v1/auth/confirm-email-change", None, json!({ "token": "junk" })), 400, "invalid_token");
    assert_eq!(s.post("/v1/auth/confirm-email-change", None, json!({ "token": token })).status, 204);
    assert_error(&s.get("/v1/me", Some(&owner.token)), 401, "unauthorized");
    assert_error(&s.post("/v1/auth/confirm-email-change", None, json!({ "token": token })), 400, "invalid_token");
    let notice = sink.mail_to("owner@a.test", "changed");
    assert!(notice.data.contains("new@a.test"), "{}", notice.data);
    assert_error(&s.login("owner@a.test", PASSWORD), 401, "invalid_credentials");
    let res = s.login("new@a.test", PASSWORD);
    assert_eq!(res.status, 200);
    assert_eq!(res.body["user"]["email_verified"], json!(true), "the link proved the new address");
}

#[test]
fn an_address_taken_between_request_and_confirmation_is_409() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let res = s.post("/v1/me/email", Some(&owner.token), json!({ "new_email": "wanted@a.test", "password": PASSWORD }));
    assert_eq!(res.status, 202);
    let token = sink.mail_to("wanted@a.test", "new").token("/confirm-email");
    s.signup("wanted@a.test");
    let res = s.post("/v1/auth/confirm-email-change", None, json!({ "token": token }));
    assert_error(&res, 409, "email_taken");
    assert_eq!(s.get("/v1/me", Some(&owner.token)).str("/user/email"), "owner@a.test");
}

#[test]
fn token_use_and_forgot_password_are_limited_per_ip() {
    let s = TestServer::with(|c| {
        c.limits = loose_limits();
        c.limits.token_use_by_ip = Rate { burst: 3, per_hour: 1 };
        c.limits.forgot_by_ip = Rate { burst: 2, per_hour: 1 };
    });
    let uses = [
        ("/v1/auth/activate", json!({ "token": "guess", "password": NEW_PASSWORD })),
        ("/v1/auth/verify-email", json!({ "token": "guess" })),
        ("/v1/auth/reset-password", json!({ "token": "guess", "password": NEW_PASSWORD })),
    ];
    for (path, body) in &uses {
        assert_error(&s.post(path, None, body.clone()), 400, "invalid_token");
    }
    let res = s.post("/v1/auth/confirm-email-change", None, json!({ "token": "guess" }));
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n > 0)), "{res:?}");

    for _ in 0..2 {
        assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "x@a.test" })).status, 202);
    }
    let res = s.post("/v1/auth/forgot-password", None, json!({ "email": "x@a.test" }));
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
}

#[test]
fn no_audit_row_holds_a_token_or_password() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let res = s.invite(&owner.token, "new@a.test", "member");
    assert_eq!(res.status, 201);
    let token = sink.mail_to("new@a.test", "invited").token("/activate");
    assert_eq!(s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD })).status, 200);
    s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" }));
    let reset = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    assert_eq!(
        s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": NEW_PASSWORD })).status,
        204
    );
    let db = s.db();
    let mut stmt = db.prepare("SELECT action, COALESCE(before, ''), COALESCE(after, '') FROM audit_log").expect("prep");
    let rows: Vec<(String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).expect("q").map(|r| r.expect("row")).collect();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for wanted in ["member.invited", "member.activated", "password.reset_requested", "password.reset"] {
        assert!(actions.contains(&wanted), "{wanted} missing from {actions:?}");
    }
    for (action, before, after) in &rows {
        for secret in [token.as_str(), reset.as_str(), PASSWORD, NEW_PASSWORD] {
            assert!(!before.contains(secret) && !after.contains(secret), "{action} holds a secret");
        }
    }
    wait_until("both mails are delivered", || s.outbox().iter().all(|m| m.sent_at.is_some()));
}

/// Issue 10 item 5: a reset spends every other live link of the account. Before the fix a
/// pending email change survived the reset and handed the account back to whoever had
/// asked for it.
#[test]
fn a_password_reset_spends_every_live_link_of_the_account() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let verify = sink.mail_to("owner@a.test", "Confirm your email").token("/verify-email");
    let res =
        s.post("/v1/me/email", Some(&owner.token), json!({ "new_email": "phisher@b.test", "password": PASSWORD }));
    assert_eq!(res.status, 202, "{}", res.text);
    let change = sink.mail_to("phisher@b.test", "new").token("/confirm-email");
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" })).status, 202);
    let reset = sink.mail_to("owner@a.test", "Reset").token("/reset-password");

    let res = s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": NEW_PASSWORD }));
    assert_eq!(res.status, 204, "{}", res.text);
    assert_error(&s.post("/v1/auth/confirm-email-change", None, json!({ "token": change })), 400, "invalid_token");
    assert_error(&s.post("/v1/auth/verify-email", None, json!({ "token": verify })), 400, "invalid_token");
    assert_eq!(s.login("owner@a.test", NEW_PASSWORD).str("/user/email"), "owner@a.test");
}

/// Issue 10 item 5: so does a password change, but for this session.
#[test]
fn a_password_change_spends_the_reset_verification_and_email_change_links() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let verify = sink.mail_to("owner@a.test", "Confirm your email").token("/verify-email");
    let res = s.post("/v1/me/email", Some(&owner.token), json!({ "new_email": "new@b.test", "password": PASSWORD }));
    assert_eq!(res.status, 202, "{}", res.text);
    let change = sink.mail_to("new@b.test", "new").token("/confirm-email");
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" })).status, 202);
    let reset = sink.mail_to("owner@a.test", "Reset").token("/reset-password");

    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    assert_eq!(s.post("/v1/me/password", Some(&owner.token), body).status, 204);
    assert_error(&s.post("/v1/auth/confirm-email-change", None, json!({ "token": change })), 400, "invalid_token");
    assert_error(&s.post("/v1/auth/verify-email", None, json!({ "token": verify })), 400, "invalid_token");
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": PASSWORD }));
    assert_error(&res, 400, "invalid_token");
    assert_eq!(s.login("owner@a.test", NEW_PASSWORD).status, 200);
}

/// Issue 10 item 5: a reset link does nothing for a disabled or deleted account, and stays
/// unused (it works again once the account is enabled, within its hour).
#[test]
fn a_reset_of_a_disabled_account_is_invalid_token() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    s.signup("other@a.test");
    let op = s.admin("op@operator.test");
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "owner@a.test" })).status, 202);
    let reset = sink.mail_to("owner@a.test", "Reset").token("/reset-password");
    let reason = json!({ "reason": "test" });
    let path = format!("/v1/admin/users/{}", owner.user_id);
    // The last active owner of its tenant cannot be disabled: give the tenant another owner.
    assert_eq!(s.invite(&owner.token, "second@a.test", "owner").status, 201);
    let invitation = sink.mail_to("second@a.test", "invited").token("/activate");
    let res = s.post("/v1/auth/activate", None, json!({ "token": invitation, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(s.post(&format!("{path}/disable"), Some(&op), reason.clone()).status, 200);
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": NEW_PASSWORD }));
    assert_error(&res, 400, "invalid_token");
    assert_eq!(s.post(&format!("{path}/enable"), Some(&op), reason).status, 200);
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": NEW_PASSWORD }));
    assert_eq!(res.status, 204, "{}", res.text);
}
