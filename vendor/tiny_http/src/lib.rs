//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::{Arc, Mutex};
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()`:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

use std::error::Error;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::collections::HashMap;
use std::net::{IpAddr, Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use client::ClientConnection;
use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use limits::RequestLimits;
pub use connection::{ConfigListenAddr, ListenAddr, Listener};
pub use request::{ReadWrite, Request};
pub use response::{Response, ResponseBox};
pub use test::TestRequest;

mod client;
mod common;
mod connection;
mod limits;
mod request;
mod response;
mod ssl;
mod test;
mod util;

/// The main class of this library.
///
/// Destroying this object will immediately close the listening socket and the reading
///  part of all the client's connections. Requests that have already been returned by
///  the `recv()` function will not close and the responses will be transferred to the client.
/// Keystead patch: how often a connection whose request waits for its answer is looked
/// at for a client that has gone.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

pub struct Server {
    // should be false as long as the server exists
    // when set to true, all the subtasks will close within a few hundreds ms
    close: Arc<AtomicBool>,

    // queue for messages received by child threads
    messages: Arc<MessagesQueue<Message>>,

    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,
}

enum Message {
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
#[doc(hidden)]
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

/// Represents the parameters required to create a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The addresses to try to listen to.
    pub addr: ConfigListenAddr,

    /// If `Some`, then the server will use SSL to encode the communications.
    pub ssl: Option<SslConfig>,
}

/// Keystead patch: connections open per client (as `ConnectionLimit::client_of` groups them).
type OpenByClient = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Keystead patch: one open connection, counted from its acceptance to the end of its task,
/// in all and for its client.
struct OpenConnection {
    open: Arc<AtomicUsize>,
    client: Option<(IpAddr, OpenByClient)>,
}

impl OpenConnection {
    fn new(open: &Arc<AtomicUsize>, client: Option<(IpAddr, &OpenByClient)>) -> Self {
        open.fetch_add(1, Relaxed);
        let client = client.map(|(ip, by_client)| {
            *lock(by_client).entry(ip).or_insert(0) += 1;
            (ip, by_client.clone())
        });
        OpenConnection { open: open.clone(), client }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Relaxed);
        if let Some((ip, by_client)) = &self.client {
            let mut by_client = lock(by_client);
            if let Some(n) = by_client.get_mut(ip) {
                *n -= 1;
                if *n == 0 {
                    by_client.remove(ip);
                }
            }
        }
    }
}

/// Keystead patch: the counts stay right through a panic (each change is one statement).
fn lock(by_client: &OpenByClient) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
    by_client.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keystead patch: at most `max` connections are served at once, and at most `per_client`
/// of them for one client. Each open connection holds a thread, and a process cannot make
/// threads without end: upstream's accept thread panicked when the OS refused one more,
/// and the server never accepted again; and one client could take every place.
/// A connection over either limit is sent `refusal` (a whole HTTP response) and closed.
#[derive(Clone)]
pub struct ConnectionLimit {
    pub max: usize,
    pub per_client: usize,
    /// The client a peer address counts for (e.g. its IPv6 /64), or None for a peer
    /// exempt from `per_client` (a trusted proxy speaks for many clients).
    pub client_of: Arc<dyn Fn(IpAddr) -> Option<IpAddr> + Send + Sync>,
    pub refusal: Arc<[u8]>,
    /// Keystead patch: the caller's counters (for its metrics): connections open now, and
    /// those refused (sent `refusal`) since start. This loop keeps both.
    pub open: Arc<AtomicUsize>,
    pub refused: Arc<AtomicU64>,
}

/// Configuration of the server for SSL. Keystead patch: a whole rustls configuration
/// (see `ssl.rs`), where upstream took one certificate and key in PEM.
#[derive(Debug, Clone)]
pub struct SslConfig(pub Arc<rustls::ServerConfig>);

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: None,
        })
    }

    /// Shortcut for an HTTPS server on a specific address.
    #[inline]
    pub fn https<A>(
        addr: A,
        config: SslConfig,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: Some(config),
        })
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::unix_from_path(path),
            ssl: None,
        })
    }

    /// Builds a new server that listens on the specified address.
    pub fn new(config: ServerConfig) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = config.addr.bind()?;
        Self::from_listener(listener, config.ssl)
    }

    /// Builds a new server using the specified TCP listener.
    ///
    /// This is useful if you've constructed TcpListener using some less usual method
    /// such as from systemd. For other cases, you probably want the `new()` function.
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::from_listener_limited(listener, ssl_config, None, RequestLimits::default())
    }

    /// Keystead patch: as `from_listener`, serving at most `limit.max` connections at once
    /// and reading each request within `requests`.
    pub fn from_listener_limited<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
        limit: Option<ConnectionLimit>,
        requests: RequestLimits,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let requests = Arc::new(requests);
        let listener = listener.into();
        // building the "close" variable
        let close_trigger = Arc::new(AtomicBool::new(false));

        // building the TcpListener
        let (server, local_addr) = {
            let local_addr = listener.local_addr()?;
            log::debug!("Server listening on {}", local_addr);
            (listener, local_addr)
        };

        let ssl = ssl_config.map(|c| ssl::SslContext::new(c.0));

        // creating a task where server.accept() is continuously called
        // and ClientConnection objects are pushed in the messages queue
        let messages = MessagesQueue::with_capacity(8);

        let inside_close_trigger = close_trigger.clone();
        let inside_messages = messages.clone();
        thread::spawn(move || {
            // a tasks pool is used to dispatch the connections into threads
            let tasks_pool = util::TaskPool::new();
            let open = limit.as_ref().map_or_else(Arc::default, |l| l.open.clone());
            let open_by_client: OpenByClient = Arc::default();
            let mut last_refusal_logged: Option<std::time::Instant> = None;

            log::debug!("Running accept thread");
            while !inside_close_trigger.load(Relaxed) {
                let new_client = match server.accept() {
                    Ok((mut sock, peer)) => {
                        let client = limit.as_ref().zip(peer).and_then(|(l, a)| (l.client_of)(a.ip()));
                        if let Some(limit) = &limit {
                            let of_client = client.map_or(0, |c| lock(&open_by_client).get(&c).copied().unwrap_or(0));
                            if open.load(Relaxed) >= limit.max || of_client >= limit.per_client {
                                // Said once a minute at most: a flood must not flood the log.
                                if last_refusal_logged.map_or(true, |t| t.elapsed() >= Duration::from_secs(60)) {
                                    if of_client >= limit.per_client {
                                        log::warn!("a client holds its share of connections ({}): its new ones get 503", limit.per_client);
                                    } else {
                                        log::warn!("connection limit reached ({} open): new connections get 503", limit.max);
                                    }
                                    last_refusal_logged = Some(std::time::Instant::now());
                                }
                                // Best effort: a fresh socket's send buffer takes the few
                                // hundred bytes at once, so this never waits.
                                limit.refused.fetch_add(1, Relaxed);
                                let _ = std::io::Write::write_all(&mut sock, &limit.refusal);
                                let _ = sock.shutdown(Shutdown::Write);
                                continue;
                            }
                        }
                        use util::RefinedTcpStream;
                        let (read_closable, write_closable) = match ssl {
                            None => RefinedTcpStream::new(sock),
                            // Keystead patch: no I/O here, the handshake is the connection
                            // thread's (see `ssl.rs`), within the request timeout.
                            Some(ref ssl) => match ssl.accept(sock, requests.timeout) {
                                Ok(s) => RefinedTcpStream::new(s),
                                Err(_) => continue,
                            },
                        };

                        Ok((ClientConnection::new(write_closable, read_closable, requests.clone()), client))
                    }
                    Err(e) => Err(e),
                };

                match new_client {
                    Ok((client, client_key)) => {
                        let messages = inside_messages.clone();
                        let mut client = Some(client);
                        // Counts the connection until its task ends (or is dropped unrun).
                        let held = OpenConnection::new(&open, client_key.map(|c| (c, &open_by_client)));
                        tasks_pool.spawn(Box::new(move || {
                            let _held = &held;
                            if let Some(mut client) = client.take() {
                                // Keystead patch: the next request is read once this one
                                // is answered (upstream did so for HTTPS only): its body is
                                // read whole on this thread, and the client's quiet time
                                // between requests counts from our answer.
                                //
                                // Keystead patch: while it waits, the connection is looked
                                // at every so often, and a client that has gone is flagged
                                // on its request (`Request::client_gone`): a handler may
                                // then spare work nobody will read.
                                let (sender, receiver) = mpsc::channel();
                                while let Some(rq) = client.next() {
                                    let gone = rq.gone_flag();
                                    messages.push(rq.with_notify_sender(sender.clone()).into());
                                    let answered = loop {
                                        match receiver.recv_timeout(WATCH_EVERY) {
                                            Ok(()) => break true,
                                            Err(mpsc::RecvTimeoutError::Disconnected) => break false,
                                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                                if client.client_gone() {
                                                    gone.store(true, std::sync::atomic::Ordering::SeqCst);
                                                }
                                            }
                                        }
                                    };
                                    if !answered {
                                        break;
                                    }
                                }
                            }
                        }));
                    }

                    // Keystead patch: a failed accept() is not the end of the server. With
                    // SO_RCVTIMEO on the listener (which accepted sockets inherit as their
                    // read timeout), accept() fails with EAGAIN after that long without a
                    // new connection; a client that resets before being accepted, or a
                    // full file table, fail one accept too. Upstream broke out of this
                    // loop on any error and the server never accepted again. Other errors
                    // wait 100 ms, so a full file table does not spin (or flood the log).
                    Err(e) => {
                        if !matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock
                                | std::io::ErrorKind::TimedOut
                                | std::io::ErrorKind::Interrupted
                        ) {
                            log::warn!("Error accepting new client: {}", e);
                            thread::sleep(std::time::Duration::from_millis(100));
                        }
                    }
                }
            }
            log::debug!("Terminating accept thread");
        });

        // result
        Ok(Server {
            messages,
            close: close_trigger,
            listening_addr: local_addr,
        })
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Returns the number of clients currently connected to the server.
    pub fn num_connections(&self) -> usize {
        unimplemented!()
        //self.requests_receiver.lock().len()
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    pub fn recv(&self) -> IoResult<Request> {
        match self.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(rq),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.messages.unblock();
    }
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close.store(true, Relaxed);
        // Connect briefly to ourselves to unblock the accept thread
        let maybe_stream = match &self.listening_addr {
            ListenAddr::IP(addr) => TcpStream::connect(addr).map(Connection::from),
            #[cfg(unix)]
            ListenAddr::Unix(addr) => {
                // TODO: use connect_addr when its stabilized.
                let path = addr.as_pathname().unwrap();
                std::os::unix::net::UnixStream::connect(path).map(Connection::from)
            }
        };
        if let Ok(stream) = maybe_stream {
            let _ = stream.shutdown(Shutdown::Both);
        }

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
