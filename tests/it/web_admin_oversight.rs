//! `/admin/audit` (filters, keyset pages) and `/admin/outbox` (no bodies, so no live link).
use crate::support::{TestServer, token_of};
use crate::web_admin::operator;

#[test]
fn the_audit_page_filters_and_pages_events() {
    let s = TestServer::spawn();
    let a = s.signup("ann@a.test");
    let b = s.signup("bob@b.test");
    let op = operator(&s, "op@a.test");
    for (t, why) in [(&a, "unpaid <b>bill</b>"), (&b, "fraud")] {
        s.app.clock.advance(1);
        let done = op.post(&format!("/admin/tenants/{}/suspend", t.tenant_id), &[("reason", why)]);
        assert_eq!(done.status, 303, "{}", done.text);
    }

    let all = op.get("/admin/audit");
    all.assert_page(200);
    assert!(all.has("tenant.suspended") && all.has("tenant.created") && all.has("admin.login"), "{}", all.text);
    assert!(all.has("unpaid &#60;b&#62;bill&#60;/b&#62;"), "escaped");
    assert!(!all.has("<b>bill"));

    let only = op.get(&format!("/admin/audit?action=tenant.suspended&tenant_id={}", a.tenant_id));
    assert!(only.has("unpaid") && !only.has("fraud") && !only.has("tenant.created</a>"), "{}", only.text);
    assert!(only.has("value=\"tenant.suspended\""), "the filter stays in its field");

    let first = op.get("/admin/audit?action=tenant.suspended&limit=1");
    assert!(first.has("fraud") && !first.has("unpaid"), "newest first: {}", first.text);
    let next = first.next_link().expect("a next link");
    assert!(next.starts_with("/admin/audit?action=tenant.suspended&limit=1&cursor="), "{next}");
    let rest = op.get(&next);
    assert!(rest.has("unpaid") && !rest.has("fraud"), "{}", rest.text);
    let none = op.get(&format!("{next}&until=2000-01-01T00:00:00Z"));
    assert!(none.has("No events match."), "{}", none.text);

    for bad in ["?since=yesterday", "?until=2026-13-01", "?cursor=!!", "?limit=0", "?limit=abc"] {
        op.get(&format!("/admin/audit{bad}")).assert_page(400);
    }
}

#[test]
fn the_outbox_page_lists_messages_without_their_links() {
    let s = TestServer::spawn();
    let a = s.signup("ann@a.test");
    s.app.clock.advance(1);
    let invite = s.invite(&a.token, "new@a.test", "member");
    assert_eq!(invite.status, 201, "{}", invite.text);
    let token = token_of(&invite.str("/activation_url"));
    let op = operator(&s, "op@a.test");

    let (new, ann) = ("<td>new@a.test</td>", "<td>ann@a.test</td>");
    let page = op.get("/admin/outbox");
    page.assert_page(200);
    assert!(page.has(new) && page.has(ann), "{}", page.text);
    assert!(!page.has(&token) && !page.has("token="), "no live link: {}", page.text);

    let first = op.get("/admin/outbox?limit=1");
    assert!(first.has(new) && !first.has(ann), "newest first: {}", first.text);
    let next = first.next_link().expect("a next link");
    let rest = op.get(&format!("{next}&limit=1"));
    assert!(rest.has(ann) && !rest.has(new), "{}", rest.text);

    for bad in ["?cursor=!!", "?limit=0"] {
        op.get(&format!("/admin/outbox{bad}")).assert_page(400);
    }
}
