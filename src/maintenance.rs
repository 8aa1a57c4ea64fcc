//! Background upkeep: a thread that prunes rows which no longer mean anything, in small
//! batches (one short write transaction each, a pause between) so that requests waiting
//! for the one writer never wait long. The audit log is never pruned (append-only).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::app::App;
use crate::background::Background;
use crate::error::Error;
use crate::store;
use crate::types::Timestamp;

const DAY: i64 = 24 * 3600;

/// How long a row outlives its use, in seconds. Ended sessions stay a month so that
/// `/v1/sessions`, the admin pages and the audit events naming them keep their context.
/// A token stays a day past its expiry (its mail, which names it, is kept longer: the
/// token goes only once no message names it). Mail is kept a month after delivery so that
/// operators can tell what was sent.
pub const SESSION_GRACE_SECS: i64 = 30 * DAY;
/// Also how long an expired second-step challenge (`mfa_token`) is kept.
pub const TOKEN_GRACE_SECS: i64 = DAY;
pub const MAIL_KEPT_SECS: i64 = 30 * DAY;
/// A signing key replaced by `keystead signing-keys rotate` goes, private half and all, a
/// day after it left the JWKS (no token it signed is live by then).
pub const SIGNING_KEY_GRACE_SECS: i64 = DAY;
// OAuth codes go a day after their expiry (`TOKEN_GRACE_SECS`), like tokens; grants a day
// after their revocation and at their expiry at the latest (`store::oauth_grants`), with
// their refresh tokens.

/// Rows deleted per transaction, and the pause between two batches.
pub const BATCH: i64 = 500;
const PAUSE: Duration = Duration::from_millis(50);

/// The first pass waits a minute after start (a server restarted in a loop does no
/// extra work), then one runs every hour.
const FIRST_AFTER: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(3600);
const TICK: Duration = Duration::from_millis(200);

/// Rows one batch or one pass deleted.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub struct Pruned {
    pub sessions: usize,
    pub tokens: usize,
    pub mail: usize,
    pub signing_keys: usize,
    pub mfa_challenges: usize,
    pub oauth_codes: usize,
    pub oauth_grants: usize,
}

impl Pruned {
    fn add(&mut self, other: Pruned) {
        self.sessions += other.sessions;
        self.tokens += other.tokens;
        self.mail += other.mail;
        self.signing_keys += other.signing_keys;
        self.mfa_challenges += other.mfa_challenges;
        self.oauth_codes += other.oauth_codes;
        self.oauth_grants += other.oauth_grants;
    }
}

/// One batch: at most `limit` rows of each table, each table in its own transaction.
/// Mail goes before tokens, so that a token whose last message goes now goes in the
/// same batch. Codes and grants go before sessions, since they name the session they came
/// from: any session old enough to go has codes and grants old enough to go too, but
/// while a batch of them was full some may be left, and the sessions wait for the next
/// batch.
pub fn prune_batch(app: &App, limit: i64) -> Result<Pruned, Error> {
    let now = app.clock.now();
    let before = |grace: i64| Timestamp::from_unix(now.unix().saturating_sub(grace));
    let full = |n: usize| i64::try_from(n).is_ok_and(|n| n >= limit);
    let oauth_codes = app.db.write(|tx| store::oauth_codes::delete_expired(tx, before(TOKEN_GRACE_SECS), limit))?;
    let oauth_grants = app.db.write(|tx| {
        let ended = store::oauth_grants::ended(tx, now, limit)?;
        for grant in &ended {
            store::oauth_refresh_tokens::delete_for_grant(tx, *grant)?;
            store::oauth_grants::delete(tx, *grant)?;
        }
        Ok(ended.len())
    })?;
    let sessions = if full(oauth_codes) || full(oauth_grants) {
        0
    } else {
        app.db.write(|tx| store::sessions::delete_ended(tx, before(SESSION_GRACE_SECS), limit))?
    };
    let mail = app.db.write(|tx| store::outbox::delete_done(tx, before(MAIL_KEPT_SECS), limit))?;
    let tokens = app.db.write(|tx| store::tokens::delete_expired(tx, before(TOKEN_GRACE_SECS), limit))?;
    let signing_keys =
        app.db.write(|tx| store::signing_keys::delete_retired(tx, before(SIGNING_KEY_GRACE_SECS), limit))?;
    // Second steps and passkey registrations: the short-lived ceremonies of the factors.
    let mfa_challenges = app.db.write(|tx| {
        Ok(store::mfa_challenges::delete_expired(tx, before(TOKEN_GRACE_SECS), limit)?
            + store::passkey_registrations::delete_expired(tx, before(TOKEN_GRACE_SECS), limit)?)
    })?;
    Ok(Pruned { sessions, tokens, mail, signing_keys, mfa_challenges, oauth_codes, oauth_grants })
}

/// Batches until one finds less than `limit` of every kind, or `stopping` is set.
pub fn prune(app: &App, limit: i64, pause: Duration, stopping: &AtomicBool) -> Result<Pruned, Error> {
    let mut total = Pruned::default();
    while !stopping.load(Ordering::SeqCst) {
        let batch = prune_batch(app, limit)?;
        total.add(batch);
        let full = |n: usize| i64::try_from(n).is_ok_and(|n| n >= limit);
        let counts = [
            batch.sessions,
            batch.tokens,
            batch.mail,
            batch.signing_keys,
            batch.mfa_challenges,
            batch.oauth_codes,
            batch.oauth_grants,
        ];
        if !counts.into_iter().any(full) {
            break;
        }
        std::thread::sleep(pause);
    }
    Ok(total)
}

/// Starts the pruner thread. Its schedule is wall-clock time, not `app.clock`: tests that
/// move the app's clock forward call `prune` themselves.
pub fn start(app: Arc<App>) -> Result<Background, Error> {
    Background::spawn("pruner", move |stopping| run(&app, stopping))
}

fn run(app: &App, stopping: &AtomicBool) {
    let mut next = Instant::now() + FIRST_AFTER;
    while !stopping.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            match prune(app, BATCH, PAUSE, stopping) {
                Ok(p) if p == Pruned::default() => {}
                Ok(p) => log::info!(
                    "pruned {} sessions, {} tokens, {} messages, {} signing keys, {} second-step and passkey \
                     ceremonies, {} authorization codes and {} grants",
                    p.sessions,
                    p.tokens,
                    p.mail,
                    p.signing_keys,
                    p.mfa_challenges,
                    p.oauth_codes,
                    p.oauth_grants
                ),
                Err(e) => log::warn!("pruning failed, to be tried again in an hour: {e}"),
            }
            next = Instant::now() + EVERY;
        }
        std::thread::sleep(TICK);
    }
}
