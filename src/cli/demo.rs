//! `keystead demo`: `serve` on a database of its own, seeded with an operator and a tenant
//! whose random passwords it prints. It never reads `KEYSTEAD_DB`, and it replaces only a
//! database an earlier demo created: that one carries `DEMO_APPLICATION_ID` in its header.
use std::path::{Path, PathBuf};

use super::args::{DEMO_DB, DemoArgs};
use super::serve;
use crate::app::App;
use crate::config::Config;
use crate::core::auth::{self, Signup};
use crate::core::operators::{self, NewAdmin};
use crate::core::principal::{Actor, Origin};
use crate::crypto::aead::key_file;
use crate::crypto::api_key;
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::store;
use crate::types::MfaPolicy;

/// SQLite's `application_id` of a demo database: "KSDM".
const DEMO_APPLICATION_ID: u32 = 0x4b53_444d;

const OPERATOR_EMAIL: &str = "operator@demo.test";
const OWNER_EMAIL: &str = "owner@demo.test";

pub fn run(args: &DemoArgs) -> Result<(), Error> {
    let db = args.db.clone().unwrap_or_else(|| DEMO_DB.into());
    let mut defaults = Config::new(db);
    // A demo is tried on a laptop: its operator signs in with the printed password alone.
    defaults.operator_mfa = MfaPolicy::Optional;
    let config = args.server.overlay(defaults)?;
    clear_previous(&config.db_path)?;
    store::create_private(&config.db_path)?;
    store::set_application_id(&config.db_path, DEMO_APPLICATION_ID)?;
    let app = App::open(config.clone())?;
    let origin = Origin { ip: "127.0.0.1".into(), user_agent: "keystead demo".into() };
    let operator_password = random_token();
    let operator_shown = operator_password.expose().to_owned();
    let operator =
        NewAdmin { email: OPERATOR_EMAIL.into(), name: Some("Demo Operator".into()), password: operator_password };
    operators::create_admin(&app, Actor::System, None, operator)?;
    let owner_password = random_token();
    let owner_shown = owner_password.expose().to_owned();
    let signup = Signup {
        tenant_name: "Demo Company".into(),
        email: OWNER_EMAIL.into(),
        password: owner_password,
        name: Some("Dana Owner".into()),
    };
    let seeded = auth::signup(&app, &origin, signup)?;
    drop(app);
    println!("Keystead demo on {} (database {})", config.base_url, config.db_path.display());
    println!("  operator: {OPERATOR_EMAIL} / {operator_shown}  (POST /v1/admin/auth/login)");
    println!("  tenant owner: {OWNER_EMAIL} / {owner_shown}  (POST /v1/auth/login)");
    println!("  API key of \"{}\": {}", seeded.tenant.name, seeded.key.key.expose());
    println!("  API keys match: {}", api_key::pattern(&config.key_prefix));
    serve(config)
}

/// Removes the files of an earlier demo on `db`; refuses to touch anything else.
fn clear_previous(db: &Path) -> Result<(), Error> {
    let companions: Vec<PathBuf> =
        ["-wal", "-shm"].iter().map(|s| PathBuf::from(format!("{}{s}", db.display()))).chain([key_file(db)]).collect();
    if !db.exists() {
        return match companions.iter().find(|c| c.exists()) {
            Some(stray) => Err(Error::invalid(format!(
                "{} exists without {}: keystead demo did not create it. Remove it or choose another --db.",
                stray.display(),
                db.display()
            ))),
            None => Ok(()),
        };
    }
    if store::application_id(db)? != Some(DEMO_APPLICATION_ID) {
        return Err(Error::invalid(format!(
            "{} exists and is not a database keystead demo created, so it stays. Choose another --db.",
            db.display()
        )));
    }
    // The database last: if this stops half-way, the next demo still recognises it.
    for file in companions.iter().map(PathBuf::as_path).chain([db]) {
        if file.exists() {
            std::fs::remove_file(file)
                .map_err(|e| Error::internal(format!("cannot remove {}: {e}", file.display())))?;
        }
    }
    Ok(())
}
