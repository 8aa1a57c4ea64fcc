//! A minimal SMTP server on loopback that captures what the mail sender delivers: 220,
//! EHLO/HELO 250, MAIL/RCPT 250, DATA 354 … "." 250, QUIT 221. Enough for lettre with
//! `?tls=none`, and nothing more.
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section, dot-unstuffed, with quoted-printable soft breaks undone.
    pub data: String,
}

impl Mail {
    /// The token of the first link to `path` (e.g. "/activate") in the message.
    pub fn token(&self, path: &str) -> String {
        let needle = format!("{path}?token=");
        let at = self.data.find(&needle).unwrap_or_else(|| panic!("no {needle} link in {}", self.data));
        let rest = &self.data[at + needle.len()..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
        rest[..end].to_owned()
    }

    /// The whole first link to `path`, as a person clicks it: `{base_url}{path}?token=…`.
    pub fn link(&self, path: &str) -> String {
        let token = self.token(path);
        let tail = format!("{path}?token={token}");
        let end = self.data.find(&tail).map(|at| at + tail.len()).expect("the link");
        let start = self.data[..end].rfind("http").unwrap_or_else(|| panic!("no absolute {path} link"));
        self.data[start..end].to_owned()
    }

    pub fn subject(&self) -> &str {
        self.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default()
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: mpsc::Receiver<Mail>,
    /// Received but not yet claimed by a `wait_for`.
    pending: Mutex<Vec<Mail>>,
    stopping: Arc<AtomicBool>,
    /// While false, every connection is greeted with 421 and closed: a server that is down.
    up: Arc<AtomicBool>,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::listen(true)
    }

    /// A sink that refuses service (421) until `set_up(true)`.
    pub fn down() -> Self {
        Self::listen(false)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn listen(up: bool) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("smtp sink binds");
        let port = listener.local_addr().expect("addr").port();
        let (tx, received) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let up = Arc::new(AtomicBool::new(up));
        let (flag, is_up) = (stopping.clone(), up.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                if !is_up.load(Ordering::SeqCst) {
                    let _ = conn.write_all(b"421 4.3.2 down for this test\r\n");
                    continue;
                }
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &tx);
                });
            }
        });
        Self { port, received, pending: Mutex::new(Vec::new()), stopping, up }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The first message (received or arriving within 10 s) that `pick` accepts.
    pub fn wait_for(&self, what: &str, pick: impl Fn(&Mail) -> bool) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let mut pending = self.pending.lock().expect("lock");
                if let Some(i) = pending.iter().position(&pick) {
                    return pending.remove(i);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(m) => self.pending.lock().expect("lock").push(m),
                Err(_) if left.is_zero() => panic!("no mail {what} within 10 s"),
                Err(_) => {}
            }
        }
    }

    /// The next message to `to` whose subject contains `subject`.
    pub fn mail_to(&self, to: &str, subject: &str) -> Mail {
        self.wait_for(&format!("to {to} about {subject:?}"), |m| {
            m.to.iter().any(|t| t.eq_ignore_ascii_case(to)) && m.subject().contains(subject)
        })
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag and the port is freed.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, tx: &mpsc::Sender<Mail>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = conn.try_clone()?;
    let mut lines = BufReader::new(conn);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line);
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line));
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            let data = data.replace("=\r\n", "").replace("=3D", "=");
            let _ = tx.send(Mail { from: from.clone(), to: to.clone(), data });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            b"250 OK\r\n" // RSET, NOOP
        };
        out.write_all(reply)?;
    }
}

fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].trim().to_owned()
}
