//! `/admin/tenants*`: the list (search, status filter, keyset pages), a tenant's page and
//! its forms (change, suspend / delete / restore / revoke sessions with a required reason),
//! and creating a tenant with its owner's invitation.
use crate::support::TestServer;
use crate::support::operator::items;
use crate::web_admin::{assert_form_error, audit_rows, operator};

#[test]
fn the_list_searches_filters_and_pages() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let signup = |email: &str| {
        s.app.clock.advance(1);
        s.signup(email)
    };
    let (a, b, c) = (signup("ann@a.test"), signup("bob@a.test"), signup("cy@a.test"));
    let op = operator(&s, "op@a.test");

    let all = op.get("/admin/tenants");
    all.assert_page(200);
    for t in [&a, &b, &c] {
        assert!(all.has(&format!("href=\"/admin/tenants/{}\"", t.tenant_id)), "{}", all.text);
    }
    assert!(!all.has("rel=\"next\""));

    let found = op.get("/admin/tenants?q=OF+BOB");
    assert!(found.has(&b.tenant_id) && !found.has(&a.tenant_id) && !found.has(&c.tenant_id), "{}", found.text);
    assert!(found.has("value=\"OF BOB\""), "the search stays in its field");
    // FTS5 syntax in a search is text: a page of no matches, not an error.
    let syntax = op.get("/admin/tenants?q=%22of%22+OR+NEAR%28bob*%29");
    syntax.assert_page(200);
    assert!(!syntax.has(&b.tenant_id), "{}", syntax.text);

    let res =
        s.post(&format!("/v1/admin/tenants/{}/suspend", c.tenant_id), Some(&api), serde_json::json!({"reason": "x"}));
    assert_eq!(res.status, 200);
    let suspended = op.get("/admin/tenants?status=suspended");
    assert!(suspended.has(&c.tenant_id) && !suspended.has(&a.tenant_id) && !suspended.has(&b.tenant_id));
    assert!(suspended.has("<option value=\"suspended\" selected>"), "{}", suspended.text);

    // Keyset pages: newest first, the next link keeps the filter and the page size and
    // carries the cursor.
    let first = op.get("/admin/tenants?limit=2&q=tenant");
    assert!(first.has(&c.tenant_id) && first.has(&b.tenant_id) && !first.has(&a.tenant_id), "{}", first.text);
    let next = first.next_link().expect("a next link");
    assert!(next.starts_with("/admin/tenants?q=tenant&limit=2&cursor="), "{next}");
    let rest = op.get(&next);
    rest.assert_page(200);
    assert!(rest.has(&a.tenant_id) && !rest.has(&b.tenant_id) && !rest.has("rel=\"next\""), "{}", rest.text);

    // Bad input is a 400 page, never a 500.
    for bad in ["?status=bogus", "?cursor=!!", "?limit=0", "?limit=x", &format!("?q={}", "x".repeat(201))] {
        let page = op.get(&format!("/admin/tenants{bad}"));
        page.assert_page(400);
    }
}

#[test]
fn the_lifecycle_forms_need_a_reason_and_follow_the_allowed_transitions() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let t = s.signup("ann@a.test");
    let op = operator(&s, "op@a.test");
    let path = format!("/admin/tenants/{}", t.tenant_id);

    let page = op.get(&path);
    page.assert_page(200);
    assert!(page.has("Tenant of ann") && page.has("ann@a.test") && page.has("/suspend\""), "{}", page.text);
    assert!(!page.has("/restore\""), "an active tenant offers no restore");

    // No reason, or a blank one: the page again with 400, nothing changed, nothing audited.
    let before = audit_rows(&s);
    for fields in [vec![], vec![("reason", "   ")]] {
        assert_form_error(&op.post(&format!("{path}/suspend"), &fields), 400, "A reason is required.");
    }
    assert_form_error(&op.post(&format!("{path}/revoke-sessions"), &[("reason", "")]), 400, "A reason is required.");
    assert_eq!((s.tenant_status(&api, &t.tenant_id), audit_rows(&s)), ("active".to_owned(), before));

    // Restoring an active tenant is not a transition: 409, nothing changed.
    let page = op.post(&format!("{path}/restore"), &[("reason", "oops")]);
    page.assert_page(409);
    assert!(page.has("class=\"error\""), "{}", page.text);
    assert_eq!((s.tenant_status(&api, &t.tenant_id), audit_rows(&s)), ("active".to_owned(), before));

    op.post(&format!("{path}/suspend"), &[("reason", "unpaid invoice")])
        .assert_redirect(&format!("{path}?done=suspended"));
    assert_eq!(s.tenant_status(&api, &t.tenant_id), "suspended");
    let event = s.last_event(&api, "tenant.suspended");
    assert_eq!(
        (event["reason"].as_str(), event["target_id"].as_str()),
        (Some("unpaid invoice"), Some(t.tenant_id.as_str()))
    );
    assert_eq!(s.get("/v1/me", Some(&t.token)).status, 401, "its sessions are revoked");
    let page = op.get(&format!("{path}?done=suspended"));
    assert!(page.has("The tenant is suspended") && page.has("/restore\"") && !page.has("/suspend\""), "{}", page.text);

    op.post(&format!("{path}/delete"), &[("reason", "closed")]).assert_redirect(&format!("{path}?done=deleted"));
    assert_eq!(s.tenant_status(&api, &t.tenant_id), "deleted");
    assert_eq!(s.last_event(&api, "tenant.deleted")["reason"], "closed");
    op.post(&format!("{path}/restore"), &[("reason", "reopened")]).assert_redirect(&format!("{path}?done=restored"));
    assert_eq!(s.tenant_status(&api, &t.tenant_id), "active");
    assert_eq!(s.last_event(&api, "tenant.restored")["reason"], "reopened");

    let session = s.login_to("ann@a.test", &t.tenant_id);
    op.post(&format!("{path}/revoke-sessions"), &[("reason", "leaked")])
        .assert_redirect(&format!("{path}?done=sessions-revoked"));
    assert_eq!(s.get("/v1/me", Some(&session)).status, 401);
    assert_eq!(s.last_event(&api, "tenant.sessions_revoked")["reason"], "leaked");
}

