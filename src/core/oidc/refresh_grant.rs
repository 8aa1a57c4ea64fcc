//! The `refresh_token` grant (RFC 6749 §6, OIDC Core §12): a refresh token is good once,
//! for the client of its grant, while the grant is live. Every use rotates it: the token is
//! marked used and the answer carries its successor, in one transaction. A used token that
//! comes back means two parties hold the chain, so the whole grant is revoked (RFC 9700
//! §4.14.2) and the successor dies with it.
use super::grants::{self, Tokens};
use super::{OAuthError, Scope};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::Actor;
use crate::crypto::secret::TokenHash;
use crate::store::oauth_clients::ClientRow;
use crate::store::{oauth_grants, oauth_refresh_tokens};

/// The token request's parameters for this grant.
pub struct Refresh<'a> {
    pub refresh_token: Option<&'a str>,
    /// A narrower scope for this answer's tokens (RFC 6749 §6); the grant keeps its own.
    pub scope: Option<&'a str>,
}

pub fn exchange(app: &App, client: &ClientRow, input: &Refresh<'_>) -> Result<Tokens, OAuthError> {
    let token = input.refresh_token.ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let hash = TokenHash::of(token);
    let now = app.clock.now();
    let invalid = || OAuthError::invalid_grant("the refresh token is not valid");
    // Grants are in no cache; one transaction reads and rotates, so that of two uses of
    // one token only one finds it unused (`mark_used`), the other seeing a reuse. The
    // tokens are signed after it commits (`grants::sign`).
    let issued = app.db.write_affecting(&[], |tx| {
        let Some(found) = oauth_refresh_tokens::find(tx, &hash)? else { return Ok(Err(invalid())) };
        // Another client's token is not valid for this one, and revokes nothing: the
        // client holding it did nothing wrong.
        if found.client_id != client.id {
            return Ok(Err(invalid()));
        }
        // The account, membership, tenant and client must still be active, the tenant's
        // policy met, and the grant neither revoked nor past its lifetime.
        let Some((grant, role)) = grants::find_live(app, tx, found.grant_id, now)? else {
            return Ok(Err(invalid()));
        };
        // Checked before the token is spent, so that it stays good for a corrected request.
        let scope = match narrowed(&grant.scope, input.scope) {
            Ok(scope) => scope,
            Err(e) => return Ok(Err(e)),
        };
        if found.used || !oauth_refresh_tokens::mark_used(tx, &hash, now)? {
            oauth_grants::revoke(tx, grant.id, now)?;
            Event::new(Actor::System, None, Action::OAuthRefreshReused)
                .tenant(grant.tenant_id)
                .target("oauth_client", client.id)
                .after(serde_json::json!({ "grant": grant.id, "user": grant.user_id }))
                .append(tx, now)?;
            return Ok(Err(OAuthError::invalid_grant("the refresh token was used already; its grant is revoked")));
        }
        oauth_grants::touch(tx, grant.id, now)?;
        // A refreshed ID token has no nonce (OIDC Core §12.2): nothing asked for one.
        grants::issue(tx, grant, scope, role, None, now).map(Ok)
    })??;
    Ok(grants::sign(app, client, issued, now)?)
}

/// The scope of a refresh's tokens: the grant's, or the narrower set asked for, which must
/// keep `openid` (this provider's tokens are ID tokens' too) and ask for nothing the grant
/// lacks (RFC 6749 §6); else `invalid_scope`.
fn narrowed(granted: &str, asked: Option<&str>) -> Result<Scope, OAuthError> {
    let granted = Scope::parse(granted);
    let Some(asked) = asked else { return Ok(granted) };
    let asked = Scope::parse(asked);
    if !asked.has("openid") {
        return Err(OAuthError::new("invalid_scope", "the scope must include openid"));
    }
    if !granted.covers(&asked) {
        return Err(OAuthError::new("invalid_scope", "the scope may only narrow what was granted"));
    }
    Ok(asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_only_narrows() {
        let code = |r: Result<Scope, OAuthError>| r.map(|s| s.to_string()).map_err(|e| e.code);
        let granted = "email offline_access openid profile";
        assert_eq!(code(narrowed(granted, None)), Ok(granted.to_owned()));
        assert_eq!(code(narrowed(granted, Some("openid email"))), Ok("email openid".to_owned()));
        assert_eq!(code(narrowed("offline_access openid", Some("openid email"))), Err("invalid_scope"));
        assert_eq!(code(narrowed(granted, Some("email"))), Err("invalid_scope"));
    }
}
