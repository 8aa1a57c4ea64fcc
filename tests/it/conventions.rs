//! The conventions of API.md that hold for every route: 404 and 405, body size and type,
//! malformed input as 400 (never a 500), the error shape, security headers, and the
//! OpenAPI document naming every route.
use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{PASSWORD, Res, TestServer, assert_error};
use keystead::http::router::ROUTES;

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

/// The error body is exactly `{"error": {"code", "message"}}` (plus `fields` on a 400).
#[track_caller]
fn assert_error_shape(res: &Res, status: u16, code: &str) {
    assert_error(res, status, code);
    assert!(res.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{:?}", res.headers);
    let top: Vec<&String> = res.body.as_object().expect("object").keys().collect();
    assert_eq!(top, vec!["error"], "{}", res.text);
    for key in res.body["error"].as_object().expect("error object").keys() {
        assert!(["code", "message", "fields"].contains(&key.as_str()), "unexpected {key}: {}", res.text);
    }
}

fn allow(res: &Res) -> BTreeSet<String> {
    let header = res.header("allow").unwrap_or_else(|| panic!("405 without Allow: {:?}", res.headers));
    header.split(',').map(|m| m.trim().to_owned()).collect()
}

fn set(methods: &[&str]) -> BTreeSet<String> {
    methods.iter().map(|m| (*m).to_owned()).collect()
}

#[test]
fn unknown_paths_are_404_not_found() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // A client that asks for HTML gets the web UI's page instead (tests/it/web_pages.rs).
    // Upstream of API.md's rule, paths outside the API's prefixes answered a page to all.
    for path in ["/v1", "/v1/keys/", "/v1/keys/a/b", "/v1/nope", "/healthz/", "/.well-known/nope", "/nope", "/app/nope"]
    {
        assert_error_shape(&s.get(path, Some(&a.token)), 404, "not_found");
        let json = s.send("GET", path, None, &[("Accept", "application/json, */*")], None);
        assert_error_shape(&json, 404, "not_found");
        let page = s.send("GET", path, None, &[("Accept", "text/html,application/xhtml+xml;q=0.9")], None);
        assert_eq!(page.status, 404, "{path}");
        assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{path}: {:?}", page.headers);
    }
    assert_error_shape(&s.post("/v1/nope", None, json!({})), 404, "not_found");
    assert_error_shape(&s.post("/nope", None, json!({})), 404, "not_found");
}

#[test]
fn a_post_without_a_body_or_a_content_type_is_an_empty_body() {
    // It was 415: no Content-Type is not another media type but no body at all.
    let s = TestServer::spawn();
    let res = s.send("POST", "/v1/auth/login", None, &[], None);
    assert_error_shape(&res, 400, "invalid_request");
    assert!(res.body["error"]["fields"]["email"].is_string(), "the missing field is named: {}", res.text);
    let a = s.signup("ann@example.test");
    let res = s.send("POST", "/v1/keys", Some(&a.token), &[("Content-Length", "0")], Some(b""));
    assert_error_shape(&res, 400, "invalid_request");
    assert!(res.body["error"]["fields"]["name"].is_string(), "{}", res.text);
    // A body without a Content-Type is still 415, and so is an empty one declared otherwise.
    let res = s.send("POST", "/v1/auth/login", None, &[], Some(b"{}"));
    assert_error_shape(&res, 415, "unsupported_media_type");
    let res = s.send("POST", "/v1/auth/login", None, &[("Content-Type", "text/plain")], Some(b""));
    assert_error_shape(&res, 415, "unsupported_media_type");
}

#[test]
fn a_body_that_is_not_utf8_is_400_even_in_an_ignored_field() {
    // serde_json skipped unknown fields without checking their bytes.
    let s = TestServer::spawn();
    let mut body = b"{\"key\": \"ksk_nope\", \"ignored\": \"".to_vec();
    body.extend_from_slice(b"\xff\xfe\"}");
    let res = s.send("POST", "/v1/verify/key", None, &JSON, Some(&body));
    assert_error_shape(&res, 400, "invalid_request");
    assert!(res.text.contains("UTF-8"), "{}", res.text);
}

