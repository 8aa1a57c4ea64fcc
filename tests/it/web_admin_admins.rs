//! `/admin/admins`: the operators, creating one, disabling one with a reason (never the
//! last active one).
use crate::support::operator::items;
use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer, assert_error};
use crate::web_admin::{assert_form_error, audit_rows, operator};

fn admin_status(s: &TestServer, api: &str, email: &str) -> String {
    let all = items(&s.get("/v1/admin/admins?limit=200", Some(api)));
    let found = all.iter().find(|a| a["email"] == email).expect("listed");
    found["status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn operators_create_operators_and_bad_input_comes_back_in_the_form() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let op = operator(&s, "op@a.test");

    let page = op.get("/admin/admins");
    page.assert_page(200);
    assert!(page.has("api@a.test") && page.has("op@a.test") && page.has("you</span>"), "{}", page.text);

    op.post("/admin/admins", &[("email", "New@A.test"), ("name", "Newbie"), ("password", PASSWORD)])
        .assert_redirect("/admin/admins?done=created");
    assert_eq!(admin_status(&s, &api, "new@a.test"), "active");
    assert_eq!(s.last_event(&api, "admin.created")["after"]["email"], "new@a.test");
    let page = op.get("/admin/admins?done=created");
    assert!(page.has("The operator is created.") && page.has("new@a.test"), "{}", page.text);
    let newbie = Browser::new(&s);
    newbie.post("/admin/login", &[("email", "new@a.test"), ("password", PASSWORD)]).assert_redirect("/admin");

    let before = audit_rows(&s);
    let page = op.post("/admin/admins", &[("email", "weak@a.test"), ("name", "W"), ("password", "password123")]);
    assert_form_error(&page, 400, "too weak");
    assert_eq!(page.field("email").as_deref(), Some("weak@a.test"));
    assert!(!page.has("password123"), "a password never comes back");
    assert_form_error(&op.post("/admin/admins", &[("email", "nope"), ("password", PASSWORD)]), 400, "email");
    assert_form_error(&op.post("/admin/admins", &[("email", "new@a.test"), ("password", PASSWORD)]), 409, "already");
    assert_eq!(audit_rows(&s), before);
}

#[test]
fn disabling_an_operator_needs_a_reason_and_never_leaves_none() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    let path = |id: &str| format!("/admin/admins/{id}/disable");

    // Alone, an operator cannot disable itself.
    let me = s.admin_id(&op.cookie("ks_admin").expect("signed in"), "op@a.test");
    let before = audit_rows(&s);
    assert_form_error(&op.post(&path(&me), &[("reason", "leaving")]), 409, "last active operator");
    assert_eq!(audit_rows(&s), before);

    let other = s.admin("other@a.test");
    let other_id = s.admin_id(&other, "other@a.test");
    let before = audit_rows(&s);
    assert_form_error(&op.post(&path(&other_id), &[("reason", "  ")]), 400, "A reason is required.");
    assert_form_error(&op.post(&path(&other_id), &[]), 400, "A reason is required.");
    assert_eq!(audit_rows(&s), before);
    assert_eq!(s.get("/v1/admin/stats", Some(&other)).status, 200);

    op.post(&path(&other_id), &[("reason", "left the team")]).assert_redirect("/admin/admins?done=disabled");
    assert_error(&s.get("/v1/admin/stats", Some(&other)), 401, "unauthorized");
    let api = op.cookie("ks_admin").expect("still signed in");
    assert_eq!(admin_status(&s, &api, "other@a.test"), "disabled");
    let event = s.last_event(&api, "admin.disabled");
    assert_eq!(
        (event["reason"].as_str(), event["target_id"].as_str()),
        (Some("left the team"), Some(other_id.as_str()))
    );
    let page = op.get("/admin/admins?done=disabled");
    assert!(page.has("The operator is disabled"), "{}", page.text);
    assert!(!page.has(&path(&other_id)), "a disabled operator offers no disable form");

    // Disabling it again is no transition; unknown and malformed ids are 404.
    let before = audit_rows(&s);
    op.post(&path(&other_id), &[("reason", "again")]).assert_page(409);
    for id in ["00000000-0000-4000-8000-000000000000", "not-an-id"] {
        op.post(&path(id), &[("reason", "x")]).assert_page(404);
    }
    for bad in ["?cursor=!!", "?limit=0"] {
        op.get(&format!("/admin/admins{bad}")).assert_page(400);
    }
    assert_eq!(audit_rows(&s), before);
}
