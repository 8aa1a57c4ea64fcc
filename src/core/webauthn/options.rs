//! The options the browser passes to `navigator.credentials.create()` and `.get()`, in
//! their JSON form (binary members base64url, as `PublicKeyCredential.parse…OptionsFromJSON`
//! reads them). User verification is preferred, not required: a security key without a
//! PIN still counts as a second factor.
use serde_json::{Value, json};

use super::{CEREMONY_SECS, RelyingParty, cose, encode};

/// The person a new credential is for. `handle` is opaque (no address or name in it).
pub struct User<'a> {
    pub handle: &'a [u8],
    pub name: &'a str,
}

/// `rp_name` is what the authenticator shows the passkey as belonging to: the product.
pub fn creation(rp: &RelyingParty, rp_name: &str, user: &User<'_>, challenge: &[u8], existing: &[Vec<u8>]) -> Value {
    json!({ "publicKey": {
        "rp": { "id": rp.id, "name": rp_name },
        "user": { "id": encode(user.handle), "name": user.name, "displayName": user.name },
        "challenge": encode(challenge),
        "pubKeyCredParams": cose::OFFERED.iter().map(|alg| json!({ "type": "public-key", "alg": alg })).collect::<Vec<_>>(),
        "timeout": CEREMONY_SECS * 1000,
        "excludeCredentials": descriptors(existing),
        "authenticatorSelection": { "residentKey": "preferred", "requireResidentKey": false, "userVerification": "preferred" },
        "attestation": "none",
    }})
}

pub fn request(rp: &RelyingParty, challenge: &[u8], allowed: &[Vec<u8>]) -> Value {
    json!({ "publicKey": {
        "rpId": rp.id,
        "challenge": encode(challenge),
        "allowCredentials": descriptors(allowed),
        "timeout": CEREMONY_SECS * 1000,
        "userVerification": "preferred",
    }})
}

fn descriptors(ids: &[Vec<u8>]) -> Vec<Value> {
    ids.iter().map(|id| json!({ "type": "public-key", "id": encode(id) })).collect()
}
