//! The command line's grammar: subcommands, flags and their `KEYSTEAD_*` variables. What
//! they resolve to is `config::Config`.
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, CommandFactory as _, Parser, Subcommand};

use crate::config::{Config, SmtpSettings, TlsFiles, parse_duration, show_duration};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::proxies::TrustedProxies;
use crate::types::{AccountStatus, MfaPolicy, SignupMode, TenantStatus};

/// The database of a command not given `--db` (nor `KEYSTEAD_DB`).
pub const DEFAULT_DB: &str = "keystead.db";
/// The database of `keystead demo` not given `--db`.
pub const DEMO_DB: &str = "keystead-demo.db";

#[derive(Parser, Debug)]
#[command(name = "keystead", version = crate::VERSION, about = "Portal and authentication server for multi-tenant products")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines on standard error look: text, or JSON lines for a log collector.
    #[arg(long, global = true, env = "KEYSTEAD_LOG_FORMAT", value_enum, default_value_t)]
    pub log_format: crate::logging::LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (creates the database and applies migrations on first start).
    Serve(ServeArgs),
    /// Check an installation without changing it: the settings `serve` would run with, the
    /// database (file mode, schema and pending migrations, PRAGMA quick_check) and that the
    /// master key opens every sealed value. Exits 0 only when all is well.
    Check(ServeArgs),
    /// Manage operator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent copy of the database while the server runs.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Where to write the copy (must not exist).
        out: PathBuf,
    },
    /// Serve a fresh demo database seeded with an operator and a tenant, and print their
    /// logins (random passwords).
    Demo(DemoArgs),
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
    /// Run the OpenID Connect clients (and gateways' introspecting clients) from the
    /// server's machine, as an operator would (changes audited as "system").
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage the keys that sign access tokens (a running server follows at once).
    SigningKeys {
        #[command(subcommand)]
        command: SigningKeysCommand,
    },
    /// Fill an empty database for benchmarks (bench/run.sh SEEDED=1); not for production.
    #[command(hide = true)]
    BenchSeed(BenchSeedArgs),
}

