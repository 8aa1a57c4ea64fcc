//! Security notices by mail (README "Security notices"): each lands in the outbox in the
//! transaction of its change, with the sessions link and no secret.
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::support::web::Browser;
use crate::support::{Outbox, PASSWORD, Signed, TestServer, assert_error, token_of};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";

/// A login with this User-Agent (and these extra headers).
fn login_as(s: &TestServer, email: &str, ua: &str, extra: &[(&str, &str)]) -> crate::support::Res {
    let body = json!({ "email": email, "password": PASSWORD }).to_string().into_bytes();
    let mut headers = vec![("Content-Type", "application/json"), ("User-Agent", ua)];
    headers.extend_from_slice(extra);
    s.send("POST", "/v1/auth/login", None, &headers, Some(&body))
}

/// The notices of one kind to `to`, each checked: it names the sessions page (`page`) and
/// holds none of `secrets`.
fn notices(s: &TestServer, to: &str, kind: &str, page: &str, secrets: &[&str]) -> Vec<Outbox> {
    let found = s.outbox_to(to, kind);
    for m in &found {
        for body in [&m.body_text, &m.body_html] {
            assert!(body.contains(&format!("{}{page}", s.base)), "{kind} links {page}: {body}");
            for secret in secrets {
                assert!(!body.contains(secret), "{kind} carries a secret: {body}");
            }
        }
    }
    found
}

fn subject_of(s: &TestServer, kind: &str) -> String {
    s.db()
        .query_row("SELECT subject FROM outbox WHERE kind = ?1 ORDER BY seq DESC LIMIT 1", [kind], |r| r.get(0))
        .expect("a message of that kind")
}

fn known_devices(s: &TestServer, user: &str) -> i64 {
    s.db().query_row("SELECT count(*) FROM known_devices WHERE user_id = ?1", [user], |r| r.get(0)).expect("count")
}

#[test]
fn a_sign_in_from_a_new_device_is_told_once_and_never_on_the_first() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_eq!(known_devices(&s, &a.user_id), 1, "the sign-up's sign-in is recorded");
    let again = s.login(&a.email, PASSWORD);
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(s.outbox_to(&a.email, "notice_new_device").is_empty(), "first device, then the same one: no notice");

    let res = login_as(&s, &a.email, FIREFOX, &[]);
    assert_eq!(res.status, 200, "{}", res.text);
    let token = res.str("/session_token");
    let sent = notices(&s, &a.email, "notice_new_device", "/app/sessions", &[&token, PASSWORD, &a.token]);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].holds("Firefox on Linux") && sent[0].holds("127.0.0.0/24"), "{}", sent[0].body_text);
    assert_eq!(subject_of(&s, "notice_new_device"), "New sign-in to your Keystead account");
    // A newer Firefox on the same network is the same device.
    let newer = FIREFOX.replace("128.0", "129.0");
    assert_eq!(login_as(&s, &a.email, &newer, &[]).status, 200);
    assert_eq!(s.outbox_to(&a.email, "notice_new_device").len(), 1);
    assert_eq!(known_devices(&s, &a.user_id), 2);
    // Nothing of the address is kept raw.
    let stored: Vec<u8> = s
        .db()
        .query_row("SELECT fingerprint FROM known_devices WHERE user_id = ?1 LIMIT 1", [&a.user_id], |r| r.get(0))
        .expect("a row");
    assert_eq!(stored.len(), 32, "a SHA-256");
}

#[test]
fn another_network_is_a_new_device_too() {
    let s = TestServer::with(|c| {
        c.trust_proxy = true;
        c.trusted_proxies = "127.0.0.0/8".parse().expect("a list");
    });
    let a = s.signup("ann@example.test");
    let at = |ip: &str| login_as(&s, &a.email, "curl/8.5.0", &[("X-Forwarded-For", ip)]).status;
    assert_eq!(at("198.51.100.7"), 200);
    assert_eq!(s.outbox_to(&a.email, "notice_new_device").len(), 1, "curl from elsewhere");
    assert_eq!(at("198.51.100.200"), 200);
    assert_eq!(s.outbox_to(&a.email, "notice_new_device").len(), 1, "the same /24");
    assert_eq!(at("2001:db8:1:2::1"), 200);
    assert_eq!(at("2001:db8:1:ffff::9"), 200);
    let sent = s.outbox_to(&a.email, "notice_new_device");
    assert_eq!(sent.len(), 2, "one IPv6 /48");
    assert!(sent[1].holds("2001:db8:1::/48"), "{}", sent[1].body_text);
}

