//! The SQL, and nothing else: a module per table of plain functions over a connection
//! (reads) or a transaction (writes). `Db` owns the connections.
pub mod accounts;
pub mod admins;
pub mod audit;
pub mod keys;
pub mod memberships;
pub mod migrate;
pub mod outbox;
pub mod page;
pub mod sessions;
pub mod signing_keys;
pub mod stats;
pub mod tenants;
pub mod tokens;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Error;
use crate::types::Timestamp;

// WAL lets readers run beside the one writer; synchronous=FULL makes an acknowledged
// write survive power loss.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = FULL;";

/// A pool of read connections and one writer: SQLite allows one writer at a time anyway,
/// and a single connection behind a mutex queues writers without busy retries.
pub struct Db {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, readers: u32, now: Timestamp) -> Result<Self, Error> {
        let mut writer = Connection::open(path)?;
        writer.execute_batch(PRAGMAS)?;
        migrate::run(&mut writer, now)?;
        let manager = SqliteConnectionManager::file(path).with_init(|c| c.execute_batch(PRAGMAS));
        let readers =
            r2d2::Pool::builder().max_size(readers.max(1)).connection_timeout(Duration::from_secs(5)).build(manager)?;
        Ok(Self { writer: Mutex::new(writer), readers })
    }

    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let conn = self.readers.get()?;
        f(&conn)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: committed when it returns Ok,
    /// rolled back (on drop) when it returns an error.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.writer.lock().map_err(Error::internal)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
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
