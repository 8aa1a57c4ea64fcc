//! Who a client is, as the limits and the records see it: the address behind our own
//! proxies, and an IPv6 client as its /64.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use keystead::limit::Rate;
use serde_json::json;

use crate::support::{PASSWORD, TestServer};

fn login_from(s: &TestServer, forwarded: &str) -> u16 {
    let body = json!({ "email": "ann@example.test", "password": PASSWORD }).to_string();
    let headers = [("Content-Type", "application/json"), ("X-Forwarded-For", forwarded)];
    s.send("POST", "/v1/auth/login", None, &headers, Some(body.as_bytes())).status
}

/// The address recorded for the newest session of ann.
fn newest_session_ip(s: &TestServer) -> String {
    s.db()
        .query_row("SELECT ip FROM sessions ORDER BY created_at DESC, rowid DESC LIMIT 1", [], |r| r.get(0))
        .expect("a session")
}

#[test]
fn every_x_forwarded_for_line_is_read_from_the_right_past_our_proxies() {
    // Only the first line was read, and its last hop believed: a client that sent its own
    // X-Forwarded-For line ahead of the proxy's chose its address.
    let s = TestServer::with(|c| {
        c.trust_proxy = true;
        c.trusted_proxies = "127.0.0.0/8, 10.0.0.0/8".parse().expect("a list");
    });
    s.signup("ann@example.test");
    let body = json!({ "email": "ann@example.test", "password": PASSWORD }).to_string();
    let request = format!(
        "POST /v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nConnection: close\r\n\
         X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.3\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(s.base.trim_start_matches("http://")).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request.as_bytes()).expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert_eq!(newest_session_ip(&s), "203.0.113.9");
    // One line, proxies at its end: the first hop from the right that is not one of ours.
    assert_eq!(login_from(&s, "6.6.6.6, 198.51.100.7, 10.1.2.3, 10.0.0.1"), 200);
    assert_eq!(newest_session_ip(&s), "198.51.100.7");
}

#[test]
fn ipv6_clients_are_limited_by_their_64_and_recorded_whole() {
    let s = TestServer::with(|c| {
        c.trust_proxy = true;
        c.limits.login_by_ip = Rate { burst: 2, per_hour: 1 };
    });
    s.signup("ann@example.test");
    assert_eq!(login_from(&s, "2001:db8:1:2::1"), 200);
    assert_eq!(newest_session_ip(&s), "2001:db8:1:2::1", "the session keeps the full address");
    assert_eq!(login_from(&s, "2001:db8:1:2:ab::2"), 200);
    // A third address of the same /64 is the same client: it was a new bucket each time.
    assert_eq!(login_from(&s, "2001:db8:1:2:ffff:ffff:ffff:3"), 429);
    assert_eq!(login_from(&s, "2001:db8:1:3::1"), 200, "the next /64 is another client");
    let db = s.db();
    let mut query = db.prepare("SELECT DISTINCT ip FROM audit_log WHERE ip LIKE '2001:%'").expect("query");
    let audit: Vec<String> = query.query_map([], |r| r.get(0)).expect("rows").map(|r| r.expect("an ip")).collect();
    assert!(audit.contains(&"2001:db8:1:2::1".to_owned()), "audit rows keep the full address: {audit:?}");
}
