//! Property tests over HTTP: random bodies into every API route that takes one, and random
//! request heads into tiny_http's parser. Whatever arrives, the answer is never a 5xx and
//! the server keeps serving. Bounded: a few hundred cases, a few seconds each.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use keystead::http::Method;
use keystead::http::router::ROUTES;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::connections::healthz;
use crate::support::{Signed, TestServer};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// JSON values shaped like API bodies: objects of the API's field names (and others), with
/// values of every type, strings with any character.
fn api_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "(owner|admin|member|active|disabled|ksk_[0-9A-Za-z]{49})".prop_map(Value::from),
        "[a-z]{1,8}@[a-z]{1,8}\\.test".prop_map(Value::from),
    ];
    let field = "(email|password|name|tenant_name|tenant_id|token|key|current_password|new_password|new_email|role|reason|owner_email|slug|plan|max_seats|status|signup|[a-z_]{1,10})";
    leaf.prop_recursive(2, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(field, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: JSON text of such a value, sometimes with one byte changed (invalid UTF-8,
/// broken syntax), sometimes any bytes at all.
fn api_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => api_value().prop_map(|v| v.to_string().into_bytes()),
        1 => (api_value(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, at, byte)| {
            let mut bytes = v.to_string().into_bytes();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            bytes
        }),
        1 => prop::collection::vec(any::<u8>(), 0..48),
    ]
}

/// A route's path with its parameters filled from the owner's own ids (so that handlers
/// get as far as their bodies), or with junk.
fn path_of(template: &str, owner: &Signed, junk: bool) -> String {
    let id = |segment: &str| match segment {
        _ if junk => "x%00y".to_owned(),
        "keys" => owner.key_id.clone(),
        "tenants" => owner.tenant_id.clone(),
        _ => owner.user_id.clone(),
    };
    let mut out: Vec<String> = Vec::new();
    for segment in template.split('/') {
        if segment.starts_with('{') {
            let previous = out.last().cloned().unwrap_or_default();
            out.push(id(&previous));
        } else {
            out.push(segment.to_owned());
        }
    }
    out.join("/")
}

#[test]
fn no_body_into_any_route_is_a_5xx() {
    let s = TestServer::spawn();
    let owner = s.signup("ann@example.test");
    let admin = s.admin("root@example.test");
    // Logging out would end the sessions the other cases use; it reads no body.
    let routes: Vec<_> = ROUTES.iter().filter(|r| r.method != Method::Get && !r.path.ends_with("/logout")).collect();
    let cases = (0..routes.len(), api_body(), any::<bool>(), prop::option::of(Just("application/json")));
    runner(400)
        .run(&cases, |(n, body, junk, declared)| {
            let route = routes[n];
            let path = path_of(route.path, &owner, junk);
            let token = if path.starts_with("/v1/admin") { &admin } else { &owner.token };
            let headers: Vec<(&str, &str)> = declared.iter().map(|d| ("Content-Type", *d)).collect();
            let res = s.send(route.method.as_str(), &path, Some(token), &headers, Some(&body));
            prop_assert!(
                res.status < 500,
                "{} {path} {:?}: {} {}",
                route.method.as_str(),
                String::from_utf8_lossy(&body),
                res.status,
                res.text
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get("/healthz", None).status, 200);
}

/// A request head: a request line and header lines of any bytes, or any bytes at all.
fn head() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![".{0,12}".prop_map(String::into_bytes), prop::collection::vec(any::<u8>(), 0..12)];
    let line = (
        "(GET|POST|PATCH|DELETE|HEAD|OPTIONS|PUT|[A-Z]{1,8}|.{0,6})",
        "(/healthz|/v1/me|/login|/v1/verify/key|/.{0,20})",
        "(HTTP/1.1|HTTP/1.0|HTTP/2.0|HTTP/.{0,4}|)",
    )
        .prop_map(|(m, p, v)| format!("{m} {p} {v}").into_bytes());
    let header = (
        "(Host|Content-Length|Transfer-Encoding|Content-Type|Expect|Connection|Cookie|Authorization|X-Forwarded-For|[!-~]{1,10}| .{0,6})",
        "(: |:|)",
        token,
    )
        .prop_map(|(n, colon, v)| [n.as_bytes(), colon.as_bytes(), &v].concat());
    prop_oneof![
        4 => (line, prop::collection::vec(header, 0..8), prop::collection::vec(any::<u8>(), 0..32)).prop_map(|(line, headers, body)| {
            let mut bytes = line;
            for h in headers {
                bytes.extend_from_slice(b"\r\n");
                bytes.extend_from_slice(&h);
            }
            bytes.extend_from_slice(b"\r\n\r\n");
            bytes.extend_from_slice(&body);
            bytes
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

#[test]
fn no_request_head_is_a_5xx_or_stops_the_server() {
    let s = TestServer::spawn();
    let addr = s.base.trim_start_matches("http://").to_owned();
    runner(300)
        .run(&head(), |bytes| {
            let mut stream = TcpStream::connect(&addr).expect("connect");
            stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            let _ = stream.write_all(&bytes);
            let _ = stream.shutdown(Shutdown::Write);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let text = String::from_utf8_lossy(&answer);
            // Every answer on the connection (a valid request may be followed by junk).
            for status in text.match_indices("HTTP/1.").filter_map(|(at, _)| text.get(at + 9..at + 12)) {
                let status: u16 = status.parse().unwrap_or(0);
                prop_assert!((100..500).contains(&status), "{:?} answered {text}", String::from_utf8_lossy(&bytes));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stream = TcpStream::connect(&addr).expect("connect");
    assert!(healthz(&mut stream).starts_with("HTTP/1.1 200"), "still serving");
}
