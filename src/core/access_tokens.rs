//! Short-lived signed access tokens (EdDSA JWT) for the product's other services, which
//! check them offline against `/.well-known/jwks.json`.
use serde::Serialize;

use super::principal::PortalUser;
use super::signing::{self, MAX_TOKEN_LIFETIME_SECS};
use crate::app::App;
use crate::crypto::secret::random_token;
use crate::error::Error;
use crate::types::{Role, SessionId, SigningAlg, TenantId, Timestamp, UserId};

/// How long an access token lives: short, since it cannot be revoked before it expires.
pub const LIFETIME_SECS: i64 = 300;
// A retired key stays published only this long after it stopped signing.
const _: () = assert!(LIFETIME_SECS <= MAX_TOKEN_LIFETIME_SECS);

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
    Ok(AccessToken { token: signing::sign(app, SigningAlg::EdDsa, &claims)?, expires_in: LIFETIME_SECS })
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
    let claims = signing::verify(app, token, now)?;
    let Some(c) = claims.and_then(|c| serde_json::from_value::<Checked>(c).ok()) else { return Ok(None) };
    if c.iss != app.config.base_url || c.aud != audience(app) || now.unix() >= c.exp {
        return Ok(None);
    }
    let (Ok(user), Ok(tenant), Ok(session)) = (c.sub.parse(), c.tid.parse(), c.sid.parse()) else { return Ok(None) };
    Ok(Some(Bearer { user, tenant, session, iat: c.iat, exp: c.exp }))
}
