//! The metrics listener (`--metrics-bind`): its own socket, its own tiny_http server and
//! one thread answering `GET /metrics`, so that a scrape neither waits for nor takes a
//! worker of the public port, and the metrics are not on the public port at all.
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::text::CONTENT_TYPE;
use crate::app::App;
use crate::background::Background;
use crate::error::Error;

/// Scrapers open few connections; more at once are answered 503 and closed.
const MAX_CONNECTIONS: usize = 16;

/// Serves the metrics on `listener` (from `server::listen`) until stopped.
pub fn start(app: Arc<App>, listener: TcpListener) -> Result<Background, Error> {
    let addr = listener.local_addr().map_err(Error::internal)?;
    let refusal = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let limit = tiny_http::ConnectionLimit {
        max: MAX_CONNECTIONS,
        per_client: MAX_CONNECTIONS,
        client_of: Arc::new(|_| None),
        refusal: refusal.as_slice().into(),
        // Its own counts: the public port's gauges are the public port's.
        open: Arc::default(),
        refused: Arc::default(),
    };
    let requests = tiny_http::RequestLimits { max_body: 0, ..tiny_http::RequestLimits::default() };
    let server = tiny_http::Server::from_listener_limited(listener, None, Some(limit), requests)
        .map_err(|e| Error::internal(e.to_string()))?;
    log::info!("serving metrics on http://{addr}/metrics");
    Background::spawn("metrics", move |stopping| run(&app, &server, stopping))
}

fn run(app: &App, server: &tiny_http::Server, stopping: &AtomicBool) {
    while !stopping.load(std::sync::atomic::Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(rq)) => {
                let (status, body) = answer(app, rq.method(), rq.url());
                let mut res = tiny_http::Response::from_data(body).with_status_code(status);
                let content_type = if status == 200 { CONTENT_TYPE } else { "text/plain; charset=utf-8" };
                for (name, value) in [("Content-Type", content_type), ("Cache-Control", "no-store"), ("Allow", "GET")] {
                    if let Ok(h) = tiny_http::Header::from_bytes(name, value) {
                        res.add_header(h);
                    }
                }
                let _ = rq.respond(res);
            }
            Ok(None) => {}
            Err(e) => log::warn!("metrics: accept failed: {e}"),
        }
    }
}

/// The status and body for a request: the scrape at `/metrics` (any query ignored).
fn answer(app: &App, method: &tiny_http::Method, url: &str) -> (u16, Vec<u8>) {
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    if path != "/metrics" {
        return (404, b"Not found: the metrics are at /metrics.\n".to_vec());
    }
    if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
        return (405, b"Only GET.\n".to_vec());
    }
    match super::render(app) {
        Ok(text) => (200, text.into_bytes()),
        Err(e) => {
            log::warn!("metrics: the scrape failed: {e:?}");
            (500, b"The scrape failed; the server log says why.\n".to_vec())
        }
    }
}
