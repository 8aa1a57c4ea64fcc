//! The HTTP server: a fixed pool of worker threads, each taking requests from one shared
//! tiny_http queue. Our tiny_http reads each request whole, within the limits below, on
//! its connection's own thread, so a slow client holds no worker. Workers own the request
//! id, the security headers, the log line, and turning a panic into a 500.
use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs as _};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::app::App;
use crate::background::Background;
use crate::core::usage;
use crate::error::Error;
use crate::http::body::MAX_BODY;
use crate::http::client::Client;
use crate::http::{self, Method, Req, Response, error, router};
use crate::{mail, maintenance};

/// A request must arrive whole, head and body, within this of its first byte (else 408,
/// and the connection is closed): at 64 KiB of body and 32 KiB of head, a client slower
/// than 5 KB/s is cut off. A kept-alive connection quiet for this long after our answer is
/// closed. Accepted sockets inherit it from the listener as their read and write timeout,
/// and the listener's accept() then fails every so long without a new client: our
/// tiny_http carries on.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// The request line (else 414) and each header line (else 431).
const MAX_LINE: usize = 8 * 1024;
/// The request line and headers together (else 431).
const MAX_HEAD: usize = 32 * 1024;
/// Header lines (else 431).
const MAX_HEADERS: usize = 100;

pub struct Running {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    mail: Background,
    pruner: Background,
    usage: Background,
    /// The metrics listener (`--metrics-bind`) and its address.
    metrics: Option<(SocketAddr, Background)>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `GET /metrics` is served, when `--metrics-bind` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, _)| *addr)
    }

    /// Stops taking requests, lets those in flight finish, and returns when all have.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        for w in self.workers {
            let _ = w.join();
        }
        if let Some((_, metrics)) = self.metrics {
            metrics.stop();
        }
        self.mail.stop();
        self.pruner.stop();
        // After the workers: its last flush writes every use they recorded.
        self.usage.stop();
    }
}

/// A listening socket with the timeouts every connection inherits. Binding before the app
/// exists lets a caller learn the port of `127.0.0.1:0` first (tests make it the base URL).
pub fn listen(bind: &str, client_timeout: Duration) -> Result<TcpListener, Error> {
    let addr = bind
        .to_socket_addrs()
        .map_err(|e| Error::invalid(format!("cannot resolve {bind}: {e}")))?
        .next()
        .ok_or_else(|| Error::invalid(format!("{bind} names no address")))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(Error::internal)?;
    socket.set_reuse_address(true).map_err(Error::internal)?;
    socket.set_read_timeout(Some(client_timeout)).map_err(Error::internal)?;
    socket.set_write_timeout(Some(client_timeout)).map_err(Error::internal)?;
    // tiny_http writes through a 1024-byte buffer, so a larger response leaves in two
    // writes; with Nagle the second waits for the client's delayed ACK (40 ms on Linux).
    // Accepted sockets inherit TCP_NODELAY from the listener.
    socket.set_tcp_nodelay(true).map_err(Error::internal)?;
    socket.bind(&addr.into()).map_err(|e| Error::invalid(format!("cannot listen on {bind}: {e}")))?;
    socket.listen(1024).map_err(Error::internal)?;
    Ok(socket.into())
}

pub fn start(app: Arc<App>, bind: &str) -> Result<Running, Error> {
    start_on(app, listen(bind, CLIENT_TIMEOUT)?)
}

