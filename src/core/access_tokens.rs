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
        aud: &app.config.base_url,
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