/// `bench-seed`: how many of each, and where the sample of secrets goes.
#[derive(Args, Debug, Clone)]
pub struct BenchSeedArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, default_value_t = 100_000)]
    pub tenants: u32,
    /// Spread evenly over the tenants, each an active member of one (the first its owner).
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: u32,
    /// API keys, spread evenly over the tenants.
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u32,
    /// Live portal sessions, spread evenly over the accounts.
    #[arg(long, default_value_t = 1_000_000)]
    pub sessions: u32,
    #[arg(long, default_value_t = 5_000_000)]
    pub audit_events: u32,
    /// How many keys and session tokens to write out (evenly drawn from all).
    #[arg(long, default_value_t = 100_000)]
    pub sample: u32,
    /// A directory for the sample: `keys` and `tokens`, one secret a line.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum SigningKeysCommand {
    /// Publish a new signing key. It signs once relying services' cached JWKS hold it
    /// (5 minutes); the keys it replaces stay published until their last token expired.
    Rotate {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantsCommand {
    /// List tenants, newest first.
    List {
        #[command(flatten)]
        db: DbArgs,
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
pub enum ClientsCommand {
    /// List clients, newest first.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Register a client; a confidential one's secret is printed this once.
    Create(CreateClientArgs),
    /// Give a confidential client a new secret, printed this once; the old one stops working.
    RotateSecret {
        #[command(flatten)]
        db: DbArgs,
        /// The client id.
        id: String,
        /// Print the API's JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable a client: it can no longer authenticate (sign people in, introspect).
    Disable(ChangeArgs),
    /// Enable a disabled client.
    Enable(ChangeArgs),
}

/// `clients create`: the fields of `POST /v1/admin/clients`.
#[derive(Args, Debug, Clone)]
pub struct CreateClientArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The application's name, shown on the consent page.
    #[arg(long)]
    pub name: String,
    /// Where the application receives the sign-in (repeat for several; exact match).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return (repeat for several; exact match).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A single-page or native app: no secret, PKCE required.
    #[arg(long)]
    pub public: bool,
    /// No consent page.
    #[arg(long)]
    pub trusted: bool,
    /// May call /v1/oauth/introspect (a gateway).
    #[arg(long)]
    pub introspect: bool,
    /// Only members of this tenant sign in through it, and it introspects only this tenant's credentials.
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// How its ID tokens are signed: RS256 (default), ES256 or EdDSA.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// Print the API's JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List accounts with their memberships, newest first.
    List {
        #[command(flatten)]
        db: DbArgs,
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
    /// Remove every second factor of an account (a lost phone) and end its sessions.
    ResetMfa(ChangeArgs),
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
    pub db: DbArgs,
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
    pub db: DbArgs,
    /// The id of the tenant, account or client.
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
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove every second factor of an operator who lost them, and end its sessions: it
    /// then signs in with its password and enrols again.
    ResetMfa {
        #[command(flatten)]
        db: DbArgs,
        /// The operator's email address.
        email: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// The database and the key that opens its sealed values: every command that opens a
/// database takes both, the same way.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// The SQLite database file.
    #[arg(id = "db", long = "db", value_name = "DB", env = "KEYSTEAD_DB")]
    pub path: Option<PathBuf>,
    /// Base64 of the 32-byte master key (default: the key file `<db>.key` beside the
    /// database, created only for a database that holds no sealed value yet).
    /// Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "KEYSTEAD_MASTER_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub master_key: Option<Arc<Secret>>,
    #[command(flatten)]
    pub brand: BrandArgs,
}

impl DbArgs {
    /// The defaults of `serve` on this database with this key (and this brand, which
    /// every mail a command writes into the outbox carries).
    pub fn config(&self) -> Config {
        let mut config = Config::new(self.path.clone().unwrap_or_else(|| DEFAULT_DB.into()));
        config.master_key.clone_from(&self.master_key);
        self.brand.overlay(&mut config);
        config
    }
}

/// What the product's customers see instead of Keystead (`brand::Brand`). Taken by every
/// command that opens a database, since any of them may write mail into the outbox: set
/// the `KEYSTEAD_*` variables once and every command agrees.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Branding")]
pub struct BrandArgs {
    /// The product's name, in every page title and header and every mail's subject and signature.
    #[arg(long, env = "KEYSTEAD_PRODUCT_NAME")]
    pub product_name: Option<String>,
    /// The product's logo for the page header: an .svg or .png file of at most 256 KiB, read at start-up.
    #[arg(long, env = "KEYSTEAD_LOGO")]
    pub logo: Option<PathBuf>,
    /// The accent colour of the pages, #rgb or #rrggbb (adjusted per theme to stay readable).
    #[arg(long, env = "KEYSTEAD_ACCENT_COLOR")]
    pub accent_color: Option<String>,
    /// Where customers get help (http or https), linked from every page and mail.
    #[arg(long, env = "KEYSTEAD_SUPPORT_URL")]
    pub support_url: Option<String>,
    /// The display name of the From of outgoing mail (default: the name in --mail-from,
    /// else the product name); the address is --mail-from's.
    #[arg(long, env = "KEYSTEAD_MAIL_FROM_NAME")]
    pub mail_from_name: Option<String>,
    /// A directory of mail texts replacing the built-in ones: <kind>.txt, first line
    /// "Subject: …", placeholders such as {product} and {link} (see the README).
    #[arg(long, env = "KEYSTEAD_MAIL_TEMPLATES")]
    pub mail_templates: Option<PathBuf>,
}

impl BrandArgs {
    pub(crate) fn overlay(&self, config: &mut Config) {
        if let Some(name) = &self.product_name {
            config.product_name.clone_from(name);
        }
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        config.logo = self.logo.clone().or(config.logo.take());
        config.accent_color = given(&self.accent_color).or(config.accent_color.take());
        config.support_url = given(&self.support_url).or(config.support_url.take());
        config.mail_from_name = given(&self.mail_from_name).or(config.mail_from_name.take());
        config.mail_templates = self.mail_templates.clone().or(config.mail_templates.take());
    }
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

impl ServeArgs {
    pub fn config(&self) -> Result<Config, Error> {
        self.server.overlay(self.db.config())
    }
}

/// `demo`: its own database, never `KEYSTEAD_DB`'s, and its own key file beside it.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// The demo's database, replaced on every start (only if an earlier demo created it).
    #[arg(id = "demo_db", long = "db", value_name = "DB")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
    /// A demo shows the product as its customers would see it.
    #[command(flatten)]
    pub brand: BrandArgs,
}

/// How `serve` and `demo` run. No flag has a clap default: each one given replaces the
/// value of `Config::new`, the one place the defaults are written (and `--help` shows).
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "KEYSTEAD_BIND")]
    pub bind: Option<String>,
    /// Address to serve Prometheus metrics on, at /metrics (e.g. 127.0.0.1:9090); off
    /// unless set. Keep it private: it is not the public port and has no authentication.
    #[arg(long, env = "KEYSTEAD_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Public base URL, used in links and as the token issuer (default: http://<bind>, or
    /// https://<bind> with --tls-cert).
    #[arg(long, env = "KEYSTEAD_BASE_URL")]
    pub base_url: Option<String>,
    /// Who may create tenants by signing up.
    #[arg(long, env = "KEYSTEAD_SIGNUP", value_parser = parse_text::<SignupMode>)]
    pub signup: Option<SignupMode>,
    /// Believe X-Forwarded-For from --trusted-proxies (only behind your own reverse proxy).
    #[arg(long, env = "KEYSTEAD_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// With --trust-proxy: the proxies' addresses and CIDR blocks, comma-separated.
    #[arg(long, env = "KEYSTEAD_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<TrustedProxies>,
    /// Every API key starts with this (letters, digits and `_`, 1 to 8 characters).
    #[arg(long, env = "KEYSTEAD_KEY_PREFIX")]
    pub key_prefix: Option<String>,
    /// Shortest password accepted.
    #[arg(long, env = "KEYSTEAD_PASSWORD_MIN_LENGTH")]
    pub password_min_length: Option<usize>,
    /// Invitation mails (invitations and resends) one tenant may send in 24 hours.
    #[arg(long, env = "KEYSTEAD_INVITES_PER_DAY")]
    pub invites_per_day: Option<u32>,
    /// Worker threads answering requests.
    #[arg(long, env = "KEYSTEAD_WORKERS")]
    pub workers: Option<usize>,
    /// Connections served at once (each holds a thread); one more is answered 503 and closed.
    #[arg(long, env = "KEYSTEAD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "KEYSTEAD_HASH_THREADS")]
    pub hash_threads: Option<usize>,
    /// SMTP server for outgoing mail: smtp://user:pass@host:587?tls=starttls, smtps://host
    /// (or ?tls=tls), smtp://127.0.0.1:2525?tls=none. Without it no mail leaves the machine.
    // Security: holds a password, so the value is parsed straight into `SmtpSettings` and
    // never shown by --help (hide_env_values) or Debug.
    #[arg(long, env = "KEYSTEAD_SMTP_URL", hide_env_values = true, value_parser = SmtpSettings::parse)]
    pub smtp_url: Option<SmtpSettings>,
    /// The From of outgoing mail, e.g. "Acme <no-reply@acme.example>".
    #[arg(long, env = "KEYSTEAD_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Whether every operator must enrol a second factor before using the operator realm
    /// (required, optional).
    #[arg(long, env = "KEYSTEAD_OPERATOR_MFA", value_parser = parse_text::<MfaPolicy>)]
    pub operator_mfa: Option<MfaPolicy>,
    /// How long a member's portal session lasts unused (30m, 12h, 7d…).
    #[arg(long, env = "KEYSTEAD_SESSION_IDLE", value_parser = parse_duration)]
    pub session_idle: Option<i64>,
    /// How long a member's portal session lasts at most, however busy.
    #[arg(long, env = "KEYSTEAD_SESSION_LIFETIME", value_parser = parse_duration)]
    pub session_lifetime: Option<i64>,
    /// As --session-idle, for a session acting as an owner or admin of its tenant.
    #[arg(long, env = "KEYSTEAD_MANAGER_SESSION_IDLE", value_parser = parse_duration)]
    pub manager_session_idle: Option<i64>,
    /// As --session-lifetime, for a session acting as an owner or admin of its tenant.
    #[arg(long, env = "KEYSTEAD_MANAGER_SESSION_LIFETIME", value_parser = parse_duration)]
    pub manager_session_lifetime: Option<i64>,
    /// The portal session cookie's Domain, so that one sign-in covers sibling hosts behind
    /// forward authentication (e.g. example.com for auth.example.com and wiki.example.com).
    #[arg(long, env = "KEYSTEAD_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,
    /// Hosts besides the base URL's that a browser may be sent back to after signing in
    /// (comma-separated, e.g. wiki.example.com,grafana.example.com).
    #[arg(long, env = "KEYSTEAD_ALLOWED_REDIRECT_HOSTS", value_delimiter = ',')]
    pub allowed_redirect_hosts: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first), re-read on SIGHUP.
    #[arg(long, env = "KEYSTEAD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, unencrypted), re-read on SIGHUP.
    #[arg(long, env = "KEYSTEAD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The `aud` claim of access tokens, which relying services check (default: the base URL).
    #[arg(long, env = "KEYSTEAD_TOKEN_AUDIENCE")]
    pub token_audience: Option<String>,
}

impl ServerArgs {
    /// `config` with every flag given replacing its value; validated.
    pub fn overlay(&self, mut config: Config) -> Result<Config, Error> {
        fn set<T: Clone>(field: &mut T, given: Option<&T>) {
            if let Some(value) = given {
                field.clone_from(value);
            }
        }
        set(&mut config.bind, self.bind.as_ref());
        if self.metrics_bind.is_some() {
            config.metrics_bind.clone_from(&self.metrics_bind);
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            config.tls = Some(TlsFiles { cert: cert.clone(), key: key.clone() });
        }
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        config.base_url = self.base_url.clone().unwrap_or_else(|| format!("{scheme}://{}", config.bind));
        config.base_url.truncate(config.base_url.trim_end_matches('/').len());
        set(&mut config.signup, self.signup.as_ref());
        config.trust_proxy |= self.trust_proxy;
        set(&mut config.trusted_proxies, self.trusted_proxies.as_ref());
        set(&mut config.key_prefix, self.key_prefix.as_ref());
        set(&mut config.password_min_length, self.password_min_length.as_ref());
        set(&mut config.invites_per_day, self.invites_per_day.as_ref());
        set(&mut config.workers, self.workers.as_ref());
        set(&mut config.max_connections, self.max_connections.as_ref());
        set(&mut config.hash_threads, self.hash_threads.as_ref());
        if self.smtp_url.is_some() {
            config.smtp.clone_from(&self.smtp_url);
        }
        set(&mut config.mail_from, self.mail_from.as_ref());
        set(&mut config.operator_mfa, self.operator_mfa.as_ref());
        set(&mut config.sessions.member.idle, self.session_idle.as_ref());
        set(&mut config.sessions.member.absolute, self.session_lifetime.as_ref());
        set(&mut config.sessions.manager.idle, self.manager_session_idle.as_ref());
        set(&mut config.sessions.manager.absolute, self.manager_session_lifetime.as_ref());
        if let Some(domain) = &self.cookie_domain {
            config.cookie_domain = Some(domain.trim().trim_start_matches('.').to_ascii_lowercase());
        }
        config.allowed_redirect_hosts.extend(
            self.allowed_redirect_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()),
        );
        if self.token_audience.is_some() {
            config.token_audience.clone_from(&self.token_audience);
        }
        config.validate()?;
        Ok(config)
    }
}

