//! The resolved `Config` the app runs on, with its defaults (`Config::new`, the one place
//! they are written) and the parsing of its values. The flags that set it: `cli::args`.
use std::path::PathBuf;
use std::sync::Arc;

use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::proxies::TrustedProxies;
use crate::limit::Limits;
use crate::types::{MfaPolicy, SignupMode};

/// Everything the running app needs to know, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct Config {
    pub db_path: PathBuf,
    pub bind: String,
    /// Where `GET /metrics` is served (`--metrics-bind`); None: nowhere.
    pub metrics_bind: Option<String>,
    pub base_url: String,
    pub signup: SignupMode,
    pub trust_proxy: bool,
    /// With `trust_proxy`: whose X-Forwarded-For lines are believed.
    pub trusted_proxies: TrustedProxies,
    pub key_prefix: String,
    pub password_min_length: usize,
    /// Invitation mails one tenant may send in 24 hours (invitations and resends).
    pub invites_per_day: u32,
    pub workers: usize,
    pub max_connections: usize,
    pub hash_threads: usize,
    pub limits: Limits,
    pub sessions: SessionPolicy,
    /// The `aud` of access tokens; None: the base URL.
    pub token_audience: Option<String>,
    pub master_key: Option<Arc<Secret>>,
    /// None: mail stays in the outbox.
    pub smtp: Option<SmtpSettings>,
    pub mail_from: String,
    /// Whether every operator must enrol a second factor (`--operator-mfa`).
    pub operator_mfa: MfaPolicy,
    /// The Domain of the portal session cookie (forward authentication of sibling hosts).
    pub cookie_domain: Option<String>,
    /// Hosts a browser may return to after signing in, beside the base URL's.
    pub allowed_redirect_hosts: Vec<String>,
    /// What customers see (`brand::Brand` is built from these): the product's name,
    pub product_name: String,
    /// its logo file (SVG or PNG), read at start-up,
    pub logo: Option<PathBuf>,
    /// its accent colour (#rgb or #rrggbb),
    pub accent_color: Option<String>,
    /// where its customers get help,
    pub support_url: Option<String>,
    /// the display name of the From of its mail (the address is `mail_from`'s),
    pub mail_from_name: Option<String>,
    /// and a directory of mail texts that replace the built-in ones.
    pub mail_templates: Option<PathBuf>,
    /// Built-in TLS (`--tls-cert`, `--tls-key`); None: plain HTTP, for a proxy to front.
    pub tls: Option<TlsFiles>,
}

/// The PEM files of the certificate chain (leaf first) and of its private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
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

const MIN_SESSION_SECS: i64 = 60;
const MAX_SESSION_SECS: i64 = 365 * DAY;
const DAY: i64 = 24 * 3600;
const UNITS: [(char, i64); 4] = [('d', DAY), ('h', 3600), ('m', 60), ('s', 1)];

/// Seconds from a number and a unit: `90s`, `30m`, `12h`, `7d`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration such as 30m, 12h or 7d");
    let unit = s.chars().last().ok_or_else(bad)?;
    let (_, per) = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    n.checked_mul(*per).filter(|secs| *secs > 0).ok_or_else(bad)
}

/// A duration in the largest unit that divides it (`parse_duration`'s inverse).
pub fn show_duration(secs: i64) -> String {
    let (unit, per) = UNITS.iter().find(|(_, per)| secs % per == 0).copied().unwrap_or(('s', 1));
    format!("{}{unit}", secs / per)
}

/// How long sessions live: `idle` seconds without use, `absolute` seconds at most.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime {
    pub idle: i64,
    pub absolute: i64,
}

