//! `keystead check`: whether an installation is sound, without changing it. It reads the
//! settings `serve` would run with, opens the database read-only (no migration, no key
//! file created), and proves the master key opens every sealed value. Exit 0 only when
//! every line is ok.
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use rusqlite::Connection;

use super::args::ServeArgs;
use super::describe;
use crate::brand::Brand;
use crate::config::Config;
use crate::crypto::aead::{MasterKey, key_file};
use crate::error::Error;
use crate::store::{self, migrate, sealed};
use crate::tls::Certificate;

/// One line of the report: what was checked, and what was found or went wrong.
type Finding = Result<String, String>;

pub fn run(args: &ServeArgs) -> Result<(), Error> {
    let mut failed = 0;
    let mut report = |what: &str, finding: Finding| match &finding {
        Ok(detail) => println!("ok    {what:<13} {detail}"),
        Err(detail) => {
            failed += 1;
            println!("FAIL  {what:<13} {detail}");
        }
    };
    let config = match args.config().and_then(|c| c.validate().map(|()| c)) {
        Ok(config) => config,
        Err(e) => {
            report("configuration", Err(describe(&e)));
            return Err(Error::internal("the configuration is not valid"));
        }
    };
    report("configuration", Ok(summary(&config)));
    if let Some(files) = &config.tls {
        let loaded = Certificate::load(&files.cert, &files.key);
        report("tls", loaded.map(|_| format!("{} opens with its key", files.cert.display())).map_err(|e| describe(&e)));
    }
    // The logo and the mail texts are read and checked as `serve` would, refused alike.
    report("branding", Brand::load(&config).map(|b| b.summary()).map_err(|e| describe(&e)));
    let path = &config.db_path;
    if !path.exists() {
        report("database", Err(format!("{} does not exist (the first `keystead serve` creates it)", path.display())));
        return Err(Error::internal("1 check failed"));
    }
    report(
        "file mode",
        store::refuse_shared(path).map(|()| "readable by its owner only".into()).map_err(|e| describe(&e)),
    );
    match store::open_read_only(path) {
        Err(e) => report("database", Err(describe(&e))),
        Ok(conn) => {
            report("database", Ok(path.display().to_string()));
            report("schema", schema(&conn));
            report("integrity", integrity(&conn));
            report("master key", master_key(&config, &conn));
        }
    }
    match failed {
        0 => Ok(()),
        1 => Err(Error::internal("1 check failed")),
        n => Err(Error::internal(format!("{n} checks failed"))),
    }
}

fn summary(config: &Config) -> String {
    let mail = if config.smtp.is_some() { "SMTP set" } else { "no SMTP (mail stays in the outbox)" };
    format!("base URL {}, bind {}, signup {}, {mail}", config.base_url, config.bind, config.signup)
}

fn schema(conn: &Connection) -> Finding {
    let s = migrate::status(conn).map_err(|e| describe(&e))?;
    if !s.unknown.is_empty() {
        let steps: Vec<String> = s.unknown.iter().map(i64::to_string).collect();
        return Err(format!("steps {} were applied by a newer keystead: run that version", steps.join(", ")));
    }
    let version = s.version.map_or_else(|| "empty".to_owned(), |v| format!("version {v}"));
    if s.pending.is_empty() {
        return Ok(format!("{version}, up to date"));
    }
    let pending: Vec<String> = s.pending.iter().map(|(n, name)| format!("{n} {name}")).collect();
    Ok(format!("{version}, pending: {} (`keystead serve` applies them)", pending.join(", ")))
}

fn integrity(conn: &Connection) -> Finding {
    let problems = store::quick_check(conn).map_err(|e| describe(&e))?;
    if problems.is_empty() { Ok("PRAGMA quick_check: ok".into()) } else { Err(problems.join("; ")) }
}

/// Opens every sealed value with the configured key (or the key file's).
fn master_key(config: &Config, conn: &Connection) -> Finding {
    let file = key_file(&config.db_path);
    if config.master_key.is_none() {
        key_file_mode(&file)?;
    }
    let key = MasterKey::existing(config.master_key.as_deref(), &config.db_path).map_err(|e| describe(&e))?;
    let mut opened: BTreeMap<&str, usize> = BTreeMap::new();
    let mut refused = None;
    sealed::each(conn, |kind, sample| {
        match &key {
            Some(key) if key.open(&sample.sealed, &sample.context).is_ok() => *opened.entry(kind).or_default() += 1,
            _ => refused = refused.take().or(Some(sample.what)),
        }
        Ok(())
    })
    .map_err(|e| describe(&e))?;
    match (key.is_some(), refused) {
        (false, Some(what)) => Err(format!(
            "the database holds sealed values ({what}) but no key is given: set KEYSTEAD_MASTER_KEY or restore {}",
            file.display()
        )),
        (true, Some(what)) => {
            Err(format!("the key does not open {what}: it is not the key this database was sealed with"))
        }
        (false, None) => Ok(format!("none yet ({} is created on the first start)", file.display())),
        (true, None) if opened.is_empty() => Ok("nothing sealed yet".into()),
        (true, None) => {
            let counts: Vec<String> = opened.iter().map(|(kind, n)| format!("{n} × {kind}")).collect();
            Ok(format!("opens every sealed value: {}", counts.join(", ")))
        }
    }
}

fn key_file_mode(file: &Path) -> Result<(), String> {
    match std::fs::metadata(file) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            Err(format!("{} is readable or writable by others: run `chmod 600 {}`", file.display(), file.display()))
        }
        _ => Ok(()),
    }
}
