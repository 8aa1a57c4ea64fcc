//! Per-thread caches of hot-path reads (a session or key by its token hash, a member's
//! profile), kept beside each thread's own read connection and emptied whenever
//! `PRAGMA data_version` on that connection says any other connection committed: every
//! write of this process (the one writer is another connection) and of any other (the
//! command line). A cached value is therefore never staler than the request that found it.
use std::any::Any;
use std::collections::HashMap;
use std::hash::Hash;

use rusqlite::Connection;

use crate::error::Error;

/// The caches of one thread for one `Db`, by type, and the data version they hold for.
#[derive(Default)]
pub(super) struct Caches {
    version: Option<i64>,
    items: Vec<Box<dyn Any>>,
}

impl Caches {
    /// The cache of type `C`, emptied first when the database changed since last time.
    pub(super) fn get<C: Default + 'static>(&mut self, conn: &Connection) -> Result<&mut C, Error> {
        let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
        if self.version != Some(version) {
            self.items.clear();
            self.version = Some(version);
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
}
