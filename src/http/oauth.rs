//! The plumbing of the OAuth endpoints that clients call directly (token, revocation,
//! introspection): their form bodies, the client credentials on a request, and errors in
//! RFC 6749 §5.2's shape rather than the API's.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::form::Form;
use super::{Req, Response};
use crate::app::App;
use crate::core::oidc::OAuthError;
use crate::core::oidc::client_auth::{self, AuthMethod, ClientCredentials};
use crate::crypto::secret::Secret;
use crate::store::oauth_clients::ClientRow;

/// The form body of an OAuth request (RFC 6749 §3.2: urlencoded, no parameter twice).
pub fn form(req: &Req) -> Result<Form, OAuthError> {
    Form::parse(req).map_err(|_| OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"))
}

/// A parameter that must not be repeated (RFC 6749 §3.2), None when absent or empty.
pub fn param<'a>(form: &'a Form, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match form.all(name).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one).filter(|v| !v.is_empty())),
        _ => Err(OAuthError::invalid_request(format!("{name} is repeated"))),
    }
}

/// One half of a Basic credential: RFC 6749 §2.3.1 has the client form-urlencode its id
/// and secret before Basic encodes them, so `+` is a space and `%XX` a byte.
fn form_decoded(part: &str) -> Option<String> {
    percent_decode_str(&part.replace('+', " ")).decode_utf8().ok().map(|s| s.into_owned())
}

/// `Authorization: Basic …` as (id, secret); None when the header is not Basic at all, an
/// error when it is Basic but unreadable.
fn basic(req: &Req) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.header("authorization") else { return Ok(None) };
    let Some((scheme, encoded)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    let pair = decoded.as_deref().and_then(|d| d.split_once(':'));
    match pair.and_then(|(id, secret)| Some((form_decoded(id)?, form_decoded(secret)?))) {
        Some(pair) => Ok(Some(pair)),
        None => Err(OAuthError::invalid_client()),
    }
}

/// The client credentials of a request: `client_secret_basic` (the Authorization header),
/// `client_secret_post` (`client_id` and `client_secret` in the form) or `none` (only
/// `client_id`). A secret in both places is `invalid_request` (RFC 6749 §2.3: one method
/// per request), and so is a form `client_id` that names another client than the header;
/// no credentials at all, or an unreadable header, is `invalid_client`.
pub fn client_credentials(req: &Req, form: &Form) -> Result<ClientCredentials, OAuthError> {
    let (form_id, form_secret) = (param(form, "client_id")?, param(form, "client_secret")?);
    match basic(req)? {
        Some(_) if form_secret.is_some() => {
            Err(OAuthError::invalid_request("use one client authentication method, not two"))
        }
        Some((id, _)) if form_id.is_some_and(|f| f != id) => {
            Err(OAuthError::invalid_request("client_id differs from the Authorization header's"))
        }
        Some((client_id, secret)) => {
            Ok(ClientCredentials { client_id, secret: Some(Secret::new(secret)), method: AuthMethod::Basic })
        }
        None => match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok(ClientCredentials {
                client_id: id.to_owned(),
                secret: Some(Secret::new(secret.to_owned())),
                method: AuthMethod::Post,
            }),
            (Some(id), None) => {
                Ok(ClientCredentials { client_id: id.to_owned(), secret: None, method: AuthMethod::None })
            }
            (None, _) => Err(OAuthError::invalid_client()),
        },
    }
}

/// The form of a request to an endpoint clients call directly (token, revocation,
/// introspection), and the client its credentials prove (`client_auth::authenticate`).
pub fn client_form(app: &App, req: &Req) -> Result<(Form, ClientRow), OAuthError> {
    let form = form(req)?;
    let client = client_auth::authenticate(app, &client_credentials(req, &form)?)?;
    Ok((form, client))
}

/// Marks an answer that holds credentials or says what they are worth: no cache keeps it
/// (RFC 6749 §5.1, RFC 7662 §4).
pub fn no_store(response: Response) -> Response {
    response.with_header("Cache-Control", "no-store").with_header("Pragma", "no-cache")
}

/// `{"error", "error_description"}` with the error's status; a 401 names the scheme the
/// caller may authenticate with: Bearer for a bad access token (RFC 6750 §3), else the
/// client's Basic (RFC 6749 §5.2).
pub fn error_response(e: &OAuthError) -> Response {
    let status = e.status();
    let response = no_store(Response::json(status, &json!({ "error": e.code, "error_description": e.description })));
    match (status, e.code) {
        (401, "invalid_token") => response.with_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        (401, _) => response.with_header("WWW-Authenticate", "Basic realm=\"keystead\""),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn req(authorization: Option<&str>, body: &str) -> Req {
        let mut headers = vec![("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
        headers.extend(authorization.map(|a| ("authorization".to_owned(), a.to_owned())));
        Req::new(Method::Post, "/v1/oauth/introspect", headers, body.as_bytes().to_vec(), None, None)
    }

    fn creds(authorization: Option<&str>, body: &str) -> Result<ClientCredentials, OAuthError> {
        let r = req(authorization, body);
        client_credentials(&r, &form(&r)?)
    }

    #[test]
    fn basic_credentials_are_form_decoded() -> Result<(), OAuthError> {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%2Bcr+t%3A1"));
        let c = creds(Some(&header), "token=x")?;
        assert_eq!((c.client_id.as_str(), c.secret.as_ref().map(Secret::expose)), ("my app", Some("s+cr t:1")));
        assert_eq!(c.method, AuthMethod::Basic);
        Ok(())
    }

    #[test]
    fn the_form_carries_post_and_none() -> Result<(), OAuthError> {
        let c = creds(None, "client_id=a&client_secret=b")?;
        assert_eq!((c.client_id.as_str(), c.method), ("a", AuthMethod::Post));
        let c = creds(None, "client_id=a")?;
        assert!(c.secret.is_none() && c.method == AuthMethod::None);
        Ok(())
    }

    #[test]
    fn two_methods_or_none_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        let code = |r: Result<ClientCredentials, OAuthError>| r.err().map(|e| e.code);
        assert_eq!(code(creds(Some(&header), "client_secret=b")), Some("invalid_request"));
        assert_eq!(code(creds(Some(&header), "client_id=other")), Some("invalid_request"));
        assert_eq!(code(creds(None, "client_id=a&client_id=b")), Some("invalid_request"));
        assert_eq!(code(creds(None, "token=x")), Some("invalid_client"));
        assert_eq!(code(creds(Some("Basic !!!"), "")), Some("invalid_client"));
        assert_eq!(code(creds(Some(&format!("Basic {}", STANDARD.encode("no-colon"))), "")), Some("invalid_client"));
    }
}
