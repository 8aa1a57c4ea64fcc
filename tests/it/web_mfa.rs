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

/// The WebAuthn options a page put on its passkey button, as the browser reads them.
fn passkey_options(page: &crate::support::web::Page) -> serde_json::Value {
    let at = page.text.find("data-options=\"").expect("a passkey button") + "data-options=\"".len();
    let attribute = &page.text[at..at + page.text[at..].find('"').expect("the attribute ends")];
    // askama escapes with numeric references.
    let json = attribute
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&");
    serde_json::from_str(&json).expect("the options are JSON")
}

#[test]
fn an_operator_adds_a_passkey_on_the_security_page_and_signs_in_with_it() {
    use crate::support::passkey::SoftPasskey;
    let s = TestServer::spawn();
    s.admin("op@operator.test");
    let b = Browser::new(&s);
    b.post("/admin/login", &[("email", "op@operator.test"), ("password", PASSWORD)]).assert_redirect("/admin");

    b.post("/admin/security/passkeys", &[("name", "Ops key"), ("password", "wrong password!")]).assert_page(401);
    let page = b.post("/admin/security/passkeys", &[("name", ""), ("password", PASSWORD)]);
    page.assert_page(400);
    let page = b.post("/admin/security/passkeys", &[("name", "Ops key"), ("password", PASSWORD)]);
    page.assert_page(200);
    assert!(page.has("data-passkey=\"create\"") && page.has("/assets/passkeys.js"), "{}", page.text);
    let ceremony = page.field("ceremony_id").expect("the ceremony rides in the form");
    let mut key = SoftPasskey::es256(&s.base);
    let answer = key.register(&passkey_options(&page)).to_string();
    let post = |credential: &str| {
        b.post(
            "/admin/security/passkeys/finish",
            &[("ceremony_id", &ceremony), ("name", "Ops key"), ("credential", credential)],
        )
    };
    let page = post(&answer);
    page.assert_page(200);
    assert!(page.has("class=\"codes\"") && page.has("Ops key"), "{}", page.text);
    post(&answer).assert_page(400); // the ceremony is spent
    post("not json").assert_page(400);

    let b = Browser::new(&s);
    let page = b.post("/admin/login", &[("email", "op@operator.test"), ("password", PASSWORD)]);
    page.assert_page(200);
    assert!(page.has("Use a passkey") && page.has("data-passkey=\"get\""), "{}", page.text);
    let token = page.field("mfa_token").expect("token");
    let options = passkey_options(&page);
    let wrong = b.post("/admin/login/mfa", &[("mfa_token", &token), ("credential", "{\"type\": \"public-key\"}")]);
    wrong.assert_page(400);
    assert!(wrong.has("data-passkey=\"get\""), "the button again, for the same challenge: {}", wrong.text);
    let assertion = key.sign_in(&options).to_string();
    b.post("/admin/login/mfa", &[("mfa_token", &token), ("credential", &assertion)]).assert_redirect("/admin");
    b.get("/admin/security").assert_page(200);
}