#[test]
fn unknown_or_malformed_tenant_ids_are_a_404_page() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    let before = audit_rows(&s);
    for id in ["00000000-0000-4000-8000-000000000000", "not-an-id"] {
        op.get(&format!("/admin/tenants/{id}")).assert_page(404);
        for action in ["suspend", "delete", "restore", "revoke-sessions"] {
            op.post(&format!("/admin/tenants/{id}/{action}"), &[("reason", "x")]).assert_page(404);
        }
        op.post(&format!("/admin/tenants/{id}"), &[("name", "x"), ("plan", "x")]).assert_page(404);
    }
    assert_eq!(audit_rows(&s), before);
}

#[test]
fn the_change_form_renames_and_sets_plan_and_seats() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let t = s.signup("ann@a.test");
    let op = operator(&s, "op@a.test");
    let path = format!("/admin/tenants/{}", t.tenant_id);

    op.post(&path, &[("name", "Acme"), ("plan", "pro"), ("max_seats", "5")])
        .assert_redirect(&format!("{path}?done=updated"));
    let res = s.get(&path.replace("/admin/", "/v1/admin/"), Some(&api));
    assert_eq!((res.str("/tenant/name"), res.str("/tenant/plan")), ("Acme".to_owned(), "pro".to_owned()));
    assert_eq!(res.body["tenant"]["max_seats"], 5);
    assert_eq!(s.last_event(&api, "tenant.updated")["after"]["max_seats"], 5);

    op.post(&path, &[("name", "Acme"), ("plan", "pro"), ("max_seats", "")])
        .assert_redirect(&format!("{path}?done=updated"));
    assert!(s.get(&path.replace("/admin/", "/v1/admin/"), Some(&api)).body["tenant"]["max_seats"].is_null());

    let before = audit_rows(&s);
    for bad in [
        [("name", "Acme"), ("plan", "pro"), ("max_seats", "lots")],
        [("name", " "), ("plan", "pro"), ("max_seats", "")],
        [("name", "Acme"), ("plan", "pro"), ("max_seats", "0")],
    ] {
        let page = op.post(&path, &bad);
        page.assert_page(400);
        assert!(page.has("class=\"error\""), "{}", page.text);
    }
    assert_eq!(audit_rows(&s), before);
}

#[test]
fn a_new_tenant_invites_its_owner_and_shows_the_link_once_without_smtp() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let op = operator(&s, "op@a.test");
    op.get("/admin/tenants/new").assert_page(200);

    let fields = [
        ("name", "Globex"),
        ("slug", "globex"),
        ("owner_email", "Boss@Globex.test"),
        ("owner_name", "Boss"),
        ("plan", ""),
        ("max_seats", "3"),
    ];
    let page = op.post("/admin/tenants", &fields);
    page.assert_page(201);
    assert!(page.has("boss@globex.test") && page.has("id=\"activation-url\""), "{}", page.text);
    let listed = items(&s.get("/v1/admin/tenants?q=globex", Some(&api)));
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0]["slug"].as_str(), listed[0]["max_seats"].as_i64()), (Some("globex"), Some(3)));
    assert!(page.has(&format!("/admin/tenants/{}", listed[0]["id"].as_str().unwrap())));
    assert_eq!(s.last_event(&api, "tenant.created")["target_id"], listed[0]["id"]);
    // The link activates the owner.
    let start = page.text.find("id=\"activation-url\">").unwrap() + 20;
    let url = &page.text[start..start + page.text[start..].find('<').unwrap()];
    let token = crate::support::token_of(&url.replace("&#x3d;", "="));
    let res =
        s.post("/v1/auth/activate", None, serde_json::json!({ "token": token, "password": crate::support::PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);

    // Bad input comes back in the form, with what was typed; a taken slug is 409.
    let before = audit_rows(&s);
    let page = op.post("/admin/tenants", &[("name", "Initech"), ("owner_email", "not an address")]);
    assert_form_error(&page, 400, "owner_email");
    assert!(page.has("value=\"Initech\""), "{}", page.text);
    let page = op.post("/admin/tenants", &[("name", "Other"), ("slug", "globex"), ("owner_email", "x@y.test")]);
    page.assert_page(409);
    assert_eq!(page.field("name").as_deref(), Some("Other"));
    op.post("/admin/tenants", &[("name", "X"), ("owner_email", "x@y.test"), ("max_seats", "many")]).assert_page(400);
    assert_eq!(audit_rows(&s), before);
}
