//! The command line and its `KEYSTEAD_*` variables, and the resolved `Config` the app runs on.
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::limit::Limits;
use crate::types::SignupMode;

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
    #[arg(long, env = "KEYSTEAD_SIGNUP", default_value = "open", value_parser = parse_signup)]
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
    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "KEYSTEAD_HASH_THREADS")]
    pub hash_threads: Option<usize>,
    /// Base64 of the 32-byte master key (default: a key file beside the database).
    /// Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "KEYSTEAD_MASTER_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub master_key: Option<Arc<Secret>>,
}

fn parse_secret(s: &str) -> Result<Arc<Secret>, String> {
    Ok(Arc::new(Secret::new(s.to_owned())))
}

fn parse_signup(s: &str) -> Result<SignupMode, String> {
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
    pub hash_threads: usize,
    pub limits: Limits,
    pub sessions: SessionPolicy,
    pub master_key: Option<Arc<Secret>>,
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
            hash_threads: std::thread::available_parallelism().map_or(2, usize::from),
            limits: Limits::default(),
            sessions: SessionPolicy::default(),
            master_key: None,
        }
    }

    pub fn from_args(args: &ServeArgs) -> Result<Self, Error> {
        let mut config = Self::new(args.db.path.clone());
        config.base_url = args.base_url.clone().unwrap_or_else(|| format!("http://{}", args.bind));
        config.base_url.truncate(config.base_url.trim_end_matches('/').len());
        config.bind.clone_from(&args.bind);
        config.signup = args.signup;
        config.trust_proxy = args.trust_proxy;
        config.key_prefix.clone_from(&args.key_prefix);
        config.password_min_length = args.password_min_length;
        config.workers = args.workers;
        config.master_key.clone_from(&args.master_key);
        if let Some(n) = args.hash_threads {
            config.hash_threads = n;
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
        if self.workers == 0 || self.hash_threads == 0 {
            return Err(Error::invalid("--workers and --hash-threads must be at least 1"));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::invalid("--base-url must start with http:// or https://"));
        }
        Ok(())
    }
}
