//! The OpenID Connect endpoints that clients call directly: discovery, token, userinfo
//! and revocation. Form bodies in, the RFCs' JSON and errors out (`http::oauth`).
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::core::oidc::code_grant::{self, Exchange};
use crate::core::oidc::grants::Tokens;
use crate::core::oidc::refresh_grant::{self, Refresh};
use crate::core::oidc::{OAuthError, discovery, revocation, userinfo};
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, oauth};

pub fn configuration(app: &App, _req: &mut Req) -> Result<Response, Error> {
    Ok(Response::json(200, &discovery::metadata(app)).with_header("Cache-Control", "public, max-age=300"))
}

/// `POST /v1/oauth/token` (RFC 6749 §3.2).
pub fn token(app: &App, req: &mut Req) -> Result<Response, Error> {
    Ok(match exchange(app, req) {
        Ok(tokens) => oauth::no_store(Response::json(200, &tokens_json(&tokens))),
        Err(e) => oauth::error_response(&e),
    })
}

fn exchange(app: &App, req: &Req) -> Result<Tokens, OAuthError> {
    let (form, client) = oauth::client_form(app, req)?;
    match oauth::param(&form, "grant_type")? {
        Some("authorization_code") => {
            let input = Exchange {
                code: oauth::param(&form, "code")?,
                redirect_uri: oauth::param(&form, "redirect_uri")?,
                code_verifier: oauth::param(&form, "code_verifier")?,
            };
            code_grant::exchange(app, &client, &input)
        }
        Some("refresh_token") => {
            let input =
                Refresh { refresh_token: oauth::param(&form, "refresh_token")?, scope: oauth::param(&form, "scope")? };
            refresh_grant::exchange(app, &client, &input)
        }
        Some(_) => {
            Err(OAuthError::new("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"))
        }
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

fn tokens_json(t: &Tokens) -> Value {
    let mut body = json!({
        "access_token": t.access_token,
        "token_type": "Bearer",
        "expires_in": t.expires_in,
        "id_token": t.id_token,
        "scope": t.scope,
    });
    if let Some(refresh) = &t.refresh_token {
        body["refresh_token"] = json!(refresh.expose());
    }
    body
}

/// `GET` or `POST /v1/oauth/userinfo` with the client's access token as a Bearer (OIDC Core
/// §5.3); a bad token is 401 with RFC 6750's `WWW-Authenticate`.
pub fn userinfo(app: &App, req: &mut Req) -> Result<Response, Error> {
    let found: Result<Map<String, Value>, OAuthError> = match credentials::bearer(req) {
        Some(token) => userinfo::claims(app, token),
        None => Err(OAuthError::new("invalid_token", "an access token is required")),
    };
    Ok(match found {
        Ok(claims) => oauth::no_store(Response::json(200, &claims)),
        Err(e) => oauth::error_response(&e),
    })
}

/// `POST /v1/oauth/revoke` (RFC 7009 §2): 200 with an empty body whether or not there was
/// anything to revoke.
pub fn revoke(app: &App, req: &mut Req) -> Result<Response, Error> {
    let revoked = oauth::client_form(app, req).and_then(|(form, client)| {
        // Not repeated (RFC 6749 §3.2), and otherwise not needed: see `revocation::revoke`.
        oauth::param(&form, "token_type_hint")?;
        revocation::revoke(app, &client, oauth::param(&form, "token")?)
    });
    Ok(match revoked {
        Ok(()) => oauth::no_store(Response::empty(200)),
        Err(e) => oauth::error_response(&e),
    })
}
