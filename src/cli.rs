//! The command line: `serve`, `admin create`, `backup`, `demo`, `tenants`, `users`. A door
//! like the API: it parses, calls the same core operations, and prints a table or, with
//! `--json`, the API's objects.
use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use serde::Serialize;

use crate::api::json::{self, Account, List, Tenant};
use crate::app::App;
use crate::config::{
    AdminCommand, ChangeArgs, Cli, Command, Config, CreateTenantArgs, DbArg, ListArgs, ServeArgs, TenantsCommand,
    UsersCommand,
};
use crate::core::admin_tenants::{self, Lifecycle, NewTenant};
use crate::core::admin_users::{self, AccountChange, AccountFilter};
use crate::core::auth::{self, Signup};
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::{Actor, Origin, Staff};
use crate::crypto::api_key;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::server;
use crate::store::page::Page;
use crate::types::{Reason, TenantId};

pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Serve(args) => serve(Config::from_args(&args)?),
        Command::Admin { command: AdminCommand::Create { db, email, name } } => {
            let app = App::open(Config::new(db.path))?;
            let password = read_password()?;
            let admin = operators::create_admin(&app, Actor::System, None, NewAdmin { email, name, password })?;
            println!("created operator {} <{}>", admin.id, admin.email);
            Ok(())
        }
        Command::Backup { db, out } => {
            if out.exists() {
                return Err(Error::invalid(format!("{} already exists", out.display())));
            }
            App::open(Config::new(db.path))?.db.backup_to(&out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Demo(args) => demo(&args),
        Command::Tenants { command } => tenants(command),
        Command::Users { command } => users(command),
    }
}

/// The app of a one-shot command: the database of `--db`, default settings otherwise.
fn open(db: &DbArg) -> Result<App, Error> {
    App::open(Config::new(db.path.clone()))
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
    let mut config = Config::new(args.db.path);
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
    let (_, link) = json::invite_email(&out.owner.mail);
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
        println!("Until then, hand the owner this activation link (valid 7 days, single use):");
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
    };
    let ChangeArgs { db, id, reason, json } = args;
    let app = open(&db)?;
    let view = admin_users::change_account(&app, &Staff::System, id.parse()?, change, &Reason::parse(Some(&reason))?)?;
    print_one(json, "account", &Account::of(&view), ACCOUNT_COLUMNS, account_row)
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

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish and returns.
fn serve(config: Config) -> Result<(), Error> {
    let bind = config.bind.clone();
    let app = Arc::new(App::open(config)?);
    let running = server::start(app, &bind)?;
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(Error::internal)?;
    let _ = rx.recv();
    log::info!("shutting down: finishing requests in flight");
    running.stop();
    log::info!("stopped");
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

const DEMO_OPERATOR: (&str, &str) = ("operator@demo.test", "demo operator passphrase");
const DEMO_OWNER: (&str, &str) = ("owner@demo.test", "demo owner passphrase");

/// `serve` on a fresh database seeded with an operator and a tenant.
fn demo(args: &ServeArgs) -> Result<(), Error> {
    let mut config = Config::from_args(args)?;
    // A demo is tried on a laptop: its operator signs in with the printed password alone.
    config.operator_mfa = crate::types::MfaPolicy::Optional;
    if config.db_path == Path::new("keystead.db") {
        config.db_path = "keystead-demo.db".into();
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", config.db_path.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file).map_err(Error::internal)?;
        }
    }
    let app = App::open(config.clone())?;
    let origin = Origin { ip: "127.0.0.1".into(), user_agent: "keystead demo".into() };
    let (email, password) = DEMO_OPERATOR;
    let operator =
        NewAdmin { email: email.into(), name: Some("Demo Operator".into()), password: Secret::new(password.into()) };
    operators::create_admin(&app, Actor::System, None, operator)?;
    let (owner_email, owner_password) = DEMO_OWNER;
    let signup = Signup {
        tenant_name: "Demo Company".into(),
        email: owner_email.into(),
        password: Secret::new(owner_password.into()),
        name: Some("Dana Owner".into()),
    };
    let seeded = auth::signup(&app, &origin, signup)?;
    drop(app);
    println!("Keystead demo on {} (database {})", config.base_url, config.db_path.display());
    println!("  operator: {email} / {password}  (POST /v1/admin/auth/login)");
    println!("  tenant owner: {owner_email} / {owner_password}  (POST /v1/auth/login)");
    println!("  API key of \"{}\": {}", seeded.tenant.name, seeded.key.key.expose());
    println!("  API keys match: {}", api_key::pattern(&config.key_prefix));
    serve(config)
}
