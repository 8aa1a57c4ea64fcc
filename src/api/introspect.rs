//! `POST /v1/oauth/introspect` (RFC 7662): a form body and client authentication in, the
//! RFC's JSON out, and its errors in RFC 6749's shape (never the API's: the callers are
//! standard gateways).
use crate::app::App;
use crate::core::oidc::{
    OAuthError,
    introspect::{self, Introspection},
};
use crate::error::Error;
use crate::http::{Req, Response, oauth};

pub fn introspect(app: &App, req: &mut Req) -> Result<Response, Error> {
    Ok(match answer(app, req) {
        Ok(found) => oauth::no_store(Response::json(200, &found)),
        Err(e) => oauth::error_response(&e),
    })
}

fn answer(app: &App, req: &Req) -> Result<Introspection, OAuthError> {
    let (form, client) = oauth::client_form(app, req)?;
    // `token_type_hint` may come (once); the token's shape tells its kind anyway.
    oauth::param(&form, "token_type_hint")?;
    let token = oauth::param(&form, "token")?.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    introspect::introspect(app, &req.origin(), &client, token)
}