/// As `start`, on a socket from `listen`.
pub fn start_on(app: Arc<App>, listener: TcpListener) -> Result<Running, Error> {
    let addr = listener.local_addr().map_err(Error::internal)?;
    let ids = Arc::new(AtomicU64::new(0));
    // The timeout `listen` gave the socket (tests give a short one).
    let timeout = socket2::SockRef::from(&listener).read_timeout().map_err(Error::internal)?.unwrap_or(CLIENT_TIMEOUT);
    // Bound before anything starts, so that a taken address stops the start cleanly.
    let metrics_listener = app.config.metrics_bind.as_deref().map(|b| listen(b, CLIENT_TIMEOUT)).transpose()?;
    let tls = app.tls.as_ref().map(crate::tls::Certificate::server_config).transpose()?;
    let server = Arc::new(
        tiny_http::Server::from_listener_limited(
            listener,
            tls,
            Some(connection_limit(&app)),
            request_limits(&app, timeout, ids.clone()),
        )
        .map_err(|e| Error::internal(e.to_string()))?,
    );
    // The mail sender first: if it cannot start, no worker has been started either.
    let mail = mail::start(app.clone())?;
    let pruner = match maintenance::start(app.clone()) {
        Ok(p) => p,
        Err(e) => {
            mail.stop();
            return Err(e);
        }
    };
    let usage = match usage::start(app.clone()) {
        Ok(u) => u,
        Err(e) => {
            mail.stop();
            pruner.stop();
            return Err(e);
        }
    };
    let metrics = match metrics_listener.map(|l| metrics_on(&app, l)).transpose() {
        Ok(m) => m,
        Err(e) => {
            mail.stop();
            pruner.stop();
            usage.stop();
            return Err(e);
        }
    };
    let stopping = Arc::new(AtomicBool::new(false));
    let workers = (0..app.config.workers)
        .map(|n| {
            let (app, server, stopping, ids) = (app.clone(), server.clone(), stopping.clone(), ids.clone());
            std::thread::Builder::new()
                .name(format!("worker-{n}"))
                .spawn(move || work(&app, &server, &stopping, &ids))
                .map_err(Error::internal)
        })
        .collect::<Result<Vec<_>, _>>();
    let workers = match workers {
        Ok(w) => w,
        Err(e) => {
            // Workers already started see the flag and end; the mail sender is stopped too.
            stopping.store(true, Ordering::SeqCst);
            mail.stop();
            pruner.stop();
            usage.stop();
            if let Some((_, m)) = metrics {
                m.stop();
            }
            return Err(e);
        }
    };
    let scheme = if app.tls.is_some() { "https" } else { "http" };
    log::info!("listening on {scheme}://{addr} with {} workers", app.config.workers);
    Ok(Running { addr, stopping, workers, mail, pruner, usage, metrics })
}

/// The metrics listener on its socket, and its address.
fn metrics_on(app: &Arc<App>, listener: TcpListener) -> Result<(SocketAddr, Background), Error> {
    let addr = listener.local_addr().map_err(Error::internal)?;
    Ok((addr, crate::metrics::serve::start(app.clone(), listener)?))
}

fn work(app: &App, server: &tiny_http::Server, stopping: &AtomicBool, ids: &AtomicU64) {
    while !stopping.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(rq)) => serve_one(app, rq, ids.fetch_add(1, Ordering::Relaxed)),
            Ok(None) => {}
            Err(e) => log::warn!("accept failed: {e}"),
        }
    }
}

fn serve_one(app: &App, mut rq: tiny_http::Request, id: u64) {
    let started = Instant::now();
    let method = Method::parse(rq.method().as_str());
    let headers: Vec<(String, String)> = rq
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
        .collect();
    let peer = rq.remote_addr().map(SocketAddr::ip);
    let arrived = rq.received_at();
    // Read whole by tiny_http already, within MAX_BODY: this only moves it out.
    let mut body = Vec::with_capacity(rq.body_length().unwrap_or(0));
    let _ = rq.as_reader().read_to_end(&mut body);
    let proxies = app.config.trust_proxy.then_some(&app.config.trusted_proxies);
    let mut req = Req::new(method, rq.url(), headers, body, peer, proxies);
    let scope = crate::store::cache::RequestScope::enter();
    let client = Client { arrived, gone: rq.gone_flag() };
    let response = catch_unwind(AssertUnwindSafe(|| http::client::serving(client, || router::dispatch(app, &mut req))))
        .unwrap_or_else(|_| error::to_response(&Error::internal("a handler panicked")));
    drop(scope);
    let status = response.status;
    let request_id = format!("{id:016x}");
    if let Err(e) = rq.respond(to_tiny(response, Some(&request_id), &app.config.base_url)) {
        log::debug!("{request_id} could not send the response: {e}");
    }
    // From its arrival whole (its wait for a worker counts) to its answer written.
    app.metrics.request(method, req.route, status, arrived.elapsed());
    // Security: the route template and ids only; never the URL (it may carry ?token=), a body or a header.
    let duration_ms = (started.elapsed().as_secs_f64() * 1e5).round() / 1e2;
    let (method, route, tenant_id) = (method.as_str(), req.route, req.acting_tenant.get().map(|t| t.to_string()));
    log::info!(
        target: "request", request_id, method, route, status, duration_ms, tenant_id = tenant_id.as_deref();
        "{request_id} {method} {route} {status} {duration_ms:.2}ms"
    );
}

