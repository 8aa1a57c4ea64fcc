//! The keys that sign tokens, one signing at a time per algorithm: EdDSA (access tokens),
//! RS256 and ES256 (ID tokens; RS256 is what every OpenID Connect client supports). All are
//! published in `/.well-known/jwks.json`, stored with their private halves sealed, and
//! rotated together by `keystead signing-keys rotate`.
//!
//! When keys are made: the first EdDSA key on the first start (`load`, as before: it also
//! proves the master key opens it). The first ES256 and RS256 keys by
//! `make_missing_in_background`, which `keystead serve` calls once it listens: an RSA
//! keygen takes tens to hundreds of milliseconds, which neither the start nor the first
//! requests should wait for, nor share one small core with (hence its thread waits a
//! moment first). Should a token of an alg be signed before its key exists (the first
//! second of a new installation, or an app that does not serve, as in tests), `sign` makes
//! it then, and only that request waits.
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::audit::{Action, Event};
use super::principal::Actor;
use crate::app::App;
use crate::crypto::aead::MasterKey;
use crate::crypto::jwt::{self, JwkKey, Signer};
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::store::Db;
use crate::store::signing_keys::{self, PublishedKey, SigningKeyRow};
use crate::types::{SigningAlg, Timestamp};

/// How long relying services may cache the JWKS (its `Cache-Control`). A new key is
/// published this long before it signs, so that a cached JWKS holds it by then.
pub const JWKS_MAX_AGE_SECS: i64 = 300;
/// The longest any token signed here may live (access tokens and ID tokens alike; each
/// issuer asserts its lifetime fits): a replaced key stays published this long after it
/// stopped signing, so that every token it signed can still be checked.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 300;
/// Slack for clocks, and for a token signed in the second the signer changed.
const MARGIN_SECS: i64 = 60;
/// How long after the server listens the missing keys are made: past the start and its
/// first requests.
const BACKGROUND_DELAY: Duration = Duration::from_secs(1);

/// The signing keys this process has unsealed, each once, the first time it signs. Which
/// key signs is decided again for every token from the table, so a key rotated by
/// `keystead signing-keys rotate` in another process takes over without a restart.
#[derive(Default)]
pub struct Signers {
    unsealed: RwLock<Vec<Arc<Signer>>>,
    /// Held while a first key is made, so that threads needing it wait for the one
    /// being made instead of making more.
    making: Mutex<()>,
}

impl Signers {
    fn find(&self, kid: &str) -> Option<Arc<Signer>> {
        // A panic elsewhere cannot leave the list half-changed (a push or a retain).
        self.unsealed.read().unwrap_or_else(PoisonError::into_inner).iter().find(|s| s.kid == kid).cloned()
    }

    /// Keeps `signer`, and of the others only those still published.
    fn keep(&self, signer: Signer, published: &[PublishedKey]) -> Arc<Signer> {
        let signer = Arc::new(signer);
        let mut kept = self.unsealed.write().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|s| s.kid != signer.kid && published.iter().any(|k| k.kid == s.kid));
        kept.push(signer.clone());
        signer
    }
}

/// The key of `alg` that signs at `now`: the newest published at least
/// `JWKS_MAX_AGE_SECS` ago, or, while none is that old (the first key, just made), the
/// oldest published.
fn signing_key(published: &[PublishedKey], alg: SigningAlg, now: Timestamp) -> Option<&PublishedKey> {
    let mature = now.plus_secs(-JWKS_MAX_AGE_SECS);
    let mut of_alg = published.iter().filter(|k| k.alg == alg);
    of_alg.clone().find(|k| k.created_at <= mature).or_else(|| of_alg.next_back())
}

/// The key of `alg` that signs now, unsealed on first use, made first if there is none.
fn signer(
    db: &Db,
    master: &MasterKey,
    signers: &Signers,
    alg: SigningAlg,
    now: Timestamp,
) -> Result<Arc<Signer>, Error> {
    let mut published = db.read(|c| signing_keys::published(c, now))?;
    if !published.iter().any(|k| k.alg == alg) {
        make_first(db, master, signers, alg, now)?;
        published = db.read(|c| signing_keys::published(c, now))?;
    }
    let key = signing_key(&published, alg, now).ok_or_else(|| Error::internal(format!("no {alg} key is published")))?;
    if let Some(signer) = signers.find(&key.kid) {
        return Ok(signer);
    }
    let sealed = db
        .read(|c| signing_keys::sealed_private(c, &key.kid))?
        .ok_or_else(|| Error::internal("a published signing key has no row"))?;
    let signer = Signer::from_pkcs8(key.kid.clone(), alg, &master.open(&sealed, &key.kid)?)?;
    Ok(signers.keep(signer, &published))
}

