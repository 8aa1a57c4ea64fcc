//! The revocation endpoint (RFC 7009): a client ends what it holds. A refresh token, or an
//! access token of ours, revokes its whole grant: an access token is self-contained (a
//! signed JWT that a service may check offline), so it cannot be recalled by itself, and
//! revoking its grant is the only way to end it early where we look it up (userinfo,
//! introspection); the refresh chain ends with it (RFC 7009 §2.1 allows both).
use super::{OAuthError, grants};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::Actor;
use crate::crypto::secret::TokenHash;
use crate::store::oauth_clients::ClientRow;
use crate::store::{oauth_grants, oauth_refresh_tokens};
use crate::types::GrantId;

/// Revokes the grant behind `token` when it is this client's. Anything else — an unknown
/// or expired token, another client's — changes nothing and answers the same (RFC 7009
/// §2.2: the client cannot act on the difference, and a guesser learns nothing).
/// `token_type_hint` only orders the lookups there, so it is not taken: both kinds of
/// token are looked up, each in one indexed read.
pub fn revoke(app: &App, client: &ClientRow, token: Option<&str>) -> Result<(), OAuthError> {
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let refresh = app.db.read(|c| oauth_refresh_tokens::find(c, &TokenHash::of(token)))?;
    let grant: Option<GrantId> = match refresh {
        Some(found) => (found.client_id == client.id).then_some(found.grant_id),
        None => {
            grants::by_access_token(app, token)?.and_then(|a| (a.grant.client_id == client.id).then_some(a.grant.id))
        }
    };
    let Some(grant) = grant else { return Ok(()) };
    let now = app.clock.now();
    Ok(app.db.write_affecting(&[], |tx| {
        if oauth_grants::revoke(tx, grant, now)? {
            Event::new(Actor::System, None, Action::OAuthGrantRevoked)
                .target("oauth_client", client.id)
                .after(serde_json::json!({ "grant": grant, "by": "client" }))
                .append(tx, now)?;
        }
        Ok(())
    })?)
}
