//! ID tokens (OIDC Core §2) and the claims about the person they share with userinfo.
use serde_json::{Map, Value, json};

use super::Scope;
use crate::app::App;
use crate::core::signing;
use crate::error::Error;
use crate::store::accounts::AccountRow;
use crate::store::oauth_clients::ClientRow;
use crate::store::oauth_grants::GrantRow;
use crate::types::{Role, TenantId, Timestamp};

/// How long an ID token is valid: it is read once, at sign-in.
pub const LIFETIME_SECS: i64 = 300;
// A retired signing key stays published this long after it stops signing.
const _: () = assert!(LIFETIME_SECS <= signing::MAX_TOKEN_LIFETIME_SECS);

/// What a client learns of the person, by scope (API.md: `sub` is the account id; `tid`
/// and `role` are the tenant the grant acts in and the role there now).
pub fn person_claims(account: &AccountRow, scope: &Scope, tenant: TenantId, role: Role) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(account.id));
    if scope.has("email") {
        claims.insert("email".into(), json!(account.email.as_str()));
        claims.insert("email_verified".into(), json!(account.email_verified_at.is_some()));
    }
    if scope.has("profile") {
        claims.insert("name".into(), json!(account.name));
    }
    claims.insert("tid".into(), json!(tenant));
    claims.insert("role".into(), json!(role));
    claims
}

/// The ID token of a grant, signed with the client's algorithm. `amr` lists how the
/// session was authenticated (RFC 8176); `acr` is `mfa` when a second factor was part of
/// it, and absent otherwise, since a password alone is the baseline every client expects.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    app: &App,
    client: &ClientRow,
    grant: &GrantRow,
    account: &AccountRow,
    role: Role,
    scope: &Scope,
    nonce: Option<&str>,
    now: Timestamp,
) -> Result<String, Error> {
    let mut claims = person_claims(account, scope, grant.tenant_id, role);
    let amr: Vec<&str> = grant.amr.split(' ').collect();
    claims.insert("iss".into(), json!(app.config.base_url));
    claims.insert("aud".into(), json!(client.id));
    claims.insert("azp".into(), json!(client.id));
    claims.insert("iat".into(), json!(now.unix()));
    claims.insert("exp".into(), json!(now.unix() + LIFETIME_SECS));
    claims.insert("auth_time".into(), json!(grant.auth_time.unix()));
    claims.insert("sid".into(), json!(grant.session_id));
    if amr.len() > 1 {
        claims.insert("acr".into(), json!("mfa"));
    }
    claims.insert("amr".into(), json!(amr));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    signing::sign(app, client.id_token_alg, &claims)
}
