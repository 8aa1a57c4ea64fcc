//! Credential public keys as COSE_Key (RFC 9052 §7, RFC 9053): the two algorithms
//! Keystead offers, ES256 (ECDSA on P-256 with SHA-256) and EdDSA (Ed25519), verified
//! with ring.
use ciborium::Value;
use ring::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};

use super::Refused;

/// The algorithms offered in `pubKeyCredParams`, in order of preference (COSE ids).
pub const OFFERED: [i64; 2] = [ES256, EDDSA];
const ES256: i64 = -7;
const EDDSA: i64 = -8;

// COSE_Key labels and values.
const KTY: i64 = 1;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// The uncompressed SEC1 point, 0x04 ‖ x ‖ y.
    Es256(Vec<u8>),
    /// The 32-byte Ed25519 key.
    Ed25519(Vec<u8>),
}

impl PublicKey {
    /// Reads a COSE_Key of an offered algorithm, its parameters consistent with it.
    pub fn from_cose(key: &Value) -> Result<Self, Refused> {
        let map = key.as_map().ok_or(Refused("the public key is not a COSE map"))?;
        let int = |label| field(map, label).and_then(|v| v.as_integer()).and_then(|i| i64::try_from(i).ok());
        let bytes = |label| field(map, label).and_then(Value::as_bytes).filter(|b| b.len() == 32);
        match (int(KTY), int(ALG), int(CRV)) {
            (Some(KTY_EC2), Some(ES256), Some(CRV_P256)) => {
                let (x, y) = (bytes(X).ok_or(Refused("x"))?, bytes(Y).ok_or(Refused("y"))?);
                Ok(PublicKey::Es256([&[0x04][..], x, y].concat()))
            }
            (Some(KTY_OKP), Some(EDDSA), Some(CRV_ED25519)) => {
                Ok(PublicKey::Ed25519(bytes(X).ok_or(Refused("x"))?.clone()))
            }
            _ => Err(Refused("an algorithm Keystead did not offer")),
        }
    }

    /// Whether `signature` (DER for ECDSA, as WebAuthn sends it) signs `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Es256(point) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point).verify(message, signature)
            }
            PublicKey::Ed25519(key) => UnparsedPublicKey::new(&ED25519, key).verify(message, signature),
        }
        .is_ok()
    }

    /// The COSE algorithm id (what the passkey list shows).
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Es256(_) => "ES256",
            PublicKey::Ed25519(_) => "EdDSA",
        }
    }
}

fn field(map: &[(Value, Value)], label: i64) -> Option<&Value> {
    map.iter().find(|(k, _)| k.as_integer() == Some(label.into())).map(|(_, v)| v)
}

/// Reads one CBOR item from the front of `bytes`; the item and the bytes after it.
pub fn read_cbor(bytes: &[u8]) -> Result<(Value, &[u8]), Refused> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest).map_err(|_| Refused("malformed CBOR"))?;
    Ok((value, rest))
}