#[test]
fn head_answers_as_get_without_a_body() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for (path, token) in [("/healthz", None), ("/v1/me", Some(a.token.as_str())), ("/login", None)] {
        let get = s.send("GET", path, token, &[], None);
        let head = s.send("HEAD", path, token, &[], None);
        assert_eq!((head.status, get.status), (200, 200), "{path}");
        assert_eq!(head.header("content-type"), get.header("content-type"), "{path}");
        assert!(head.text.is_empty() && !get.text.is_empty(), "{path}: {:?}", head.text);
    }
    assert_eq!(s.send("HEAD", "/v1/me", None, &[], None).status, 401, "HEAD is authenticated as GET is");
}

#[test]
fn a_known_path_with_another_method_is_405_with_allow() {
    let s = TestServer::spawn();
    let cases: [(&str, &str, &[&str]); 7] = [
        ("PUT", "/v1/keys", &["GET", "HEAD", "POST"]),
        ("PATCH", "/v1/sessions", &["GET", "HEAD", "DELETE"]),
        ("GET", "/v1/keys/0b0d2a4e-1c1f-4f4e-9a9a-000000000001", &["DELETE"]),
        ("GET", "/v1/verify/key", &["POST"]),
        ("DELETE", "/v1/me", &["GET", "HEAD", "PATCH"]),
        ("POST", "/healthz", &["GET", "HEAD"]),
        ("GET", "/v1/admin/auth/login", &["POST"]),
    ];
    for (method, path, methods) in cases {
        let res = s.send(method, path, None, &[], None);
        assert_error_shape(&res, 405, "method_not_allowed");
        assert_eq!(allow(&res), set(methods), "{method} {path}");
    }
}

#[test]
fn bodies_over_64_kib_are_413() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // Exactly 64 KiB of valid JSON is accepted...
    let key = json!({ "key": a.key }).to_string();
    let mut at_limit = key.clone().into_bytes();
    at_limit.resize(64 * 1024, b' ');
    let res = s.send("POST", "/v1/verify/key", None, &JSON, Some(&at_limit));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["valid"], json!(true));
    // ...one byte more is not, whatever the route.
    let mut over = at_limit.clone();
    over.push(b' ');
    for path in ["/v1/verify/key", "/v1/auth/signup", "/v1/keys", "/v1/nope"] {
        let res = s.send("POST", path, Some(&a.token), &JSON, Some(&over));
        assert_error_shape(&res, 413, "payload_too_large");
    }
    let big = vec![b' '; 1024 * 1024];
    assert_error_shape(&s.send("POST", "/v1/keys", Some(&a.token), &JSON, Some(&big)), 413, "payload_too_large");
    let names: i64 = s.db().query_row("SELECT count(*) FROM keys", [], |r| r.get(0)).expect("count");
    assert_eq!(names, 1, "nothing was created");
}

#[test]
fn a_chunked_body_over_64_kib_is_413() {
    let s = TestServer::spawn();
    let addr = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let head = "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).expect("head");
    let chunk = vec![b' '; 16 * 1024];
    for _ in 0..5 {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).expect("size");
        stream.write_all(&chunk).expect("chunk");
        stream.write_all(b"\r\n").expect("crlf");
    }
    stream.write_all(b"0\r\n\r\n").expect("end");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    assert!(status_line.contains(" 413"), "{status_line}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}

#[test]
fn bodies_must_be_declared_json() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let body = json!({ "name": "k" }).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"] {
        let res = s.send("POST", "/v1/keys", Some(&a.token), &[("Content-Type", content_type)], Some(body.as_bytes()));
        assert_error_shape(&res, 415, "unsupported_media_type");
    }
    assert_error_shape(
        &s.send("POST", "/v1/keys", Some(&a.token), &[], Some(body.as_bytes())),
        415,
        "unsupported_media_type",
    );
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        let res = s.send("POST", "/v1/keys", Some(&a.token), &[("Content-Type", content_type)], Some(body.as_bytes()));
        assert_eq!(res.status, 201, "{content_type}: {}", res.text);
    }
}

