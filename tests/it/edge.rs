//! The HTTP edge as a hostile client meets it, in raw TCP: caps on the head, the framing
//! rules against request smuggling, heads that are not text, slow clients, and one client
//! opening too many connections. Each failed on tiny_http before Keystead's patches 4–6
//! (see vendor/tiny_http/PATCHES.md).
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::connections::healthz;
use crate::support::TestServer;

fn addr(s: &TestServer) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().expect("an address")
}

fn connect(s: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(addr(s)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
}

/// A connection from another loopback address (Linux routes all of 127/8 to `lo`).
pub fn connect_from(s: &TestServer, local: [u8; 4]) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&SocketAddr::from((local, 0)).into()).expect("bind a loopback address");
    socket.connect(&addr(s).into()).expect("connect");
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
}

/// Sends `request` (errors ignored: the server may close first) and reads until the
/// server closes; the answer as text, and whether the server closed within 10 s.
fn exchange(s: &TestServer, request: &[u8]) -> (String, bool) {
    let mut stream = connect(s);
    let _ = stream.write_all(request);
    read_all(&mut stream)
}

fn read_all(stream: &mut TcpStream) -> (String, bool) {
    let mut answer = Vec::new();
    let closed = stream.read_to_end(&mut answer).is_ok();
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

/// The answer is one response with this status and the API's error code, and then the
/// connection ends.
fn assert_refused(answer: &(String, bool), status: u16, code: &str) {
    let (text, closed) = answer;
    assert!(closed, "the server closes the connection: {text}");
    assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{status} expected: {text}");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    assert!(head.lines().any(|l| l == "Connection: close"), "{head}");
    assert!(head.lines().any(|l| l.starts_with("X-Request-Id: ")), "{head}");
    let error: serde_json::Value = serde_json::from_str(body).expect("the API's error shape");
    assert_eq!(error["error"]["code"], code, "{body}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "one answer only: {text}");
}

fn head_with(extra: &str) -> Vec<u8> {
    format!("GET /healthz HTTP/1.1\r\nHost: test\r\n{extra}\r\n").into_bytes()
}

#[test]
fn a_request_line_over_8_kib_is_414() {
    let s = TestServer::spawn();
    let long = format!("GET /{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(9 * 1024));
    assert_refused(&exchange(&s, long.as_bytes()), 414, "uri_too_long");
    let fine = format!("GET /healthz?{} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", "a".repeat(7 * 1024));
    assert!(exchange(&s, fine.as_bytes()).0.starts_with("HTTP/1.1 200 "));
}

#[test]
fn a_header_line_over_8_kib_is_431_before_its_end_arrives() {
    // Upstream kept reading the line into memory until its end (a 64 MiB header line grew
    // the process by 64 MiB); now the answer comes once 8 KiB have, the rest unsent.
    let s = TestServer::spawn();
    let mut stream = connect(&s);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: ").expect("head");
    stream.write_all(&vec![b'a'; 20 * 1024]).expect("a long line, not ended");
    let started = Instant::now();
    let answer = read_all(&mut stream);
    assert_refused(&answer, 431, "header_fields_too_large");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_head_over_32_kib_or_over_100_headers_is_431() {
    let s = TestServer::spawn();
    let big: String = (0..5).map(|n| format!("X-Big-{n}: {}\r\n", "a".repeat(7 * 1024))).collect();
    assert_refused(&exchange(&s, &head_with(&big)), 431, "header_fields_too_large");
    let many: String = (0..101).map(|n| format!("X-H{n}: v\r\n")).collect();
    assert_refused(&exchange(&s, &head_with(&many)), 431, "header_fields_too_large");
    let hundred: String = (0..98).map(|n| format!("X-H{n}: v\r\n")).collect::<String>() + "Connection: close\r\n";
    assert!(exchange(&s, &head_with(&hundred)).0.starts_with("HTTP/1.1 200 "), "100 headers are fine");
}

#[test]
fn framing_other_than_one_length_or_chunked_alone_is_400_and_closed() {
    let s = TestServer::spawn();
    let post = |headers: &str, body: &str| {
        format!("POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{headers}\r\n{body}")
    };
    // A second request hidden where a proxy that frames the other way sees a body.
    let smuggled = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    for (headers, body) in [
        ("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", format!("0\r\n\r\n{smuggled}")),
        ("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", format!("0\r\n\r\n{smuggled}")),
        ("Transfer-Encoding: gzip, chunked\r\n", format!("0\r\n\r\n{smuggled}")),
        ("Transfer-Encoding: identity\r\n", smuggled.to_owned()),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", format!("0\r\n\r\n{smuggled}")),
        ("Content-Length: 2\r\nContent-Length: 40\r\n", format!("{{}}{smuggled}")),
        ("Content-Length: +2\r\n", format!("{{}}{smuggled}")),
        ("Content-Length: 0x2\r\n", format!("{{}}{smuggled}")),
        ("Transfer-Encoding : chunked\r\n", format!("0\r\n\r\n{smuggled}")),
        (" Transfer-Encoding: chunked\r\n", format!("0\r\n\r\n{smuggled}")),
    ] {
        let answer = exchange(&s, post(headers, &body).as_bytes());
        assert_refused(&answer, 400, "invalid_request");
    }
    // Bad chunks are 400 as well; good ones are read.
    let bad = post("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n");
    assert_refused(&exchange(&s, bad.as_bytes()), 400, "invalid_request");
    let good = post(
        "Transfer-Encoding: Chunked\r\nConnection: close\r\n",
        "3\r\n{\"k\r\n7;ext=1\r\ney\": \"x\r\n2\r\n\"}\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    let (text, _) = exchange(&s, good.as_bytes());
    assert!(text.starts_with("HTTP/1.1 200 ") && text.contains("\"valid\":false"), "{text}");
}

#[test]
fn a_header_that_is_not_text_is_answered_400() {
    // Upstream dropped the connection without a word.
    let s = TestServer::spawn();
    let mut request = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Name: caf".to_vec();
    request.extend_from_slice(b"\xc3\xa9\xff\r\n\r\n");
    assert_refused(&exchange(&s, &request), 400, "invalid_request");
    assert_refused(&exchange(&s, b"GET /healthz HTTP/1.1\r\nHost: te\rst\r\n\r\n"), 400, "invalid_request");
    assert_refused(&exchange(&s, b"GET /\xff HTTP/1.1\r\nHost: test\r\n\r\n"), 400, "invalid_request");
    assert_refused(&exchange(&s, b"GET /healthz HTTP/1.1\r\nNo colon\r\n\r\n"), 400, "invalid_request");
}

#[test]
fn a_body_over_64_kib_is_413_without_being_read() {
    let s = TestServer::spawn();
    let mut stream = connect(&s);
    let head = "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Content-Length: 104857600\r\n\r\n";
    stream.write_all(head.as_bytes()).expect("head");
    let mut first = [0; 13];
    stream.read_exact(&mut first).expect("an answer before any of the body");
    assert_eq!(&first, b"HTTP/1.1 413 ");
}

#[test]
fn slow_bodies_hold_no_worker() {
    // Upstream left bodies over 1024 bytes for the worker to read: four clients trickling a
    // 4 KB body held the four workers, and even /healthz waited.
    let s = TestServer::spawn();
    let mut slow: Vec<TcpStream> = (0..8).map(|_| connect(&s)).collect();
    for stream in &mut slow {
        let head = "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                    Content-Length: 4096\r\n\r\n{\"key\": \"";
        stream.write_all(head.as_bytes()).expect("head");
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert!(healthz(&mut connect(&s)).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < Duration::from_secs(2), "answered while eight bodies trickle: {:?}", started.elapsed());
}

#[test]
fn a_request_trickled_past_the_timeout_is_408() {
    // Each byte came within the read timeout, so upstream waited as long as the client liked.
    let s = TestServer::with_client_timeout(Duration::from_millis(800), |_| {});
    let mut stream = connect(&s);
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        stream.set_nonblocking(true).expect("nonblocking");
        let mut buf = [0; 4096];
        let read = stream.read(&mut buf);
        stream.set_nonblocking(false).expect("blocking");
        match read {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(3), "cut off near the deadline: {:?}", started.elapsed());
}

#[test]
fn a_kept_alive_connection_left_quiet_is_closed_without_an_answer() {
    let s = TestServer::with_client_timeout(Duration::from_millis(500), |_| {});
    let mut stream = connect(&s);
    assert!(healthz(&mut stream).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let (text, closed) = read_all(&mut stream);
    assert!(closed && text.is_empty(), "closed quietly: {text}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn one_client_gets_an_eighth_of_the_connections_and_at_least_16() {
    let s = TestServer::with(|c| c.max_connections = 200);
    let mut held: Vec<TcpStream> = (0..25).map(|_| connect_from(&s, [127, 0, 0, 1])).collect();
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    let (refused, _) = read_all(&mut connect_from(&s, [127, 0, 0, 1]));
    assert!(refused.starts_with("HTTP/1.1 503 ") && refused.contains("unavailable"), "{refused}");
    assert!(healthz(&mut connect_from(&s, [127, 0, 0, 2])).starts_with("HTTP/1.1 200"), "another client is served");
    // A place frees up when one of the client's connections ends.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(200));
    assert!(healthz(&mut connect_from(&s, [127, 0, 0, 1])).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_trusted_proxy_is_held_to_the_global_limit_only() {
    let s = TestServer::with(|c| {
        c.max_connections = 40;
        c.trust_proxy = true;
    });
    let mut held: Vec<TcpStream> = (0..30).map(|_| connect_from(&s, [127, 0, 0, 1])).collect();
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"), "the proxy carries many clients");
    }
}

#[test]
fn expect_100_continue_is_answered_before_the_body_unless_the_body_is_refused() {
    // curl asks for it before any body over 1 KiB; the body is now read on the connection's
    // thread, which says 100 Continue itself once the head has passed every check.
    let s = TestServer::spawn();
    let mut stream = connect(&s);
    let body = format!("{{\"key\": \"ksk_nope\"{}}}", " ".repeat(2000));
    let head = format!(
        "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    let mut first = [0; 25];
    stream.read_exact(&mut first).expect("100 Continue before the body");
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).expect("body");
    let (text, _) = read_all(&mut stream);
    assert!(text.starts_with("HTTP/1.1 200 ") && text.contains("\"valid\":false"), "{text}");

    let over = "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Expect: 100-continue\r\nContent-Length: 70000\r\n\r\n";
    let (text, _) = exchange(&s, over.as_bytes());
    assert!(text.starts_with("HTTP/1.1 413 "), "refused without a 100 Continue: {text}");
    assert_refused(&exchange(&s, &head_with("Expect: something-else\r\n")), 417, "expectation_failed");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    // The next request of a connection is read once the one before is answered.
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let body = format!("{{\"key\": \"{}\"}}", a.key);
    let request = format!(
        "POST /v1/verify/key HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
         GET /nope HTTP/1.1\r\nHost: test\r\n\r\nGET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (text, closed) = exchange(&s, request.as_bytes());
    assert!(closed);
    let statuses: Vec<&str> = text.match_indices("HTTP/1.1 ").map(|(at, _)| &text[at + 9..at + 12]).collect();
    assert_eq!(statuses, ["200", "404", "200"], "{text}");
    assert!(text.contains("\"valid\":true"), "{text}");
}
