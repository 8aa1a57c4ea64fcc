//! The command line and its `KEYSTEAD_*` variables, and the resolved `Config` the app runs on.
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::limit::Limits;
use crate::types::{AccountStatus, MfaPolicy, SignupMode, TenantStatus};

#[derive(Parser, Debug)]
#[command(name = "keystead", version, about = "Portal and authentication server for multi-tenant products")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (creates the database and applies migrations on first start).
    Serve(ServeArgs),
    /// Manage operator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent copy of the database while the server runs.
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// Where to write the copy (must not exist).
        out: PathBuf,
    },
    /// Serve a fresh demo database seeded with an operator and a tenant, and print their logins.
    Demo(ServeArgs),
    /// Run tenants from the server's machine, as an operator would (changes audited as "system").
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Run accounts from the server's machine, as an operator would (changes audited as "system").
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantsCommand {
    /// List tenants, newest first.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only tenants in this status (active, suspended, deleted).
        #[arg(long, value_parser = parse_text::<TenantStatus>)]
        status: Option<TenantStatus>,
        /// Only tenants whose name or slug contains this.
        #[arg(long)]
        q: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Create a tenant and invite its owner. The invitation waits in the outbox for a server
    /// started with --smtp-url to send; the activation link is printed meanwhile.
    Create(CreateTenantArgs),
    /// Suspend a tenant: its sessions end, its keys stop verifying, its logins are refused.
    Suspend(ChangeArgs),
    /// Soft-delete a tenant: as suspended, and its memberships are disabled "by tenant".
    Delete(ChangeArgs),
    /// Restore a suspended or deleted tenant (and the memberships its deletion disabled).
    Restore(ChangeArgs),
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List accounts with their memberships, newest first.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only accounts in this status (active, disabled, deleted).
        #[arg(long, value_parser = parse_text::<AccountStatus>)]
        status: Option<AccountStatus>,
        /// Only accounts whose email or name contains this.
        #[arg(long)]
        q: Option<String>,
        /// Only accounts with a membership in this tenant.
        #[arg(long)]
        tenant_id: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Disable an account in every tenant and end its sessions.
    Disable(ChangeArgs),
    /// Enable a disabled account.
    Enable(ChangeArgs),
}

/// Paging and output of a `list` subcommand.
#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    /// At most this many rows (default 50, at most 200).
    #[arg(long)]
    pub limit: Option<String>,
    /// Continue after the page that printed this cursor.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the API's JSON (`{"items": [...], "next_cursor": ...}`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tenants create`: the fields of `POST /v1/admin/tenants`.
#[derive(Args, Debug, Clone)]
pub struct CreateTenantArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The tenant's name.
    #[arg(long)]
    pub name: String,
    /// 1 to 40 lower-case letters, digits or dashes (default: derived from the name).
    #[arg(long)]
    pub slug: Option<String>,
    /// Who is invited as its owner (an address with an account only accepts).
    #[arg(long)]
    pub owner_email: String,
    /// The owner's name, for a new account.
    #[arg(long)]
    pub owner_name: Option<String>,
    /// The plan (default: free).
    #[arg(long)]
    pub plan: Option<String>,
    /// At most this many active and invited members (default: unlimited).
    #[arg(long)]
    pub max_seats: Option<i64>,
    /// The server's public base URL, which the activation link points to (as for `serve`).
    #[arg(long, env = "KEYSTEAD_BASE_URL")]
    pub base_url: Option<String>,
    /// Print the API's JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A lifecycle change from the command line.
