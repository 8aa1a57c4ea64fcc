//! Short-lived signed access tokens (EdDSA JWT) for the product's other services, which
//! check them offline against `/.well-known/jwks.json`.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;
use serde_json::json;

use super::audit::{Action, Event};
use super::principal::{Actor, PortalUser};
use crate::app::App;
use crate::crypto::aead::MasterKey;
use crate::crypto::jwt::Signer;
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::store::Db;
use crate::store::signing_keys::{self, PublishedKey, SigningKeyRow};
use crate::types::{Role, SessionId, TenantId, Timestamp, UserId};

/// How long an access token lives: short, since it cannot be revoked before it expires.
pub const LIFETIME_SECS: i64 = 300;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    /// Who the token is for: relying services refuse a token whose `aud` is not theirs,
    /// so one minted for this deployment is not accepted by another that trusts the same
    /// issuer name.
    aud: &'a str,
    sub: UserId,
    tid: TenantId,
    role: Role,
    sid: SessionId,
    jti: String,
    iat: i64,
    exp: i64,
}

/// How long relying services may cache the JWKS (its `Cache-Control`). A new key is
/// published this long before it signs, so that a cached JWKS holds it by then.
pub const JWKS_MAX_AGE_SECS: i64 = 300;
/// Slack for clocks, and for a token signed in the second the signer changed.
const MARGIN_SECS: i64 = 60;

/// The signing keys this process has unsealed, each once, the first time it signs. Which
/// key signs is decided again for every token from the table, so a key rotated by
/// `keystead signing-keys rotate` in another process takes over without a restart.
#[derive(Default)]
pub struct Signers(RwLock<Vec<Arc<Signer>>>);

impl Signers {
    fn find(&self, kid: &str) -> Option<Arc<Signer>> {
        // A panic elsewhere cannot leave the list half-changed (a push or a retain).
        self.0.read().unwrap_or_else(PoisonError::into_inner).iter().find(|s| s.kid == kid).cloned()
    }

    /// Keeps `signer`, and of the others only those still published.
    fn keep(&self, signer: Signer, published: &[PublishedKey]) -> Arc<Signer> {
        let signer = Arc::new(signer);
        let mut kept = self.0.write().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|s| s.kid != signer.kid && published.iter().any(|k| k.kid == s.kid));
        kept.push(signer.clone());
        signer
    }
}

/// The key that signs at `now`: the newest published at least `JWKS_MAX_AGE_SECS` ago,
/// or, while none is that old (the first key, just made), the oldest published.
fn signing_key(published: &[PublishedKey], now: Timestamp) -> Option<&PublishedKey> {
    let mature = now.plus_secs(-JWKS_MAX_AGE_SECS);
    published.iter().find(|k| k.created_at <= mature).or_else(|| published.last())
}

/// The key that signs now, unsealed on first use.
pub fn current_signer(db: &Db, master: &MasterKey, signers: &Signers, now: Timestamp) -> Result<Arc<Signer>, Error> {
    let published = db.read(|c| signing_keys::published(c, now))?;
    let key = signing_key(&published, now).ok_or_else(|| Error::internal("no signing key is published"))?;
    if let Some(signer) = signers.find(&key.kid) {
        return Ok(signer);
    }
    let sealed = db
        .read(|c| signing_keys::sealed_private(c, &key.kid))?
        .ok_or_else(|| Error::internal("a published signing key has no row"))?;
    let signer = Signer::from_pkcs8(key.kid.clone(), &master.open(&sealed, &key.kid)?)?;
    Ok(signers.keep(signer, &published))
}

/// A new key pair, its private half sealed under the master key.
fn new_key(master: &MasterKey, now: Timestamp) -> Result<SigningKeyRow, Error> {
    let kid = random_token().expose()[..16].to_owned();
    let pkcs8 = Signer::generate_pkcs8()?;
    let signer = Signer::from_pkcs8(kid.clone(), &pkcs8)?;
    Ok(SigningKeyRow {
        sealed_private: master.seal(&pkcs8, &kid)?,
        public_key: signer.public_key().to_vec(),
        kid,
        created_at: now,
    })
}

/// Makes the first signing key on first start, and opens the one that signs now: a master
/// key that does not open it stops the start here rather than at the first token.
pub fn load_signers(db: &Db, master: &MasterKey, now: Timestamp) -> Result<Signers, Error> {
    if db.read(|c| signing_keys::published(c, now))?.is_empty() {
        let row = new_key(master, now)?;
        db.write(|tx| signing_keys::insert(tx, &row))?;
    }
    let signers = Signers::default();
    current_signer(db, master, &signers, now)?;
    Ok(signers)
}

/// What a rotation did.
pub struct Rotated {
    pub kid: String,
    /// When the new key starts signing: relying services' cached JWKS hold it by then.
    pub signs_from: Timestamp,
    /// The keys it replaces, and when they leave the JWKS: once the last token they can
    /// have signed has expired.
    pub retired: Vec<String>,
    pub retired_at: Timestamp,
}

