//! The SQL, and nothing else: a module per table of plain functions over a connection
//! (reads) or a transaction (writes). `Db` owns the connections.
pub mod accounts;
pub mod activity;
pub mod admins;
pub mod audit;
pub mod cache;
pub mod keys;
pub mod known_devices;
pub mod memberships;
pub mod mfa_challenges;
pub mod migrate;
pub mod oauth_clients;
pub mod outbox;
pub mod page;
pub mod passkey_registrations;
pub mod passkeys;
pub mod recovery_codes;
pub mod sealed;
pub mod search;
pub mod seed;
pub mod sessions;
pub mod signing_keys;
pub mod stats;
pub mod tenants;
pub mod tokens;
pub mod totp_factors;

use std::cell::RefCell;
use std::io::Read as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Error;
use crate::types::Timestamp;

// WAL lets readers run beside the one writer; synchronous=FULL makes an acknowledged
// write survive power loss. A page cache of 256 KiB per connection (SQLite's default is
// 2 MiB) keeps RSS low with a connection per worker; the hot paths hit `cache` first, and
// pages missed come from the OS page cache. secure_delete zeroes what a write removes
// (a raw body stored before mail was sealed, a dropped sealed body, a deleted row), so it
// does not linger in free space once the WAL is checkpointed; the WAL's own old frames
// are overwritten as it is reused (never a VACUUM or TRUNCATE checkpoint: Litestream).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = FULL;
    PRAGMA cache_size = -256;
    PRAGMA secure_delete = ON;";

/// A pool of read connections and one writer: SQLite allows one writer at a time anyway,
/// and a single connection behind a mutex queues writers without busy retries.
pub struct Db {
    writer: Mutex<Writer>,
    /// What this process's writes changed, for every thread's caches.
    changes: cache::Log,
    readers: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// Identifies this Db to the read connections threads keep (see `read`).
    alive: Arc<()>,
    /// Write transactions committed through this Db (what batching saves is counted here).
    commits: AtomicU64,
    /// Set while the writer is inside a transaction, after it published any commit of
    /// another process: the log holds every foreign commit until then.
    vouched: AtomicBool,
}

/// Clears `Db::vouched` when a write ends, however it ends.
struct Vouching<'a>(&'a AtomicBool);

impl Drop for Vouching<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The one write connection, and its data version when last looked at: it moves only
/// when another process commits (a connection's own commits leave it be).
struct Writer {
    conn: Connection,
    version: i64,
}

fn data_version(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?)
}

