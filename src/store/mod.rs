//! The SQL, and nothing else: a module per table of plain functions over a connection
//! (reads) or a transaction (writes). `Db` owns the connections.
pub mod accounts;
pub mod admins;
pub mod audit;
pub mod cache;
pub mod keys;
pub mod memberships;
pub mod mfa_challenges;
pub mod migrate;
pub mod outbox;
pub mod page;
pub mod recovery_codes;
pub mod search;
pub mod sessions;
pub mod signing_keys;
pub mod stats;
pub mod tenants;
pub mod tokens;
pub mod totp_factors;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Error;
use crate::types::Timestamp;

// WAL lets readers run beside the one writer; synchronous=FULL makes an acknowledged
// write survive power loss. A page cache of 256 KiB per connection (SQLite's default is
// 2 MiB) keeps RSS low with a connection per worker; the hot paths hit `cache` first, and
// pages missed come from the OS page cache.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = FULL;
    PRAGMA cache_size = -256;";

/// A pool of read connections and one writer: SQLite allows one writer at a time anyway,
/// and a single connection behind a mutex queues writers without busy retries.
pub struct Db {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// Identifies this Db to the read connections threads keep (see `read`).
    alive: Arc<()>,
}

thread_local! {
    /// Read connections this thread owns, one per open `Db`: a worker opens its own once
    /// and keeps it, instead of a pool checkout (mutex, condvar, health check) per request.
    static OWN_READERS: RefCell<Vec<(Weak<()>, Connection, cache::Caches)>> = const { RefCell::new(Vec::new()) };
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, readers: u32, now: Timestamp) -> Result<Self, Error> {
        let mut writer = Connection::open(path)?;
        writer.execute_batch(PRAGMAS)?;
        migrate::run(&mut writer, now)?;
        let manager = SqliteConnectionManager::file(path).with_init(|c| c.execute_batch(PRAGMAS));
        // The pool now serves only nested reads and backups: its connections open on demand.
        let readers = r2d2::Pool::builder()
            .max_size(readers.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)?;
        Ok(Self { writer: Mutex::new(writer), readers, path: path.to_owned(), alive: Arc::new(()) })
    }

    /// Runs `f` on this thread's own read connection (opened on first use); a nested read,
    /// which finds it in use, takes one from the pool.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.on_own(|conn, _| f(conn))
    }

    /// As `read`, with this thread's cache of type `C` (see `cache`), empty whenever the
    /// database changed since this thread last used it.
    pub fn read_cached<C: Default + 'static, T>(
        &self,
        f: impl FnOnce(&Connection, &mut C) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.on_own(|conn, caches| match caches {
            Some(caches) => f(conn, caches.get::<C>(conn)?),
            None => f(conn, &mut C::default()),
        })
    }

    fn on_own<T>(
        &self,
        f: impl FnOnce(&Connection, Option<&mut cache::Caches>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        OWN_READERS.with(|own| {
            let Ok(mut own) = own.try_borrow_mut() else {
                let conn = self.readers.get()?;
                return f(&conn, None);
            };
            // Connections of a Db that was dropped are closed here.
            own.retain(|(db, _, _)| db.strong_count() > 0);
            let mine = |(db, _, _): &(Weak<()>, _, _)| std::ptr::eq(db.as_ptr(), Arc::as_ptr(&self.alive));
            let index = match own.iter().position(mine) {
                Some(i) => i,
                None => {
                    let conn = Connection::open(&self.path)?;
                    conn.execute_batch(PRAGMAS)?;
                    own.push((Arc::downgrade(&self.alive), conn, cache::Caches::default()));
                    own.len() - 1
                }
            };
            let (_, conn, caches) = &mut own[index];
            f(conn, Some(caches))
        })
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: committed when it returns Ok,
    /// rolled back (on drop) when it returns an error.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.writer.lock().map_err(Error::internal)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        let committed = tx.commit();
        // Whatever the outcome, this thread's caches check the data version again.
        cache::wrote();
        committed?;
        Ok(out)
    }

    /// A consistent copy of the whole database, taken while others read and write.
    pub fn backup_to(&self, out: &Path) -> Result<(), Error> {
        let conn = self.readers.get()?;
        let out = out.to_str().ok_or_else(|| Error::invalid("the output path must be valid UTF-8"))?;
        conn.execute("VACUUM INTO ?1", [out])?;
        Ok(())
    }
}

impl Db {
    /// Whether the database answers (for `/healthz`).
    pub fn ping(&self) -> Result<(), Error> {
        self.read(|c| Ok(c.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?))
    }
}

/// A fresh database in memory with every migration applied, for the store's tests.
#[cfg(test)]
pub(crate) fn migrated_in_memory() -> Result<Connection, Error> {
    let mut conn = Connection::open_in_memory()?;
    migrate::run(&mut conn, Timestamp::from_unix(0))?;
    Ok(conn)
}

/// The steps of `EXPLAIN QUERY PLAN` for `sql`, with 1 bound to every parameter.
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    for i in 1..=stmt.parameter_count() {
        stmt.raw_bind_parameter(i, 1)?;
    }
    let mut rows = stmt.raw_query();
    let mut plan = Vec::new();
    while let Some(row) = rows.next()? {
        plan.push(row.get::<_, String>(3)?);
    }
    Ok(plan)
}
