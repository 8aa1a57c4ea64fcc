//! The operator pages in the browser: sign in, create a tenant (its owner's link shown once
//! without SMTP), suspend it with a reason, and find the change in the audit log.
use crate::support::{PASSWORD, TestServer};
use crate::webdriver::Chrome;

#[test]
fn an_operator_creates_and_suspends_a_tenant_and_finds_it_in_the_audit_log() {
    let s = TestServer::spawn();
    s.admin("op@a.test");
    let chrome = Chrome::start();
    chrome.goto(&format!("{}/admin/login", s.base));
    chrome.type_into("input[name=email]", "op@a.test");
    chrome.type_into("input[name=password]", PASSWORD);
    chrome.click("main form button[type=submit]");
    chrome.wait_for_url("/admin");

    chrome.click("header a[href='/admin/tenants']");
    chrome.wait_for_url("/admin/tenants");
    chrome.click("a.button[href='/admin/tenants/new']");
    chrome.wait_for_url("/admin/tenants/new");
    chrome.type_into("input[name=name]", "Browser Tenant");
    chrome.type_into("input[name=owner_email]", "boss@a.test");
    chrome.click("main form button[type=submit]");
    assert!(chrome.text("#activation-url").contains("/activate?token="), "the owner's link is shown");
    chrome.click("a.button");

    chrome.type_into("form[action$='/suspend'] textarea[name=reason]", "browser test");
    chrome.click("form[action$='/suspend'] button");
    chrome.wait_for_url("?done=suspended");
    assert_eq!(chrome.text("#tenant-status"), "suspended");
    assert!(chrome.text(".notice").contains("suspended"));

    chrome.click("header a[href='/admin/audit']");
    chrome.wait_for_url("/admin/audit");
    let log = chrome.text("main table");
    assert!(log.contains("tenant.suspended") && log.contains("browser test"), "{log}");

    chrome.assert_quiet_console();
}
