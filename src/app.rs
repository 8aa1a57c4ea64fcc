//! The application: configuration, database, clock, password hasher and rate limits,
//! passed by reference to every handler and operation (no globals).
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::brand::Brand;
use crate::config::Config;
use crate::core::signing;
use crate::core::usage::Usage;
use crate::crypto::aead::{MasterKey, key_file};
use crate::crypto::password::Hasher;
use crate::error::Error;
use crate::limit::Limiter;
use crate::metrics::Metrics;
use crate::store::{Db, sealed};
use crate::tls::Certificate;
use crate::types::Timestamp;

pub struct App {
    pub config: Config,
    /// What customers see, built once from the config: pages and mail read it here.
    pub brand: Arc<Brand>,
    pub db: Db,
    pub clock: Clock,
    pub hasher: Hasher,
    pub limits: Limiter,
    /// Seals provider keys and the private halves of signing keys.
    pub master_key: MasterKey,
    /// The signing keys of access and ID tokens unsealed so far (`core::signing`).
    pub signers: signing::Signers,
    /// Uses of keys and sessions waiting to be written (`core::usage`).
    pub usage: Usage,
    /// The certificate of built-in TLS, re-read on SIGHUP; None: plain HTTP.
    pub tls: Option<Arc<Certificate>>,
    /// The counters of `GET /metrics` (`--metrics-bind`), kept whether or not it is served.
    pub metrics: Metrics,
}

impl App {
    pub fn open(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let tls = config.tls.as_ref().map(|f| Certificate::load(&f.cert, &f.key)).transpose()?;
        let brand = Arc::new(Brand::load(&config)?);
        let clock = Clock::default();
        let readers = u32::try_from(config.workers + 4).unwrap_or(u32::MAX);
        let db = Db::open(&config.db_path, readers, clock.now())?;
        let master_key = open_master_key(&config, &db)?;
        let signers = signing::load(&db, &master_key, clock.now())?;
        Ok(Self {
            brand,
            master_key,
            signers,
            usage: Usage::default(),
            tls,
            metrics: Metrics::default(),
            hasher: Hasher::new(config.hash_threads)?,
            limits: Limiter::new(config.limits.clone()),
            db,
            clock,
            config,
        })
    }
}

/// The master key as configured (or in the key file), proven to open one sealed value of
/// each kind the database holds: a wrong key stops the start, saying what to set.
fn open_master_key(config: &Config, db: &Db) -> Result<MasterKey, Error> {
    let samples = db.read(sealed::samples)?;
    let first = samples.first().map(|s| s.what.as_str());
    let key = MasterKey::load(config.master_key.as_deref(), &config.db_path, first)?;
    let Some(wrong) = samples.iter().find(|s| key.open(&s.sealed, &s.context).is_err()) else {
        return Ok(key);
    };
    let (db, file) = (config.db_path.display(), key_file(&config.db_path));
    let (given, or) = match config.master_key {
        Some(_) => ("given by KEYSTEAD_MASTER_KEY or --master-key".to_owned(), "unset it to use"),
        None => (format!("in {}", file.display()), "restore"),
    };
    Err(Error::internal(format!(
        "the master key {given} does not open the sealed values of {db} ({}). Set KEYSTEAD_MASTER_KEY to \
         the key this database was created with, or {or} {}.",
        wrong.what,
        file.display()
    )))
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
