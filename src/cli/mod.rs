//! The command line: `serve`, `check`, `admin create`, `backup`, `demo`, `tenants`, `users`,
//! `clients`, `signing-keys rotate`. A door
//! like the API: it parses, calls the same core operations, and prints a table or, with
//! `--json`, the API's objects.
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::{BufRead as _, IsTerminal as _};
use std::sync::Arc;

use serde::Serialize;

use crate::api::json::{self, Account, Client, List, Tenant};
use crate::app::App;
use crate::config::Config;
use crate::core::admin_tenants::{self, Lifecycle, NewTenant};
use crate::core::admin_users::{self, AccountChange, AccountFilter};
use crate::core::mfa;
use crate::core::oidc::clients::{self, ClientChange, NewClient, WithSecret};
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::{Actor, Staff};
use crate::core::signing;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::mail;
use crate::server;
use crate::store::page::Page;
use crate::types::{Reason, TenantId, TokenKind};

pub mod args;
mod bench_seed;
mod check;
mod demo;
mod demo_company;
mod demo_people;

use args::{
    AdminCommand, ChangeArgs, Cli, ClientsCommand, Command, CreateClientArgs, CreateTenantArgs, DbArgs, ListArgs,
    SigningKeysCommand, TenantsCommand, UsersCommand,
};

pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Serve(args) => serve(args.config()?),
        Command::Check(args) => check::run(&args),
        Command::Admin { command: AdminCommand::Create { db, email, name } } => {
            let app = open(&db)?;
            let password = read_password()?;
            let admin = operators::create_admin(&app, Actor::System, None, NewAdmin { email, name, password })?;
            println!("created operator {} <{}>", admin.id, admin.email);
            Ok(())
        }
        Command::Admin { command: AdminCommand::ResetMfa { db, email, reason } } => {
            let app = open(&db)?;
            let reason = Reason::parse(Some(&reason))?;
            let admin = mfa::reset::reset_operator_factors(&app, &Staff::System, &email, &reason)?;
            println!("removed every second factor of operator {} <{}> and ended its sessions", admin.id, admin.email);
            Ok(())
        }
        Command::Backup { db, out } => {
            if out.exists() {
                return Err(Error::invalid(format!("{} already exists", out.display())));
            }
            // Checked first too, so that a refusal does not open (and migrate) the database.
            open(&db)?.db.backup_to(&out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Demo(args) => demo::run(&args),
        Command::BenchSeed(args) => bench_seed::run(&args),
        Command::Tenants { command } => tenants(command),
        Command::Users { command } => users(command),
        Command::Clients { command } => clients(command),
        Command::SigningKeys { command: SigningKeysCommand::Rotate { db, json } } => {
            let r = signing::rotate(&open(&db)?)?;
            let (signs_from, retired_at) = (r.signs_from.rfc3339(), r.retired_at.rfc3339());
            if json {
                let keys: Vec<_> = r.keys.iter().map(|k| serde_json::json!({ "alg": k.alg, "kid": k.kid })).collect();
                let kids: Vec<&String> = r.keys.iter().flat_map(|k| &k.retired).collect();
                let retired = serde_json::json!({ "kids": kids, "published_until": retired_at });
                return print_json(&serde_json::json!({ "keys": keys, "signs_from": signs_from, "retired": retired }));
            }
            let rows = r
                .keys
                .into_iter()
                .map(|k| vec![k.alg.to_string(), k.kid, signs_from.clone(), k.retired.join(","), retired_at.clone()]);
            print_table(&["ALG", "KID", "SIGNS FROM", "RETIRED", "PUBLISHED UNTIL"], rows.collect());
            Ok(())
        }
    }
}

/// The app of a one-shot command: the database and key of `--db` and `--master-key`,
/// default settings otherwise.
fn open(db: &DbArgs) -> Result<App, Error> {
    App::open(db.config())
}

fn page(list: &ListArgs) -> Result<Page, Error> {
    Page::parse(list.limit.as_deref(), list.cursor.as_deref())
}

const TENANT_COLUMNS: &[&str] = &["ID", "SLUG", "STATUS", "PLAN", "SEATS", "CREATED", "NAME"];

fn tenant_row(t: &Tenant<'_>) -> Vec<String> {
    let seats = t.max_seats.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let (id, created) = (t.id.to_string(), t.created_at.rfc3339());
    vec![id, t.slug.into(), t.status.to_string(), t.plan.into(), seats, created, t.name.into()]
}

