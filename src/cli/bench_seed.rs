//! `keystead bench-seed` (hidden): fills an empty database at the scale of issue 13 for
//! the benchmark, in big transactions: tenants, accounts with memberships and audit
//! events by bulk SQL (`store::seed`), API keys and live sessions through the operations
//! that issue them (`core::keys::issue`, `core::sessions::open`), since their secrets are
//! made here. Every account has the same password: ONE argon2 hash, computed once, is
//! stored for all (a million hashes would take hours). A sample of the keys and session
//! tokens is written out for the load generator.
use std::path::Path;
use std::time::Instant;

use super::args::BenchSeedArgs;
use crate::app::App;
use crate::core::keys::{self, NewKey};
use crate::core::principal::Origin;
use crate::core::sessions::{self, Holder};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::store::seed::{self, ACCOUNT, TENANT};

/// The password of every seeded account (bench/run.sh logs in with it).
pub const PASSWORD: &str = "bench correct horse battery staple";
/// Rows per transaction.
const CHUNK: u32 = 50_000;

pub fn run(args: &BenchSeedArgs) -> Result<(), Error> {
    if args.tenants == 0 || args.accounts < args.tenants {
        return Err(Error::invalid("--accounts must be at least --tenants, and --tenants at least 1"));
    }
    let app = App::open(args.db.config())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", args.out.display())))?;
    let started = Instant::now();
    let now = app.clock.now();
    let per_tenant = args.accounts.div_ceil(args.tenants);
    let hash = app.hasher.hash(&Secret::new(PASSWORD.into()))?;
    let empty = |e: Error| Error::invalid(format!("bench-seed fills an empty database: {}", super::describe(&e)));

    chunked("tenants", args.tenants, |from, to| {
        app.db.write(|tx| seed::tenants(tx, from.into(), to.into(), now)).map_err(empty)
    })?;
    chunked("accounts", args.accounts, |from, to| {
        app.db.write(|tx| seed::accounts(tx, from.into(), to.into(), per_tenant.into(), &hash, now)).map_err(empty)
    })?;
    let mut keys_out = sample_file(&args.out.join("keys"))?;
    let step = |n: u32| (n / args.sample.max(1)).max(1);
    let origin = Origin { ip: "127.0.0.1".into(), user_agent: "keystead bench-seed".into() };
    chunked("API keys", args.keys, |from, to| {
        let secrets = app.db.write(|tx| {
            let mut shown = Vec::new();
            for i in from..=to {
                let tenant = seed::id(TENANT, (i - 1) % args.tenants + 1).parse()?;
                let created = keys::issue(tx, &app, tenant, None, NewKey::first(), now)?;
                if (i - 1) % step(args.keys) == 0 && shown.len() < args.sample as usize {
                    shown.push(created.key);
                }
            }
            Ok(shown)
        })?;
        write_secrets(&mut keys_out, &secrets)
    })?;
    let mut tokens_out = sample_file(&args.out.join("tokens"))?;
    chunked("sessions", args.sessions, |from, to| {
        let secrets = app.db.write(|tx| {
            let mut shown = Vec::new();
            for i in from..=to {
                let account = (i - 1) % args.accounts + 1;
                let user = seed::id(ACCOUNT, account).parse()?;
                let tenant = seed::id(TENANT, (account - 1) / per_tenant + 1).parse()?;
                let opened = sessions::open(tx, &app, Holder::Portal { user, tenant }, &origin, now)?;
                if (i - 1) % step(args.sessions) == 0 && shown.len() < args.sample as usize {
                    shown.push(opened.token);
                }
            }
            Ok(shown)
        })?;
        write_secrets(&mut tokens_out, &secrets)
    })?;
    chunked("audit events", args.audit_events, |from, to| {
        app.db.write(|tx| seed::audit(tx, from.into(), to.into(), args.accounts.into(), per_tenant.into(), now))
    })?;
    println!(
        "seeded {} tenants, {} accounts (password {PASSWORD:?}), {} keys, {} sessions, {} audit events in {:.1} s; \
         samples in {}",
        args.tenants,
        args.accounts,
        args.keys,
        args.sessions,
        args.audit_events,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// Runs `f` over `1..=n` in chunks of `CHUNK`, telling how far it got on stderr.
fn chunked<T>(what: &str, n: u32, mut f: impl FnMut(u32, u32) -> Result<T, Error>) -> Result<(), Error> {
    let started = Instant::now();
    let mut from = 1;
    while from <= n {
        let to = from.saturating_add(CHUNK - 1).min(n);
        f(from, to)?;
        from = to + 1;
    }
    eprintln!("{n} {what} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A file for raw keys or session tokens of the seeded database: its owner's only, like
/// the database whose sessions and keys they open.
fn sample_file(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", path.display())))?;
    Ok(std::io::BufWriter::new(file))
}

fn write_secrets(out: &mut impl std::io::Write, secrets: &[Secret]) -> Result<(), Error> {
    for s in secrets {
        writeln!(out, "{}", s.expose()).map_err(Error::internal)?;
    }
    out.flush().map_err(Error::internal)
}
