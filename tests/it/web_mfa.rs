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

#[test]
fn the_security_page_enrols_shows_codes_once_and_a_policy_leads_there() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@example.test");
    s.enrol_totp("/v1/me/mfa", &owner.token);
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), serde_json::json!({ "require_mfa": true })).status, 200);
    s.join(&owner.token, "mia@example.test", "member");
    let b = Browser::new(&s);
    b.post("/login", &[("email", "mia@example.test"), ("password", PASSWORD)]).assert_redirect("/app");
    b.get("/app/keys").assert_redirect("/app/security");
    let page = b.get("/app/security");
    page.assert_page(200);
    assert!(page.has("A second factor is required here"), "{}", page.text);

    b.post("/app/security/totp", &[("password", "wrong password!")]).assert_page(401);
    let page = b.post("/app/security/totp", &[("password", PASSWORD)]);
    page.assert_page(200);
    assert!(page.has("<svg") && !page.has("<?xml"), "the QR inline: {}", page.text);
    let at = page.text.find("Key: <code>").expect("the key beside the QR") + "Key: <code>".len();
    let secret = &page.text[at..at + 32];
    let app = crate::support::mfa::Authenticator::new(secret);
    b.post("/app/security/totp/confirm", &[("code", "000000")]).assert_page(400);
    let page = b.post("/app/security/totp/confirm", &[("code", &app.code(&s))]);
    page.assert_page(200);
    assert_eq!(page.text.matches("<li><code>").count(), 10, "{}", page.text);
    let page = b.get("/app/security");
    assert!(page.has("Recovery codes left: 10") && !page.has("<li><code>") && !page.has(secret));
    b.get("/app/keys").assert_page(200);
    // The policy keeps the last factor.
    s.app.clock.advance(30);
    b.post("/app/security/totp/disable", &[("password", PASSWORD), ("code", &app.code(&s))]).assert_page(403);
}

#[test]
fn a_required_operator_factor_leads_the_operator_pages_to_admin_security() {
    let s = TestServer::with(|c| c.operator_mfa = keystead::types::MfaPolicy::Required);
    s.admin("op@operator.test");
    let b = Browser::new(&s);
    b.post("/admin/login", &[("email", "op@operator.test"), ("password", PASSWORD)]).assert_redirect("/admin");
    b.get("/admin").assert_redirect("/admin/security");
    b.get("/admin/tenants").assert_redirect("/admin/security");
    let page = b.post("/admin/security/totp", &[("password", PASSWORD)]);
    page.assert_page(200);
    assert!(page.has("action=\"/admin/security/totp/confirm\""), "{}", page.text);
    let at = page.text.find("Key: <code>").expect("key") + "Key: <code>".len();
    let app = crate::support::mfa::Authenticator::new(&page.text[at..at + 32]);
    let page = b.post("/admin/security/totp/confirm", &[("code", &app.code(&s))]);
    assert_eq!(page.text.matches("<li><code>").count(), 10);
    b.get("/admin/tenants").assert_page(200);
    b.post("/admin/logout", &[]).assert_redirect("/admin/login?done=signed-out");
}
