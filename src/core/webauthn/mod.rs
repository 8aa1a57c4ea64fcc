//! A WebAuthn Level 2 relying party (W3C, "Web Authentication"), the part a server
//! needs for passkeys as a second factor: the options a browser hands its authenticator
//! (`options`), and the checks of what comes back, one module per ceremony
//! (`registration`, §7.1; `assertion`, §7.2) over the shared pieces (`client_data`,
//! `authenticator_data`, `cose`). Nothing here touches the database: `core::mfa::passkeys`
//! keeps the challenges and credentials.
//!
//! Keystead asks for no attestation and evaluates none: a passkey proves that its holder
//! has the key it registered, not which authenticator model keeps it.
pub mod assertion;
pub mod authenticator_data;
pub mod client_data;
pub mod cose;
pub mod options;
pub mod registration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom as _;

use crate::error::Error;

/// How long a ceremony's challenge is good for (also the browser's `timeout`).
pub const CEREMONY_SECS: i64 = 5 * 60;

/// Why a response was refused, for the log and for tests (never sent: the client hears
/// only `invalid_credential` or `invalid_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// Who we are to authenticators: the RP id is the base URL's host, and every response
/// must come from the base URL's origin.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub id: String,
    pub origin: String,
}

impl RelyingParty {
    pub fn of(base_url: &str) -> Result<Self, Error> {
        let url = url::Url::parse(base_url).map_err(Error::internal)?;
        let id = url.host_str().ok_or_else(|| Error::internal("the base URL has no host"))?.to_owned();
        Ok(RelyingParty { id, origin: url.origin().ascii_serialization() })
    }
}

/// A fresh challenge: 32 random bytes (the specification asks for at least 16).
pub fn new_challenge() -> Result<Vec<u8>, Error> {
    let mut challenge = vec![0; 32];
    ring::rand::SystemRandom::new().fill(&mut challenge).map_err(|_| Error::internal("no randomness"))?;
    Ok(challenge)
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url as browsers write it (`toJSON()` leaves the padding off; some add it).
pub fn decode(text: &str) -> Result<Vec<u8>, Refused> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| Refused("not base64url"))
}

/// A base64url member of a JSON object.
fn member(object: &serde_json::Value, name: &'static str) -> Result<Vec<u8>, Refused> {
    decode(object.get(name).and_then(serde_json::Value::as_str).ok_or(Refused(name))?)
}

/// The parts every `PublicKeyCredential` in its JSON form has: `type` "public-key", `id`
/// and `rawId` (the same credential id), and `response`.
fn credential_parts(credential: &serde_json::Value) -> Result<(Vec<u8>, &serde_json::Value), Refused> {
    if credential.get("type").and_then(serde_json::Value::as_str) != Some("public-key") {
        return Err(Refused("type"));
    }
    let raw_id = member(credential, "rawId")?;
    if member(credential, "id")? != raw_id {
        return Err(Refused("id and rawId differ"));
    }
    let response = credential.get("response").filter(|r| r.is_object()).ok_or(Refused("response"))?;
    Ok((raw_id, response))
}

#[cfg(test)]
pub(crate) mod vectors;
