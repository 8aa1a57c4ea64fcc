//! The HTTP server: a fixed pool of worker threads, each taking requests from one shared
//! tiny_http queue. Workers own the request id, the body limit, the security headers,
//! the log line, and turning a panic into a 500.
use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs as _};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::app::App;
use crate::error::Error;
use crate::http::body::MAX_BODY;
use crate::http::{Method, Req, Response, error, router};
use crate::{mail, maintenance};

/// A connection that sends nothing for this long is answered 408 and closed (tiny_http
/// sets no timeouts of its own; accepted sockets inherit these from the listener, whose
/// accept() then fails every so long without a new client: our tiny_http carries on).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Running {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    mail: mail::Sender,
    pruner: maintenance::Pruner,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking requests, lets those in flight finish, and returns when all have.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        for w in self.workers {
            let _ = w.join();
        }
        self.mail.stop();
        self.pruner.stop();
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
    let limit = tiny_http::ConnectionLimit { max: app.config.max_connections, refusal: refusal(&app.config.base_url) };
    let server = Arc::new(
        tiny_http::Server::from_listener_limited(listener, None, Some(limit))
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
    let stopping = Arc::new(AtomicBool::new(false));
    let ids = Arc::new(AtomicU64::new(0));
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
            return Err(e);
        }
    };
    log::info!("listening on http://{addr} with {} workers", app.config.workers);
    Ok(Running { addr, stopping, workers, mail, pruner })
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
    let (body, too_large) = read_body(&mut rq);
    let mut req = Req::new(method, rq.url(), headers, body, peer, app.config.trust_proxy);
    let scope = crate::store::cache::RequestScope::enter();
    let response = if too_large {
        error::to_response(&Error::PayloadTooLarge)
    } else {
        catch_unwind(AssertUnwindSafe(|| router::dispatch(app, &mut req)))
            .unwrap_or_else(|_| error::to_response(&Error::internal("a handler panicked")))
    };
    drop(scope);
    let status = response.status;
    let request_id = format!("{id:016x}");
    if let Err(e) = rq.respond(to_tiny(response, Some(&request_id), &app.config.base_url, too_large)) {
        log::debug!("{request_id} could not send the response: {e}");
    }
    // Security: the route template and ids only; never the URL (it may carry ?token=), a body or a header.
    log::info!(
        "{request_id} {} {} {status} {:.2}ms",
        method.as_str(),
        req.route,
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// Reads at most `MAX_BODY` bytes; the flag says whether the body was larger.
fn read_body(rq: &mut tiny_http::Request) -> (Vec<u8>, bool) {
    if rq.body_length().is_some_and(|n| n > MAX_BODY) {
        return (Vec::new(), true);
    }
    let mut body = Vec::with_capacity(rq.body_length().unwrap_or(0));
    match rq.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut body) {
        Ok(_) if body.len() > MAX_BODY => (Vec::new(), true),
        Ok(_) => (body, false),
        // A body that stops arriving: answer as a bad request with an empty body.
        Err(_) => (Vec::new(), false),
    }
}

fn to_tiny(
    r: Response,
    request_id: Option<&str>,
    base_url: &str,
    close: bool,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let Response { status, headers, body } = r;
    let mut out = tiny_http::Response::from_data(body).with_status_code(status);
    for (name, value) in headers_of(&headers, request_id, base_url, close) {
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

/// What a connection over `--max-connections` is sent, whole, before tiny_http's accept
/// thread closes it: the API's 503 `unavailable` with `Retry-After`. It is made once, so
/// it carries no Date (optional on a 5xx) and no request id.
fn refusal(base_url: &str) -> Arc<[u8]> {
    let r = error::unlogged(&Error::Unavailable("too many open connections".into()));
    let mut head = String::from("HTTP/1.1 503 Service Unavailable\r\n");
    for (name, value) in headers_of(&r.headers, None, base_url, true) {
        head += &format!("{name}: {value}\r\n");
    }
    head += &format!("Content-Length: {}\r\n\r\n", r.body.len());
    [head.as_bytes(), &r.body].concat().into()
}
