//! Connections as a network sees them: idle listeners, idle clients, bursts of new clients
//! beside kept-alive ones, more clients than the server takes. The first, the third and the
//! last failed on upstream tiny_http 0.12 (see vendor/tiny_http/PATCHES.md).
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::TestServer;

/// Sends `GET /healthz` on a kept-alive connection and reads the whole answer; returns its head.
pub fn healthz(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a response line");
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().expect("a length");
        }
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    head
}

fn connect(s: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(s.base.trim_start_matches("http://")).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
}

#[test]
fn the_server_still_accepts_after_a_quiet_spell_longer_than_the_client_timeout() {
    // The listener's timeout is what accepted sockets inherit, and accept() itself times
    // out without new clients: upstream tiny_http stopped accepting for good right there.
    let s = TestServer::with_client_timeout(Duration::from_millis(300), |_| {});
    assert!(healthz(&mut connect(&s)).starts_with("HTTP/1.1 200"));
    std::thread::sleep(Duration::from_millis(1200));
    for _ in 0..3 {
        assert!(healthz(&mut connect(&s)).starts_with("HTTP/1.1 200"), "accepting after a quiet spell");
    }
}

#[test]
fn an_idle_client_is_closed_after_the_client_timeout() {
    let s = TestServer::with_client_timeout(Duration::from_millis(300), |_| {});
    let mut idle = connect(&s);
    let mut answer = Vec::new();
    let started = Instant::now();
    let _ = idle.read_to_end(&mut answer);
    assert!(started.elapsed() < Duration::from_secs(5), "closed by the server, not by our own read timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn a_burst_of_new_clients_is_served_while_earlier_ones_stay_connected() {
    // Upstream queued a burst behind the pool's few idle threads, and each queued client
    // waited until a served one disconnected: kept-alive clients starved the others.
    let s = TestServer::spawn();
    let started = Instant::now();
    let mut held: Vec<TcpStream> = (0..24).map(|_| connect(&s)).collect();
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    assert!(started.elapsed() < Duration::from_secs(5), "every client answered while all stay connected");
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"), "a second request on each kept-alive connection");
    }
}

#[test]
fn a_connection_over_the_limit_gets_a_503_and_the_server_carries_on() {
    // Each connection holds a thread. Upstream served every connection it accepted, and when
    // the OS refused one more thread its accept thread panicked: the server was gone for good.
    let s = TestServer::with(|c| c.max_connections = 3);
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect(&s)).collect();
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    let mut refused = String::new();
    connect(&s).read_to_string(&mut refused).expect("an answer, then the end of the connection");
    let (head, body) = refused.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 503 "), "{refused}");
    for header in
        ["Retry-After: 1", "Connection: close", "Content-Type: application/json", "X-Content-Type-Options: nosniff"]
    {
        assert!(head.lines().any(|l| l == header), "{header} in {head}");
    }
    let error: serde_json::Value = serde_json::from_str(body).expect("the API's error shape");
    assert_eq!(error["error"]["code"], "unavailable", "{body}");
    // The connections already open are served as before.
    assert!(healthz(&mut held[0]).starts_with("HTTP/1.1 200"));
    // Once one closes, a new client takes its place.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let mut stream = connect(&s);
        let mut first = [0; 12];
        // A refused connection may be closed before the request is written: try again.
        let request = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
        if request.is_ok() && stream.read_exact(&mut first).is_ok() && &first == b"HTTP/1.1 200" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "a place frees up when a client leaves");
        std::thread::sleep(Duration::from_millis(50));
    }
}
