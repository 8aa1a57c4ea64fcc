//! The operator dashboard (`/admin`) and a tenant's page over HTTP: counts, the daily
//! charts (inline SVG, a bar per day carrying its value) once sign-ups, logins and
//! verifications happened, the latest events, and times as people read them.
use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::web::Page;
use crate::support::{PASSWORD, TestServer, wait_until};
use crate::web_admin::operator;

/// Today as the server counts it: the unix day (UTC).
fn today(s: &TestServer) -> i64 {
    s.app.clock.now().unix().div_euclid(86_400)
}

/// The markup of the chart with element id `id`.
#[track_caller]
fn chart<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page.text.find(&format!("<svg class=\"chart\" id=\"{id}\"")).unwrap_or_else(|| panic!("no chart {id}"));
    let len = page.text[start..].find("</svg>").unwrap_or_else(|| panic!("chart {id} never ends"));
    &page.text[start..start + len]
}

/// The value of today's bar in chart `id` (every chart has a bar for each of 30 days).
#[track_caller]
fn today_bar(s: &TestServer, page: &Page, id: &str) -> i64 {
    let svg = chart(page, id);
    assert_eq!(svg.matches("<rect ").count(), 30, "30 days in {id}");
    let needle = format!("data-day=\"{}\" data-value=\"", today(s));
    let at = svg.find(&needle).unwrap_or_else(|| panic!("no bar for today in {id}: {svg}")) + needle.len();
    svg[at..].split('"').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("value in {id}"))
}

/// The number shown in the count with element id `id`.
#[track_caller]
fn count(page: &Page, id: &str) -> String {
    let needle = format!("id=\"{id}\">");
    let at = page.text.find(&needle).unwrap_or_else(|| panic!("no count {id}")) + needle.len();
    page.text[at..].split('<').next().unwrap_or_default().to_owned()
}

fn verify_key(s: &TestServer, key: &str) -> bool {
    let res = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["valid"] == json!(true)
}

/// Two tenants: `a` signs up, logs in twice, fails once, and its key is verified three
/// times; `b` only signs up. One unknown key is refused. Verifications wait for a flush.
fn activity(s: &TestServer) -> (crate::support::Signed, crate::support::Signed) {
    let a = s.signup("a@dash.test");
    let b = s.signup("b@dash.test");
    for _ in 0..2 {
        assert_eq!(s.login("a@dash.test", PASSWORD).status, 200);
    }
    assert_eq!(s.login("a@dash.test", "not the password at all").status, 401);
    for _ in 0..3 {
        assert!(verify_key(s, &a.key));
    }
    assert!(!verify_key(s, "nothing like a key"));
    s.flush_usage();
    (a, b)
}

#[test]
fn the_dashboard_shows_the_counts_and_a_bar_for_today_in_each_chart() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@dash.test");
    // Before anything happens every chart is there, flat.
    let empty = op.get("/admin");
    empty.assert_page(200);
    assert_eq!(today_bar(&s, &empty, "all-signups"), 0);
    assert!(empty.has("No events yet.") || empty.has("<time datetime="));

    activity(&s);
    let page = op.get("/admin");
    page.assert_page(200);
    assert_eq!(count(&page, "count-tenants"), "2");
    assert_eq!(count(&page, "count-accounts"), "2");
    // One session per sign-up and per login; the operator's own is not a portal session.
    assert_eq!(count(&page, "count-sessions"), "4");
    assert_eq!(count(&page, "count-keys"), "2");
    assert_eq!(today_bar(&s, &page, "all-signups"), 2);
    assert_eq!(today_bar(&s, &page, "all-logins_succeeded"), 2);
    assert_eq!(today_bar(&s, &page, "all-logins_failed"), 1);
    assert_eq!(today_bar(&s, &page, "all-verifications_valid"), 3);
    assert_eq!(today_bar(&s, &page, "all-verifications_invalid"), 1);
    assert_eq!(today_bar(&s, &page, "all-mail_failed"), 0);
    // Each chart names itself for a screen reader, and draws without script or inline style.
    let signups = chart(&page, "all-signups");
    assert!(signups.contains("<title id=\"all-signups-title\">Sign-ups</title>"), "{signups}");
    assert!(signups.contains("2 in all"), "{signups}");
    assert!(!page.has("<script") && !page.has("style="));
    // The latest events, newest first, lead to the audit log.
    assert!(page.has("href=\"/admin/audit\""));
    let events = &page.text[page.text.find("id=\"recent-events\"").expect("recent events")..];
    assert!(
        events.find("auth.login_failed").expect("the failed login") < events.find("account.created").expect("sign-up")
    );
}

#[test]
fn a_tenant_page_charts_only_its_own_tenant() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@dash.test");
    let (a, b) = activity(&s);
    let page = op.get(&format!("/admin/tenants/{}", a.tenant_id));
    page.assert_page(200);
    assert_eq!(today_bar(&s, &page, "tenant-signups"), 1);
    assert_eq!(today_bar(&s, &page, "tenant-logins_succeeded"), 2);
    assert_eq!(today_bar(&s, &page, "tenant-verifications_valid"), 3);
    // Failures name no tenant (none was entered, the key was unknown): installation-wide only.
    assert_eq!(today_bar(&s, &page, "tenant-logins_failed"), 0);
    assert_eq!(today_bar(&s, &page, "tenant-verifications_invalid"), 0);
    assert!(!page.has("id=\"tenant-mail_failed\""), "mail has no tenant");

    let other = op.get(&format!("/admin/tenants/{}", b.tenant_id));
    other.assert_page(200);
    assert_eq!(today_bar(&s, &other, "tenant-signups"), 1);
    assert_eq!(today_bar(&s, &other, "tenant-logins_succeeded"), 0);
    assert_eq!(today_bar(&s, &other, "tenant-verifications_valid"), 0);
    // Its latest events are its own.
    let events = &other.text[other.text.find("id=\"recent-events\"").expect("recent events")..];
    let events = &events[..events.find("</ul>").expect("list ends")];
    assert!(events.contains("tenant.created") && !events.contains("auth.login"), "{events}");
}

#[test]
fn times_show_as_people_read_them_with_the_rfc3339_value_in_a_time_element() {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let s = TestServer::spawn();
    let op = operator(&s, "op@dash.test");
    let a = s.signup("a@dash.test");
    for path in ["/admin".to_owned(), format!("/admin/tenants/{}", a.tenant_id), "/admin/audit".to_owned()] {
        let page = op.get(&path);
        let start = page.text.find("<time datetime=\"").unwrap_or_else(|| panic!("no <time> on {path}")) + 16;
        let (iso, rest) = page.text[start..].split_once("\">").expect("attribute ends");
        let shown = rest.split_once("</time>").expect("element ends").0;
        let t = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
        let expected = format!(
            "{} {} {}, {:02}:{:02}",
            t.day(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year(),
            t.hour(),
            t.minute()
        );
        assert_eq!(shown, expected, "on {path}");
        assert!(iso.ends_with('Z'), "UTC on {path}: {iso}");
    }
}

#[test]
fn failed_mail_shows_in_its_count_and_its_chart() {
    let sink = SmtpSink::down();
    let s = TestServer::with_smtp(&sink.url());
    let op = operator(&s, "op@dash.test");
    s.signup("a@dash.test");
    wait_until("a failed delivery", || s.outbox_to("a@dash.test", "verify_email").remove(0).attempts >= 1);
    let page = op.get("/admin");
    assert_eq!(count(&page, "count-mail-failing"), "1");
    assert_eq!(today_bar(&s, &page, "all-mail_failed"), 1);
}
