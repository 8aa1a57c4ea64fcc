//! The one mapping from `Error` to an HTTP response (`{"error": {code, message, fields?}}`).
use serde_json::{Map, Value, json};

use super::Response;
use crate::error::Error;

pub fn to_response(e: &Error) -> Response {
    let (status, code) = e.status_and_code();
    if status >= 500 {
        // The cause goes to the log only: it may name tables, paths or internals.
        log::error!("{e}");
    }
    let mut error = json!({ "code": code, "message": e.message() });
    if let Error::InvalidRequest { fields, .. } = e {
        if !fields.is_empty() {
            let map: Map<String, Value> =
                fields.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
            error["fields"] = Value::Object(map);
        }
    }
    let response = Response::json(status, &json!({ "error": error }));
    match e {
        Error::MethodNotAllowed { allow } => response.with_header("Allow", allow.clone()),
        Error::RateLimited { retry_after } => response.with_header("Retry-After", retry_after.to_string()),
        Error::Unavailable(_) => response.with_header("Retry-After", "1"),
        _ => response,
    }
}
