//! The registration ceremony (§7.1): a new credential, checked against the challenge we
//! issued, our origin and RP id. The attestation statement is not evaluated (we ask for
//! none); its object must still be well formed.
use ciborium::Value;

use super::authenticator_data::{self, AttestedCredential};
use super::client_data::{self, Ceremony};
use super::cose::read_cbor;
use super::{Refused, RelyingParty, credential_parts, member};

/// What a verified registration adds to the account.
#[derive(Debug)]
pub struct NewCredential {
    pub credential: AttestedCredential,
    pub sign_count: u32,
    pub user_verified: bool,
}

/// Verifies a `PublicKeyCredential` (its JSON form) made for `challenge`.
pub fn verify(rp: &RelyingParty, challenge: &[u8], credential: &serde_json::Value) -> Result<NewCredential, Refused> {
    let (raw_id, response) = credential_parts(credential)?;
    client_data::check(&member(response, "clientDataJSON")?, Ceremony::Create, challenge, rp)?;
    let auth_data = attested_data(&member(response, "attestationObject")?)?;
    let data = authenticator_data::parse(&auth_data, rp)?;
    let credential = data.attested.ok_or(Refused("no attested credential"))?;
    if credential.credential_id != raw_id {
        return Err(Refused("the credential id is not the one attested"));
    }
    Ok(NewCredential { credential, sign_count: data.sign_count, user_verified: data.user_verified })
}

/// The authenticator data inside an attestation object (a CBOR map of `fmt`, `attStmt`
/// and `authData`, §6.5.4).
fn attested_data(object: &[u8]) -> Result<Vec<u8>, Refused> {
    let (value, rest) = read_cbor(object)?;
    if !rest.is_empty() {
        return Err(Refused("trailing bytes after the attestation object"));
    }
    let map = value.as_map().ok_or(Refused("the attestation object is not a map"))?;
    let get = |name: &str| map.iter().find(|(k, _)| k.as_text() == Some(name)).map(|(_, v)| v);
    if !get("fmt").is_some_and(Value::is_text) || !get("attStmt").is_some_and(Value::is_map) {
        return Err(Refused("the attestation object lacks fmt or attStmt"));
    }
    get("authData").and_then(Value::as_bytes).cloned().ok_or(Refused("authData"))
}
