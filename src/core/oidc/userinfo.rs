//! The userinfo endpoint (OIDC Core §5.3): the person's claims for a client's live access
//! token, by the scopes of its grant.
use serde_json::{Map, Value};

use super::{OAuthError, grants, id_token};
use crate::app::App;
use crate::store::accounts;

/// The claims for `token`; `invalid_token` (RFC 6750 §3.1) for anything but a live
/// client access token.
pub fn claims(app: &App, token: &str) -> Result<Map<String, Value>, OAuthError> {
    let invalid = || OAuthError::new("invalid_token", "the access token is not valid");
    let access = grants::by_access_token(app, token)?.ok_or_else(invalid)?;
    let account = app.db.read(|c| accounts::get(c, access.grant.user_id))?.ok_or_else(invalid)?;
    Ok(id_token::person_claims(&account, &access.scope, access.grant.tenant_id, access.role))
}
