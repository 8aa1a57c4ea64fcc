//! The outbox and its sender, against a real SMTP listener on loopback: an invitation is
//! received and its link followed, a delivered message keeps no live link, a server that
//! is down is retried with backoff, and without SMTP nothing leaves and dead links are
//! scrubbed all the same.
use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::{PASSWORD, TestServer, token_of, wait_until};

#[test]
fn an_invitation_is_mailed_and_its_link_activates_the_account() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let res = s.invite(&owner.token, "new@a.test", "member");
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["invite_email"], json!({ "sent": true }));
    assert!(res.body.get("activation_url").is_none(), "the link goes by mail only: {}", res.text);

    let mail = sink.mail_to("new@a.test", "invited");
    assert_eq!(mail.from, "keystead@localhost");
    assert!(mail.subject().contains("Tenant of owner"), "{}", mail.subject());
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"), "both bodies: {}", mail.data);
    assert!(mail.data.contains(&format!("{}/activate?token=", s.app.config.base_url)));
    let token = mail.token("/activate");

    // Delivered: recorded, and the stored copy no longer holds the (still unused) link.
    wait_until("the invitation is marked sent", || {
        s.outbox_to("new@a.test", "invitation").first().is_some_and(|m| m.sent_at.is_some())
    });
    let stored = &s.outbox_to("new@a.test", "invitation")[0];
    assert_eq!((stored.attempts, stored.last_error.as_deref()), (1, None));
    assert!(!stored.holds(&token), "delivered body still holds the link: {}", stored.body_text);
    assert!(stored.body_text.contains("/activate?token=removed"));

    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/user/status"), "active");
    assert_eq!(res.body["user"]["email_verified"], json!(true), "a link that came by mail proves the address");
    assert!(s.outbox_to("new@a.test", "verify_email").is_empty());

    // Resending works by mail too.
    let res = s.invite(&owner.token, "other@a.test", "member");
    let path = format!("/v1/tenant/members/{}/resend-invite", res.str("/user/id"));
    let res = s.post(&path, Some(&owner.token), json!({}));
    assert_eq!((res.status, &res.body), (202, &json!({ "invite_email": { "sent": true } })));
    let first = sink.mail_to("other@a.test", "invited").token("/activate");
    let second = sink.mail_to("other@a.test", "invited").token("/activate");
    assert_ne!(first, second);
}

/// Issue 10 item 1 (critical): a mailed invitation into an account that has a password
/// needs that password; a wrong or missing one leaves the invitation standing.
#[test]
fn a_mailed_invitation_into_an_existing_account_needs_its_password() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let known = s.signup("known@a.test");
    assert_eq!(s.invite(&owner.token, "known@a.test", "admin").status, 201);
    let token = sink.mail_to("known@a.test", "invited").token("/activate");

    let res = s.post("/v1/auth/activate", None, json!({ "token": token }));
    assert_eq!((res.status, res.body["error"]["fields"]["password"].is_string()), (400, true), "{}", res.text);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": "not the password at all" }));
    assert_eq!((res.status, res.str("/error/code")), (401, "invalid_credentials".into()), "{}", res.text);
    let members = s.get("/v1/tenant/members?status=invited", Some(&owner.token));
    assert_eq!(members.body["items"][0]["id"], json!(known.user_id), "the invitation still stands");

    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/user/id"), res.str("/tenant/id")), (known.user_id.clone(), owner.tenant_id.clone()));
    assert_eq!(res.str("/user/role"), "admin");
    // Only the link's own password: the account's is unchanged, and the link is spent.
    assert_eq!(s.login("known@a.test", PASSWORD).status, 200);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.str("/error/code"), "invalid_token");
}

#[test]
fn a_server_that_is_down_is_retried_with_backoff() {
    let sink = SmtpSink::down();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    assert_eq!(s.invite(&owner.token, "new@a.test", "member").status, 201);
    let invitation = || s.outbox_to("new@a.test", "invitation").remove(0);
    wait_until("a failed attempt is recorded", || invitation().attempts >= 1);
    let failed = invitation();
    assert_eq!(failed.attempts, 1);
    assert!(failed.sent_at.is_none());
    assert!(failed.last_error.as_deref().is_some_and(|e| e.contains("421")), "{failed:?}");
    assert!(failed.body_text.contains("token="), "an unsent message keeps its link until used or expired");

    // Not retried before its backoff (1 minute)…
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(invitation().attempts, 1);
    // …then it is, and now the server answers.
    sink.set_up(true);
    s.app.clock.advance(61);
    let mail = sink.mail_to("new@a.test", "invited");
    wait_until("the retry is recorded", || invitation().sent_at.is_some());
    let sent = invitation();
    assert_eq!(sent.attempts, 2);
    assert_eq!(sent.last_error, None);
    assert!(!sent.holds(&mail.token("/activate")));
}