/// Session lifetimes by who holds the session (which lifetime applies when is
/// `core::sessions::lifetime`'s rule).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Portal sessions acting as a member.
    pub member: SessionLifetime,
    /// Portal sessions acting as an owner or admin of their tenant.
    pub manager: SessionLifetime,
    /// Operator sessions.
    pub admin: SessionLifetime,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        const HOUR: i64 = 3600;
        Self {
            member: SessionLifetime { idle: 7 * 24 * HOUR, absolute: 30 * 24 * HOUR },
            manager: SessionLifetime { idle: 12 * HOUR, absolute: 7 * 24 * HOUR },
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
            metrics_bind: None,
            base_url: format!("http://{bind}"),
            signup: SignupMode::Open,
            trust_proxy: false,
            trusted_proxies: TrustedProxies::default(),
            key_prefix: "ksk_".into(),
            password_min_length: 10,
            invites_per_day: 100,
            workers: 4,
            max_connections: 1024,
            hash_threads: std::thread::available_parallelism().map_or(2, usize::from),
            limits: Limits::default(),
            sessions: SessionPolicy::default(),
            token_audience: None,
            master_key: None,
            smtp: None,
            // No display name: the product's name is the From name unless one is given.
            mail_from: "keystead@localhost".into(),
            operator_mfa: MfaPolicy::Required,
            cookie_domain: None,
            allowed_redirect_hosts: Vec::new(),
            tls: None,
            product_name: "Keystead".into(),
            logo: None,
            accent_color: None,
            support_url: None,
            mail_from_name: None,
            mail_templates: None,
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
        if self.metrics_bind.as_deref() == Some(self.bind.as_str()) {
            // The metrics have no authentication: they are never on the public port.
            return Err(Error::invalid("--metrics-bind must differ from --bind"));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::invalid("--base-url must start with http:// or https://"));
        }
        if self.tls.is_some() && !self.base_url.starts_with("https://") {
            // Links, cookies (Secure) and HSTS all follow the base URL's scheme.
            return Err(Error::invalid("--tls-cert needs an https:// --base-url"));
        }
        let host = |h: &str| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if self.cookie_domain.as_deref().is_some_and(|d| !host(d) || !d.contains('.')) {
            return Err(Error::invalid("--cookie-domain must be a domain name such as example.com"));
        }
        if let Some(domain) = &self.cookie_domain {
            // A browser keeps a cookie only for a Domain that the host setting it lies in.
            let base = self.base_url.split("://").nth(1).unwrap_or_default();
            let base_host = base.split(['/', ':']).next().unwrap_or_default();
            if base_host != domain && !base_host.ends_with(&format!(".{domain}")) {
                return Err(Error::invalid("--cookie-domain must be the --base-url's host or a parent domain of it"));
            }
        }
        if self.allowed_redirect_hosts.iter().any(|h| !host(h)) {
            return Err(Error::invalid("--allowed-redirect-hosts must be host names, separated by commas"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Error::invalid("--mail-from must be an address, e.g. \"Acme <no-reply@acme.example>\""));
        }
        crate::brand::check_name("--product-name", &self.product_name)?;
        if let Some(name) = &self.mail_from_name {
            crate::brand::check_name("--mail-from-name", name)?;
        }
        if let Some(color) = &self.accent_color {
            crate::brand::theme::Rgb::parse(color).map_err(Error::invalid)?;
        }
        if let Some(url) = &self.support_url {
            crate::brand::check_support_url(url)?;
        }
        let SessionPolicy { member, manager, admin } = self.sessions;
        let durations = [member.idle, member.absolute, manager.idle, manager.absolute, admin.idle, admin.absolute];
        if durations.iter().any(|d| !(MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(d)) {
            return Err(Error::invalid("session lifetimes must be between 1m and 365d"));
        }
        if self.token_audience.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(Error::invalid("--token-audience must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_show_in_their_largest_unit() {
        for (text, secs) in [("90s", 90), ("30m", 1800), ("12h", 43_200), ("7d", 604_800)] {
            assert_eq!(parse_duration(text), Ok(secs));
            assert_eq!(show_duration(secs), text);
        }
        assert_eq!(show_duration(3600), "1h");
        for bad in ["", "7", "d", "7w", "-1h", "0m", "1.5h", "99999999999999999d", "7dd"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn session_lifetimes_outside_a_minute_to_a_year_are_refused() {
        let mut c = Config::new("x.db".into());
        assert!(c.validate().is_ok());
        c.sessions.manager.idle = 59;
        assert!(c.validate().is_err());
        c.sessions.manager.idle = 60;
        c.sessions.member.absolute = 366 * DAY;
        assert!(c.validate().is_err());
    }

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