/// Makes the first key of `alg` unless one is published by then: a thread of this process
/// may have made it while this one waited, or another process (whose insert this
/// transaction would see) meanwhile. The key is made before the transaction, which an
/// RSA keygen would otherwise hold for its whole length.
fn make_first(db: &Db, master: &MasterKey, signers: &Signers, alg: SigningAlg, now: Timestamp) -> Result<(), Error> {
    let _making = signers.making.lock().unwrap_or_else(PoisonError::into_inner);
    let has_one = |published: Vec<PublishedKey>| published.iter().any(|k| k.alg == alg);
    if has_one(db.read(|c| signing_keys::published(c, now))?) {
        return Ok(());
    }
    let row = new_key(master, alg, now)?;
    db.write(|tx| {
        if !has_one(signing_keys::published(tx, now)?) {
            signing_keys::insert(tx, &row)?;
        }
        Ok(())
    })
}

/// A new key pair of `alg`, its private half sealed under the master key.
fn new_key(master: &MasterKey, alg: SigningAlg, now: Timestamp) -> Result<SigningKeyRow, Error> {
    let kid = random_token().expose()[..16].to_owned();
    let pkcs8 = Signer::generate_pkcs8(alg)?;
    let signer = Signer::from_pkcs8(kid.clone(), alg, &pkcs8)?;
    Ok(SigningKeyRow {
        sealed_private: master.seal(&pkcs8, &kid)?,
        public_key: signer.public_key().to_vec(),
        alg,
        kid,
        created_at: now,
    })
}

/// Makes the first EdDSA key on first start, and opens the one that signs now: a master
/// key that does not open it stops the start here rather than at the first token.
pub fn load(db: &Db, master: &MasterKey, now: Timestamp) -> Result<Signers, Error> {
    let signers = Signers::default();
    signer(db, master, &signers, SigningAlg::EdDsa, now)?;
    Ok(signers)
}

/// Makes the ES256 and RS256 keys a new installation lacks, on a thread of its own, and
/// unseals the ones that sign (see the module's comment). A failure here is logged only:
/// `sign` tries again when a token needs the key.
pub fn make_missing_in_background(app: Arc<App>) {
    let spawned = std::thread::Builder::new().name("signing-keys".into()).spawn(move || {
        std::thread::sleep(BACKGROUND_DELAY);
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            if let Err(e) = signer(&app.db, &app.master_key, &app.signers, alg, app.clock.now()) {
                log::error!("could not prepare the {alg} signing key: {e}");
            }
        }
    });
    if let Err(e) = spawned {
        log::warn!("no thread for the signing keys ({e}); they are made when first needed");
    }
}

/// A signed token (JWS) of `claims` by the key of `alg` that signs now. Not inside a
/// `db.write`: the first key of an alg may be made here, in a write of its own.
pub fn sign(app: &App, alg: SigningAlg, claims: &impl Serialize) -> Result<String, Error> {
    signer(&app.db, &app.master_key, &app.signers, alg, app.clock.now())?.sign(claims)
}

/// The claims of a token signed by a key published at `now`, whichever of the three
/// algorithms: the header's `kid` picks the key, and the key's alg is the one checked
/// (`jwt::verify`). None for any other token; expiry, issuer and audience are the caller's.
/// An error only when the keys cannot be read, which must not pass for a forged token.
pub fn verify(app: &App, token: &str, now: Timestamp) -> Result<Option<serde_json::Value>, Error> {
    let Some(kid) = jwt::kid(token) else { return Ok(None) };
    let published = app.db.read(|c| signing_keys::published(c, now))?;
    Ok(published.iter().find(|k| k.kid == kid).and_then(|k| jwt::verify(token, k.alg, &k.public_key)))
}

/// A published verification key (RFC 7517).
#[derive(Serialize)]
pub struct Jwk {
    #[serde(flatten)]
    pub key: JwkKey,
    pub alg: SigningAlg,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
}

/// Every published key, newest first.
pub fn jwks(app: &App) -> Result<Vec<Jwk>, Error> {
    let keys = app.db.read(|c| signing_keys::published(c, app.clock.now()))?;
    keys.into_iter()
        .map(|k| {
            let key = jwt::jwk_key(k.alg, &k.public_key)
                .ok_or_else(|| Error::internal(format!("the public half of {} {} is malformed", k.alg, k.kid)))?;
            Ok(Jwk { key, alg: k.alg, use_: "sig", kid: k.kid })
        })
        .collect()
}