fn to_tiny(r: Response, request_id: Option<&str>, base_url: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let Response { status, headers, body } = r;
    let mut out = tiny_http::Response::from_data(body).with_status_code(status);
    for (name, value) in headers_of(&headers, request_id, base_url, false) {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(h);
        }
    }
    out
}

/// A response's own headers, then those every response carries (no allocation: every
/// request goes through here).
fn headers_of<'a>(
    own: &'a [(&'static str, String)],
    request_id: Option<&'a str>,
    base_url: &str,
    close: bool,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let cache = !own.iter().any(|(n, _)| n.eq_ignore_ascii_case("cache-control"));
    let hsts = base_url.starts_with("https://");
    own.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .chain(cache.then_some(("Cache-Control", "no-store")))
        .chain(request_id.map(|id| ("X-Request-Id", id)))
        .chain([("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin")])
        .chain(hsts.then_some(("Strict-Transport-Security", "max-age=31536000; includeSubDomains")))
        .chain(close.then_some(("Connection", "close")))
}

/// `--max-connections` in all, and an eighth of it for one client (an IPv4 address or an
/// IPv6 /64), but at least 16 so that a small limit still serves one office: a client that
/// opens connections without end is refused before it takes every place. A trusted proxy
/// speaks for many clients and is held to the global limit only.
fn connection_limit(app: &App) -> tiny_http::ConnectionLimit {
    let config = &app.config;
    let max = config.max_connections;
    let proxies = config.trust_proxy.then(|| config.trusted_proxies.clone());
    tiny_http::ConnectionLimit {
        max,
        per_client: (max / 8).max(16),
        client_of: Arc::new(move |ip: IpAddr| {
            (!proxies.as_ref().is_some_and(|p| p.contains(ip))).then(|| crate::limit::client_net(ip))
        }),
        // Made once: it carries no request id.
        refusal: whole(
            &error::unlogged(&Error::Unavailable("too many open connections".into())),
            None,
            &config.base_url,
        )
        .into(),
        open: app.metrics.connections_open.clone(),
        refused: app.metrics.connections_refused.clone(),
    }
}

/// The limits of a request's head and body, and the answer to one refused at the edge
/// (with a request id, a log line and its count, as any answer).
fn request_limits(app: &Arc<App>, timeout: Duration, ids: Arc<AtomicU64>) -> tiny_http::RequestLimits {
    let base_url = app.config.base_url.clone();
    let app = app.clone();
    tiny_http::RequestLimits {
        max_line: MAX_LINE,
        max_head: MAX_HEAD,
        max_headers: MAX_HEADERS,
        max_body: MAX_BODY,
        timeout,
        answer: Arc::new(move |status| {
            let request_id = format!("{:016x}", ids.fetch_add(1, Ordering::Relaxed));
            log::info!("{request_id} - (refused at the edge) {status}");
            app.metrics.refused_at_edge(status);
            whole(&edge_error(status), Some(&request_id), &base_url)
        }),
    }
}

/// The API's error for a request refused before it reached a handler.
fn edge_error(status: u16) -> Response {
    let (code, message) = match status {
        408 => ("request_timeout", "The request did not arrive in time."),
        413 => return error::unlogged(&Error::PayloadTooLarge),
        414 => ("uri_too_long", "The request line is too long."),
        417 => ("expectation_failed", "Only Expect: 100-continue is understood."),
        431 => ("header_fields_too_large", "The request headers are too large."),
        _ => return error::unlogged(&Error::invalid("The request is malformed.")),
    };
    Response::json(status, &serde_json::json!({ "error": { "code": code, "message": message } }))
}

/// A response written whole, sent by tiny_http before it closes the connection. It carries
/// no Date (optional on a 4xx and 5xx).
fn whole(r: &Response, request_id: Option<&str>, base_url: &str) -> Vec<u8> {
    let reason = tiny_http::StatusCode(r.status).default_reason_phrase();
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (name, value) in headers_of(&r.headers, request_id, base_url, true) {
        head += &format!("{name}: {value}\r\n");
    }
    head += &format!("Content-Length: {}\r\n\r\n", r.body.len());
    [head.as_bytes(), &r.body].concat()
}
