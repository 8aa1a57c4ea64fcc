//! The pages behind the links of our mail, end to end: the link is taken from the mail the
//! SMTP sink received, opened (a GET that changes nothing) and its form posted.
use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer, assert_error};

const NEW_PASSWORD: &str = "another quite long passphrase";
const INVALID: &str = "The link is invalid, used or expired.";

/// The path and query of a link from a mail, after checking it points at this server.
fn path_of(s: &TestServer, link: &str) -> String {
    link.strip_prefix(&s.base).unwrap_or_else(|| panic!("{link} is not under {}", s.base)).to_owned()
}

#[test]
fn an_invitation_link_activates_a_new_account_and_signs_it_in() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    assert_eq!(s.invite(&owner.token, "new@a.test", "member").status, 201);
    let link = path_of(&s, &sink.mail_to("new@a.test", "invited").link("/activate"));
    let token = link.split("token=").nth(1).expect("token").to_owned();

    let b = Browser::new(&s);
    let form = b.get(&link);
    form.assert_page(200);
    assert_eq!(form.field("token").as_deref(), Some(token.as_str()));
    let short = b.post("/activate", &[("token", &token), ("name", "Nina New"), ("password", "short")]);
    short.assert_page(400);
    assert!(short.has("too weak") && short.has("value=\"Nina New\"") && short.has(&token));
    let missing = b.post("/activate", &[("token", &token), ("name", "Nina New")]);
    missing.assert_page(400);
    assert!(missing.has("password is required"), "{}", missing.text);

    let done = b.post("/activate", &[("token", &token), ("name", "Nina New"), ("password", PASSWORD)]);
    done.assert_redirect("/app");
    assert!(done.set_cookie("ks_session").is_some());
    let app = b.get("/app");
    app.assert_page(200);
    assert!(app.has("Tenant of owner") && app.has("Nina New") && app.has("member"), "{}", app.text);

    let again = Browser::new(&s).post("/activate", &[("token", &token), ("password", PASSWORD)]);
    again.assert_page(400);
    assert!(again.has(INVALID));
}

/// Issue 10 item 1: the page asks an existing account for its own password, and the link
/// alone (an empty or wrong password) opens nothing.
#[test]
fn an_existing_account_accepts_an_invitation_only_with_its_password() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    s.signup("known@a.test");
    assert_eq!(s.invite(&owner.token, "known@a.test", "admin").status, 201);
    let link = path_of(&s, &sink.mail_to("known@a.test", "invited").link("/activate"));
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let b = Browser::new(&s);
    let form = b.get(&link);
    form.assert_page(200);
    assert!(form.has("autocomplete=\"current-password\"") && !form.has("new-password"), "{}", form.text);
    let empty = b.post("/activate", &[("token", &token), ("existing", "1"), ("password", "")]);
    empty.assert_page(400);
    assert!(empty.set_cookie("ks_session").is_none());
    let wrong = b.post("/activate", &[("token", &token), ("existing", "1"), ("password", NEW_PASSWORD)]);
    wrong.assert_page(401);
    assert!(wrong.set_cookie("ks_session").is_none() && wrong.has("current-password"), "{}", wrong.text);
    b.post("/activate", &[("token", &token), ("password", PASSWORD)]).assert_redirect("/app");
    let app = b.get("/app");
    assert!(app.has("Tenant of owner") && app.has("Tenant of known"), "{}", app.text);
}

#[test]
fn a_bad_invitation_link_shows_no_form() {
    let s = TestServer::spawn();
    let page = Browser::new(&s).get("/activate?token=nope");
    page.assert_page(400);
    assert!(page.has(INVALID) && !page.has("name=\"password\""), "{}", page.text);
}

/// Issue 10 item 1: without mail, an invited existing account accepts from `/app`.
#[test]
fn an_invited_existing_account_accepts_from_the_overview() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let known = s.signup("known@a.test");
    assert_eq!(s.invite(&owner.token, "known@a.test", "member").status, 201);
    let b = Browser::new(&s);
    b.post("/login", &[("email", "known@a.test"), ("password", PASSWORD)]).assert_redirect("/app");
    let app = b.get("/app");
    let action = format!("action=\"/app/invitations/{}/accept\"", owner.tenant_id);
    assert!(app.has(&action) && app.has("invited"), "{}", app.text);
    b.post(&format!("/app/invitations/{}/accept", owner.tenant_id), &[])
        .assert_redirect("/app?done=invitation-accepted");
    let app = b.get("/app?done=invitation-accepted");
    assert!(app.has("The invitation is accepted") && !app.has(&action), "{}", app.text);
    let switch = format!("name=\"tenant_id\" value=\"{}\"", owner.tenant_id);
    assert!(app.has(&switch), "a tenant to switch to now: {}", app.text);
    assert_eq!(s.get("/v1/me", Some(&known.token)).status, 200);
}

