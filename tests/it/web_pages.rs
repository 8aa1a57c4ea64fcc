//! The web UI's pages over HTTP: each renders with the CSP, unknown pages are an HTML 404
//! (the API keeps its JSON), assets are cached by ETag, and each realm's cookie opens only
//! its own pages.
use keystead::http::router::PAGES;

use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer, assert_error};

#[test]
fn every_page_renders_with_the_content_security_policy() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    let anonymous = [
        "/login",
        "/signup",
        "/forgot-password",
        "/reset-password?token=abc",
        "/activate?token=abc",
        "/verify-email?token=abc",
        "/confirm-email?token=abc",
        "/admin/login",
    ];
    for path in anonymous {
        let page = b.get(path);
        // The invitation page asks core whom the link is for: a bad one shows its error at once.
        page.assert_page(if path.starts_with("/activate") { 400 } else { 200 });
        assert!(page.has("/assets/app.css?v="), "{path} links the stylesheet: {}", page.text);
        assert!(!page.has("<script") && !page.has("style="), "{path} has inline script or style");
    }
    // Every form carries the browser's token, which its first page set as a cookie.
    let page = Browser::new(&s).get("/login");
    let cookie = page.set_cookie("ks_csrf").expect("the first page sets the CSRF cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let token = cookie.split(';').next().and_then(|p| p.strip_prefix("ks_csrf=")).expect("a value");
    assert_eq!(page.field("csrf").as_deref(), Some(token));
    assert!(b.get("/signup").set_cookie("ks_csrf").is_none(), "an existing token is kept");
    s.signup("owner@a.test");
    b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]).assert_redirect("/app");
    let app = b.get("/app");
    app.assert_page(200);
    assert!(app.has("Tenant of owner") && app.has("owner@a.test") && app.has("action=\"/logout\""));
    s.admin("op@a.test");
    b.post("/admin/login", &[("email", "op@a.test"), ("password", PASSWORD)]).assert_redirect("/admin");
    let admin = b.get("/admin");
    admin.assert_page(200);
    assert!(admin.has("op@a.test") && admin.has("href=\"/admin/tenants\"") && admin.has("action=\"/admin/logout\""));
}

#[test]
fn the_start_page_sends_the_browser_where_it_belongs() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    b.get("/").assert_redirect("/login");
    b.get("/app").assert_redirect("/login");
    b.get("/admin").assert_redirect("/admin/login");
    s.signup("owner@a.test");
    b.post("/login", &[("email", "owner@a.test"), ("password", PASSWORD)]);
    b.get("/").assert_redirect("/app");
}

#[test]
fn unknown_pages_are_an_html_404_and_unknown_api_paths_stay_json() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    for path in ["/nope", "/app/nope", "/V1/KEYS", "/v2/keys", "/assets/nope.css", "/assets/"] {
        let page = b.get(path);
        page.assert_page(404);
        assert!(page.has("Not found"), "{path}: {}", page.text);
    }
    assert_error(&s.get("/v1/nope", None), 404, "not_found");
    assert_error(&s.get("/.well-known/nope", None), 404, "not_found");
    let page = b.send("DELETE", "/login", &[], None);
    page.assert_page(405);
    assert_eq!(page.header("allow"), Some("GET, HEAD, POST"));
}

#[test]
fn assets_are_served_with_a_strong_etag_and_long_caching() {
    let s = TestServer::spawn();
    let b = Browser::new(&s);
    let css = b.get("/assets/app.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = css.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/") && etag.len() == 66, "{etag}");
    assert!(css.has("font-family"));
    // The page's link is versioned by the same digest.
    assert!(b.get("/login").has(&format!("/assets/app.css?v={}", &etag[1..17])));

    let again = b.send("GET", "/assets/app.css?v=whatever", &[("If-None-Match", &etag)], None);
    assert_eq!((again.status, again.text.as_str()), (304, ""));
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let other = b.send("GET", "/assets/app.css", &[("If-None-Match", "\"other\"")], None);
    assert_eq!(other.status, 200);
    assert_eq!(b.get("/assets/icon.svg").header("content-type"), Some("image/svg+xml"));
}

#[test]
fn a_realm_cookie_opens_only_its_own_pages() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@a.test");
    let operator = s.admin("op@a.test");

    let portal = Browser::new(&s);
    portal.set_cookie("ks_session", &owner.token);
    portal.get("/app").assert_page(200);
    portal.get("/admin").assert_redirect("/admin/login");

    let admin = Browser::new(&s);
    admin.set_cookie("ks_admin", &operator);
    admin.get("/admin").assert_page(200);
    admin.get("/app").assert_redirect("/login");

    // Each realm's token under the other's cookie name opens nothing either.
    let swapped = Browser::new(&s);
    swapped.set_cookie("ks_session", &operator);
    swapped.set_cookie("ks_admin", &owner.token);
    swapped.get("/app").assert_redirect("/login");
    swapped.get("/admin").assert_redirect("/admin/login");
    // The API takes bearer tokens only, never the cookie.
    let res = s.send("GET", "/v1/me", None, &[("Cookie", &format!("ks_session={}", owner.token))], None);
    assert_error(&res, 401, "unauthorized");
}

#[test]
fn no_page_answers_junk_with_a_500() {
    let s = TestServer::spawn();
    s.signup("owner@junk.test");
    let owner = Browser::new(&s);
    owner.post("/login", &[("email", "owner@junk.test"), ("password", PASSWORD)]).assert_redirect("/app");
    s.admin("op@junk.test");
    let operator = Browser::new(&s);
    operator.post("/admin/login", &[("email", "op@junk.test"), ("password", PASSWORD)]).assert_redirect("/admin");
    let visitors = [("anonymous", Browser::new(&s)), ("owner", owner), ("operator", operator)];
    let junk_form = [
        ("email", "not an email"),
        ("password", "x"),
        ("new_password", "\u{0}"),
        ("name", &"n".repeat(5000)),
        ("reason", " "),
        ("role", "king"),
        ("scopes", "\"]["),
        ("expires_at", "tomorrow"),
        ("token", "%%"),
        ("tenant_id", "zz"),
        ("max_seats", "-5"),
        ("plan", ""),
        ("provider_key", ""),
    ];
    let junk_query = "?limit=0&cursor=%25%25&status=weird&since=x&until=-1&tenant_id=1&q=%00&token=";
    // Signing out goes last, so that the signed-in visitors meet every other page signed in.
    let mut routes: Vec<_> = PAGES.iter().collect();
    routes.sort_by_key(|r| r.path.ends_with("/logout"));
    for (who, b) in &visitors {
        for route in &routes {
            for id in ["nope", "0b0d2a4e-1c1f-4f4e-9a9a-000000000001"] {
                let path = route.path.replace("{id}", id).replace("{*path}", "../Cargo.toml");
                let page = match route.method.as_str() {
                    "GET" => b.get(&format!("{path}{junk_query}")),
                    _ => b.post(&path, &junk_form),
                };
                assert!(page.status < 500, "{who}: {} {path}: {} {}", route.method.as_str(), page.status, page.text);
            }
        }
    }
}
