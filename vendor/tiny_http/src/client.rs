use std::io::Result as IoResult;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use crate::common::{HTTPVersion, Method};
use crate::limits::{Deadline, RequestLimits, TimedStream};
use crate::util::RefinedTcpStream;
use crate::util::SequentialWriterBuilder;
use crate::{Header, Request};

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
///
/// Keystead patch: each request is read whole (head and body, within `limits`) on the
/// connection's thread, and the next one only once it has been answered (see lib.rs).
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // the one reader of the socket
    source: BufReader<TimedStream>,

    // when the current read must end
    deadline: Deadline,

    limits: Arc<RequestLimits>,

    // sequence of Writers to the stream, to avoid writing response #2 before
    //  response #1
    sink: SequentialWriterBuilder<BufWriter<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // true if the connection goes through SSL
    secure: bool,
}

/// Keystead patch: why no request came out of the connection.
#[derive(Debug)]
enum ReadError {
    /// The client closed, went quiet between requests, or the socket failed: end quietly.
    Closed,
    /// Answer with this status and close: what follows cannot be trusted to be a request.
    Refuse(u16),
    /// Answer 413 to a body of this length, read (and dropped) after the answer up to
    /// `MAX_DRAIN` bytes: a client that writes its whole body before it reads then gets
    /// the answer rather than a reset connection.
    TooLarge(usize),
}

/// Keystead patch: the most of a refused request that is read after the answer.
const MAX_DRAIN: usize = 1024 * 1024;

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            ErrorKind::TimedOut => ReadError::Refuse(408),
            _ => ReadError::Closed,
        }
    }
}

/// How the body of a request is framed.
enum Framing {
    Length(usize),
    Chunked,
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(
        write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
        limits: Arc<RequestLimits>,
    ) -> ClientConnection {
        let remote_addr = read_socket.peer_addr();
        let secure = read_socket.secure();
        let deadline = Deadline::new(limits.timeout);
        let source = BufReader::with_capacity(1024, TimedStream::new(read_socket, deadline.clone()));

        ClientConnection {
            source,
            deadline,
            limits,
            sink: SequentialWriterBuilder::new(BufWriter::with_capacity(1024, write_socket)),
            remote_addr,
            no_more_requests: false,
            secure,
        }
    }

    /// Keystead patch: whether the client closed the connection while a request of it
    /// waits for its answer. Bytes it sent since (a pipelined request) are still in the
    /// socket or our buffer, and mean it is there.
    pub(crate) fn client_gone(&self) -> bool {
        self.source.buffer().is_empty() && self.source.get_ref().peer_gone()
    }

    /// true if the connection is HTTPS
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Reads one line of the head, ended by CRLF, of at most `max` bytes and at most what is
    /// `left` of the head (else `too_long`). Only visible ASCII, spaces and tabs
    /// are taken: a bare CR or LF, a control or a non-ASCII byte is 400 (a proxy in front
    /// might have read such a line differently, and header values are ASCII to us).
    fn read_line(&mut self, max: usize, too_long: u16, left: &mut usize) -> Result<String, ReadError> {
        let mut line = Vec::new();
        loop {
            let available = self.source.fill_buf()?;
            if available.is_empty() {
                return Err(ReadError::Closed);
            }
            let (taken, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            line.extend_from_slice(&available[..taken]);
            self.source.consume(taken);
            if line.len() > max.min(*left) + 2 {
                return Err(ReadError::Refuse(too_long));
            }
            if end {
                break;
            }
        }
        *left = left.saturating_sub(line.len());
        if !line.ends_with(b"\r\n") {
            return Err(ReadError::Refuse(400));
        }
        line.truncate(line.len() - 2);
        if line.iter().any(|&b| !(b == b'\t' || (b' '..=b'~').contains(&b))) {
            return Err(ReadError::Refuse(400));
        }
        String::from_utf8(line).map_err(|_| ReadError::Refuse(400))
    }

    /// Reads a request from the stream: its head, then its whole body.
    fn read(&mut self) -> Result<Request, ReadError> {
        let limits = self.limits.clone();
        // Between requests a connection may stay quiet for `timeout`; once the first byte
        // of a request has come, the whole request must arrive within `timeout` of it.
        self.deadline.set(limits.timeout);
        // Nothing at all (the client left, or stayed quiet): closed without an answer.
        if self.source.fill_buf().map_or(true, |b| b.is_empty()) {
            return Err(ReadError::Closed);
        }
        self.deadline.set(limits.timeout);

        let mut head_left = limits.max_head;
        let line = self.read_line(limits.max_line, 414, &mut head_left)?;
        let (method, path, version) = parse_request_line(line.trim()).map_err(|_| ReadError::Refuse(400))?;
        // Another protocol's request line is a client error (upstream answered 505 and read on).
        if version > (1, 1) {
            return Err(ReadError::Refuse(400));
        }

        let mut headers: Vec<Header> = Vec::new();
        loop {
            let line = self.read_line(limits.max_line, 431, &mut head_left)?;
            if line.is_empty() {
                break;
            }
            if headers.len() == limits.max_headers {
                return Err(ReadError::Refuse(431));
            }
            // Untrimmed: a name with spaces around it, or a folded line, is refused.
            match Header::from_str(&line) {
                Ok(h) if !h.field.as_str().as_str().is_empty() => headers.push(h),
                _ => return Err(ReadError::Refuse(400)),
            }
        }

        let framing = framing(&headers)?;
        if let Framing::Length(n) = framing {
            if n > limits.max_body {
                // Refused before a byte of it is read into memory.
                return Err(ReadError::TooLarge(n));
            }
        }
        let mut writer = self.sink.next().ok_or(ReadError::Closed)?;
        match headers.iter().find(|h| h.field.equiv("Expect")).map(|h| h.value.as_str()) {
            None => {}
            Some(v) if v.eq_ignore_ascii_case("100-continue") => {
                writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                writer.flush()?;
            }
            Some(_) => return Err(ReadError::Refuse(417)),
        }
        let body = match framing {
            Framing::Length(n) => {
                let mut body = vec![0; n];
                self.source.read_exact(&mut body)?;
                body
            }
            Framing::Chunked => self.read_chunks()?,
        };

        Ok(crate::request::new_read_request(
            self.secure,
            method,
            path,
            version,
            headers,
            *self.remote_addr.as_ref().map_err(|_| ReadError::Closed)?,
            body,
            writer,
        ))
    }

    /// A chunked body, decoded: at most `max_body` bytes of data, and as much again of
    /// chunk-size lines and trailers (else 413; trailers are dropped).
    fn read_chunks(&mut self) -> Result<Vec<u8>, ReadError> {
        let max_line = self.limits.max_line;
        let mut framing_left = self.limits.max_body;
        let mut body = Vec::new();
        loop {
            let line = self.read_line(max_line, 413, &mut framing_left)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ReadError::Refuse(400));
            }
            let size = usize::from_str_radix(size, 16).map_err(|_| ReadError::Refuse(413))?;
            if size == 0 {
                break;
            }
            if size > self.limits.max_body - body.len() {
                return Err(ReadError::Refuse(413));
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.source.read_exact(&mut body[start..])?;
            let mut crlf = 2;
            if !self.read_line(0, 400, &mut crlf)?.is_empty() {
                return Err(ReadError::Refuse(400));
            }
        }
        while !self.read_line(max_line, 413, &mut framing_left)?.is_empty() {}
        Ok(body)
    }

