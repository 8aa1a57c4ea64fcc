//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3): a
//! code is good once, for 60 s, for the client it was issued to, with the redirect URI
//! and PKCE verifier of its request. A code presented again after its redemption revokes
//! the grant that redemption opened (RFC 6749 §4.1.2): someone else has held it.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::grants::{self, Tokens};
use super::{OAuthError, Scope, authorize};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::Actor;
use crate::crypto::secret::TokenHash;
use crate::store::oauth_clients::ClientRow;
use crate::store::oauth_codes::{self, CodeRow};
use crate::store::oauth_grants;
use crate::types::{GrantId, Timestamp};

/// The token request's parameters for this grant.
pub struct Exchange<'a> {
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

pub fn exchange(app: &App, client: &ClientRow, input: &Exchange<'_>) -> Result<Tokens, OAuthError> {
    let code = input.code.ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let hash = TokenHash::of(code);
    let now = app.clock.now();
    let found = app.db.read(|c| oauth_codes::find(c, &hash))?;
    let Some(found) = found else { return Err(OAuthError::invalid_grant("the code is not valid")) };
    if let Some(grant) = found.redeemed_grant {
        revoke_replayed(app, &found.row, grant, now)?;
        return Err(OAuthError::invalid_grant("the code was used already"));
    }
    check(&found.row, client, input, now)?;
    let grant_id = GrantId::random();
    let issued = app.db.write(|tx| {
        if !oauth_codes::redeem(tx, &hash, grant_id, now)? {
            return Ok(None);
        }
        let opened = grants::open(tx, grant_id, &found.row, now)?;
        // The account, membership, tenant and client must still be active now, and the
        // tenant's policy met.
        let Some((grant, role)) = grants::find_live(app, tx, opened.id, now)? else { return Ok(None) };
        let scope = Scope::parse(&grant.scope);
        grants::issue(tx, grant, scope, role, found.row.nonce.clone(), now).map(Some)
    })?;
    let issued = issued.ok_or_else(|| OAuthError::invalid_grant("the code is not valid"))?;
    Ok(grants::sign(app, client, issued, now)?)
}

/// The checks of RFC 6749 §4.1.3 and RFC 7636 §4.6, each failing as `invalid_grant`
/// (a code that is not this client's is not valid for it, whatever else is wrong).
fn check(code: &CodeRow, client: &ClientRow, input: &Exchange<'_>, now: Timestamp) -> Result<(), OAuthError> {
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if now >= code.expires_at {
        return Err(OAuthError::invalid_grant(format!(
            "the code expired (codes live {} s)",
            authorize::CODE_LIFETIME_SECS
        )));
    }
    if input.redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri differs from the authorization request's"));
    }
    match (&code.code_challenge, input.code_verifier) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) if verifier_fits(verifier) && s256(verifier) == *challenge => Ok(()),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is missing")),
        // A verifier for a request without a challenge is refused too: it means the
        // challenge was stripped on the way (RFC 9700 §2.1.1).
        _ => Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge")),
    }
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn verifier_fits(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn revoke_replayed(app: &App, code: &CodeRow, grant: GrantId, now: Timestamp) -> Result<(), OAuthError> {
    Ok(app.db.write(|tx| {
        if oauth_grants::revoke(tx, grant, now)? {
            Event::new(Actor::System, None, Action::OAuthCodeReplayed)
                .tenant(code.tenant_id)
                .target("oauth_client", code.client_id)
                .after(serde_json::json!({ "grant": grant, "user": code.user_id }))
                .append(tx, now)?;
        }
        Ok(())
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_base64url_sha256_without_padding() {
        // Computed by Python's hashlib and base64.urlsafe_b64encode, '=' stripped.
        assert_eq!(s256("dBjftJeZ4CVP-mJ92K1HsXcsTwQojk7KiDUdL3_Pb0M"), "YSR4ayf5in_nTNltDn1cp5oLdr7iPF03ETwO-j9XnA4");
        assert!(verifier_fits("dBjftJeZ4CVP-mJ92K1HsXcsTwQojk7KiDUdL3_Pb0M"));
        assert!(!verifier_fits("short"));
        assert!(!verifier_fits(&"a+".repeat(30)));
    }
}
