//! Access tokens: compact JWS with EdDSA (Ed25519), `kid` naming the JWKS key.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::Serialize;

use crate::error::Error;

/// A signing key pair, its private half only in memory.
pub struct Signer {
    pub kid: String,
    pair: Ed25519KeyPair,
}

impl Signer {
    pub fn from_pkcs8(kid: String, pkcs8: &[u8]) -> Result<Self, Error> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| Error::internal(format!("bad signing key: {e}")))?;
        Ok(Self { kid, pair })
    }

    /// A new PKCS#8 document for an Ed25519 key pair.
    pub fn generate_pkcs8() -> Result<Vec<u8>, Error> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng).map(|d| d.as_ref().to_vec()).map_err(|_| Error::internal("keygen failed"))
    }

    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    pub fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(Error::internal)?));
        let signature = self.pair.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(token)
    }
}

/// The claims of a token whose signature checks out against `public_key` (what a
/// relying service does with the JWKS). Expiry is the caller's to check.
pub fn verify(token: &str, public_key: &[u8]) -> Option<serde_json::Value> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (header, claims) = signed.split_once('.')?;
    let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "EdDSA" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    UnparsedPublicKey::new(&ED25519, public_key).verify(signed.as_bytes(), &signature).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_only() -> Result<(), Error> {
        let signer = Signer::from_pkcs8("k1".into(), &Signer::generate_pkcs8()?)?;
        let other = Signer::from_pkcs8("k2".into(), &Signer::generate_pkcs8()?)?;
        let token = signer.sign(&serde_json::json!({ "sub": "u1", "exp": 10 }))?;
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(&token, signer.public_key()).map(|c| c["sub"].clone()), Some("u1".into()));
        assert!(verify(&token, other.public_key()).is_none());
        let (signed, _) = token.rsplit_once('.').ok_or_else(|| Error::internal("no dot"))?;
        let tampered = format!("{}.{}", signed.replacen('e', "f", 1), token.rsplit('.').next().unwrap_or_default());
        assert!(verify(&tampered, signer.public_key()).is_none());
        Ok(())
    }
}