#[derive(Args, Debug, Clone)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The id of the tenant or account.
    pub id: String,
    /// Why: recorded in the audit log.
    #[arg(long)]
    pub reason: String,
    /// Print the API's JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an operator; the password is read from standard input (prompted on a terminal).
    Create {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DbArg {
    /// The SQLite database file.
    #[arg(long = "db", env = "KEYSTEAD_DB", default_value = "keystead.db")]
    pub path: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on.
    #[arg(long, env = "KEYSTEAD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Public base URL, used in links and as the token issuer (default: http://<bind>).
    #[arg(long, env = "KEYSTEAD_BASE_URL")]
    pub base_url: Option<String>,
    /// Who may create tenants by signing up.
    #[arg(long, env = "KEYSTEAD_SIGNUP", default_value = "open", value_parser = parse_text::<SignupMode>)]
    pub signup: SignupMode,
    /// Believe the last address of X-Forwarded-For (only behind your own reverse proxy).
    #[arg(long, env = "KEYSTEAD_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Every API key starts with this (letters, digits and `_`, 1 to 8 characters).
    #[arg(long, env = "KEYSTEAD_KEY_PREFIX", default_value = "ksk_")]
    pub key_prefix: String,
    /// Shortest password accepted.
    #[arg(long, env = "KEYSTEAD_PASSWORD_MIN_LENGTH", default_value_t = 10)]
    pub password_min_length: usize,
    /// Worker threads answering requests.
    #[arg(long, env = "KEYSTEAD_WORKERS", default_value_t = 4)]
    pub workers: usize,
    /// Connections served at once (each holds a thread); one more is answered 503 and closed.
    #[arg(long, env = "KEYSTEAD_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "KEYSTEAD_HASH_THREADS")]
    pub hash_threads: Option<usize>,
    /// Base64 of the 32-byte master key (default: a key file beside the database).
    /// Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "KEYSTEAD_MASTER_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub master_key: Option<Arc<Secret>>,
    /// SMTP server for outgoing mail: smtp://user:pass@host:587?tls=starttls, smtps://host
    /// (or ?tls=tls), smtp://127.0.0.1:2525?tls=none. Without it no mail leaves the machine.
    // Security: holds a password, so the value is parsed straight into `SmtpSettings` and
    // never shown by --help (hide_env_values) or Debug.
    #[arg(long, env = "KEYSTEAD_SMTP_URL", hide_env_values = true, value_parser = SmtpSettings::parse)]
    pub smtp_url: Option<SmtpSettings>,
    /// The From of outgoing mail, e.g. "Acme <no-reply@acme.example>".
    #[arg(long, env = "KEYSTEAD_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Whether every operator must enrol a second factor before using the operator realm.
    #[arg(long, env = "KEYSTEAD_OPERATOR_MFA", default_value = "required", value_parser = parse_text::<MfaPolicy>)]
    pub operator_mfa: MfaPolicy,
}

fn parse_secret(s: &str) -> Result<Arc<Secret>, String> {
    Ok(Arc::new(Secret::new(s.to_owned())))
}

/// A value given as its API text (`--status suspended`).
fn parse_text<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: Error| e.message())
}

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
        Self {
            db_path,
            bind: "127.0.0.1:8080".into(),
            base_url: "http://127.0.0.1:8080".into(),
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

    pub fn from_args(args: &ServeArgs) -> Result<Self, Error> {
        let mut config = Self::new(args.db.path.clone());
        config.base_url = args.base_url.clone().unwrap_or_else(|| format!("http://{}", args.bind));
        config.base_url.truncate(config.base_url.trim_end_matches('/').len());
        config.bind.clone_from(&args.bind);
        config.signup = args.signup;
        config.operator_mfa = args.operator_mfa;
        config.trust_proxy = args.trust_proxy;
        config.key_prefix.clone_from(&args.key_prefix);
        config.password_min_length = args.password_min_length;
        config.workers = args.workers;
        config.max_connections = args.max_connections;
        config.master_key.clone_from(&args.master_key);
        if let Some(n) = args.hash_threads {
            config.hash_threads = n;
        }
        config.smtp.clone_from(&args.smtp_url);
        if let Some(from) = &args.mail_from {
            config.mail_from.clone_from(from);
        }
        config.validate()?;
        Ok(config)
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
