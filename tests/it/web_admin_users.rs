//! `/admin/users*`: the account list (search, status and tenant filters, keyset pages) and
//! an account's page with its lifecycle forms (disable / enable / delete / restore).
use crate::support::TestServer;
use crate::support::operator::items;
use crate::web_admin::{assert_form_error, audit_rows, operator};

fn account_status(s: &TestServer, api: &str, email: &str) -> String {
    let found = items(&s.get(&format!("/v1/admin/users?q={email}"), Some(api)));
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_list_searches_filters_and_pages() {
    let s = TestServer::spawn();
    let ann = s.signup("ann@a.test");
    s.app.clock.advance(1);
    let bob = s.signup("bob@b.test");
    s.app.clock.advance(1);
    let carl = s.join(&ann.token, "carl@a.test", "member");
    let op = operator(&s, "op@a.test");

    let all = op.get("/admin/users");
    all.assert_page(200);
    for id in [&ann.user_id, &bob.user_id, &carl.user_id] {
        assert!(all.has(&format!("href=\"/admin/users/{id}\"")), "{}", all.text);
    }
    assert!(all.has(&format!("href=\"/admin/tenants/{}\"", ann.tenant_id)), "memberships are listed");

    let found = op.get("/admin/users?q=CARL");
    assert!(found.has(&carl.user_id) && !found.has(&ann.user_id) && !found.has(&bob.user_id), "{}", found.text);
    let in_bob = op.get(&format!("/admin/users?tenant_id={}", bob.tenant_id));
    assert!(in_bob.has(&bob.user_id) && !in_bob.has(&ann.user_id) && !in_bob.has(&carl.user_id));
    assert!(op.get("/admin/users?status=disabled").has("No accounts match."));

    let first = op.get(&format!("/admin/users?limit=1&tenant_id={}", ann.tenant_id));
    assert!(first.has(&carl.user_id) && !first.has(&ann.user_id), "newest first: {}", first.text);
    let next = first.next_link().expect("a next link");
    assert!(next.contains(&format!("tenant_id={}", ann.tenant_id)), "{next}");
    let rest = op.get(&format!("{next}&limit=1"));
    assert!(rest.has(&ann.user_id) && !rest.has(&carl.user_id), "{}", rest.text);

    for bad in ["?status=bogus", "?status=invited", "?tenant_id=nope", "?cursor=!!", "?limit=-1"] {
        op.get(&format!("/admin/users{bad}")).assert_page(400);
    }
}

#[test]
fn the_lifecycle_forms_need_a_reason_and_follow_the_allowed_transitions() {
    let s = TestServer::spawn();
    let api = s.admin("api@a.test");
    let ann = s.signup("ann@a.test");
    let carl = s.join(&ann.token, "carl@a.test", "member");
    let op = operator(&s, "op@a.test");
    let path = format!("/admin/users/{}", carl.user_id);

    let page = op.get(&path);
    page.assert_page(200);
    assert!(page.has("carl@a.test") && page.has("Tenant of ann") && page.has("/disable\""), "{}", page.text);
    assert!(!page.has("/enable\"") && !page.has("/restore\""));

    let before = audit_rows(&s);
    for fields in [vec![], vec![("reason", " \n ")]] {
        assert_form_error(&op.post(&format!("{path}/disable"), &fields), 400, "A reason is required.");
    }
    let page = op.post(&format!("{path}/enable"), &[("reason", "already on")]);
    page.assert_page(409);
    assert!(page.has("class=\"error\""), "{}", page.text);
    op.post(&format!("{path}/restore"), &[("reason", "not deleted")]).assert_page(409);
    // The only owner of a tenant keeps its access.
    assert_form_error(
        &op.post(&format!("/admin/users/{}/disable", ann.user_id), &[("reason", "x")]),
        409,
        "at least one active owner",
    );
    assert_eq!(audit_rows(&s), before);
    assert_eq!(account_status(&s, &api, "carl@a.test"), "active");
    assert_eq!(account_status(&s, &api, "ann@a.test"), "active");

    op.post(&format!("{path}/disable"), &[("reason", "abuse")]).assert_redirect(&format!("{path}?done=disabled"));
    assert_eq!(account_status(&s, &api, "carl@a.test"), "disabled");
    assert_eq!(s.get("/v1/me", Some(&carl.token)).status, 401, "its sessions are revoked");
    let event = s.last_event(&api, "account.disabled");
    assert_eq!((event["reason"].as_str(), event["target_id"].as_str()), (Some("abuse"), Some(carl.user_id.as_str())));
    let page = op.get(&format!("{path}?done=disabled"));
    assert!(page.has("The account is disabled") && page.has("/enable\"") && !page.has("/disable\""), "{}", page.text);

    op.post(&format!("{path}/enable"), &[("reason", "appeal")]).assert_redirect(&format!("{path}?done=enabled"));
    assert_eq!(account_status(&s, &api, "carl@a.test"), "active");
    assert_eq!(s.last_event(&api, "account.enabled")["reason"], "appeal");
    op.post(&format!("{path}/delete"), &[("reason", "asked to")]).assert_redirect(&format!("{path}?done=deleted"));
    assert_eq!(account_status(&s, &api, "carl@a.test"), "deleted");
    assert_eq!(s.last_event(&api, "account.deleted")["reason"], "asked to");
    op.post(&format!("{path}/restore"), &[("reason", "mistake")]).assert_redirect(&format!("{path}?done=restored"));
    assert_eq!(account_status(&s, &api, "carl@a.test"), "active");
    assert_eq!(s.last_event(&api, "account.restored")["reason"], "mistake");
}

#[test]
fn unknown_or_malformed_account_ids_are_a_404_page() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    let before = audit_rows(&s);
    for id in ["00000000-0000-4000-8000-000000000000", "not-an-id"] {
        op.get(&format!("/admin/users/{id}")).assert_page(404);
        for action in ["disable", "enable", "delete", "restore"] {
            op.post(&format!("/admin/users/{id}/{action}"), &[("reason", "x")]).assert_page(404);
        }
    }
    assert_eq!(audit_rows(&s), before);
}