thread_local! {
    /// Read connections this thread owns, one per open `Db`: a worker opens its own once
    /// and keeps it, instead of a pool checkout (mutex, condvar, health check) per request.
    static OWN_READERS: RefCell<Vec<(Weak<()>, Connection, cache::Caches)>> = const { RefCell::new(Vec::new()) };
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, readers: u32, now: Timestamp) -> Result<Self, Error> {
        create_private(path)?;
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
        let writer = Writer { version: data_version(&writer)?, conn: writer };
        Ok(Self {
            writer: Mutex::new(writer),
            changes: cache::Log::default(),
            readers,
            path: path.to_owned(),
            alive: Arc::new(()),
            commits: AtomicU64::new(0),
            vouched: AtomicBool::new(false),
        })
    }

    /// Runs `f` on this thread's own read connection (opened on first use); a nested read,
    /// which finds it in use, takes one from the pool.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.on_own(|conn, _| f(conn))
    }

    /// As `read`, with this thread's cache of type `C` (see `cache`), rid of whatever the
    /// writes since this thread last used it made stale.
    pub fn read_cached<C: cache::Cache, T>(
        &self,
        f: impl FnOnce(&Connection, &mut C) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.on_own(|conn, caches| match caches {
            Some(caches) => f(conn, caches.get::<C>(conn, &self.changes, || self.foreign_writes())?),
            None => f(conn, &mut C::default()),
        })
    }

    /// Whether another process committed since the last look, published as a change of
    /// everything when it did; unknown while the writer is busy (a thread that asks then
    /// empties its own caches, and the next look tells the others).
    fn foreign_writes(&self) -> Result<cache::Foreign, Error> {
        let mut writer = match self.writer.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            // Inside its transaction, the writer has looked already (see `write_then`).
            Err(std::sync::TryLockError::WouldBlock) if self.vouched.load(Ordering::SeqCst) => {
                return Ok(cache::Foreign::Published);
            }
            Err(std::sync::TryLockError::WouldBlock) => return Ok(cache::Foreign::Unknown),
        };
        if !writer.conn.is_autocommit() {
            return Ok(cache::Foreign::Unknown);
        }
        let version = data_version(&writer.conn)?;
        if version != writer.version {
            self.changes.publish(None);
            writer.version = version;
        }
        Ok(cache::Foreign::Published)
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
    /// rolled back (on drop) when it returns an error or panics. Every thread's caches drop
    /// everything once it committed: a write that knows what it changes says so through
    /// `write_affecting`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T, Error>) -> Result<T, Error> {
        self.write_then(None, f)
    }

    /// As `write`, for a transaction that changes only what `affects` names of what the
    /// caches hold (nothing, for one that only inserts rows or records usage).
    pub fn write_affecting<T>(
        &self,
        affects: &[cache::Affects],
        f: impl FnOnce(&Transaction) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.write_then(Some(affects), f)
    }

    fn write_then<T>(
        &self,
        affects: Option<&[cache::Affects]>,
        f: impl FnOnce(&Transaction) -> Result<T, Error>,
    ) -> Result<T, Error> {
        // A panic inside `f` poisons the mutex but leaves the connection sound: unwinding
        // drops the `Transaction`, and rusqlite rolls a dropped transaction back. Refusing
        // every later write would turn one panicked request into a dead server, so the
        // writer is taken back; should a transaction somehow still be open (a failed
        // rollback), it is ended here before the next one begins.
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // Dropped before the lock is released, on every path.
        let _vouching = Vouching(&self.vouched);
        let Writer { conn, version: seen } = &mut *writer;
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK")?;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Holding SQLite's write lock, no other process commits until this one ends: what
        // they committed before is published now, and readers that find the writer busy
        // may take the log as complete.
        let version = data_version(&tx)?;
        if version != *seen {
            self.changes.publish(None);
            *seen = version;
        }
        self.vouched.store(true, Ordering::SeqCst);
        let out = f(&tx)?;
        let committed = tx.commit();
        // Published before the caller answers, and while no other write can begin: a
        // request that starts after the answer finds the change in the log. A commit that
        // failed may still have happened: everything is stale then.
        self.changes.publish(if committed.is_ok() { affects } else { None });
        // This thread's caches check again at once, so that a request sees its own writes.
        cache::wrote();
        committed?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// How many write transactions this Db committed since it was opened.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// A consistent copy of the whole database, taken while others read and write, into a
    /// new file readable by its owner only (VACUUM INTO fills an empty file, keeping its
    /// mode). Refuses a file that exists.
    pub fn backup_to(&self, out: &Path) -> Result<(), Error> {
        let name = out.to_str().ok_or_else(|| Error::invalid("the output path must be valid UTF-8"))?;
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(out);
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::invalid(format!("{name} already exists")));
            }
            Err(e) => return Err(Error::internal(format!("cannot create {name}: {e}"))),
        }
        let copied =
            self.readers.get().map_err(Error::from).and_then(|conn| Ok(conn.execute("VACUUM INTO ?1", [name])?));
        if let Err(e) = copied {
            // Only the file this call created, which holds no complete copy.
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
        Ok(())
    }
}

/// Creates the database file empty (SQLite takes an empty file as a new database) and
/// readable by its owner only, unless it exists; refuses a file that others may read.
/// SQLite gives its `-wal` and `-shm` files the mode of the database file.
pub fn create_private(path: &Path) -> Result<(), Error> {
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::internal(format!("cannot create {}: {e}", path.display()))),
    }
    refuse_shared(path)
}