#[test]
fn the_second_step_and_an_activation_record_the_device_where_the_session_opens() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp("/v1/me/mfa", &a.token);
    let first = login_as(&s, &a.email, FIREFOX, &[]);
    let mfa_token = TestServer::mfa_token(&first);
    assert!(s.outbox_to(&a.email, "notice_new_device").is_empty(), "no session yet, no notice");
    let body = json!({ "mfa_token": mfa_token, "code": app.code(&s) }).to_string().into_bytes();
    let headers = [("Content-Type", "application/json"), ("User-Agent", FIREFOX)];
    let res = s.send("POST", "/v1/auth/mfa", None, &headers, Some(&body));
    assert_eq!(res.status, 200, "{}", res.text);
    let sent = notices(&s, &a.email, "notice_new_device", "/app/sessions", &[&mfa_token, &app.secret]);
    assert_eq!(sent.len(), 1);

    // A new account's activation is its first sign-in: recorded, not told.
    let joined = s.join(&a.token, "mia@example.test", "member");
    assert_eq!(known_devices(&s, &joined.user_id), 1);
    assert!(s.outbox_to(&joined.email, "notice_new_device").is_empty());
}

#[test]
fn the_new_device_notice_can_be_turned_off_and_only_it() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_eq!(s.get("/v1/me", Some(&a.token)).body["new_device_notices"], Value::Bool(true));
    assert_error(&s.patch("/v1/me", Some(&a.token), json!({})), 400, "invalid_request");
    assert_error(&s.patch("/v1/me", Some(&a.token), json!({ "new_device_notices": "no" })), 400, "invalid_request");
    let res = s.patch("/v1/me", Some(&a.token), json!({ "new_device_notices": false }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["new_device_notices"], Value::Bool(false));
    assert_eq!(res.str("/user/name"), "Test Owner", "the name stays");
    assert_eq!(s.get("/v1/me", Some(&a.token)).body["new_device_notices"], Value::Bool(false));

    assert_eq!(login_as(&s, &a.email, FIREFOX, &[]).status, 200);
    assert!(s.outbox_to(&a.email, "notice_new_device").is_empty(), "turned off");
    assert_eq!(known_devices(&s, &a.user_id), 2, "still recorded");
    let res = s.post(
        "/v1/me/password",
        Some(&a.token),
        json!({ "current_password": PASSWORD, "new_password": "another horse battery staple" }),
    );
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(s.outbox_to(&a.email, "notice_password_changed").len(), 1, "the others always go");
    let audit: String = s
        .db()
        .query_row(
            "SELECT after FROM audit_log WHERE action = 'account.profile_updated' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("audited");
    assert_eq!(serde_json::from_str::<Value>(&audit).expect("json"), json!({ "new_device_notices": false }));

    // Back on, from the security page.
    let b = Browser::new(&s);
    let login = b.post("/login", &[("email", &a.email), ("password", "another horse battery staple")]);
    login.assert_redirect("/app");
    let page = b.get("/app/security");
    assert!(page.has("action=\"/app/security/notices\"") && !page.has("value=\"on\" checked"), "{}", page.text);
    b.post("/app/security/notices", &[("new_device_notices", "on")]).assert_redirect("/app/security");
    assert!(b.get("/app/security").has("value=\"on\" checked"));
    assert_eq!(s.get("/v1/me", Some(&a.token)).body["new_device_notices"], Value::Bool(true));
    assert_eq!(login_as(&s, &a.email, SAFARI, &[]).status, 401, "old password");
}

#[test]
fn a_password_change_and_a_reset_are_told() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let new = "another horse battery staple";
    let res = s.post("/v1/me/password", Some(&a.token), json!({ "current_password": PASSWORD, "new_password": new }));
    assert_eq!(res.status, 204, "{}", res.text);
    let sent = notices(&s, &a.email, "notice_password_changed", "/app/sessions", &[PASSWORD, new, &a.token]);
    assert_eq!(sent.len(), 1);
    assert_eq!(subject_of(&s, "notice_password_changed"), "The password of your Keystead account was changed");

    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": a.email })).status, 202);
    let link = s.outbox_to(&a.email, "password_reset").pop().expect("a reset link");
    let at = link.body_text.find("/reset-password?token=").expect("the link");
    let url: String = link.body_text[at..].split_whitespace().next().expect("url").to_owned();
    let token = token_of(&url);
    let third = "a third horse battery staple";
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": token, "password": third }));
    assert_eq!(res.status, 204, "{}", res.text);
    let sent = notices(&s, &a.email, "notice_password_reset", "/app/sessions", &[&token, third, new]);
    assert_eq!(sent.len(), 1);
    assert_eq!(subject_of(&s, "notice_password_reset"), "The password of your Keystead account was reset");
    // A wrong current password changes nothing and tells nothing.
    let res = login_as(&s, &a.email, "curl/8", &[]);
    assert_eq!(res.status, 401);
    assert_eq!(s.outbox_to(&a.email, "notice_password_changed").len(), 1);
}

