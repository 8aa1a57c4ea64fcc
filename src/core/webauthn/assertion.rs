//! The authentication ceremony (§7.2): a signature by a credential the person registered,
//! over the authenticator data and the hash of the client data, for our challenge.
use sha2::{Digest as _, Sha256};

use super::authenticator_data;
use super::client_data::{self, Ceremony};
use super::cose::{PublicKey, read_cbor};
use super::{Refused, RelyingParty, credential_parts, decode, member};

/// An assertion as the browser sent it (its JSON form), not yet verified.
pub struct Assertion {
    pub credential_id: Vec<u8>,
    client_data_json: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
    user_handle: Option<Vec<u8>>,
}

/// The stored credential the assertion names.
pub struct Stored<'a> {
    pub cose_key: &'a [u8],
    pub sign_count: u32,
    pub user_handle: &'a [u8],
}

/// A verified assertion: the counter to store and whether the user was verified.
#[derive(Debug)]
pub struct Verified {
    pub sign_count: u32,
    pub user_verified: bool,
}

impl Assertion {
    pub fn parse(credential: &serde_json::Value) -> Result<Self, Refused> {
        let (credential_id, response) = credential_parts(credential)?;
        let user_handle = match response.get("userHandle") {
            None | Some(serde_json::Value::Null) => None,
            Some(h) => Some(decode(h.as_str().ok_or(Refused("userHandle"))?)?),
        };
        Ok(Assertion {
            credential_id,
            client_data_json: member(response, "clientDataJSON")?,
            authenticator_data: member(response, "authenticatorData")?,
            signature: member(response, "signature")?,
            user_handle,
        })
    }

    /// Verifies the assertion for `challenge` against the stored credential.
    pub fn verify(&self, rp: &RelyingParty, challenge: &[u8], stored: &Stored<'_>) -> Result<Verified, Refused> {
        if self.user_handle.as_deref().is_some_and(|h| h != stored.user_handle) {
            return Err(Refused("the user handle is another person's"));
        }
        client_data::check(&self.client_data_json, Ceremony::Get, challenge, rp)?;
        let data = authenticator_data::parse(&self.authenticator_data, rp)?;
        let (key, _) = read_cbor(stored.cose_key)?;
        let signed = [&self.authenticator_data[..], &Sha256::digest(&self.client_data_json)].concat();
        if !PublicKey::from_cose(&key)?.verifies(&signed, &self.signature) {
            return Err(Refused("bad signature"));
        }
        // §6.1.1: a counter that does not grow, where the authenticator keeps one, may be
        // a cloned authenticator. Authenticators that keep none send 0 every time.
        if (data.sign_count != 0 || stored.sign_count != 0) && data.sign_count <= stored.sign_count {
            return Err(Refused("the signature counter did not grow"));
        }
        Ok(Verified { sign_count: data.sign_count, user_verified: data.user_verified })
    }
}