/// Refuses a database file that others may read or write.
pub fn refuse_shared(path: &Path) -> Result<(), Error> {
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::internal(format!("cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::internal(format!(
            "{} is readable or writable by others (mode {:o}); it holds password hashes and sealed keys. \
             Run `chmod 600 {}` (and the same on its -wal and -shm files), then start again.",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

/// The `application_id` in the header of the database file at `path`, read from its
/// bytes (no SQLite connection, so no file is created): None when it is no database.
pub fn application_id(path: &Path) -> Result<Option<u32>, Error> {
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Ok(()) if header.starts_with(b"SQLite format 3\0") => {
            Ok(Some(u32::from_be_bytes([header[68], header[69], header[70], header[71]])))
        }
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes `id` into the header of a new database file, before it switches to WAL, so the
/// main file holds it from the first moment.
pub fn set_application_id(path: &Path, id: u32) -> Result<(), Error> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "application_id", i32::from_ne_bytes(id.to_ne_bytes()))?;
    Ok(())
}

/// A connection that can neither create the file nor change it (`keystead check`).
pub fn open_read_only(path: &Path) -> Result<Connection, Error> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
    Ok(conn)
}

/// SQLite's `PRAGMA quick_check`: empty when the file is sound, else what it found (at most
/// a few lines).
pub fn quick_check(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare("PRAGMA quick_check(10)")?;
    let found: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(found.into_iter().filter(|line| line != "ok").collect())
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

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    fn count(db: &Db) -> Result<i64, Error> {
        db.read(|c| Ok(c.query_row("SELECT count(*) FROM probe", [], |r| r.get(0))?))
    }

    #[test]
    fn a_panic_inside_a_write_rolls_it_back_and_the_next_write_works() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let db = Db::open(&dir.path().join("k.db"), 1, Timestamp::from_unix(0))?;
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE probe (n INTEGER)")?))?;

        let panicked = catch_unwind(AssertUnwindSafe(|| {
            db.write(|tx| -> Result<(), Error> {
                tx.execute("INSERT INTO probe VALUES (1)", [])?;
                panic!("a bug inside a write");
            })
        }));
        assert!(panicked.is_err());
        assert!(db.writer.is_poisoned(), "the test must poison the writer");

        db.write(|tx| Ok(tx.execute("INSERT INTO probe VALUES (2)", [])?))?;
        assert_eq!(count(&db)?, 1, "the panicked insert was rolled back, the next one committed");
        assert!(
            db.writer.lock().unwrap_or_else(PoisonError::into_inner).conn.is_autocommit(),
            "no transaction left open"
        );
        Ok(())
    }

    /// A cache that remembers what was put in it until anything invalidates it.
    #[derive(Default)]
    struct Held(usize);

    impl cache::Cache for Held {
        fn invalidate(&mut self, _: &cache::Affects) {
            self.0 = 0;
        }
    }

    fn held(db: &Db) -> Result<usize, Error> {
        db.read_cached(|_, c: &mut Held| {
            c.0 += 1;
            Ok(c.0 - 1)
        })
    }

    #[test]
    fn own_writes_drop_what_they_name_and_another_process_drops_everything() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let db = Db::open(&dir.path().join("k.db"), 1, Timestamp::from_unix(0))?;
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE probe (n INTEGER)")?))?;
        held(&db)?;
        assert_eq!(held(&db)?, 1, "kept between reads");
        db.write_affecting(&[], |tx| Ok(tx.execute("INSERT INTO probe VALUES (1)", [])?))?;
        assert_eq!(held(&db)?, 2, "a write that changes nothing cached keeps it");
        db.write(|tx| Ok(tx.execute("INSERT INTO probe VALUES (2)", [])?))?;
        assert_eq!(held(&db)?, 0, "a write that names nothing drops it");
        let other = Connection::open(dir.path().join("k.db"))?;
        other.execute("INSERT INTO probe VALUES (3)", [])?;
        assert_eq!(held(&db)?, 0, "another connection's commit drops it");
        assert_eq!(db.commits(), 3);
        Ok(())
    }
}
