//! The resolved `Config` the app runs on, with its defaults (`Config::new`, the one place
//! they are written) and the parsing of its values. The flags that set it: `cli::args`.
use std::path::PathBuf;
use std::sync::Arc;

use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::limit::Limits;
use crate::types::{MfaPolicy, SignupMode};

/// Everything the running app needs to know, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct Config {
    pub db_path: PathBuf,
    pub bind: String,
    pub base_url: String,
    pub signup: SignupMode,
    pub trust_proxy: bool,
    pub key_prefix: String,
    pub password_min_length: usize,
    pub workers: usize,
    pub max_connections: usize,
    pub hash_threads: usize,
    pub limits: Limits,
    pub sessions: SessionPolicy,
    pub master_key: Option<Arc<Secret>>,
    /// None: mail stays in the outbox.
    pub smtp: Option<SmtpSettings>,
    pub mail_from: String,
    /// Whether every operator must enrol a second factor (`--operator-mfa`).
    pub operator_mfa: MfaPolicy,
}

/// How the mail sender reaches the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte (smtps).
    Wrapper,
    /// No encryption at all: only for a relay on the same machine or network.
    None,
}

/// The parsed `--smtp-url`. The password is a `Secret`, shared (not copied) by clones.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Arc<Secret>>,
}

impl SmtpSettings {
    /// Parses `smtp[s]://[user[:pass]@]host[:port][?tls=starttls|tls|none]`. Errors never
    /// repeat the URL, which may hold the password.
    pub fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid --smtp-url: {why}");
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("expected smtp:// or smtps://"))?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let mut tls = match scheme {
            "smtp" => SmtpTls::StartTls,
            "smtps" => SmtpTls::Wrapper,
            _ => return Err(bad("expected smtp:// or smtps://")),
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "starttls") => tls = SmtpTls::StartTls,
                ("tls", "tls") => tls = SmtpTls::Wrapper,
                ("tls", "none") => tls = SmtpTls::None,
                ("tls", _) => return Err(bad("tls must be starttls, tls or none")),
                _ => return Err(bad("the only query parameter is tls")),
            }
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        // An IPv6 literal is bracketed: [::1]:2525.
        let (host, port) = match hostport.strip_prefix('[') {
            Some(rest) => {
                let (h, after) = rest.split_once(']').ok_or_else(|| bad("unclosed [ in the host"))?;
                (h, after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match (port, tls) {
            (Some(p), _) => p.parse::<u16>().map_err(|_| bad("the port must be a number"))?,
            (None, SmtpTls::StartTls) => 587,
            (None, SmtpTls::Wrapper) => 465,
            (None, SmtpTls::None) => 25,
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                let user = percent_decode(user).ok_or_else(|| bad("bad percent-encoding in the user"))?;
                let pass = percent_decode(pass).ok_or_else(|| bad("bad percent-encoding in the password"))?;
                (Some(user), Some(Arc::new(Secret::new(pass))))
            }
        };
        Ok(Self { host: host.to_owned(), port, tls, username, password })
    }
}

/// `%41` → `A` (userinfo is percent-encoded, and `+` stays a plus there).
fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

/// How long sessions live: `idle` seconds without use, `absolute` seconds at most.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime {
    pub idle: i64,
    pub absolute: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub portal: SessionLifetime,
    pub admin: SessionLifetime,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        const HOUR: i64 = 3600;
        Self {
            portal: SessionLifetime { idle: 7 * 24 * HOUR, absolute: 30 * 24 * HOUR },
            admin: SessionLifetime { idle: HOUR, absolute: 12 * HOUR },
        }
    }
}

impl Config {
    /// The defaults of `serve`, on the given database file.
    pub fn new(db_path: PathBuf) -> Self {
        let bind = "127.0.0.1:8080";
        Self {
            db_path,
            bind: bind.into(),
            base_url: format!("http://{bind}"),
            signup: SignupMode::Open,
            trust_proxy: false,
            key_prefix: "ksk_".into(),
            password_min_length: 10,
            workers: 4,
            max_connections: 1024,
            hash_threads: std::thread::available_parallelism().map_or(2, usize::from),
            limits: Limits::default(),
            sessions: SessionPolicy::default(),
            master_key: None,
            smtp: None,
            mail_from: "Keystead <keystead@localhost>".into(),
            operator_mfa: MfaPolicy::Required,
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        let prefix_ok = (1..=8).contains(&self.key_prefix.len())
            && self.key_prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !prefix_ok {
            return Err(Error::invalid("--key-prefix must be 1 to 8 letters, digits or underscores"));
        }
        if !(1..=crate::crypto::password::MAX_LEN).contains(&self.password_min_length) {
            return Err(Error::invalid("--password-min-length must be between 1 and 256"));
        }
        if self.workers == 0 || self.hash_threads == 0 || self.max_connections == 0 {
            return Err(Error::invalid("--workers, --hash-threads and --max-connections must be at least 1"));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::invalid("--base-url must start with http:// or https://"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Error::invalid("--mail-from must be an address, e.g. \"Acme <no-reply@acme.example>\""));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_with_defaults_and_secret_passwords() -> Result<(), String> {
        let s = SmtpSettings::parse("smtp://mailer:p%40ss@mail.example.test:587?tls=starttls")?;
        assert_eq!((s.host.as_str(), s.port, s.tls), ("mail.example.test", 587, SmtpTls::StartTls));
        assert_eq!(s.username.as_deref(), Some("mailer"));
        assert_eq!(s.password.as_ref().map(|p| p.expose()), Some("p@ss"));
        assert!(!format!("{s:?}").contains("p@ss"), "Debug must not show the password");

        let s = SmtpSettings::parse("smtps://mail.example.test")?;
        assert_eq!((s.port, s.tls), (465, SmtpTls::Wrapper));
        let s = SmtpSettings::parse("smtp://mail.example.test?tls=tls")?;
        assert_eq!((s.port, s.tls), (465, SmtpTls::Wrapper));
        let s = SmtpSettings::parse("smtp://127.0.0.1:2525?tls=none")?;
        assert_eq!((s.host.as_str(), s.port, s.tls, s.username), ("127.0.0.1", 2525, SmtpTls::None, None));
        let s = SmtpSettings::parse("smtp://[::1]:2525?tls=none")?;
        assert_eq!((s.host.as_str(), s.port), ("::1", 2525));
        let s = SmtpSettings::parse("smtp://[::1]")?;
        assert_eq!((s.host.as_str(), s.port), ("::1", 587));
        Ok(())
    }

    #[test]
    fn bad_smtp_urls_are_refused_without_echoing_the_password() {
        for bad in ["http://x", "smtp://", "smtp://u:hunter2@host:nope", "smtp://host?tls=maybe", "smtp://host?x=1"] {
            match SmtpSettings::parse(bad) {
                Ok(_) => panic!("{bad} should be refused"),
                Err(e) => assert!(!e.contains("hunter2"), "{e}"),
            }
        }
    }
}
