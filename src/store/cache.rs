//! Per-thread caches of hot-path reads (a session or key by its token hash, a member's
//! profile), kept beside each thread's own read connection. A cached value is never
//! staler than the request that found it:
//!
//! - a write of this process publishes what it changed (`Affects`) in a shared log before
//!   its caller answers; every thread, once per request, drops the entries the changes
//!   since its last look name (a write that names nothing drops everything, and one that
//!   declares it changes nothing cached, as a touch of usage times, drops nothing);
//! - a write of another process (the command line) is seen through `PRAGMA data_version`:
//!   when it moved on a thread's connection, the writer's own connection says whether
//!   anyone but this process committed (its data version moves only then), and if so
//!   every cache is emptied.
use std::any::Any;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;

use crate::error::Error;
use crate::types::{KeyId, SessionId, TenantId, UserId};

thread_local! {
    /// While this thread serves a request (see `RequestScope`): a number that changes with
    /// each request and after each write of this thread. Caches checked at the current number
    /// skip the checks: one per request, however many caches it uses.
    static EPOCH: Cell<Option<u64>> = const { Cell::new(None) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

fn bump(in_request: bool) {
    let n = NEXT.get().wrapping_add(1);
    NEXT.set(n);
    EPOCH.set(in_request.then_some(n));
}

/// Marks this thread as serving one request until dropped: the caches it reads check for
/// changes once (the first time) rather than at every lookup. Outside a scope (command
/// line, background threads) every lookup checks.
pub struct RequestScope(());

impl RequestScope {
    pub fn enter() -> Self {
        bump(true);
        Self(())
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        bump(false);
    }
}

/// This thread committed a write: its next cache lookup checks again, so a request sees
/// its own writes.
pub(super) fn wrote() {
    bump(EPOCH.get().is_some());
}

/// What a write changed of the rows the caches hold (see `Db::write_affecting`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Affects {
    Key(KeyId),
    Session(SessionId),
    /// Everything of an account: its sessions, profile and factors.
    Account(UserId),
    /// Everything of a tenant: its keys, the sessions and profiles of its members.
    Tenant(TenantId),
}

#[derive(Clone, Copy, Debug)]
enum Change {
    Only(Affects),
    Everything,
}

/// A value cached under a key of type `K` that knows what would make it stale.
pub trait DependsOn<K> {
    fn depends_on(&self, key: &K, what: &Affects) -> bool;
}

/// How many changes the log keeps: a thread further behind empties its caches.
const LOG_LEN: usize = 1024;

/// The changes this process's writes made, numbered; shared by every thread of one `Db`.
#[derive(Default)]
pub(super) struct Log {
    /// The number of the latest change (0: none yet).
    latest: AtomicU64,
    recent: Mutex<VecDeque<(u64, Change)>>,
}

impl Log {
    /// Publishes what a committed write changed: `None` for "anything".
    pub(super) fn publish(&self, affects: Option<&[Affects]>) {
        let changes: Vec<Change> = match affects {
            None => vec![Change::Everything],
            Some(list) => list.iter().copied().map(Change::Only).collect(),
        };
        if changes.is_empty() {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let mut n = self.latest.load(Ordering::SeqCst);
        for change in changes {
            n += 1;
            recent.push_back((n, change));
        }
        while recent.len() > LOG_LEN {
            recent.pop_front();
        }
        self.latest.store(n, Ordering::SeqCst);
    }

    fn latest(&self) -> u64 {
        self.latest.load(Ordering::SeqCst)
    }

    /// Hands `apply` every change after number `seen` (or one `Everything` when some of
    /// them are no longer kept); returns the number of the latest.
    fn since(&self, seen: u64, mut apply: impl FnMut(Change)) -> u64 {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let latest = self.latest.load(Ordering::SeqCst);
        match recent.front() {
            Some((first, _)) if *first <= seen + 1 => {
                recent.iter().filter(|(n, _)| *n > seen).for_each(|(_, c)| apply(*c));
            }
            _ if latest > seen => apply(Change::Everything),
            _ => {}
        }
        latest
    }
}

/// A cache kept per thread: it drops what a change makes stale.
pub trait Cache: Default + 'static {
    fn invalidate(&mut self, what: &Affects);
}

trait Held {
    fn invalidate(&mut self, what: &Affects);
    fn as_any(&mut self) -> &mut dyn Any;
}

impl<C: Cache> Held for C {
    fn invalidate(&mut self, what: &Affects) {
        Cache::invalidate(self, what);
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// Whether another process committed: asked when this thread's data version moved.
pub(super) enum Foreign {
    /// Every commit of another process so far is in the log (as a change of everything).
    Published,
    /// Cannot tell now (the writer is starting a transaction): this thread empties its
    /// own caches.
    Unknown,
}

/// The caches of one thread for one `Db`, by type, and what they hold for.
#[derive(Default)]
pub(super) struct Caches {
    /// The data version of this thread's connection at the last check.
    version: Option<i64>,
    /// The last change of the log applied.
    seen: u64,
    /// The request epoch at which the checks were last made.
    checked: Option<u64>,
    items: Vec<Box<dyn Held>>,
}

impl Caches {
    /// The cache of type `C`, brought up to date first.
    pub(super) fn get<C: Cache>(
        &mut self,
        conn: &Connection,
        log: &Log,
        foreign: impl FnOnce() -> Result<Foreign, Error>,
    ) -> Result<&mut C, Error> {
        let epoch = EPOCH.get();
        if epoch.is_none() || self.checked != epoch {
            self.check(conn, log, foreign)?;
            self.checked = epoch;
        }
        let index = match self.items.iter_mut().position(|c| c.as_any().is::<C>()) {
            Some(i) => i,
            None => {
                self.items.push(Box::new(C::default()));
                self.items.len() - 1
            }
        };
        self.items[index].as_any().downcast_mut::<C>().ok_or_else(|| Error::internal("a cache of another type"))
    }

    fn check(
        &mut self,
        conn: &Connection,
        log: &Log,
        foreign: impl FnOnce() -> Result<Foreign, Error>,
    ) -> Result<(), Error> {
        let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
        match self.version {
            None => {
                // First use: nothing cached yet, and every change so far is in the database.
                self.seen = log.latest();
            }
            Some(v) if v != version => {
                if let Foreign::Unknown = foreign()? {
                    self.items.clear();
                }
            }
            Some(_) => {}
        }
        self.version = Some(version);
        let items = &mut self.items;
        self.seen = log.since(self.seen, |change| match change {
            Change::Everything => items.clear(),
            Change::Only(what) => items.iter_mut().for_each(|c| c.invalidate(&what)),
        });
        Ok(())
    }
}

/// A map that forgets everything when it reaches its bound (memory stays bounded, and a
/// working set larger than the bound only costs the lookups it would cost anyway).
pub struct Bounded<K, V, const N: usize> {
    map: HashMap<K, V>,
}

impl<K, V, const N: usize> Default for Bounded<K, V, N> {
    fn default() -> Self {
        Self { map: HashMap::new() }
    }
}

impl<K: Eq + Hash + 'static, V: DependsOn<K> + 'static, const N: usize> Cache for Bounded<K, V, N> {
    fn invalidate(&mut self, what: &Affects) {
        self.map.retain(|k, v| !v.depends_on(k, what));
    }
}

impl<K: Eq + Hash, V: Clone, const N: usize> Bounded<K, V, N> {
    /// The cached value, or the loaded one (remembered when there is one).
    pub fn get_or_load(&mut self, key: K, load: impl FnOnce() -> Result<Option<V>, Error>) -> Result<Option<V>, Error> {
        if let Some(v) = self.map.get(&key) {
            return Ok(Some(v.clone()));
        }
        let loaded = load()?;
        if let Some(v) = &loaded {
            if self.map.len() >= N {
                self.map.clear();
            }
            self.map.insert(key, v.clone());
        }
        Ok(loaded)
    }

    /// Changes the cached value of `key`, if there is one (a use this thread recorded).
    pub fn update(&mut self, key: &K, f: impl FnOnce(&mut V)) {
        if let Some(v) = self.map.get_mut(key) {
            f(v);
        }
    }

    /// Forgets `key` (a value found stale: the next lookup loads it again).
    pub fn forget(&mut self, key: &K) {
        self.map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Row(KeyId);

    impl DependsOn<u8> for Row {
        fn depends_on(&self, _: &u8, what: &Affects) -> bool {
            *what == Affects::Key(self.0)
        }
    }

    type Rows = Bounded<u8, Row, 16>;

    fn cached(caches: &mut Caches, conn: &Connection, log: &Log, foreign: Foreign) -> Result<Vec<u8>, Error> {
        let cache = caches.get::<Rows>(conn, log, || Ok(foreign))?;
        let mut keys: Vec<u8> = cache.map.keys().copied().collect();
        keys.sort_unstable();
        Ok(keys)
    }

    fn filled(caches: &mut Caches, conn: &Connection, log: &Log, rows: &[(u8, KeyId)]) -> Result<(), Error> {
        let cache = caches.get::<Rows>(conn, log, || Ok(Foreign::Published))?;
        for &(k, id) in rows {
            cache.get_or_load(k, || Ok(Some(Row(id))))?;
        }
        Ok(())
    }

    #[test]
    fn a_change_drops_only_what_depends_on_it_and_an_unnamed_one_drops_everything() -> Result<(), Error> {
        let conn = Connection::open_in_memory()?;
        let (log, mut caches) = (Log::default(), Caches::default());
        let (a, b) = (KeyId::random(), KeyId::random());
        filled(&mut caches, &conn, &log, &[(1, a), (2, b)])?;

        log.publish(Some(&[]));
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Published)?, [1, 2], "a touch drops nothing");
        log.publish(Some(&[Affects::Key(a)]));
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Published)?, [2], "only the revoked key");
        log.publish(None);
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Published)?, Vec::<u8>::new(), "anything");
        Ok(())
    }

    #[test]
    fn a_thread_further_behind_than_the_log_reaches_empties_its_caches() -> Result<(), Error> {
        let conn = Connection::open_in_memory()?;
        let (log, mut caches) = (Log::default(), Caches::default());
        let (a, b) = (KeyId::random(), KeyId::random());
        filled(&mut caches, &conn, &log, &[(1, a)])?;
        for _ in 0..=LOG_LEN {
            log.publish(Some(&[Affects::Key(b)]));
        }
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Published)?, Vec::<u8>::new());
        Ok(())
    }

    #[test]
    fn a_commit_of_another_connection_the_writer_cannot_vouch_for_empties_the_caches() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let path = dir.path().join("c.db");
        let (conn, other) = (Connection::open(&path)?, Connection::open(&path)?);
        other.execute_batch("CREATE TABLE t (n INTEGER)")?;
        let (log, mut caches) = (Log::default(), Caches::default());
        filled(&mut caches, &conn, &log, &[(1, KeyId::random())])?;
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Unknown)?, [1], "nothing committed: no question asked");
        other.execute("INSERT INTO t VALUES (1)", [])?;
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Published)?, [1], "the writer vouches: own write");
        other.execute("INSERT INTO t VALUES (2)", [])?;
        assert_eq!(cached(&mut caches, &conn, &log, Foreign::Unknown)?, Vec::<u8>::new());
        Ok(())
    }
}