#[test]
fn every_factor_change_is_told_to_accounts_and_operators() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp("/v1/me/mfa", &a.token);
    let mut secrets: Vec<&str> = app.recovery_codes.iter().map(String::as_str).collect();
    secrets.extend([app.secret.as_str(), PASSWORD, a.token.as_str()]);
    let told = |n: usize| {
        let sent = notices(&s, &a.email, "notice_factor_changed", "/app/sessions", &secrets);
        assert_eq!(sent.len(), n, "{sent:?}");
        sent
    };
    assert!(told(1)[0].holds("An authenticator app was set up"));
    assert_eq!(subject_of(&s, "notice_factor_changed"), "A second factor of your Keystead account changed");

    let res =
        s.post("/v1/me/mfa/recovery-codes", Some(&a.token), json!({ "password": PASSWORD, "code": app.code(&s) }));
    assert_eq!(res.status, 200, "{}", res.text);
    let fresh: Vec<String> = res.body["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").into())
        .collect();
    assert!(told(2)[1].holds("New recovery codes"));
    for code in &fresh {
        assert!(!told(2)[1].holds(code));
    }
    s.app.clock.advance(30);
    let res = s.post("/v1/me/mfa/totp/disable", Some(&a.token), json!({ "password": PASSWORD, "code": &fresh[0] }));
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(told(3)[2].holds("authenticator app of your account was removed"));
    // A wrong code changes nothing and tells nothing.
    let res = s.post("/v1/me/mfa/recovery-codes", Some(&a.token), json!({ "password": PASSWORD, "code": "000000" }));
    assert_eq!(res.status, 400);
    told(3);

    s.enrol_totp("/v1/me/mfa", &a.token);
    let op = s.admin("op@operator.test");
    let path = format!("/v1/admin/users/{}/reset-mfa", a.user_id);
    assert_eq!(s.post(&path, Some(&op), json!({ "reason": "lost phone" })).status, 200);
    assert!(told(5)[4].holds("An operator removed every second factor"));

    // An operator's own factor: the notice goes to it, pointing at its security page.
    let op_app = s.enrol_totp("/v1/admin/me/mfa", &op);
    let sent = notices(&s, "op@operator.test", "notice_factor_changed", "/admin/security", &[&op_app.secret, &op]);
    assert_eq!(sent.len(), 1);
}

#[test]
fn a_new_api_key_is_told_to_its_creator_without_the_key() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert!(s.outbox_to(&a.email, "notice_api_key_created").is_empty(), "the sign-up's first key is not told");
    let res = s.post("/v1/keys", Some(&a.token), json!({ "name": "ci deploy" }));
    assert_eq!(res.status, 201, "{}", res.text);
    let key = res.str("/key");
    let sent = notices(&s, &a.email, "notice_api_key_created", "/app/sessions", &[&key, &a.token]);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].holds("ci deploy") && sent[0].holds(&key[..12]), "{}", sent[0].body_text);
    assert_eq!(subject_of(&s, "notice_api_key_created"), "A new API key was created with your Keystead account");
    assert_error(&s.post("/v1/keys", Some(&a.token), json!({ "name": " " })), 400, "invalid_request");
    assert_eq!(s.outbox_to(&a.email, "notice_api_key_created").len(), 1);
}

/// A change that fails after its notice was queued leaves no notice: the notice is in the
/// change's transaction. The login's audit row is made to fail after the session (and
/// its new-device notice) was written.
#[test]
fn a_failed_transaction_queues_nothing() {
    let s = TestServer::spawn();
    let a: Signed = s.signup("ann@example.test");
    let rw = Connection::open(s.db_path()).expect("open rw");
    rw.execute_batch(
        "CREATE TRIGGER fail_login BEFORE INSERT ON audit_log WHEN NEW.action = 'auth.login'
         BEGIN SELECT RAISE(ABORT, 'the test fails this login'); END;",
    )
    .expect("trigger");
    let res = login_as(&s, &a.email, FIREFOX, &[]);
    assert_eq!(res.status, 500, "{}", res.text);
    assert!(s.outbox_to(&a.email, "notice_new_device").is_empty());
    assert_eq!(known_devices(&s, &a.user_id), 1, "the device record rolled back too");
    rw.execute_batch("DROP TRIGGER fail_login").expect("drop");
    assert_eq!(login_as(&s, &a.email, FIREFOX, &[]).status, 200);
    assert_eq!(s.outbox_to(&a.email, "notice_new_device").len(), 1);
}
