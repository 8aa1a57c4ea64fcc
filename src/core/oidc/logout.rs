//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client sends the
//! browser here to end the person's Keystead session, and may have it sent back to one of
//! its registered `post_logout_redirect_uris`.
//!
//! A logout link is easy to plant on any site, so the session ends without asking only
//! when the request's `id_token_hint` names this very session (its `sub` and `sid`): only
//! a client the person signed in to holds that token. Anyone else's request is confirmed by
//! the person first (§2: the OP SHOULD ask). The grants the client holds are not revoked:
//! leaving the portal is not taking an application's access back (that is `/app/apps`).
use url::Url;

use super::OAuthError;
use super::authorize::{self, MAX_ECHO_CHARS};
use crate::app::App;
use crate::core::principal::PortalUser;
use crate::core::signing;
use crate::store::oauth_clients::{self, ClientRow};
use crate::types::{ClientId, ClientStatus};

/// A checked logout request.
pub struct Request {
    /// The client it comes from, when it says (`client_id` or the hint's `aud`).
    pub client: Option<ClientRow>,
    /// Where the browser goes afterwards: the registered `post_logout_redirect_uri` with
    /// `state`, or None for our own signed-out page.
    pub redirect: Option<String>,
    /// The `sub` and `sid` of the `id_token_hint`.
    hint: Option<(String, Option<String>)>,
    /// The parameters as they came, for the confirmation form to carry.
    pub params: Vec<(String, String)>,
}

fn one<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, OAuthError> {
    authorize::one(params, name).map_err(OAuthError::invalid_request)
}

/// Checks a request's parameters (query or form). Refused, with nothing ended: an
/// `id_token_hint` that is not an ID token of ours, a `client_id` that differs from its
/// audience, or an unknown client. A `post_logout_redirect_uri` the client did not register
/// is not refused: the person is signed out and sees our page instead (§3).
pub fn check(app: &App, params: Vec<(String, String)>) -> Result<Request, OAuthError> {
    let hint = one(&params, "id_token_hint")?.map(|t| read_hint(app, t)).transpose()?;
    let client_id = match (one(&params, "client_id")?, hint.as_ref().map(|h| h.aud.as_str())) {
        (Some(asked), Some(aud)) if asked != aud => {
            return Err(OAuthError::invalid_request("client_id is not the audience of id_token_hint"));
        }
        (asked, aud) => asked.or(aud),
    };
    let client = match client_id {
        None => None,
        Some(id) => {
            let id: ClientId = id.parse().map_err(|_| OAuthError::invalid_request("the client is unknown"))?;
            let found = app.db.read(|c| oauth_clients::get(c, id))?;
            Some(found.ok_or_else(|| OAuthError::invalid_request("the client is unknown"))?)
        }
    };
    let state = one(&params, "state")?;
    if state.is_some_and(|s| s.chars().count() > MAX_ECHO_CHARS) {
        return Err(OAuthError::invalid_request("state is too long"));
    }
    let redirect = match (one(&params, "post_logout_redirect_uri")?, &client) {
        (Some(uri), Some(c))
            if c.status == ClientStatus::Active && c.post_logout_redirect_uris.iter().any(|r| r == uri) =>
        {
            Some(with_state(uri, state))
        }
        _ => None,
    };
    Ok(Request { client, redirect, hint: hint.map(|h| (h.sub, h.sid)), params })
}

struct Hint {
    aud: String,
    sub: String,
    sid: Option<String>,
}

/// An ID token we signed, read for who it names. It may have expired: a client keeps the
/// ID token of a sign-in for as long as its own session, far past the five minutes the
/// token was valid for signing in (§2), so only the signature and the issuer count.
fn read_hint(app: &App, token: &str) -> Result<Hint, OAuthError> {
    let refused = || OAuthError::invalid_request("id_token_hint is not an ID token of this provider");
    let claims = signing::verify(app, token, app.clock.now())?.ok_or_else(refused)?;
    if claims["iss"] != app.config.base_url.as_str() {
        return Err(refused());
    }
    // `aud` is one string in our ID tokens; RFC 7519 allows an array, of which one entry
    // names a single client.
    let aud = match &claims["aud"] {
        serde_json::Value::String(aud) => aud.clone(),
        serde_json::Value::Array(list) if list.len() == 1 => list[0].as_str().ok_or_else(refused)?.to_owned(),
        _ => return Err(refused()),
    };
    let sub = claims["sub"].as_str().ok_or_else(refused)?.to_owned();
    Ok(Hint { aud, sub, sid: claims["sid"].as_str().map(str::to_owned) })
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    let Ok(mut url) = Url::parse(uri) else { return uri.to_owned() };
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    url.into()
}

impl Request {
    /// Whether the person must confirm before the session ends: a browser with a session
    /// that the `id_token_hint` does not name (or without a hint). No session, nothing to
    /// lose: the browser goes straight on.
    pub fn needs_confirmation(&self, session: Option<&PortalUser>) -> bool {
        let Some(session) = session else { return false };
        let named = self.hint.as_ref().is_some_and(|(sub, sid)| {
            *sub == session.user_id.to_string() && sid.as_deref() == Some(session.session_id.to_string().as_str())
        });
        !named
    }
}
