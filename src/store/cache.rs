//! Per-thread caches of hot-path reads (a session or key by its token hash, a member's
//! profile), kept beside each thread's own read connection and emptied whenever
//! `PRAGMA data_version` on that connection says any other connection committed: every
//! write of this process (the one writer is another connection) and of any other (the
//! command line). A cached value is therefore never staler than the request that found it.
use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;

use rusqlite::Connection;

use crate::error::Error;
use crate::types::{KeyId, SessionId, TenantId, UserId};

thread_local! {
    /// While this thread serves a request (see `RequestScope`): a number that changes with
    /// each request and after each write of this thread. Caches checked at the current number
    /// skip `PRAGMA data_version`: one check per request, however many caches it uses.
    static EPOCH: Cell<Option<u64>> = const { Cell::new(None) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

fn bump(in_request: bool) {
    let n = NEXT.get().wrapping_add(1);
    NEXT.set(n);
    EPOCH.set(in_request.then_some(n));
}

/// Marks this thread as serving one request until dropped: the caches it reads check the
/// data version once (the first time) rather than at every lookup. Outside a scope (command
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

/// This thread committed a write: its next cache lookup checks the data version again, so
/// a request sees its own writes.
pub(super) fn wrote() {
    bump(EPOCH.get().is_some());
}

/// The caches of one thread for one `Db`, by type, and the data version they hold for.
#[derive(Default)]
pub(super) struct Caches {
    version: Option<i64>,
    /// The request epoch at which `version` was last checked.
    checked: Option<u64>,
    items: Vec<Box<dyn Any>>,
}

impl Caches {
    /// The cache of type `C`, emptied first when the database changed since last time.
    pub(super) fn get<C: Default + 'static>(&mut self, conn: &Connection) -> Result<&mut C, Error> {
        let epoch = EPOCH.get();
        if epoch.is_none() || self.checked != epoch {
            let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
            if self.version != Some(version) {
                self.items.clear();
                self.version = Some(version);
            }
            self.checked = epoch;
        }
        let index = match self.items.iter().position(|c| c.is::<C>()) {
            Some(i) => i,
            None => {
                self.items.push(Box::new(C::default()));
                self.items.len() - 1
            }
        };
        self.items[index].downcast_mut::<C>().ok_or_else(|| Error::internal("a cache of another type"))
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

/// What a write changed of the rows the caches hold (see `Db::write_affecting`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Affects {
    Key(KeyId),
    Session(SessionId),
    /// Everything of an account: its sessions and profile.
    Account(UserId),
    /// Everything of a tenant: its keys, the sessions and profiles of its members.
    Tenant(TenantId),
}