    /// Sends the answer for `status`, ends our side, then reads (and drops) up to `drain`
    /// bytes the client still sends, within `linger`: closing a socket with unread data
    /// resets the connection, and the client might never read the answer.
    fn refuse(&mut self, status: u16, drain: usize, linger: std::time::Duration) {
        if let Some(mut writer) = self.sink.next() {
            let answer = (self.limits.answer)(status);
            if writer.write_all(&answer).and_then(|()| writer.flush()).is_err() {
                return;
            }
        }
        self.source.get_ref().shutdown_write();
        self.deadline.set(linger);
        let _ = std::io::copy(&mut self.source.by_ref().take(drain as u64), &mut std::io::sink());
    }
}

/// Keystead patch: a body is framed by one `Content-Length` of digits, or by
/// `Transfer-Encoding: chunked` alone; anything else is 400 and the connection closed.
/// Upstream ignored a `Content-Length` it could not parse (reading no body), and took any
/// `Transfer-Encoding` as chunked, even beside a `Content-Length`: a proxy in front that
/// frames the request the other way lets a client smuggle a second request past it.
fn framing(headers: &[Header]) -> Result<Framing, ReadError> {
    let mut encodings = headers.iter().filter(|h| h.field.equiv("Transfer-Encoding"));
    let mut lengths = headers.iter().filter(|h| h.field.equiv("Content-Length"));
    match (encodings.next(), encodings.next(), lengths.next(), lengths.next()) {
        (None, _, None, _) => Ok(Framing::Length(0)),
        (None, _, Some(length), None) => {
            let digits = length.value.as_str();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReadError::Refuse(400));
            }
            // A length too large for usize is over any body limit.
            Ok(Framing::Length(digits.parse().unwrap_or(usize::MAX)))
        }
        (Some(te), None, None, _) if te.value.as_str().eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
        _ => Err(ReadError::Refuse(400)),
    }
}

impl Iterator for ClientConnection {
    type Item = Request;

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    fn next(&mut self) -> Option<Request> {
        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.no_more_requests {
            return None;
        }

        let rq = match self.read() {
            Ok(rq) => rq,
            Err(ReadError::Closed) => return None,
            Err(ReadError::Refuse(status)) => {
                let linger = self.limits.timeout.min(std::time::Duration::from_secs(1));
                self.refuse(status, 64 * 1024, linger);
                return None;
            }
            Err(ReadError::TooLarge(length)) => {
                self.refuse(413, length.min(MAX_DRAIN), self.limits.timeout);
                return None;
            }
        };

        // updating the status of the connection
        let connection_header = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Connection"))
            .map(|h| h.value.as_str());

        let lowercase = connection_header.map(|h| h.to_ascii_lowercase());

        match lowercase {
            Some(ref val) if val.contains("close") => self.no_more_requests = true,
            Some(ref val) if val.contains("upgrade") => self.no_more_requests = true,
            Some(ref val)
                if !val.contains("keep-alive") && *rq.http_version() == HTTPVersion(1, 0) =>
            {
                self.no_more_requests = true
            }
            None if *rq.http_version() == HTTPVersion(1, 0) => self.no_more_requests = true,
            _ => (),
        };

        Some(rq)
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ()> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => return Err(()),
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ()> {
    let mut parts = line.split(' ');

    let method = parts.next().and_then(|w| w.parse().ok());
    let path = parts.next().map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());

    method
        .and_then(|method| Some((method, path?, version?)))
        .ok_or(())
}

#[cfg(test)]
mod test {
    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}
