//! Short-lived signed access tokens (EdDSA JWT) for the product's other services, which
//! check them offline against `/.well-known/jwks.json`.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::principal::PortalUser;
use crate::app::App;
use crate::crypto::aead::MasterKey;
use crate::crypto::jwt::Signer;
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::store::{Db, signing_keys};
use crate::types::{Role, SessionId, TenantId, Timestamp, UserId};

/// How long an access token lives: short, since it cannot be revoked before it expires.
pub const LIFETIME_SECS: i64 = 300;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: UserId,
    tid: TenantId,
    role: Role,
    sid: SessionId,
    jti: String,
    iat: i64,
    exp: i64,
}

/// The newest live signing key, creating the first one on first start.
pub fn load_signer(db: &Db, master: &MasterKey, now: Timestamp) -> Result<Signer, Error> {
    if let Some(newest) = db.read(signing_keys::live)?.into_iter().next() {
        let pkcs8 = master.open(&newest.sealed_private, &newest.kid)?;
        return Signer::from_pkcs8(newest.kid, &pkcs8);
    }
    let kid = random_token().expose()[..16].to_owned();
    let pkcs8 = Signer::generate_pkcs8()?;
    let signer = Signer::from_pkcs8(kid.clone(), &pkcs8)?;
    let row = signing_keys::SigningKeyRow {
        sealed_private: master.seal(&pkcs8, &kid)?,
        public_key: signer.public_key().to_vec(),
        kid,
        created_at: now,
    };
    db.write(|tx| signing_keys::insert(tx, &row))?;
    Ok(signer)
}

pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

pub fn issue(app: &App, who: &PortalUser) -> Result<AccessToken, Error> {
    let now = app.clock.now().unix();
    let claims = Claims {
        iss: &app.config.base_url,
        sub: who.user_id,
        tid: who.tenant_id,
        role: who.role,
        sid: who.session_id,
        jti: random_token().expose()[..22].to_owned(),
        iat: now,
        exp: now + LIFETIME_SECS,
    };
    Ok(AccessToken { token: app.signer.sign(&claims)?, expires_in: LIFETIME_SECS })
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
    let keys = app.db.read(signing_keys::live)?;
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
}

/// Checks an access token as a relying service would, against this server's own published
/// keys: the signature of a live key, our issuer, not expired. None for anything else.
pub fn verify(app: &App, token: &str, now: Timestamp) -> Result<Option<Bearer>, Error> {
    #[derive(serde::Deserialize)]
    struct Checked {
        iss: String,
        sub: String,
        tid: String,
        sid: String,
        exp: i64,
    }
    let keys = app.db.read(signing_keys::live)?;
    let claims = keys.iter().find_map(|k| crate::crypto::jwt::verify(token, &k.public_key));
    let Some(c) = claims.and_then(|c| serde_json::from_value::<Checked>(c).ok()) else { return Ok(None) };
    if c.iss != app.config.base_url || now.unix() >= c.exp {
        return Ok(None);
    }
    let (Ok(user), Ok(tenant), Ok(session)) = (c.sub.parse(), c.tid.parse(), c.sid.parse()) else { return Ok(None) };
    Ok(Some(Bearer { user, tenant, session }))
}
