//! What the product's backend asks: is this API key, is this session valid? The hot
//! path: a format check, one SHA-256, one indexed lookup, and a write at most once a
//! minute per key or session. Only failures meet the rate limiter (per client IP): a
//! valid credential never waits on its lock, and a guesser is cut off after its burst.
use super::sessions;
use super::usage::{self, Used};
use crate::app::App;
use crate::crypto::api_key;
use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::limit::Scope;
use crate::store::activity::Metric;
use crate::store::cache::{Affects, Bounded, DependsOn};
use crate::store::keys::{self, KeyForVerify};
use crate::store::sessions::PortalSessionRow;
use crate::types::{Person, TenantStatus, Timestamp};

/// Keys by hash, cached per thread (see `store::cache`).
type VerifiedKeys = Bounded<TokenHash, KeyForVerify, 2048>;

impl DependsOn<TokenHash> for KeyForVerify {
    fn depends_on(&self, _: &TokenHash, what: &Affects) -> bool {
        match *what {
            Affects::Key(id) => id == self.id,
            Affects::Tenant(id) => id == self.tenant_id,
            Affects::Session(_) | Affects::Account(_) => false,
        }
    }
}

pub enum KeyVerdict {
    Valid(KeyForVerify),
    Invalid(&'static str),
}

pub fn verify_key(app: &App, ip: &str, raw: &str) -> Result<KeyVerdict, Error> {
    let outcome = key_verdict(app, ip, raw);
    app.metrics.key_verified(outcome.as_ref().map(|v| match v {
        KeyVerdict::Valid(_) => "ok",
        KeyVerdict::Invalid(code) => code,
    }));
    outcome
}

fn key_verdict(app: &App, ip: &str, raw: &str) -> Result<KeyVerdict, Error> {
    let now = app.clock.now();
    let found = if api_key::is_well_formed(&app.config.key_prefix, raw) {
        let hash = TokenHash::of(raw);
        app.db.read_cached(|c, cache: &mut VerifiedKeys| {
            let mut key = cache.get_or_load(hash, || keys::find_for_verify(c, &hash))?;
            // Only a key that verifies is worth recording; this worker's copy shows the use.
            if let Some(k) = key.as_mut().filter(|k| usable(k, now) && usage::due(k.last_used_at, now)) {
                k.last_used_at = Some(now);
                cache.update(&hash, |cached| cached.last_used_at = Some(now));
                app.usage.note(app, Used::Key(k.id), now);
            }
            Ok(key)
        })?
    } else {
        None // a typo or a foreign string: no database lookup
    };
    let found_tenant = found.as_ref().map(|k| k.tenant_id);
    let verdict = match found {
        None => KeyVerdict::Invalid("unknown"),
        Some(k) if k.revoked_at.is_some() => KeyVerdict::Invalid("revoked"),
        Some(k) if super::keys::expired(k.expires_at, now) => KeyVerdict::Invalid("expired"),
        Some(k) if k.tenant_status != TenantStatus::Active => KeyVerdict::Invalid("tenant_inactive"),
        Some(k) => KeyVerdict::Valid(k),
    };
    match &verdict {
        KeyVerdict::Valid(k) => app.usage.count(app, Some(k.tenant_id), Metric::VerificationsValid, now),
        KeyVerdict::Invalid(_) => {
            app.usage.count(app, found_tenant, Metric::VerificationsInvalid, now);
            failed(app, ip, now)?;
        }
    }
    Ok(verdict)
}

/// A live portal session (for `/v1/verify/session`), or None. A session whose holder a
/// tenant's second-factor policy shuts out (`mfa::policy::gate`) is not valid either, as
/// forward authentication and the portal routes refuse it: the product's backend must not
/// let in whom Keystead keeps out. It is no guess, so it costs no failed attempt.
pub fn verify_session(app: &App, ip: &str, token: &str) -> Result<Option<PortalSessionRow>, Error> {
    let outcome = session_verdict(app, ip, token);
    app.metrics.session_verified(outcome.as_ref().map(|(_, result)| *result));
    outcome.map(|(found, _)| found)
}

/// The session, or None, and the result metrics count it as.
fn session_verdict(app: &App, ip: &str, token: &str) -> Result<(Option<PortalSessionRow>, &'static str), Error> {
    let now = app.clock.now();
    let Some(found) = sessions::find_portal(app, TokenHash::of(token), now)? else {
        app.usage.count(app, None, Metric::VerificationsInvalid, now);
        failed(app, ip, now)?;
        return Ok((None, "invalid"));
    };
    match super::mfa::policy::gate(app, Person::User(found.user_id), Some(found.tenant_id)) {
        Ok(()) => {}
        Err(Error::MfaEnrolmentRequired) => {
            app.usage.count(app, Some(found.tenant_id), Metric::VerificationsInvalid, now);
            return Ok((None, "mfa_enrolment_required"));
        }
        Err(e) => return Err(e),
    }
    app.usage.count(app, Some(found.tenant_id), Metric::VerificationsValid, now);
    Ok((Some(found), "ok"))
}

/// Whether a key found verifies at `now` (what the verdict's first arms refuse).
fn usable(k: &KeyForVerify, now: Timestamp) -> bool {
    k.revoked_at.is_none() && !super::keys::expired(k.expires_at, now) && k.tenant_status == TenantStatus::Active
}

/// Counts a failed verification; 429 once the IP has used up its allowance.
fn failed(app: &App, ip: &str, now: Timestamp) -> Result<(), Error> {
    app.limits.hit(Scope::FailedVerifyByIp, ip, now)
}