/// The parser of the command line, with each flag's default (read off `Config::new`)
/// added to its help.
pub fn command() -> clap::Command {
    let defaults = Config::new(DEFAULT_DB.into());
    let sessions = defaults.sessions;
    let shown: [(&str, String); 17] = [
        ("db", DEFAULT_DB.to_owned()),
        ("demo_db", DEMO_DB.to_owned()),
        ("bind", defaults.bind),
        ("signup", defaults.signup.to_string()),
        ("trusted_proxies", defaults.trusted_proxies.to_string()),
        ("key_prefix", defaults.key_prefix),
        ("password_min_length", defaults.password_min_length.to_string()),
        ("invites_per_day", defaults.invites_per_day.to_string()),
        ("workers", defaults.workers.to_string()),
        ("max_connections", defaults.max_connections.to_string()),
        ("mail_from", defaults.mail_from),
        ("product_name", defaults.product_name),
        ("operator_mfa", defaults.operator_mfa.to_string()),
        ("session_idle", show_duration(sessions.member.idle)),
        ("session_lifetime", show_duration(sessions.member.absolute)),
        ("manager_session_idle", show_duration(sessions.manager.idle)),
        ("manager_session_lifetime", show_duration(sessions.manager.absolute)),
    ];
    with_defaults(Cli::command(), &shown)
}