/// One key a rotation made.
pub struct NewKey {
    pub alg: SigningAlg,
    pub kid: String,
    /// The keys of its alg it replaces.
    pub retired: Vec<String>,
}

/// What a rotation did.
pub struct Rotated {
    /// One key per alg, in `SigningAlg::ALL`'s order.
    pub keys: Vec<NewKey>,
    /// When the new keys start signing: relying services' cached JWKS hold them by then.
    pub signs_from: Timestamp,
    /// When the keys they replace leave the JWKS: once the last token they can have
    /// signed has expired.
    pub retired_at: Timestamp,
}

/// Publishes a new key of every alg, each signing once every cached JWKS can hold it; the
/// keys they replace stay published until every token they signed has expired. Each new
/// key is audited, in one transaction.
pub fn rotate(app: &App) -> Result<Rotated, Error> {
    let now = app.clock.now();
    // Made before the transaction: the RSA keygen is slow.
    let rows = SigningAlg::ALL.iter().map(|&alg| new_key(&app.master_key, alg, now)).collect::<Result<Vec<_>, _>>()?;
    let signs_from = now.plus_secs(JWKS_MAX_AGE_SECS);
    let retired_at = signs_from.plus_secs(MAX_TOKEN_LIFETIME_SECS + MARGIN_SECS);
    let keys = app.db.write(|tx| {
        let retired = signing_keys::retire_unretired(tx, retired_at)?;
        let mut keys = Vec::new();
        for row in &rows {
            let retired: Vec<String> = retired.iter().filter(|(a, _)| *a == row.alg).map(|(_, k)| k.clone()).collect();
            signing_keys::insert(tx, row)?;
            Event::new(Actor::System, None, Action::SigningKeyRotated)
                .target("signing_key", &row.kid)
                .after(
                    json!({ "alg": row.alg, "retired": retired, "signs_from": signs_from, "retired_at": retired_at }),
                )
                .append(tx, now)?;
            keys.push(NewKey { alg: row.alg, kid: row.kid.clone(), retired });
        }
        Ok(keys)
    })?;
    Ok(Rotated { keys, signs_from, retired_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, alg: SigningAlg, created_at: i64) -> PublishedKey {
        PublishedKey {
            kid: kid.into(),
            alg,
            public_key: Vec::new(),
            created_at: Timestamp::from_unix(created_at),
            retired_at: None,
        }
    }

    fn signs_at(keys: &[PublishedKey], alg: SigningAlg, now: i64) -> Option<&str> {
        signing_key(keys, alg, Timestamp::from_unix(now)).map(|k| k.kid.as_str())
    }

    #[test]
    fn a_new_key_signs_once_every_cached_jwks_can_hold_it() {
        use SigningAlg::EdDsa;
        let first = [key("a", EdDsa, 1000)];
        assert_eq!(signs_at(&first, EdDsa, 1000), Some("a"), "the first key signs at once");
        let rotated = [key("b", EdDsa, 5000), key("a", EdDsa, 1000)];
        assert_eq!(signs_at(&rotated, EdDsa, 5000 + JWKS_MAX_AGE_SECS - 1), Some("a"));
        assert_eq!(signs_at(&rotated, EdDsa, 5000 + JWKS_MAX_AGE_SECS), Some("b"));
        let young = [key("c", EdDsa, 1060), key("b", EdDsa, 1000)];
        assert_eq!(signs_at(&young, EdDsa, 1100), Some("b"), "while none is old enough, the oldest");
        assert_eq!(signs_at(&[], EdDsa, 1100), None);
    }

    #[test]
    fn each_alg_has_its_own_signer() {
        use SigningAlg::{EdDsa, Es256, Rs256};
        let keys = [key("r2", Rs256, 5000), key("e1", EdDsa, 4000), key("r1", Rs256, 1000), key("s1", Es256, 900)];
        assert_eq!(signs_at(&keys, Rs256, 5001), Some("r1"), "r2 is not old enough, though the EdDSA key is");
        assert_eq!(signs_at(&keys, Rs256, 5000 + JWKS_MAX_AGE_SECS), Some("r2"));
        assert_eq!(signs_at(&keys, EdDsa, 4001), Some("e1"));
        assert_eq!(signs_at(&keys, Es256, 5001), Some("s1"));
        assert_eq!(signs_at(&keys[..3], Es256, 5001), None);
    }
}