#[test]
fn without_smtp_mail_stays_in_the_outbox_and_dead_links_are_scrubbed() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    assert_eq!(s.outbox_to("owner@a.test", "verify_email").len(), 1, "sign-up queues a verification");
    let res = s.invite(&owner.token, "new@a.test", "member");
    let token = token_of(&res.str("/activation_url"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let queued = &s.outbox_to("new@a.test", "invitation")[0];
    assert!(queued.sent_at.is_none() && queued.attempts == 0, "nothing left the machine: {queued:?}");
    assert!(queued.holds(&token));

    // Once the token expires, the sender's sweep cuts the link out, and the message is never sent.
    s.app.clock.advance(7 * 24 * 3600 + 61);
    wait_until("the expired link is scrubbed", || s.outbox_to("new@a.test", "invitation")[0].scrubbed_at.is_some());
    let scrubbed = &s.outbox_to("new@a.test", "invitation")[0];
    assert!(!scrubbed.holds(&token));
    assert!(scrubbed.sent_at.is_none());
    assert!(scrubbed.last_error.as_deref().is_some_and(|e| e.contains("not sent")));
}

#[test]
fn a_superseded_link_is_scrubbed_from_the_outbox() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let res = s.invite(&owner.token, "new@a.test", "member");
    let old = token_of(&res.str("/activation_url"));
    let path = format!("/v1/tenant/members/{}/resend-invite", res.str("/user/id"));
    let new = token_of(&s.post(&path, Some(&owner.token), json!({})).str("/activation_url"));
    s.app.clock.advance(61); // the sweep runs at most once a minute of app time
    wait_until("the superseded link is scrubbed", || s.outbox_to("new@a.test", "invitation")[0].scrubbed_at.is_some());
    let messages = s.outbox_to("new@a.test", "invitation");
    assert!(!messages[0].holds(&old));
    assert!(messages[1].holds(&new) && messages[1].scrubbed_at.is_none(), "the live link stays");
}

#[test]
fn a_live_link_stored_raw_before_sealing_is_sealed_and_its_bytes_zeroed() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let token = token_of(&s.invite(&owner.token, "new@a.test", "member").str("/activation_url"));
    // As a database from before migration 4 holds it: the body raw, nothing sealed.
    let raw = s.outbox_to("new@a.test", "invitation").remove(0);
    let conn = rusqlite::Connection::open(s.db_path()).expect("open");
    conn.execute(
        "UPDATE outbox SET body_text = ?1, body_html = ?2, sealed_body = NULL WHERE kind = 'invitation'",
        [&raw.body_text, &raw.body_html],
    )
    .expect("unseal");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    drop(conn);
    let files = || -> Vec<u8> {
        let db = s.db_path();
        ["", "-wal"]
            .iter()
            .flat_map(|suffix| std::fs::read(format!("{}{suffix}", db.display())).unwrap_or_default())
            .collect()
    };
    assert!(files().windows(token.len()).any(|w| w == token.as_bytes()), "the raw link is in the files");

    assert_eq!(keystead::mail::seal_unsealed(&s.app).expect("sealed"), 1);
    // Once the WAL is checkpointed into the file (SQLite does so on its own as it grows),
    // the replaced bytes are zeroes there, not the raw link.
    let conn = rusqlite::Connection::open(s.db_path()).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    drop(conn);
    assert!(!files().windows(token.len()).any(|w| w == token.as_bytes()), "the raw link is gone from the files");
    let stored = s.outbox_to("new@a.test", "invitation").remove(0);
    assert!(stored.holds(&token) && stored.scrubbed_at.is_none(), "still deliverable, from the sealed copy");
    assert_eq!(keystead::mail::seal_unsealed(&s.app).expect("nothing left"), 0);
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
}