fn tenants(command: TenantsCommand) -> Result<(), Error> {
    let (args, change) = match command {
        TenantsCommand::List { db, status, q, list } => {
            let app = open(&db)?;
            let (rows, next) = admin_tenants::list_tenants(&app, &Staff::System, status, q.as_deref(), &page(&list)?)?;
            return print_list(&list, &List::of(&rows, next, Tenant::of), TENANT_COLUMNS, tenant_row);
        }
        TenantsCommand::Create(args) => return create_tenant(args),
        TenantsCommand::Suspend(args) => (args, Lifecycle::Suspend),
        TenantsCommand::Delete(args) => (args, Lifecycle::Delete),
        TenantsCommand::Restore(args) => (args, Lifecycle::Restore),
    };
    let ChangeArgs { db, id, reason, json } = args;
    let app = open(&db)?;
    let tenant =
        admin_tenants::change_tenant(&app, &Staff::System, id.parse()?, change, &Reason::parse(Some(&reason))?)?;
    print_one(json, "tenant", &Tenant::of(&tenant), TENANT_COLUMNS, tenant_row)
}

/// `tenants create`: the tenant, then its owner's invitation. This process has no SMTP
/// settings, so the invitation stays in the outbox until a server with --smtp-url sends
/// it; the activation link is printed so the operator can hand it over meanwhile.
fn create_tenant(args: CreateTenantArgs) -> Result<(), Error> {
    let mut config = args.db.config();
    if let Some(url) = args.base_url {
        config.base_url = url.trim_end_matches('/').to_owned();
        config.validate()?;
    }
    let app = App::open(config)?;
    let input = NewTenant {
        name: args.name,
        slug: args.slug,
        owner_email: args.owner_email,
        owner_name: args.owner_name,
        plan: args.plan,
        max_seats: args.max_seats,
    };
    let out = admin_tenants::create_tenant(&app, &Staff::System, input)?;
    let note = "The invitation is in the outbox: a server started with --smtp-url sends it.";
    let (_, link) = json::invite_email(&out.owner);
    if args.json {
        print_json(&json::created_tenant(&out))?;
        eprintln!("{note}");
        return Ok(());
    }
    print_table(TENANT_COLUMNS, vec![tenant_row(&Tenant::of(&out.tenant))]);
    let owner = &out.owner.member;
    println!();
    println!("owner: {} ({} as owner; account {})", owner.account.email, owner.status(), owner.account.id);
    println!("{note}");
    if let Some(url) = link {
        let valid = mail::valid_for(TokenKind::Activation);
        println!("Until then, hand the owner this activation link (valid {valid}, single use):");
        println!("{url}");
    }
    Ok(())
}

const ACCOUNT_COLUMNS: &[&str] = &["ID", "EMAIL", "STATUS", "VERIFIED", "CREATED", "MEMBERSHIPS"];

fn account_row(a: &Account<'_>) -> Vec<String> {
    let memberships: Vec<String> =
        a.memberships.iter().map(|m| format!("{}:{}:{}", m.tenant.slug, m.role, m.status)).collect();
    let verified = if a.email_verified { "yes" } else { "no" };
    let (id, created) = (a.id.to_string(), a.created_at.rfc3339());
    vec![id, a.email.to_string(), a.status.to_string(), verified.into(), created, memberships.join(",")]
}

fn users(command: UsersCommand) -> Result<(), Error> {
    let (args, change) = match command {
        UsersCommand::List { db, status, q, tenant_id, list } => {
            let tenant = tenant_id
                .map(|t| t.parse::<TenantId>().map_err(|_| Error::field("tenant_id", "is not a tenant id")))
                .transpose()?;
            let app = open(&db)?;
            let filter = AccountFilter { status, q, tenant };
            let (views, next) = admin_users::list_accounts(&app, &Staff::System, &filter, &page(&list)?)?;
            return print_list(&list, &List::of(&views, next, Account::of), ACCOUNT_COLUMNS, account_row);
        }
        UsersCommand::Disable(args) => (args, AccountChange::Disable),
        UsersCommand::Enable(args) => (args, AccountChange::Enable),
        UsersCommand::ResetMfa(ChangeArgs { db, id, reason, json }) => {
            let app = open(&db)?;
            let view = mfa::reset::reset_factors(&app, &Staff::System, id.parse()?, &Reason::parse(Some(&reason))?)?;
            return print_one(json, "account", &Account::of(&view), ACCOUNT_COLUMNS, account_row);
        }
    };
    let ChangeArgs { db, id, reason, json } = args;
    let app = open(&db)?;
    let view = admin_users::change_account(&app, &Staff::System, id.parse()?, change, &Reason::parse(Some(&reason))?)?;
    print_one(json, "account", &Account::of(&view), ACCOUNT_COLUMNS, account_row)
}

const CLIENT_COLUMNS: &[&str] = &["ID", "KIND", "STATUS", "TENANT", "CREATED", "NAME"];

fn client_row(c: &Client<'_>) -> Vec<String> {
    let kind = match (c.public, c.introspect) {
        (true, _) => "public",
        (false, true) => "introspects",
        (false, false) => "confidential",
    };
    let tenant = c.tenant_id.map_or_else(|| "-".to_owned(), |t| t.to_string());
    vec![c.id.to_string(), kind.into(), c.status.to_string(), tenant, c.created_at.rfc3339(), c.name.into()]
}

