//! Client authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3): `client_secret_basic`, `client_secret_post`, or `none` for a public client. How
//! the credentials are read off a request is `http::oauth::client_credentials`.
use super::OAuthError;
use crate::app::App;
use crate::crypto::secret::Secret;
use crate::store::oauth_clients::{self, ClientRow};
use crate::types::{ClientId, ClientStatus};

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Basic` with the form-urlencoded id and secret.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// Only `client_id` in the form body: a public client.
    None,
}

pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<Secret>,
    pub method: AuthMethod,
}

/// The active client these credentials prove, or `invalid_client`: for an unknown or
/// malformed id, a wrong or missing secret of a confidential client, a secret sent for a
/// public client (it has none, so whoever sent one is confused or guessing) and a
/// disabled client alike, with one description, so the answer tells a guesser nothing.
pub fn authenticate(app: &App, creds: &ClientCredentials) -> Result<ClientRow, OAuthError> {
    let Ok(id) = creds.client_id.parse::<ClientId>() else { return Err(OAuthError::invalid_client()) };
    let Some((client, stored)) = app.db.read(|c| oauth_clients::get_with_secret(c, id))? else {
        return Err(OAuthError::invalid_client());
    };
    let proven = match (stored, creds.method, &creds.secret) {
        (None, AuthMethod::None, None) => true,
        (Some(hash), AuthMethod::Basic | AuthMethod::Post, Some(secret)) => hash.same_as(&secret.digest()),
        _ => false,
    };
    if proven && client.status == ClientStatus::Active { Ok(client) } else { Err(OAuthError::invalid_client()) }
}
