//! Authenticator data (§6.1): the RP id hash, the flags, the signature counter and, at
//! registration, the attested credential (§6.5.1).
use ciborium::Value;
use sha2::{Digest as _, Sha256};

use super::cose::{PublicKey, read_cbor};
use super::{Refused, RelyingParty};

const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED: u8 = 0x40;
const EXTENSIONS: u8 = 0x80;
/// §5.8.3: longer credential ids are refused.
const MAX_CREDENTIAL_ID: usize = 1023;

#[derive(Debug)]
pub struct AuthenticatorData {
    pub user_verified: bool,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential>,
}

#[derive(Debug)]
pub struct AttestedCredential {
    pub credential_id: Vec<u8>,
    /// The COSE_Key bytes as the authenticator sent them (what is stored).
    pub cose_key: Vec<u8>,
    pub public_key: PublicKey,
}

/// Parses authenticator data meant for `rp`, with the user present (we never ask for
/// silent ceremonies).
pub fn parse(bytes: &[u8], rp: &RelyingParty) -> Result<AuthenticatorData, Refused> {
    if bytes.len() < 37 {
        return Err(Refused("authenticator data too short"));
    }
    let (rp_id_hash, flags, counter, mut rest) = (&bytes[..32], bytes[32], &bytes[33..37], &bytes[37..]);
    if rp_id_hash != Sha256::digest(rp.id.as_bytes()).as_slice() {
        return Err(Refused("wrong RP id"));
    }
    if flags & USER_PRESENT == 0 {
        return Err(Refused("user not present"));
    }
    let sign_count = u32::from_be_bytes([counter[0], counter[1], counter[2], counter[3]]);
    let attested = if flags & ATTESTED != 0 {
        let (credential, after) = attested_credential(rest)?;
        rest = after;
        Some(credential)
    } else {
        None
    };
    if flags & EXTENSIONS != 0 {
        let (extensions, after) = read_cbor(rest)?;
        if !matches!(extensions, Value::Map(_)) {
            return Err(Refused("extensions are not a map"));
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(Refused("trailing bytes after the authenticator data"));
    }
    Ok(AuthenticatorData { user_verified: flags & USER_VERIFIED != 0, sign_count, attested })
}

/// AAGUID (16), credential id length (2, big-endian), credential id, COSE_Key.
fn attested_credential(bytes: &[u8]) -> Result<(AttestedCredential, &[u8]), Refused> {
    let short = Refused("attested credential data too short");
    let after_aaguid = bytes.get(16..).ok_or(short)?;
    let (len, after_len) = after_aaguid.split_at_checked(2).ok_or(short)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if len == 0 || len > MAX_CREDENTIAL_ID {
        return Err(Refused("credential id length"));
    }
    let (credential_id, key_and_rest) = after_len.split_at_checked(len).ok_or(short)?;
    let (key, rest) = read_cbor(key_and_rest)?;
    let cose_key = key_and_rest[..key_and_rest.len() - rest.len()].to_vec();
    let public_key = PublicKey::from_cose(&key)?;
    Ok((AttestedCredential { credential_id: credential_id.to_vec(), cose_key, public_key }, rest))
}
