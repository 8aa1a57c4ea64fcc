//! The web UI in a real headless Chromium (Debian's chromium and chromium-driver, driven
//! over WebDriver): what a person does, with the stylesheet and CSP a browser enforces.
// A failed expectation in a test is a failed test: the no-unwrap rule is for the product.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod a11y;
mod admin;
mod mfa;
mod oidc;
#[path = "../it/support/mod.rs"]
mod support;
mod webdriver;

use support::smtp::SmtpSink;
use support::{PASSWORD, TestServer};
use webdriver::Chrome;

fn sign_in(chrome: &Chrome, s: &TestServer, email: &str) {
    chrome.goto(&format!("{}/login", s.base));
    chrome.type_into("input[name=email]", email);
    chrome.type_into("input[name=password]", PASSWORD);
    chrome.click("main form button[type=submit]");
    chrome.wait_for_url("/app");
}

#[test]
fn sign_up_log_out_and_log_in_again() {
    let s = TestServer::spawn();
    let chrome = Chrome::start();
    chrome.goto(&format!("{}/signup", s.base));
    chrome.type_into("input[name=tenant_name]", "Browser Co");
    chrome.type_into("input[name=name]", "Bea Browser");
    chrome.type_into("input[name=email]", "bea@a.test");
    chrome.type_into("input[name=password]", PASSWORD);
    chrome.click("main form button[type=submit]");
    assert!(chrome.text("#api-key").starts_with("ksk_"), "the first key is shown");
    chrome.click("a.button[href='/app']");
    chrome.wait_for_url("/app");
    assert_eq!(chrome.text("#current-tenant"), "Browser Co");

    // The stylesheet loads under the CSP: the header has app.css's colour.
    let background = chrome.script("return getComputedStyle(document.querySelector('header.bar')).backgroundColor");
    assert_eq!(background, "rgb(31, 78, 121)");

    chrome.click("header form[action='/logout'] button");
    chrome.wait_for_url("/login?done=signed-out");
    assert_eq!(chrome.text(".notice"), "You are signed out.");
    chrome.goto(&format!("{}/app", s.base));
    chrome.wait_for_url("/login");

    sign_in(&chrome, &s, "bea@a.test");
    assert_eq!(chrome.text("#current-tenant"), "Browser Co");

    chrome.assert_quiet_console();
}

#[test]
fn an_invitation_link_opened_in_the_browser_sets_a_password_and_lands_in_the_portal() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let owner = s.signup("owner@a.test");
    assert_eq!(s.invite(&owner.token, "ivy@a.test", "member").status, 201);
    let link = sink.mail_to("ivy@a.test", "invited").link("/activate");

    let chrome = Chrome::start();
    chrome.goto(&link);
    chrome.type_into("input[name=name]", "Ivy Invited");
    chrome.type_into("input[name=password]", PASSWORD);
    chrome.click("main form button[type=submit]");
    chrome.wait_for_url("/app");
    assert_eq!(chrome.text("#current-tenant"), "Tenant of owner");
    assert!(chrome.text("header").contains("ivy@a.test"));

    // The new password works on its own.
    chrome.click("header form[action='/logout'] button");
    chrome.wait_for_url("/login?done=signed-out");
    sign_in(&chrome, &s, "ivy@a.test");
}

#[test]
fn portal_pages_create_a_key_once_and_keep_the_provider_key_hidden() {
    let s = TestServer::spawn();
    s.signup("pat@a.test");
    let chrome = Chrome::start();
    sign_in(&chrome, &s, "pat@a.test");
    chrome.click("header a[href='/app/keys']");
    chrome.wait_for_url("/app/keys");
    chrome.type_into("input[name=name]", "From the browser");
    chrome.type_into("input[name=scopes]", "read:users");
    chrome.click("form[action='/app/keys'] button[type=submit]");
    let key = chrome.text("#new-key");
    assert!(key.starts_with("ksk_"), "the new key is shown: {key}");
    chrome.goto(&format!("{}/app/keys", s.base));
    assert!(!chrome.text("main").contains(&key), "and only once");

    chrome.goto(&format!("{}/app/settings", s.base));
    chrome.type_into("input[name=provider_key]", "sk-browser-secret-4321");
    chrome.click("form[action='/app/settings/provider-key'] button[type=submit]");
    chrome.wait_for_url("/app/settings?done=provider-key");
    assert!(chrome.text("#provider-key").contains("4321"));
    assert!(!chrome.text("main").contains("sk-browser-secret"));

    for page in ["/app/team", "/app/sessions", "/app/audit"] {
        chrome.goto(&format!("{}{page}", s.base));
        chrome.wait_for_url(page);
    }
    chrome.assert_quiet_console();
}
