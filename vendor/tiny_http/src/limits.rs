//! Keystead patch: the bounds every request is read within, on its connection's thread,
//! before any worker sees it. Upstream read a head line of any length into memory (a
//! 64 MiB header line grew the process by 64 MiB), let a client trickle its head and body
//! for as long as it liked, and left bodies over 1024 bytes for the worker to read, so a
//! few slow clients held every worker.
use std::io::{self, ErrorKind, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::util::RefinedTcpStream;

/// What a request may be, and how long it may take to arrive.
#[derive(Clone)]
pub struct RequestLimits {
    /// The request line (414 over it) and each header line (431).
    pub max_line: usize,
    /// The request line and every header line together (431).
    pub max_head: usize,
    /// Header lines (431).
    pub max_headers: usize,
    /// A body, by its `Content-Length` or as decoded from chunks (413).
    pub max_body: usize,
    /// A whole request, head and body, from its first byte (408); and a kept-alive
    /// connection that sends nothing for this long is closed.
    pub timeout: Duration,
    /// The whole HTTP response (head and body, ending the connection) sent for a request
    /// refused with this status: 400, 408, 413, 414, 417, 431.
    pub answer: Arc<dyn Fn(u16) -> Vec<u8> + Send + Sync>,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_line: 8 * 1024,
            max_head: 32 * 1024,
            max_headers: 100,
            max_body: 1024 * 1024,
            timeout: Duration::from_secs(30),
            answer: Arc::new(|status| {
                format!("HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", crate::StatusCode(status).default_reason_phrase())
                    .into_bytes()
            }),
        }
    }
}

/// When the current wait ends: shared by a connection's reader and its socket.
#[derive(Clone)]
pub(crate) struct Deadline(Arc<Mutex<Instant>>);

impl Deadline {
    pub(crate) fn new(after: Duration) -> Self {
        Deadline(Arc::new(Mutex::new(Instant::now() + after)))
    }

    pub(crate) fn set(&self, after: Duration) {
        // A panic cannot leave an Instant half-written: the value is good after poisoning.
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now() + after;
    }

    fn left(&self) -> Duration {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).saturating_duration_since(Instant::now())
    }
}

/// The socket, read with a timeout that is whatever is left before the deadline, so that
/// a client sending one byte at a time cannot stretch a request past it.
pub(crate) struct TimedStream {
    inner: RefinedTcpStream,
    deadline: Deadline,
}

impl TimedStream {
    pub(crate) fn new(inner: RefinedTcpStream, deadline: Deadline) -> Self {
        TimedStream { inner, deadline }
    }

    /// Keystead patch: whether the client has gone (see `Connection::peer_gone`).
    pub(crate) fn peer_gone(&self) -> bool {
        self.inner.peer_gone()
    }

    /// Ends our side of the connection (the client reads the answer, then the end).
    pub(crate) fn shutdown_write(&self) {
        self.inner.shutdown_write();
    }
}

impl Read for TimedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.left();
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.inner.set_read_timeout(left)?;
        match self.inner.read(buf) {
            // SO_RCVTIMEO expiring reads as EAGAIN on Linux.
            Err(e) if e.kind() == ErrorKind::WouldBlock => Err(ErrorKind::TimedOut.into()),
            other => other,
        }
    }
}
