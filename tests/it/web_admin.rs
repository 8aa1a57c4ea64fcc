//! The operator pages over HTTP, common to all of them: an operator sees each one, nobody
//! else does (no session, or only a portal session: the realms stay apart), and a form
//! without the right CSRF token changes nothing. Helpers for `web_admin_*`.
use crate::support::web::{Browser, Page};
use crate::support::{PASSWORD, TestServer};

/// A browser signed in as a new operator `email`.
pub fn operator<'a>(s: &'a TestServer, email: &str) -> Browser<'a> {
    s.admin(email);
    let b = Browser::new(s);
    b.post("/admin/login", &[("email", email), ("password", PASSWORD)]).assert_redirect("/admin");
    b
}

/// How many audit events the database holds.
pub fn audit_rows(s: &TestServer) -> i64 {
    s.db().query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0)).expect("count")
}

/// The page shows an error above its form (and the form came back, not the error page).
#[track_caller]
pub fn assert_form_error(page: &Page, status: u16, message: &str) {
    page.assert_page(status);
    assert!(page.has("class=\"error\"") && page.has(message), "{message:?} in {}", page.text);
}

/// Every operator page (GET) of a server holding one tenant `t` and its owner `u`.
fn pages(t: &str, u: &str) -> Vec<String> {
    let mut all: Vec<String> = [
        "/admin",
        "/admin/tenants",
        "/admin/tenants/new",
        "/admin/users",
        "/admin/audit",
        "/admin/outbox",
        "/admin/admins",
        "/admin/clients",
    ]
    .map(str::to_owned)
    .into();
    all.extend([format!("/admin/tenants/{t}"), format!("/admin/users/{u}")]);
    all
}

#[test]
fn every_operator_page_renders_for_an_operator_and_only_for_one() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let op = operator(&s, "op@a.test");
    let anonymous = Browser::new(&s);
    let portal = Browser::new(&s);
    portal.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]).assert_redirect("/app");
    assert!(portal.cookie("ks_session").is_some() && portal.cookie("ks_admin").is_none());
    for path in pages(&owner.tenant_id, &owner.user_id) {
        let page = op.get(&path);
        page.assert_page(200);
        assert!(page.has("href=\"/admin/tenants\"") && page.has("op@a.test"), "{path} has the operator header");
        assert!(!page.has("<script") && !page.has("style="), "{path} has inline script or style");
        anonymous.get(&path).assert_redirect("/admin/login");
        portal.get(&path).assert_redirect("/admin/login");
    }
    // The portal's cookie does not open the operator's forms either.
    let suspend = format!("/admin/tenants/{}/suspend", owner.tenant_id);
    portal.post(&suspend, &[("reason", "x")]).assert_redirect("/admin/login");
    anonymous.post(&suspend, &[("reason", "x")]).assert_redirect("/admin/login");
    assert_eq!(s.tenant_status(&s.admin("api@a.test"), &owner.tenant_id), "active");
}

#[test]
fn an_operator_form_without_the_csrf_token_is_403_and_changes_nothing() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let op = operator(&s, "op@a.test");
    let before = audit_rows(&s);
    let path = format!("/admin/tenants/{}/suspend", owner.tenant_id);
    op.post_raw(&path, &[("Origin", &s.base)], &[("reason", "no token")]).assert_page(403);
    op.post_raw(&path, &[("Origin", &s.base)], &[("reason", "wrong"), ("csrf", &"A".repeat(43))]).assert_page(403);
    let csrf = op.cookie("ks_csrf").expect("token");
    op.post_raw(&path, &[("Origin", "https://evil.test")], &[("reason", "x"), ("csrf", &csrf)]).assert_page(403);
    assert_eq!(audit_rows(&s), before);
    assert_eq!(s.tenant_status(&s.admin("api@a.test"), &owner.tenant_id), "active");
}
