//! The second factor on the real pages in headless Chromium: set up an authenticator on
//! /app/security with a code computed by totp-rs from the key the page shows, see the
//! recovery codes once, sign in again in two steps with a fresh code and with a recovery
//! code, and a tenant's policy leading a member without a factor to enrolment.
use serde_json::{Value, json};

use crate::support::mfa::Authenticator;
use crate::support::{PASSWORD, TestServer};
use crate::webdriver::Chrome;

/// Types the password on /login and submits; the page that follows decides what is next.
fn password_step(chrome: &Chrome, s: &TestServer, email: &str) {
    chrome.goto(&format!("{}/login", s.base));
    chrome.type_into("input[name=email]", email);
    chrome.type_into("input[name=password]", PASSWORD);
    chrome.click("main form button[type=submit]");
}

/// The second step: the code into /login/mfa's form.
fn code_step(chrome: &Chrome, code: &str) {
    chrome.type_into("form[action='/login/mfa'] input[name=code]", code);
    chrome.click("form[action='/login/mfa'] button[type=submit]");
    chrome.wait_for_url("/app");
}

fn log_out(chrome: &Chrome) {
    chrome.click("header form[action='/logout'] button");
    chrome.wait_for_url("/login?done=signed-out");
}

/// Sets up the authenticator on the security page the browser is on; the app and the
/// recovery codes shown.
fn enrol(chrome: &Chrome, s: &TestServer) -> Authenticator {
    chrome.type_into("form[action='/app/security/totp'] input[name=password]", PASSWORD);
    chrome.click("form[action='/app/security/totp'] button[type=submit]");
    let key = chrome.text("main .qr + p code");
    // The QR is drawn by the server as inline SVG and sized by app.css.
    let size =
        chrome.script("const s = getComputedStyle(document.querySelector('.qr svg')); return [s.width, s.height]");
    assert_eq!(size, json!(["200px", "200px"]));
    let mut app = Authenticator::new(&key);
    chrome.type_into("form[action='/app/security/totp/confirm'] input[name=code]", &app.code(s));
    chrome.click("form[action='/app/security/totp/confirm'] button[type=submit]");
    chrome.find("ul.codes");
    let codes = chrome.script("return [...document.querySelectorAll('ul.codes li code')].map(c => c.textContent)");
    app.recovery_codes =
        codes.as_array().expect("a list").iter().filter_map(Value::as_str).map(str::to_owned).collect();
    assert_eq!(app.recovery_codes.len(), 10, "{codes}");
    let columns = chrome.script("return getComputedStyle(document.querySelector('ul.codes')).columnCount");
    assert_eq!(columns, json!("2"));
    // The next code must be of a later step than the one just used.
    s.app.clock.advance(30);
    app
}

#[test]
fn totp_is_set_up_on_the_security_page_and_signs_in_with_a_code_or_a_recovery_code() {
    let s = TestServer::spawn();
    s.signup("tia@a.test");
    let chrome = Chrome::start();
    password_step(&chrome, &s, "tia@a.test");
    chrome.wait_for_url("/app");
    chrome.goto(&format!("{}/app/security", s.base));
    let app = enrol(&chrome, &s);
    assert!(chrome.text("main").contains("Recovery codes left: 10"));
    chrome.goto(&format!("{}/app/security", s.base));
    let main = chrome.text("main");
    assert!(!main.contains(&app.recovery_codes[0]) && !main.contains(&app.secret), "shown once: {main}");

    log_out(&chrome);
    password_step(&chrome, &s, "tia@a.test");
    chrome.find("form[action='/login/mfa']");
    assert!(chrome.text("main").contains("Use a recovery code"));
    code_step(&chrome, &app.code(&s));
    assert_eq!(chrome.text("#current-tenant"), "Tenant of tia");

    log_out(&chrome);
    password_step(&chrome, &s, "tia@a.test");
    chrome.click("details.aside summary");
    assert!(chrome.text("details.aside").contains("Each code works once"));
    code_step(&chrome, &app.recovery_codes[0].to_uppercase());
    chrome.goto(&format!("{}/app/security", s.base));
    assert!(chrome.text("main").contains("Recovery codes left: 9"));

    chrome.assert_quiet_console();

    // The same recovery code does not work twice (the page answers 400, which the
    // console reports: it is looked at before).
    log_out(&chrome);
    password_step(&chrome, &s, "tia@a.test");
    chrome.type_into("form[action='/login/mfa'] input[name=code]", &app.recovery_codes[0]);
    chrome.click("form[action='/login/mfa'] button[type=submit]");
    assert!(chrome.text("p.error").contains("wrong or was already used"));
    assert!(chrome.url().ends_with("/login/mfa"), "no session: {}", chrome.url());
}

#[test]
fn a_tenant_policy_leads_a_member_without_a_factor_to_enrolment() {
    let s = TestServer::spawn();
    let owner = s.signup("own@a.test");
    s.enrol_totp("/v1/me/mfa", &owner.token);
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": true })).status, 200);
    s.join(&owner.token, "mo@a.test", "member");

    let chrome = Chrome::start();
    password_step(&chrome, &s, "mo@a.test");
    chrome.goto(&format!("{}/app/keys", s.base));
    chrome.wait_for_url("/app/security");
    assert!(chrome.text("main").contains("A second factor is required here"));
    enrol(&chrome, &s);
    chrome.goto(&format!("{}/app/keys", s.base));
    chrome.wait_for_url("/app/keys");
    chrome.assert_quiet_console();
}

#[test]
fn a_passkey_is_added_on_the_security_page_and_signs_in() {
    let s = TestServer::on_localhost();
    s.signup("pia@a.test");
    let chrome = Chrome::start();
    let authenticator = chrome.add_virtual_authenticator();
    password_step(&chrome, &s, "pia@a.test");
    chrome.wait_for_url("/app");
    chrome.goto(&format!("{}/app/security", s.base));
    chrome.type_into("form[action='/app/security/passkeys'] input[name=name]", "This laptop");
    chrome.type_into("form[action='/app/security/passkeys'] input[name=password]", PASSWORD);
    chrome.click("form[action='/app/security/passkeys'] button[type=submit]");
    // The script submits the answer once the authenticator gave it.
    chrome.click("button[data-passkey=create]");
    chrome.find("ul.codes");
    let codes = chrome.script("return document.querySelectorAll('ul.codes li code').length");
    assert_eq!(codes, json!(10), "the first factor brings the recovery codes");
    assert!(chrome.text("#passkeys").contains("This laptop"));
    let held = chrome.credentials(&authenticator);
    assert_eq!(held.len(), 1, "{held:?}");
    chrome.assert_quiet_console();

    log_out(&chrome);
    password_step(&chrome, &s, "pia@a.test");
    chrome.click("button[data-passkey=get]");
    chrome.wait_for_url("/app");
    assert_eq!(chrome.text("#current-tenant"), "Tenant of pia");
    let signed = chrome.credentials(&authenticator)[0]["signCount"].as_u64().expect("a counter");
    assert!(signed >= 1, "the authenticator counted its signature");
    chrome.goto(&format!("{}/app/security", s.base));
    assert!(!chrome.text("#passkeys tbody").contains("never"), "the use is recorded");

    chrome.type_into("#passkeys tbody form input[name=password]", PASSWORD);
    chrome.click("#passkeys tbody form button[type=submit]");
    chrome.wait_for_none("#passkeys tbody");
    assert!(!chrome.text("#passkeys").contains("This laptop"), "removed");
    chrome.assert_quiet_console();
}