#[test]
fn malformed_json_and_wrong_types_are_400() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("/v1/auth/login", b"{".to_vec()),
        ("/v1/auth/login", b"{\"email\": \"ann@example.test\", \"password\": }".to_vec()),
        ("/v1/auth/login", br#"{"email": ["ann@example.test"], "password": "x"}"#.to_vec()),
        ("/v1/auth/login", br#"{"email": "ann@example.test", "password": 12345678901}"#.to_vec()),
        ("/v1/auth/login", br#"{"email": "ann@example.test", "password": "correct horse battery staple"} x"#.to_vec()),
        ("/v1/auth/signup", br#"{"tenant_name": 5, "email": "new@example.test", "password": "x"}"#.to_vec()),
        ("/v1/keys", br#"{"name": {}}"#.to_vec()),
        ("/v1/keys", br#"{"name": "k", "scopes": {"a": 1}}"#.to_vec()),
        ("/v1/keys", br#"{"name": "k", "expires_at": false}"#.to_vec()),
        ("/v1/keys", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("/v1/verify/key", deep.into_bytes()),
        ("/v1/verify/key", b"\xef\xbb\xbf{\"key\": \"x\"}".to_vec()),
    ];
    for (path, body) in cases {
        let res = s.send("POST", path, Some(&a.token), &JSON, Some(&body));
        assert_error_shape(&res, 400, "invalid_request");
    }
    let keys: i64 = s.db().query_row("SELECT count(*) FROM keys", [], |r| r.get(0)).expect("count");
    assert_eq!(keys, 1);
}

#[test]
fn null_arrays_and_scalars_are_not_bodies() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let login_as_array = json!(["ann@example.test", PASSWORD]);
    let verify_as_array = json!([a.key]);
    let key_as_array = json!(["array key"]);
    let signup_as_array = json!(["Array Inc", "arr@example.test", PASSWORD, "Arr"]);
    let cases = [
        ("/v1/auth/login", login_as_array),
        ("/v1/verify/key", verify_as_array),
        ("/v1/verify/session", json!([a.token])),
        ("/v1/keys", key_as_array),
        ("/v1/auth/signup", signup_as_array),
    ];
    for (path, array) in cases {
        for body in [Value::Null, array, json!("text"), json!(5), json!(true)] {
            let res = s.json("POST", path, Some(&a.token), body.clone());
            assert_error_shape(&res, 400, "invalid_request");
        }
    }
    let db = s.db();
    let sessions: i64 = db.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).expect("count");
    assert_eq!(sessions, 1, "an array logged in");
    let keys: i64 = db.query_row("SELECT count(*) FROM keys", [], |r| r.get(0)).expect("count");
    assert_eq!(keys, 1, "an array created a key");
}

/// Routes known to read a JSON body (routes added later are held to "never a 500" only).
const READS_A_BODY: [&str; 10] = [
    "/v1/auth/signup",
    "/v1/auth/login",
    "/v1/auth/switch-tenant",
    "/v1/me",
    "/v1/me/password",
    "/v1/tenants",
    "/v1/keys",
    "/v1/verify/key",
    "/v1/verify/session",
    "/v1/admin/auth/login",
];

/// Every route that reads a body, fed junk with a live session: a 400, never a 500.
#[test]
fn no_route_answers_junk_with_a_500() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let admin = s.admin("op@example.test");
    let junk: [&[u8]; 8] =
        [b"", b"null", b"[]", b"{", b"\"x\"", b"{\"a\":", b"\xff", b"{\"name\": null, \"email\": 1}"];
    for route in ROUTES {
        let method = route.method.as_str();
        let takes_no_body = route.path.ends_with("/logout") || route.path == "/v1/auth/token";
        if !["POST", "PATCH"].contains(&method) || takes_no_body {
            continue; // no body to read (and logout would end the session the loop uses)
        }
        let path = route.path.replace("{id}", "0b0d2a4e-1c1f-4f4e-9a9a-000000000001");
        let token = if path.starts_with("/v1/admin/") { &admin } else { &a.token };
        for body in junk {
            let res = s.send(method, &path, Some(token), &JSON, Some(body));
            let shown = String::from_utf8_lossy(body);
            assert!((400..500).contains(&res.status), "{method} {path} {shown:?}: {} {}", res.status, res.text);
            if READS_A_BODY.contains(&route.path) {
                assert_eq!(res.status, 400, "{method} {path} {shown:?}: {}", res.text);
                assert_error_shape(&res, 400, "invalid_request");
            }
        }
    }
}

#[test]
fn every_response_carries_the_security_headers() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let responses = [
        s.get("/healthz", None),
        s.get("/v1/me", Some(&a.token)),
        s.get("/v1/me", None),
        s.get("/nope", None),
        s.send("PUT", "/v1/keys", None, &[], None),
        s.send("POST", "/v1/keys", Some(&a.token), &JSON, Some(&vec![b' '; 70_000])),
    ];
    let mut ids = BTreeSet::new();
    for res in &responses {
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{} {:?}", res.status, res.headers);
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{}", res.status);
        assert_eq!(res.header("referrer-policy"), Some("same-origin"), "{}", res.status);
        assert_eq!(res.header("cache-control"), Some("no-store"), "{}", res.status);
        assert!(res.header("strict-transport-security").is_none(), "HSTS on a plain-http base URL");
        let id = res.header("x-request-id").expect("X-Request-Id");
        assert!(!id.is_empty());
        ids.insert(id.to_owned());
    }
    assert_eq!(ids.len(), responses.len(), "request ids repeat: {ids:?}");
}

#[test]
fn hsts_is_sent_when_the_base_url_is_https() {
    let s = TestServer::with(|c| c.base_url = "https://auth.example.test".into());
    let res = s.get("/healthz", None);
    assert!(res.header("strict-transport-security").is_some_and(|v| v.contains("max-age=")), "{:?}", res.headers);
}

// The served OpenAPI document names every route of the router's table, with its method.
#[test]
fn the_openapi_document_names_every_route() {
    let s = TestServer::spawn();
    let res = s.get("/v1/openapi.json", None);
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").is_some_and(|t| t.starts_with("application/json")));
    assert!(res.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", res.text);
    let paths = res.body["paths"].as_object().expect("paths");
    let missing: Vec<String> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_ascii_lowercase(), r.path))
        .filter(|(method, path)| paths.get(*path).and_then(|p| p.get(method.as_str())).is_none())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "openapi.json lacks: {missing:?}");
}

// The contract routes the document lists as not yet served are neither routed nor
// documented as paths: the list says what is still to build, and no more.
#[test]
fn the_routes_listed_as_not_yet_served_are_not_served() {
    let s = TestServer::spawn();
    let doc = s.get("/v1/openapi.json", None).body;
    let unbuilt = doc["x-keystead-not-yet-served"].as_array().expect("the list");
    // Empty once every contract route is served (the OpenID Connect ones were the last).
    for route in unbuilt {
        let (method, path) = route.as_str().and_then(|r| r.split_once(' ')).expect("METHOD /path");
        assert!(
            !ROUTES.iter().any(|r| r.method.as_str() == method && r.path == path),
            "{route} is served: document it and take it off the list"
        );
        assert!(doc["paths"].get(path).and_then(|p| p.get(method.to_ascii_lowercase())).is_none(), "{route}");
        let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        let body = (method != "GET" && method != "DELETE").then(|| serde_json::json!({}));
        let res = match body {
            Some(b) => s.json(method, &concrete, None, b),
            None => s.send(method, &concrete, None, &[], None),
        };
        assert_error(&res, 404, "not_found");
    }
}
