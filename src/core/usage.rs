//! When keys and sessions were last used, recorded off the request path: a request that
//! finds one due hands it here, and a background flusher writes everything pending in one
//! transaction every few seconds and once more when the server stops. The rule "at most
//! once a minute per key or session" lives here, and only here.
//!
//! The day's verification counts (`daily_activity`) travel the same way: counted in
//! memory by the request, added by the same flush, so a verification never waits on a write.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::app::App;
use crate::background::Background;
use crate::error::Error;
use crate::store::activity::{self, Metric};
use crate::store::{keys, sessions};
use crate::types::{KeyId, SessionId, TenantId, Timestamp};

/// A key's `last_used_at` or a session's `last_seen_at` is written at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;
/// How often the flusher writes what is pending.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Touches held at most between two flushes; more are dropped (the next request that
/// uses the key or session hands it in again), so memory stays bounded under any load.
pub const MAX_PENDING: usize = 65_536;
const TICK: Duration = Duration::from_millis(100);

/// What was used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Used {
    Key(KeyId),
    Session(SessionId),
}

/// Whether a use at `now` is to be recorded, given the last one the caller knows of.
pub fn due(last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|t| now.unix() - t.unix() >= TOUCH_EVERY_SECS)
}

#[derive(Default)]
struct Book {
    /// Not yet written: the latest time of each.
    pending: HashMap<Used, Timestamp>,
    /// Handed in during the last minute (pending or written), so that a key cached by
    /// four workers is still written once a minute, not four times.
    recent: HashMap<Used, Timestamp>,
    /// Counts not yet added to `daily_activity`: by day, tenant (None: the installation)
    /// and metric.
    counts: HashMap<(i64, Option<TenantId>, Metric), i64>,
}

/// The touches waiting for the flusher.
#[derive(Default)]
pub struct Usage {
    book: Mutex<Book>,
    /// Set while a flusher runs; without one (the command line) a use is written at once.
    flusher: AtomicBool,
}

impl Usage {
    /// Records that `used` was used at `now`, the caller having found it `due`.
    pub fn note(&self, app: &App, used: Used, now: Timestamp) {
        if !self.flusher.load(Ordering::SeqCst) {
            if let Err(e) = app.db.write_affecting(&[], |tx| write_one(tx, used, now)) {
                log::warn!("could not record use of {used:?}: {e}");
            }
            return;
        }
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        if !due(book.recent.get(&used).copied(), now) {
            return;
        }
        if book.pending.len() >= MAX_PENDING {
            log::debug!("too many uses pending: {used:?} is recorded later");
            return;
        }
        book.pending.insert(used, now);
        // Full, it stops deduplicating across flushes (a worker's own cached copy still
        // does): memory stays bounded.
        if book.recent.len() < MAX_PENDING {
            book.recent.insert(used, now);
        }
    }

    /// Counts one event of `metric` at `now` for the installation and, when known, for
    /// `tenant`; written by the next flush (at once without a flusher).
    pub fn count(&self, app: &App, tenant: Option<TenantId>, metric: Metric, now: Timestamp) {
        if !self.flusher.load(Ordering::SeqCst) {
            if let Err(e) = app.db.write_affecting(&[], |tx| activity::count(tx, now, tenant, metric)) {
                log::warn!("could not count {metric:?}: {e}");
            }
            return;
        }
        let day = activity::day_of(now);
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let keys = [Some((day, None, metric)), tenant.map(|t| (day, Some(t), metric))];
        for key in keys.into_iter().flatten() {
            // Bounded as the touches are: a count that finds the book full is lost, not queued.
            if book.counts.len() < MAX_PENDING || book.counts.contains_key(&key) {
                *book.counts.entry(key).or_default() += 1;
            }
        }
    }

    /// Writes every pending touch and count in one transaction (none when nothing is
    /// pending); returns how many touches.
    pub fn flush(&self, app: &App) -> Result<usize, Error> {
        let now = app.clock.now();
        let (pending, counts) = {
            let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
            book.recent.retain(|_, t| !due(Some(*t), now));
            (std::mem::take(&mut book.pending), std::mem::take(&mut book.counts))
        };
        if pending.is_empty() && counts.is_empty() {
            return Ok(0);
        }
        // Touches and counts change nothing a cache holds as valid: they invalidate nothing.
        app.db.write_affecting(&[], |tx| {
            for (&used, &at) in &pending {
                write_one(tx, used, at)?;
            }
            for (&(day, tenant, metric), &n) in &counts {
                activity::add(tx, day, tenant, metric, n)?;
            }
            Ok(())
        })?;
        Ok(pending.len())
    }
}

fn write_one(tx: &rusqlite::Transaction<'_>, used: Used, at: Timestamp) -> Result<(), Error> {
    match used {
        Used::Key(id) => keys::touch(tx, id, at),
        Used::Session(id) => sessions::touch(tx, id, at),
    }
}

/// Starts the flusher. Stopping it writes what is pending one last time, so it is stopped
/// after the workers.
pub fn start(app: Arc<App>) -> Result<Background, Error> {
    app.usage.flusher.store(true, Ordering::SeqCst);
    let flusher = app.clone();
    let started = Background::spawn("usage-flusher", move |stopping| {
        let app = flusher;
        let mut last = Instant::now();
        while !stopping.load(Ordering::SeqCst) {
            std::thread::sleep(TICK);
            if last.elapsed() >= FLUSH_EVERY {
                last = Instant::now();
                if let Err(e) = app.usage.flush(&app) {
                    log::warn!("could not record uses of keys and sessions: {e}");
                }
            }
        }
        // From here a use is written at once (requests still in flight elsewhere, if any).
        app.usage.flusher.store(false, Ordering::SeqCst);
        if let Err(e) = app.usage.flush(&app) {
            log::warn!("could not record uses of keys and sessions at shutdown: {e}");
        }
    });
    if started.is_err() {
        app.usage.flusher.store(false, Ordering::SeqCst);
    }
    started
}
