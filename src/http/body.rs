//! Request bodies and query strings: JSON in, list paging out of the query.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::Req;
use crate::error::Error;
use crate::store::page::Page;
use crate::types::{Reason, Timestamp};

/// Largest request body accepted (API.md: 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// Parses a JSON body: 415 unless it is declared `application/json`, 400 when it is not
/// UTF-8, does not parse or has wrong types. A request with neither a body nor a
/// `Content-Type` has an empty body (API.md): `{}`, so the answer names what is missing.
pub fn json<T: DeserializeOwned>(req: &Req) -> Result<T, Error> {
    let declared = req.header("content-type");
    if req.body.is_empty() && declared.is_none() {
        return parse(b"{}");
    }
    let mime = declared.unwrap_or_default().split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(Error::UnsupportedMediaType);
    }
    // serde_json checks the strings it keeps, not those of fields it skips: a body is
    // text as a whole or refused.
    if std::str::from_utf8(&req.body).is_err() {
        return Err(Error::invalid("The body is not valid UTF-8."));
    }
    parse(&req.body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    // serde would fill a struct from an array by position (`["a@b.c", "pw"]`); API.md bodies
    // are objects, so anything else is refused before it is parsed.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid("The body must be a JSON object."));
    }
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        // serde names a missing field as "missing field `email` at line 1 column 2".
        let missing = text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        match missing.and_then(known_field) {
            Some(field) => Error::field(field, "is required"),
            None => Error::invalid(format!("The body is not valid: {text}.")),
        }
    })
}

/// Field names as `&'static str`, for the `fields` map of a 400.
fn known_field(name: &str) -> Option<&'static str> {
    const FIELDS: &[&str] = &[
        "email",
        "password",
        "tenant_name",
        "name",
        "tenant_id",
        "token",
        "key",
        "current_password",
        "new_password",
        "new_email",
        "role",
        "reason",
        "owner_email",
        "slug",
        "code",
        "mfa_token",
        "ceremony_id",
        "credential",
    ];
    FIELDS.iter().copied().find(|f| *f == name)
}

/// `?limit=` and `?cursor=` of a list.
pub fn page(req: &Req) -> Result<Page, Error> {
    Page::parse(req.query("limit").as_deref(), req.query("cursor").as_deref())
}

/// An enum filter such as `?status=`: absent is None, an unknown value is 400.
pub fn filter<T: std::str::FromStr<Err = Error>>(req: &Req, name: &'static str) -> Result<Option<T>, Error> {
    req.query(name).map(|v| v.parse::<T>().map_err(|e| Error::field(name, e.message()))).transpose()
}

/// The `{"reason": "..."}` body of an operator's change. A request without a body has no
/// reason (400 reason_required, as a blank one); a reason that is not a string is 400 invalid_request.
pub fn reason(req: &Req) -> Result<Reason, Error> {
    #[derive(Deserialize)]
    struct ReasonBody {
        reason: Option<String>,
    }
    let raw = if req.body.iter().all(u8::is_ascii_whitespace) { None } else { json::<ReasonBody>(req)?.reason };
    Reason::parse(raw.as_deref())
}

/// For `#[serde(default, deserialize_with = "nullable")]` fields of a PATCH: absent is
/// `None` (leave as is), `null` is `Some(None)` (clear), a value is `Some(Some(v))`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A free-text query parameter such as `?q=` or `?action=`: trimmed, absent when blank,
/// at most 200 characters.
pub fn text(req: &Req, name: &'static str) -> Result<Option<String>, Error> {
    match req.query(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > 200 => Err(Error::field(name, "must be at most 200 characters")),
        other => Ok(other),
    }
}

/// An RFC 3339 timestamp query parameter such as `?since=`.
pub fn time(req: &Req, name: &'static str) -> Result<Option<Timestamp>, Error> {
    req.query(name).map(|v| Timestamp::parse(name, &v)).transpose()
}