/// Publishes a new signing key, which signs once every cached JWKS can hold it; the keys
/// it replaces stay published until every token they signed has expired.
pub fn rotate(app: &App) -> Result<Rotated, Error> {
    let now = app.clock.now();
    let row = new_key(&app.master_key, now)?;
    let signs_from = now.plus_secs(JWKS_MAX_AGE_SECS);
    let retired_at = signs_from.plus_secs(LIFETIME_SECS + MARGIN_SECS);
    let retired = app.db.write(|tx| {
        let retired = signing_keys::retire_unretired(tx, retired_at)?;
        signing_keys::insert(tx, &row)?;
        Event::new(Actor::System, None, Action::SigningKeyRotated)
            .target("signing_key", &row.kid)
            .after(json!({ "retired": retired, "signs_from": signs_from, "retired_at": retired_at }))
            .append(tx, now)?;
        Ok(retired)
    })?;
    Ok(Rotated { kid: row.kid, signs_from, retired, retired_at })
}

/// The `aud` of our tokens: `--token-audience`, else the base URL.
pub fn audience(app: &App) -> &str {
    app.config.token_audience.as_deref().unwrap_or(&app.config.base_url)
}

pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

pub fn issue(app: &App, who: &PortalUser) -> Result<AccessToken, Error> {
    let now = app.clock.now().unix();
    let claims = Claims {
        iss: &app.config.base_url,
        aud: audience(app),
        sub: who.user_id,
        tid: who.tenant_id,
        role: who.role,
        sid: who.session_id,
        jti: random_token().expose()[..22].to_owned(),
        iat: now,
        exp: now + LIFETIME_SECS,
    };
    let signer = current_signer(&app.db, &app.master_key, &app.signers, app.clock.now())?;
    Ok(AccessToken { token: signer.sign(&claims)?, expires_in: LIFETIME_SECS })
}

/// A published verification key.
#[derive(Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub x: String,
}

pub fn jwks(app: &App) -> Result<Vec<Jwk>, Error> {
    let keys = app.db.read(|c| signing_keys::published(c, app.clock.now()))?;
    Ok(keys
        .into_iter()
        .map(|k| Jwk {
            kty: "OKP",
            crv: "Ed25519",
            alg: "EdDSA",
            use_: "sig",
            kid: k.kid,
            x: URL_SAFE_NO_PAD.encode(k.public_key),
        })
        .collect())
}

/// Who an access token speaks for, once its signature, issuer and expiry check out.
pub struct Bearer {
    pub user: UserId,
    pub tenant: TenantId,
    pub session: SessionId,
    /// Issued and expiry instants, Unix seconds (what introspection reports).
    pub iat: i64,
    pub exp: i64,
}

/// Checks an access token as a relying service would, against this server's own published
/// keys: the signature of a published key, our issuer and audience, not expired. None for anything else.
pub fn verify(app: &App, token: &str, now: Timestamp) -> Result<Option<Bearer>, Error> {
    #[derive(serde::Deserialize)]
    struct Checked {
        iss: String,
        aud: String,
        sub: String,
        tid: String,
        sid: String,
        iat: i64,
        exp: i64,
    }
    let keys = app.db.read(|c| signing_keys::published(c, now))?;
    let claims = keys.iter().find_map(|k| crate::crypto::jwt::verify(token, &k.public_key));
    let Some(c) = claims.and_then(|c| serde_json::from_value::<Checked>(c).ok()) else { return Ok(None) };
    if c.iss != app.config.base_url || c.aud != audience(app) || now.unix() >= c.exp {
        return Ok(None);
    }
    let (Ok(user), Ok(tenant), Ok(session)) = (c.sub.parse(), c.tid.parse(), c.sid.parse()) else { return Ok(None) };
    Ok(Some(Bearer { user, tenant, session, iat: c.iat, exp: c.exp }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, created_at: i64) -> PublishedKey {
        PublishedKey {
            kid: kid.into(),
            public_key: Vec::new(),
            created_at: Timestamp::from_unix(created_at),
            retired_at: None,
        }
    }

    fn signs_at(keys: &[PublishedKey], now: i64) -> Option<&str> {
        signing_key(keys, Timestamp::from_unix(now)).map(|k| k.kid.as_str())
    }

    #[test]
    fn a_new_key_signs_once_every_cached_jwks_can_hold_it() {
        let first = [key("a", 1000)];
        assert_eq!(signs_at(&first, 1000), Some("a"), "the first key signs at once");
        let rotated = [key("b", 5000), key("a", 1000)];
        assert_eq!(signs_at(&rotated, 5000 + JWKS_MAX_AGE_SECS - 1), Some("a"));
        assert_eq!(signs_at(&rotated, 5000 + JWKS_MAX_AGE_SECS), Some("b"));
        let young = [key("c", 1060), key("b", 1000)];
        assert_eq!(signs_at(&young, 1100), Some("b"), "while none is old enough, the oldest");
        assert_eq!(signs_at(&[], 1100), None);
    }
}
