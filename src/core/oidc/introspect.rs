//! Token introspection (RFC 7662, `POST /v1/oauth/introspect`): what a credential of
//! Keystead is worth, asked by an operator-made client with `introspect` set, so that an
//! off-the-shelf gateway verifies API keys, portal session tokens and access tokens with
//! no code of its own. Each kind is checked by the same core as `/v1/verify/*` and
//! forward authentication, so revocation, caches and limits behave as there.
//!
//! Choices where RFC 7662 leaves them open:
//! - The kind is read off the token's shape (a well-formed API key, a three-part JWT, else
//!   a session token); `token_type_hint` is accepted and not needed (§2.1 lets the server
//!   ignore it). A client's access token (from the token endpoint) is live while its grant is.
//! - A client that authenticates but may not introspect gets the same 401 `invalid_client`
//!   as a wrong secret (§2.3 answers a caller that is not allowed with 401): the endpoint
//!   never confirms to the holder of a relying party's stolen secret that it is valid.
//! - A client limited to a tenant sees every credential of another tenant as inactive, as
//!   it would an unknown one.
use serde::Serialize;

use super::{OAuthError, grants};
use crate::app::App;
use crate::core::mfa::policy;
use crate::core::principal::{Origin, PortalUser};
use crate::core::verify::{self, KeyVerdict};
use crate::core::{access_tokens, forward_auth};
use crate::crypto::api_key;
use crate::error::Error;
use crate::store::oauth_clients::ClientRow;
use crate::types::{ClientId, KeyId, Person, Role, SessionId, TenantId, UserId};

/// The answer (RFC 7662 §2.2): `{"active": false}` alone for anything not live, else the
/// claims of its kind. `token_type` is `api_key`, `session_token` or `Bearer` (an access
/// token, as the token endpoint names its type).
#[derive(Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// An API key's scopes, space-separated (RFC 7662's `scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<KeyId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The client a client access token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
}

impl Introspection {
    fn inactive() -> Self {
        Self::default()
    }
}

/// What `token` is worth, asked by `client` (authenticated by the caller).
pub fn introspect(app: &App, origin: &Origin, client: &ClientRow, token: &str) -> Result<Introspection, OAuthError> {
    if !client.introspect {
        return Err(OAuthError::invalid_client());
    }
    let found = if api_key::is_well_formed(&app.config.key_prefix, token) {
        key(app, origin, token)?
    } else if token.split('.').count() == 3 {
        access_token(app, origin, token)?
    } else {
        session(app, origin, token)?
    };
    let seen = found.filter(|a| client.tenant_id.is_none() || a.tid == client.tenant_id);
    Ok(seen.unwrap_or_else(Introspection::inactive))
}

fn key(app: &App, origin: &Origin, raw: &str) -> Result<Option<Introspection>, OAuthError> {
    let KeyVerdict::Valid(k) = verify::verify_key(app, &origin.ip, raw)? else { return Ok(None) };
    let scopes: Vec<String> = serde_json::from_str(k.scopes.get()).map_err(Error::internal)?;
    Ok(Some(Introspection {
        active: true,
        token_type: Some("api_key"),
        scope: Some(scopes.join(" ")),
        tid: Some(k.tenant_id),
        key_id: Some(k.id),
        exp: k.expires_at.map(|t| t.unix()),
        iat: Some(k.created_at.unix()),
        ..Introspection::default()
    }))
}

fn session(app: &App, origin: &Origin, token: &str) -> Result<Option<Introspection>, OAuthError> {
    let Some(s) = verify::verify_session(app, &origin.ip, token)? else { return Ok(None) };
    Ok(Some(Introspection {
        active: true,
        token_type: Some("session_token"),
        sub: Some(s.user_id),
        tid: Some(s.tenant_id),
        role: Some(s.role),
        sid: Some(s.id),
        exp: Some(s.expires_at.unix()),
        iat: Some(s.created_at.unix()),
        ..Introspection::default()
    }))
}

/// An access token whose signature, issuer, audience and expiry check out, held by a
/// person still allowed in its tenant (forward authentication's rule: a token outlives a
/// removal by minutes at most, and is not taken at its word here either), whom the
/// tenant's second-factor policy does not shut out (as `/v1/verify/session` decides).
fn access_token(app: &App, origin: &Origin, token: &str) -> Result<Option<Introspection>, OAuthError> {
    let Some(b) = access_tokens::verify(app, token, app.clock.now())? else { return client_access_token(app, token) };
    let who = PortalUser {
        session_id: b.session,
        user_id: b.user,
        tenant_id: b.tenant,
        role: Role::Member,
        origin: origin.clone(),
    };
    let Some(profile) = forward_auth::signed_in(app, who)? else { return Ok(None) };
    match policy::gate(app, Person::User(b.user), Some(b.tenant)) {
        Ok(()) => {}
        Err(Error::MfaEnrolmentRequired) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(Introspection {
        active: true,
        token_type: Some("Bearer"),
        sub: Some(b.user),
        tid: Some(b.tenant),
        role: Some(profile.member.membership.role),
        sid: Some(b.session),
        exp: Some(b.exp),
        iat: Some(b.iat),
        aud: Some(access_tokens::audience(app).to_owned()),
        iss: Some(app.config.base_url.clone()),
        ..Introspection::default()
    }))
}

/// An access token the token endpoint gave a client: live while its grant is (which the
/// grant's account, membership, tenant and client being active is part of).
fn client_access_token(app: &App, token: &str) -> Result<Option<Introspection>, OAuthError> {
    let Some(access) = grants::by_access_token(app, token)? else { return Ok(None) };
    Ok(Some(Introspection {
        active: true,
        token_type: Some("Bearer"),
        scope: Some(access.scope.to_string()),
        sub: Some(access.grant.user_id),
        tid: Some(access.grant.tenant_id),
        role: Some(access.role),
        exp: Some(access.exp),
        iat: Some(access.iat),
        aud: Some(access.grant.client_id.to_string()),
        iss: Some(app.config.base_url.clone()),
        client_id: Some(access.grant.client_id),
        ..Introspection::default()
    }))
}