#[test]
fn forgot_and_reset_password_through_the_pages() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let b = Browser::new(&s);

    // The same answer whether or not the address has an account.
    let unknown = b.post("/forgot-password", &[("email", "nobody@a.test")]);
    let known = b.post("/forgot-password", &[("email", "owner@a.test")]);
    for (page, email) in [(&unknown, "nobody@a.test"), (&known, "owner@a.test")] {
        page.assert_page(200);
        assert_eq!(page.text.replace(email, "ADDRESS"), unknown.text.replace("nobody@a.test", "ADDRESS"));
    }
    // The page tells the link's lifetime as core sets it, in the mail's own words.
    let lifetime = keystead::mail::valid_for(keystead::types::TokenKind::Reset);
    assert!(known.has(&format!("for {lifetime}.")), "{}", known.text);
    let link = path_of(&s, &sink.mail_to("owner@a.test", "Reset").link("/reset-password"));
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let form = b.get(&link);
    form.assert_page(200);
    assert_eq!(form.field("token").as_deref(), Some(token.as_str()));

    b.post("/reset-password", &[("token", &token), ("password", "short")]).assert_page(400);
    b.post("/reset-password", &[("token", &token), ("password", NEW_PASSWORD)])
        .assert_redirect("/login?done=password-reset");
    assert!(b.get("/login?done=password-reset").has("Your new password is set."));
    assert_error(&s.get("/v1/me", Some(&owner.token)), 401, "unauthorized");
    b.post("/login", &[("email", "owner@a.test"), ("password", NEW_PASSWORD)]).assert_redirect("/app");
    let used = b.post("/reset-password", &[("token", &token), ("password", NEW_PASSWORD)]);
    used.assert_page(400);
    assert!(used.has(INVALID));
}

#[test]
fn opening_a_verification_link_changes_nothing_until_its_button_is_pressed() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    let verified = || s.get("/v1/me", Some(&owner.token)).body["user"]["email_verified"].clone();
    let link = path_of(&s, &sink.mail_to("owner@a.test", "Confirm your email").link("/verify-email"));
    let b = Browser::new(&s);
    let page = b.get(&link);
    page.assert_page(200);
    assert!(page.has("action=\"/verify-email\""));
    assert_eq!(verified(), json!(false), "a GET (a mail scanner) verifies nothing");

    let token = page.field("token").expect("the token in the form");
    let done = b.post("/verify-email", &[("token", &token)]);
    done.assert_page(200);
    assert!(done.has("Your email address is verified."));
    assert_eq!(verified(), json!(true));
    let again = b.post("/verify-email", &[("token", &token)]);
    again.assert_page(400);
    assert!(again.has(INVALID));
}

#[test]
fn confirming_a_new_address_through_the_pages_signs_everyone_out() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    s.signup("owner@a.test");
    let b = Browser::new(&s);
    b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]);
    let session = b.cookie("ks_session").expect("signed in");
    let res = s.post("/v1/me/email", Some(&session), json!({ "new_email": "new@a.test", "password": PASSWORD }));
    assert_eq!(res.status, 202, "{}", res.text);
    let link = path_of(&s, &sink.mail_to("new@a.test", "new").link("/confirm-email"));
    let token = link.split("token=").nth(1).expect("token").to_owned();
    b.get(&link).assert_page(200);
    assert_eq!(s.get("/v1/me", Some(&session)).status, 200, "opening the link changes nothing");

    let done = b.post("/confirm-email", &[("token", &token)]);
    done.assert_page(200);
    assert!(done.has("Your email address is changed."));
    assert!(done.set_cookie("ks_session").is_some_and(|c| c.contains("Max-Age=0")));
    assert_error(&s.get("/v1/me", Some(&session)), 401, "unauthorized");
    assert_eq!(s.login("new@a.test", PASSWORD).status, 200);
}

#[test]
fn every_bad_link_shows_the_same_message() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    for path in ["/reset-password", "/activate", "/verify-email", "/confirm-email", "/activate?token="] {
        let page = b.get(path);
        page.assert_page(400);
        assert!(page.has(INVALID) && !page.has("name=\"token\""), "{path}: {}", page.text);
    }
    let bad = [
        ("/reset-password", vec![("token", "nope"), ("password", NEW_PASSWORD)]),
        ("/activate", vec![("token", "nope"), ("password", NEW_PASSWORD)]),
        ("/verify-email", vec![("token", "nope")]),
        ("/confirm-email", vec![("token", "nope")]),
    ];
    for (path, fields) in bad {
        let page = b.post(path, &fields);
        page.assert_page(400);
        assert!(page.has(INVALID), "{path}: {}", page.text);
    }
}
