//! The second step of signing in on the pages: `/login/mfa` and `/admin/login/mfa`.
use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer};

#[test]
fn the_portal_login_page_asks_for_a_code_after_the_password() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp("/v1/me/mfa", &a.token);
    let b = Browser::new(&s);
    b.get("/login/mfa").assert_redirect("/login");
    let page = b.post("/login", &[("email", &a.email), ("password", PASSWORD)]);
    page.assert_page(200);
    assert!(page.has("action=\"/login/mfa\"") && page.has("Use a recovery code"), "{}", page.text);
    assert!(b.cookie("ks_session").is_none(), "no session before the code");
    let token = page.field("mfa_token").expect("the token rides in the form");

    let wrong = b.post("/login/mfa", &[("mfa_token", &token), ("code", "000000")]);
    wrong.assert_page(400);
    assert!(wrong.has("wrong or was already used") && wrong.field("mfa_token").as_deref() == Some(token.as_str()));
    b.post("/login/mfa", &[("mfa_token", &token), ("code", &app.code(&s))]).assert_redirect("/app");
    b.get("/app").assert_page(200);
    // A spent token sends the browser back to sign in.
    Browser::new(&s)
        .post("/login/mfa", &[("mfa_token", &token), ("code", &app.recovery_codes[0])])
        .assert_redirect("/login");
}

#[test]
fn the_operator_login_page_asks_for_a_code_after_the_password() {
    let s = TestServer::spawn();
    let op = s.admin("op@operator.test");
    let app = s.enrol_totp("/v1/admin/me/mfa", &op);
    let b = Browser::new(&s);
    let page = b.post("/admin/login", &[("email", "op@operator.test"), ("password", PASSWORD)]);
    page.assert_page(200);
    let token = page.field("mfa_token").expect("token");
    b.post("/admin/login/mfa", &[("mfa_token", &token), ("code", &app.recovery_codes[0])]).assert_redirect("/admin");
    b.get("/admin").assert_page(200);
}
