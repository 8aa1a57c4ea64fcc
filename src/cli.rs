//! The command line: `serve`, `admin create`, `backup`, `demo`. A door like the API: it
//! parses, calls core operations, and prints.
use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use crate::app::App;
use crate::config::{AdminCommand, Cli, Command, Config, ServeArgs};
use crate::core::auth::{self, Signup};
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::{Actor, Origin};
use crate::crypto::api_key;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::server;

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