fn clients(command: ClientsCommand) -> Result<(), Error> {
    let (args, change) = match command {
        ClientsCommand::List { db, list } => {
            let app = open(&db)?;
            let (rows, next) = clients::list_clients(&app, &Staff::System, &page(&list)?)?;
            return print_list(&list, &List::of(&rows, next, Client::of), CLIENT_COLUMNS, client_row);
        }
        ClientsCommand::Create(args) => return create_client(args),
        ClientsCommand::RotateSecret { db, id, json } => {
            let out = clients::rotate_secret(&open(&db)?, &Staff::System, id.parse()?)?;
            return print_with_secret(json, &out);
        }
        ClientsCommand::Disable(args) => (args, ClientChange::Disable),
        ClientsCommand::Enable(args) => (args, ClientChange::Enable),
    };
    let ChangeArgs { db, id, reason, json } = args;
    let app = open(&db)?;
    let client = clients::change_client(&app, &Staff::System, id.parse()?, change, &Reason::parse(Some(&reason))?)?;
    print_one(json, "client", &Client::of(&client), CLIENT_COLUMNS, client_row)
}

fn create_client(args: CreateClientArgs) -> Result<(), Error> {
    let app = open(&args.db)?;
    let input = NewClient {
        name: args.name,
        redirect_uris: args.redirect_uris,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
        public: args.public,
        trusted: args.trusted,
        introspect: args.introspect,
        tenant_id: args.tenant_id.as_deref().map(clients::tenant_ref).transpose()?,
        id_token_alg: args.id_token_alg.as_deref().map(clients::signing_alg).transpose()?,
    };
    print_with_secret(args.json, &clients::register(&app, &Staff::System, input)?)
}

/// A client just registered or rotated, with its secret: the one time it is shown.
fn print_with_secret(as_json: bool, out: &WithSecret) -> Result<(), Error> {
    if as_json {
        return print_json(&json::with_secret(out));
    }
    print_table(CLIENT_COLUMNS, vec![client_row(&Client::of(&out.client))]);
    if let Some(secret) = &out.secret {
        println!();
        println!("client secret (shown only this once; only its SHA-256 is stored):");
        println!("{}", secret.expose());
    }
    Ok(())
}

fn print_json(value: &impl Serialize) -> Result<(), Error> {
    println!("{}", serde_json::to_string_pretty(value).map_err(Error::internal)?);
    Ok(())
}

fn print_list<T: Serialize>(
    args: &ListArgs,
    list: &List<T>,
    columns: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<(), Error> {
    if args.json {
        return print_json(list);
    }
    print_table(columns, list.items.iter().map(row).collect());
    if let Some(cursor) = &list.next_cursor {
        println!("more: --cursor {cursor}");
    }
    Ok(())
}

/// One changed object: `{"<key>": object}` as the API answers, or a one-row table.
fn print_one<T: Serialize>(
    as_json: bool,
    key: &str,
    item: &T,
    columns: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<(), Error> {
    if as_json {
        let value = serde_json::to_value(item).map_err(Error::internal)?;
        return print_json(&serde_json::Map::from_iter([(key.to_owned(), value)]));
    }
    print_table(columns, vec![row(item)]);
    Ok(())
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn print_table(columns: &[&str], rows: Vec<Vec<String>>) {
    let header: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    let all: Vec<Vec<String>> = std::iter::once(header).chain(rows).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| all.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
        .collect();
    for row in &all {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

/// A failure as the operator reads it: a plain sentence, never an HTTP status. Errors of
/// the operations (shared with the API) keep their API code, which scripts may match.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Internal(cause) | Error::Unavailable(cause) => cause.clone(),
        Error::InvalidRequest { message, .. } => message.clone(),
        other => format!("{} ({})", other.message(), other.status_and_code().1),
    }
}

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish and returns. SIGHUP
/// re-reads the TLS certificate (a renewal) and nothing else.
pub(crate) fn serve(config: Config) -> Result<(), Error> {
    let bind = config.bind.clone();
    let app = Arc::new(App::open(config)?);
    // Before the server starts: a signal in between must not take the default action.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(Error::internal)?;
    let running = server::start(app.clone(), &bind)?;
    signing::make_missing_in_background(app.clone());
    for signal in signals.forever() {
        if signal != SIGHUP {
            break;
        }
        match &app.tls {
            None => log::info!("SIGHUP: nothing to re-read (no --tls-cert)"),
            Some(certificate) => match certificate.reload() {
                Ok(()) => log::info!("SIGHUP: TLS certificate re-read; new connections use it"),
                Err(e) => log::error!("SIGHUP: {}; the certificate in use stays", describe(&e)),
            },
        }
    }
    log::info!("shutting down: finishing requests in flight");
    running.stop();
    // Every use recorded is written by now (the flusher stops last).
    log::info!("stopped after {} write transactions", app.db.commits());
    Ok(())
}

/// The password of `admin create`: prompted without echo on a terminal, else one line of stdin.
fn read_password() -> Result<Secret, Error> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").map(Secret::new).map_err(Error::internal);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(Error::internal)?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()))
}
