//! The application: configuration, database, clock, password hasher and rate limits,
//! passed by reference to every handler and operation (no globals).
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::core::access_tokens;
use crate::crypto::aead::MasterKey;
use crate::crypto::password::Hasher;
use crate::error::Error;
use crate::limit::Limiter;
use crate::store::Db;
use crate::types::Timestamp;

pub struct App {
    pub config: Config,
    pub db: Db,
    pub clock: Clock,
    pub hasher: Hasher,
    pub limits: Limiter,
    /// Seals provider keys and the private halves of signing keys.
    pub master_key: MasterKey,
    /// The signing keys of access tokens unsealed so far (`core::access_tokens`).
    pub signers: access_tokens::Signers,
}

impl App {
    pub fn open(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let clock = Clock::default();
        let readers = u32::try_from(config.workers + 4).unwrap_or(u32::MAX);
        let db = Db::open(&config.db_path, readers, clock.now())?;
        let master_key = MasterKey::load(config.master_key.as_deref(), &config.db_path)?;
        let signers = access_tokens::load_signers(&db, &master_key, clock.now())?;
        Ok(Self {
            master_key,
            signers,
            hasher: Hasher::new(config.hash_threads)?,
            limits: Limiter::new(config.limits.clone()),
            db,
            clock,
            config,
        })
    }
}

/// Wall-clock time, which tests may move forward instead of sleeping.
#[derive(Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Timestamp::from_unix(secs + self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves this app's time forward (tests of expiry).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}
