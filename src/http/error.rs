//! The one mapping from `Error` to the API's answer, `{"error": {code, message, fields?}}`
//! (`mfa_required` adds `mfa_token`, `methods`, `expires_at` and, for a person with a
//! passkey, `passkey_options`),
//! with the status from `Error::status_and_code` and the sentence from `Error::message`.
//! Pages show errors through `web::error`, from the same two.
use serde_json::{Map, Value, json};

use super::Response;
use crate::error::Error;

pub fn to_response(e: &Error) -> Response {
    log_internal(e);
    unlogged(e)
}

/// The API's answer to `e`, without logging its cause (for an answer prepared ahead).
pub fn unlogged(e: &Error) -> Response {
    let (status, code) = e.status_and_code();
    let mut error = json!({ "code": code, "message": e.message() });
    if let Error::InvalidRequest { fields, .. } = e {
        if !fields.is_empty() {
            let map: Map<String, Value> =
                fields.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
            error["fields"] = Value::Object(map);
        }
    }
    if let Error::MfaRequired(c) = e {
        error["mfa_token"] = json!(c.token.expose());
        error["methods"] = json!(c.methods);
        error["expires_at"] = json!(c.expires_at);
        if let Some(options) = &c.passkey_options {
            error["passkey_options"] = options.clone();
        }
    }
    with_retry_headers(e, Response::json(status, &json!({ "error": error })))
}

/// Logs the cause of a server error (never sent); the status and code of `e`.
pub(crate) fn log_internal(e: &Error) -> (u16, &'static str) {
    let (status, code) = e.status_and_code();
    if status >= 500 {
        // The cause goes to the log only: it may name tables, paths or internals.
        log::error!("{e}");
    }
    (status, code)
}

/// The headers some errors carry, whether the body is JSON or a page.
pub fn with_retry_headers(e: &Error, response: Response) -> Response {
    match e {
        Error::MethodNotAllowed { allow } => response.with_header("Allow", allow.clone()),
        Error::RateLimited { retry_after } => response.with_header("Retry-After", retry_after.to_string()),
        Error::Unavailable(_) => response.with_header("Retry-After", "1"),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn busy_and_throttled_answers_say_when_to_retry() {
        let busy = to_response(&Error::Unavailable("every password hashing permit is busy".into()));
        assert_eq!(busy.status, 503);
        assert_eq!(header(&busy, "Retry-After"), Some("1"));
        let body = String::from_utf8_lossy(&busy.body);
        assert!(body.contains("\"unavailable\"") && !body.contains("permit"), "the cause stays in the log: {body}");
        let limited = to_response(&Error::RateLimited { retry_after: 42 });
        assert_eq!((limited.status, header(&limited, "Retry-After")), (429, Some("42")));
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let r = to_response(&Error::internal("no such table: secrets"));
        assert_eq!(r.status, 500);
        assert!(!String::from_utf8_lossy(&r.body).contains("secrets"));
    }
}
