//! `keystead demo`: `serve` on a database of its own, seeded with a small company's
//! customers (`demo_company`), and the random passwords of its operator and of one tenant
//! owner printed. It never reads `KEYSTEAD_DB`, and it replaces only a
//! database an earlier demo created: that one carries `DEMO_APPLICATION_ID` in its header.
use std::path::{Path, PathBuf};

use super::args::{DEMO_DB, DemoArgs};
use super::demo_company::{self, OPERATOR_EMAIL, OWNER_EMAIL};
use super::serve;
use crate::app::App;
use crate::config::Config;
use crate::crypto::aead::key_file;
use crate::crypto::api_key;
use crate::error::Error;
use crate::store;
use crate::types::{MfaPolicy, SignupMode};

/// SQLite's `application_id` of a demo database: "KSDM".
const DEMO_APPLICATION_ID: u32 = 0x4b53_444d;

pub fn run(args: &DemoArgs) -> Result<(), Error> {
    let db = args.db.clone().unwrap_or_else(|| DEMO_DB.into());
    let mut defaults = Config::new(db);
    // A demo is tried on a laptop: its operator signs in with the printed password alone.
    defaults.operator_mfa = MfaPolicy::Optional;
    args.brand.overlay(&mut defaults);
    let config = args.server.overlay(defaults)?;
    clear_previous(&config.db_path)?;
    store::create_private(&config.db_path)?;
    store::set_application_id(&config.db_path, DEMO_APPLICATION_ID)?;
    // The story is played with sign-up open and no mail sent (invitations are accepted
    // through their handed-over links), whatever the server then runs with.
    let mut seeding = config.clone();
    seeding.signup = SignupMode::Open;
    seeding.smtp = None;
    let app = App::open(seeding)?;
    let seeded = demo_company::seed(&app)?;
    drop(app);
    println!("Keystead demo on {} (database {})", config.base_url, config.db_path.display());
    println!("  operator: {OPERATOR_EMAIL} / {}  (POST /v1/admin/auth/login)", seeded.operator_password.expose());
    println!("  tenant owner: {OWNER_EMAIL} / {}  (POST /v1/auth/login)", seeded.owner_password.expose());
    println!("  API key of \"{}\": {}", seeded.tenant_name, seeded.key.expose());
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