fn with_defaults(mut cmd: clap::Command, shown: &[(&str, String)]) -> clap::Command {
    for (id, value) in shown {
        if cmd.get_arguments().any(|a| a.get_id() == id) {
            cmd = cmd.mut_arg(*id, |arg| {
                let help = arg.get_help().map(|h| format!("{h} [default: {value}]"));
                let long = arg.get_long_help().map(|h| format!("{h}\n[default: {value}]"));
                let arg = match help {
                    Some(h) => arg.help(h),
                    None => arg,
                };
                match long {
                    Some(h) => arg.long_help(h),
                    None => arg,
                }
            });
        }
    }
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| with_defaults(sub, shown));
    }
    cmd
}

fn parse_secret(s: &str) -> Result<Arc<Secret>, String> {
    Ok(Arc::new(Secret::new(s.to_owned())))
}

/// A value given as its API text (`--status suspended`).
fn parse_text<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: Error| e.message())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches as _;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let matches = command().try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }

    fn serve_config(args: &[&str]) -> Result<Config, String> {
        match parse(args).map_err(|e| e.to_string())?.command {
            Command::Serve(serve) => serve.config().map_err(|e| e.message()),
            other => Err(format!("not serve: {other:?}")),
        }
    }

    #[test]
    fn serve_without_flags_runs_on_the_defaults_of_config_new() -> Result<(), String> {
        // Only when no KEYSTEAD_* variable of the test's environment interferes.
        if std::env::vars().any(|(k, _)| k.starts_with("KEYSTEAD_")) {
            return Err("unset the KEYSTEAD_* variables to run this test".into());
        }
        let given = serve_config(&["keystead", "serve"])?;
        let defaults = Config::new(DEFAULT_DB.into());
        assert_eq!(format!("{given:?}"), format!("{defaults:?}"));
        Ok(())
    }

    #[test]
    fn each_flag_given_replaces_its_default() -> Result<(), String> {
        let c = serve_config(&[
            "keystead",
            "serve",
            "--db",
            "x.db",
            "--bind",
            "0.0.0.0:9",
            "--signup",
            "closed",
            "--workers",
            "2",
            "--key-prefix",
            "ab_",
            "--password-min-length",
            "12",
            "--max-connections",
            "7",
            "--hash-threads",
            "3",
            "--session-idle",
            "2d",
            "--session-lifetime",
            "10d",
            "--manager-session-idle",
            "30m",
            "--manager-session-lifetime",
            "8h",
            "--token-audience",
            "https://api.example.test",
            "--metrics-bind",
            "127.0.0.1:9464",
        ])?;
        let sessions = c.sessions;
        assert_eq!((sessions.member.idle, sessions.member.absolute), (2 * 86_400, 10 * 86_400));
        assert_eq!((sessions.manager.idle, sessions.manager.absolute), (1800, 8 * 3600));
        assert_eq!(c.token_audience.as_deref(), Some("https://api.example.test"));
        assert_eq!(c.db_path, PathBuf::from("x.db"));
        assert_eq!((c.bind.as_str(), c.base_url.as_str()), ("0.0.0.0:9", "http://0.0.0.0:9"));
        assert_eq!((c.signup, c.workers, c.key_prefix.as_str()), (SignupMode::Closed, 2, "ab_"));
        assert_eq!((c.password_min_length, c.max_connections, c.hash_threads), (12, 7, 3));
        assert_eq!(c.metrics_bind.as_deref(), Some("127.0.0.1:9464"));
        let c = serve_config(&["keystead", "serve", "--base-url", "https://id.example.test/"])?;
        assert_eq!(c.base_url, "https://id.example.test");
        assert_eq!(c.metrics_bind, None, "off unless set");
        let same = serve_config(&["keystead", "serve", "--bind", "127.0.0.1:9", "--metrics-bind", "127.0.0.1:9"]);
        assert!(same.is_err_and(|e| e.contains("--metrics-bind must differ")), "never the public port");
        Ok(())
    }

    #[test]
    fn brand_flags_reach_the_config_and_bad_ones_are_refused() -> Result<(), String> {
        let c = serve_config(&[
            "keystead",
            "serve",
            "--product-name",
            "Acme Cloud",
            "--accent-color",
            "#e91e63",
            "--support-url",
            "https://acme.example/help",
            "--mail-from-name",
            "Acme Support",
            "--logo",
            "/etc/acme.svg",
            "--mail-templates",
            "/etc/mail",
        ])?;
        assert_eq!((c.product_name.as_str(), c.accent_color.as_deref()), ("Acme Cloud", Some("#e91e63")));
        assert_eq!(
            (c.support_url.as_deref(), c.mail_from_name.as_deref()),
            (Some("https://acme.example/help"), Some("Acme Support"))
        );
        assert_eq!((c.logo, c.mail_templates), (Some("/etc/acme.svg".into()), Some("/etc/mail".into())));
        for (flag, bad) in
            [("--accent-color", "red;}"), ("--support-url", "javascript:alert(1)"), ("--product-name", "")]
        {
            let refused = serve_config(&["keystead", "serve", flag, bad]);
            assert!(refused.as_ref().is_err_and(|e| e.contains(flag)), "{flag} {bad}: {refused:?}");
        }
        Ok(())
    }

    #[test]
    fn help_shows_the_defaults_of_config_new() {
        let mut cmd = command();
        let help = cmd.find_subcommand_mut("serve").map(|s| s.render_long_help().to_string()).unwrap_or_default();
        let defaults = Config::new(DEFAULT_DB.into());
        let idle = show_duration(defaults.sessions.manager.idle);
        for shown in [defaults.bind, defaults.workers.to_string(), defaults.key_prefix, DEFAULT_DB.to_owned(), idle] {
            assert!(help.contains(&format!("[default: {shown}]")), "{shown} missing from:\n{help}");
        }
        let mut cmd = command();
        let demo = cmd.find_subcommand_mut("demo").map(|s| s.render_long_help().to_string()).unwrap_or_default();
        assert!(demo.contains(&format!("[default: {DEMO_DB}]")), "{demo}");
        assert!(!demo.contains("KEYSTEAD_DB"), "demo never reads KEYSTEAD_DB: {demo}");
    }

    #[test]
    fn every_command_that_opens_a_database_takes_the_master_key() {
        let cmd = command();
        let mut missing = Vec::new();
        fn walk(cmd: &clap::Command, path: String, missing: &mut Vec<String>) {
            let has = |id: &str| cmd.get_arguments().any(|a| a.get_id() == id);
            if has("db") && !has("master_key") {
                missing.push(path.clone());
            }
            for sub in cmd.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), missing);
            }
        }
        walk(&cmd, "keystead".into(), &mut missing);
        assert!(missing.is_empty(), "{missing:?}");
    }
}
