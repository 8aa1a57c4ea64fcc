//! Keystead patch: TLS through rustls 0.23 (upstream: rustls 0.20 or OpenSSL, a
//! certificate fixed at start). The caller hands over a whole `rustls::ServerConfig`, so
//! it decides the certificate of each handshake (Keystead swaps it on SIGHUP).
//!
//! Nothing here touches the network on the accept thread: the handshake is made by the
//! connection's own thread on its first read, and must end within the request timeout of
//! the connection's start, so a client that never finishes it holds only its own thread.
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::connection::Connection;
use crate::util::refined_tcp_stream::Stream as RefinedStream;

/// TLS over one connection. The reading and the writing halves share the TLS state behind
/// a lock; they never wait on each other, since a connection reads its next request only
/// once the last one is answered. The socket is kept beside it (a second handle) for what
/// needs no TLS state: read timeouts, the peek that tells a client has gone, the address.
pub(crate) struct SslStream {
    tls: Arc<Mutex<StreamOwned<ServerConnection, Connection>>>,
    socket: Arc<Connection>,
    handshake_by: Instant,
}

impl SslStream {
    pub(crate) fn peer_addr(&mut self) -> io::Result<Option<SocketAddr>> {
        match &*self.socket {
            Connection::Tcp(s) => s.peer_addr().map(Some),
            #[cfg(unix)]
            Connection::Unix(_) => Ok(None),
        }
    }

    /// Ends the connection; the writing half first says so in TLS (close_notify) when the
    /// state is free, so the client can tell our end from a cut.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how != Shutdown::Read {
            if let Ok(mut tls) = self.tls.try_lock() {
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
        self.socket.shutdown(how)
    }

    pub(crate) fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.socket.set_read_timeout(timeout)
    }

    /// Whether the client has closed or reset the connection (see `Connection::peer_gone`):
    /// TLS records waiting (a next request, an alert) mean it is still there.
    pub(crate) fn peer_gone(&self) -> bool {
        self.socket.peer_gone()
    }

    fn lock(&self) -> MutexGuard<'_, StreamOwned<ServerConnection, Connection>> {
        self.tls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The handshake, one socket read at a time, each waiting only what is left before
    /// `handshake_by`: a client trickling its hello cannot stretch it.
    fn handshake(&self, tls: &mut StreamOwned<ServerConnection, Connection>) -> io::Result<()> {
        let StreamOwned { conn, sock } = tls;
        while conn.is_handshaking() {
            while conn.wants_write() {
                conn.write_tls(sock)?;
            }
            if !conn.is_handshaking() {
                break;
            }
            let left = self.handshake_by.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.socket.set_read_timeout(left)?;
            if conn.read_tls(sock)? == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            if let Err(e) = conn.process_new_packets() {
                // The alert that says why, if the client still listens.
                let _ = conn.write_tls(sock);
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
        }
        while conn.wants_write() {
            conn.write_tls(sock)?;
        }
        Ok(())
    }
}

impl Clone for SslStream {
    fn clone(&self) -> Self {
        SslStream { tls: self.tls.clone(), socket: self.socket.clone(), handshake_by: self.handshake_by }
    }
}

impl Read for SslStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut tls = self.lock();
        if tls.conn.is_handshaking() {
            // Not TimedOut, which would be answered 408: no HTTP answer can be sent before
            // TLS is up, so a handshake that fails or runs out of time just closes.
            self.handshake(&mut tls).map_err(|e| io::Error::new(ErrorKind::ConnectionAborted, e))?;
        }
        tls.read(buf)
    }
}

impl Write for SslStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lock().flush()
    }
}

/// What the server needs to start TLS on each accepted connection.
pub(crate) struct SslContext(Arc<ServerConfig>);

impl SslContext {
    pub(crate) fn new(config: Arc<ServerConfig>) -> Self {
        SslContext(config)
    }

    /// Wraps an accepted connection; no byte is read or written here.
    pub(crate) fn accept(&self, socket: Connection, handshake_within: Duration) -> io::Result<SslStream> {
        let conn = ServerConnection::new(self.0.clone()).map_err(|e| io::Error::new(ErrorKind::Other, e))?;
        let second = socket.try_clone()?;
        Ok(SslStream {
            tls: Arc::new(Mutex::new(StreamOwned::new(conn, socket))),
            socket: Arc::new(second),
            handshake_by: Instant::now() + handshake_within,
        })
    }
}

impl From<SslStream> for RefinedStream {
    fn from(stream: SslStream) -> Self {
        Self::Https(stream)
    }
}
