//! Signed tokens: compact JWS (RFC 7515) with EdDSA (Ed25519), ES256 (ECDSA P-256, SHA-256)
//! or RS256 (RSA PKCS#1 v1.5, SHA-256), `kid` naming the JWKS key. ring signs and
//! verifies all three; the `rsa` crate only makes RSA keys, which ring cannot.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use rsa::pkcs1::der::Decode as _;
use rsa::pkcs8::EncodePrivateKey as _;
use serde::Serialize;

use crate::error::Error;
use crate::types::SigningAlg;

/// RFC 7518 §3.3 asks for at least 2048 bits; every client library takes 2048, and larger
/// keys only make each signature slower.
const RSA_BITS: usize = 2048;

enum Pair {
    EdDsa(Ed25519KeyPair),
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

/// A signing key pair, its private half only in memory.
pub struct Signer {
    pub kid: String,
    pair: Pair,
}

impl Signer {
    pub fn from_pkcs8(kid: String, alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, Error> {
        let bad = |e: ring::error::KeyRejected| Error::internal(format!("bad {alg} signing key: {e}"));
        let pair = match alg {
            SigningAlg::EdDsa => Pair::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(bad)?),
            SigningAlg::Es256 => Pair::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new()).map_err(bad)?,
            ),
            SigningAlg::Rs256 => Pair::Rs256(RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?),
        };
        Ok(Self { kid, pair })
    }

    /// A new PKCS#8 document for a key pair of `alg`. Ed25519 and P-256 take microseconds;
    /// RSA takes tens to hundreds of milliseconds (it searches for two primes).
    pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        let failed = |_| Error::internal(format!("{alg} keygen failed"));
        match alg {
            SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng).map(|d| d.as_ref().to_vec()).map_err(failed),
            SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map(|d| d.as_ref().to_vec())
                .map_err(failed),
            SigningAlg::Rs256 => {
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(Error::internal)?;
                Ok(key.to_pkcs8_der().map_err(Error::internal)?.as_bytes().to_vec())
            }
        }
    }

    pub fn alg(&self) -> SigningAlg {
        match self.pair {
            Pair::EdDsa(_) => SigningAlg::EdDsa,
            Pair::Es256(_) => SigningAlg::Es256,
            Pair::Rs256(_) => SigningAlg::Rs256,
        }
    }

    /// The public half in the form `verify` takes (see migrations/0014_signing_algs.sql).
    pub fn public_key(&self) -> &[u8] {
        match &self.pair {
            Pair::EdDsa(p) => p.public_key().as_ref(),
            Pair::Es256(p) => p.public_key().as_ref(),
            Pair::Rs256(p) => p.public_key().as_ref(),
        }
    }

    pub fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        let header = serde_json::json!({ "alg": self.alg(), "typ": "JWT", "kid": self.kid });
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(Error::internal)?));
        let rng = SystemRandom::new();
        let failed = |_| Error::internal("signing failed");
        let signature = match &self.pair {
            Pair::EdDsa(p) => p.sign(token.as_bytes()).as_ref().to_vec(),
            Pair::Es256(p) => p.sign(&rng, token.as_bytes()).map_err(failed)?.as_ref().to_vec(),
            Pair::Rs256(p) => {
                let mut signature = vec![0; p.public().modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut signature).map_err(failed)?;
                signature
            }
        };
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }
}

fn decoded_json(part: &str) -> Option<serde_json::Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// The `kid` of a token's header: which published key to try. Unverified, so it only
/// chooses; `verify` decides.
pub fn kid(token: &str) -> Option<String> {
    let header = decoded_json(token.split('.').next()?)?;
    header["kid"].as_str().map(str::to_owned)
}

/// The claims of a token whose signature checks out against `public_key`, a key of `alg`
/// (what a relying service does with the JWKS). The algorithm is the key's, never the
/// header's: a header naming another (`none`, HS256 over the public key) is refused, so no
/// token chooses how it is checked. Expiry is the caller's to check.
pub fn verify(token: &str, alg: SigningAlg, public_key: &[u8]) -> Option<serde_json::Value> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (header, claims) = signed.split_once('.')?;
    if decoded_json(header)?["alg"] != alg.as_str() {
        return None;
    }
    let algorithm: &'static dyn VerificationAlgorithm = match alg {
        SigningAlg::EdDsa => &ED25519,
        SigningAlg::Es256 => &ECDSA_P256_SHA256_FIXED,
        SigningAlg::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
    };
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    UnparsedPublicKey::new(algorithm, public_key).verify(signed.as_bytes(), &signature).ok()?;
    decoded_json(claims)
}

/// The members of a JWK that carry the public key (RFC 7518 §6, RFC 8037 §2), `kty` first.
#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(tag = "kty")]
pub enum JwkKey {
    #[serde(rename = "OKP")]
    Okp { crv: &'static str, x: String },
    #[serde(rename = "EC")]
    Ec { crv: &'static str, x: String, y: String },
    #[serde(rename = "RSA")]
    Rsa { n: String, e: String },
}

/// The JWK members of a stored public key of `alg`; None when it is not one.
pub fn jwk_key(alg: SigningAlg, public_key: &[u8]) -> Option<JwkKey> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    Some(match alg {
        SigningAlg::EdDsa => JwkKey::Okp { crv: "Ed25519", x: b64(public_key) },
        SigningAlg::Es256 => {
            // SEC1 uncompressed: 0x04, then x and y of 32 bytes each (RFC 7518 §6.2.1.2).
            let point = public_key.strip_prefix(&[0x04]).filter(|p| p.len() == 64)?;
            JwkKey::Ec { crv: "P-256", x: b64(&point[..32]), y: b64(&point[32..]) }
        }
        SigningAlg::Rs256 => {
            // Big-endian, without leading zeros, as RFC 7518 §6.3.1 wants n and e.
            let key = rsa::pkcs1::RsaPublicKey::from_der(public_key).ok()?;
            JwkKey::Rsa { n: b64(key.modulus.as_bytes()), e: b64(key.public_exponent.as_bytes()) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn signer(kid: &str, alg: SigningAlg) -> Signer {
        Signer::from_pkcs8(kid.into(), alg, &Signer::generate_pkcs8(alg).unwrap()).unwrap()
    }

    fn header_of(token: &str) -> Value {
        decoded_json(token.split('.').next().unwrap()).unwrap()
    }

    /// `token` with its header replaced by `header`, signature kept.
    fn with_header(token: &str, header: &Value) -> String {
        let (_, rest) = token.split_once('.').unwrap();
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
    }

    #[test]
    fn tokens_of_each_alg_verify_with_their_key_only() {
        for &alg in SigningAlg::ALL {
            let (one, other) = (signer("k1", alg), signer("k2", alg));
            assert_eq!(one.alg(), alg);
            let token = one.sign(&json!({ "sub": "u1", "exp": 10 })).unwrap();
            assert_eq!(token.split('.').count(), 3);
            assert_eq!(header_of(&token), json!({ "alg": alg.as_str(), "typ": "JWT", "kid": "k1" }));
            assert_eq!(kid(&token).as_deref(), Some("k1"));
            let claims = verify(&token, alg, one.public_key());
            assert_eq!(claims, Some(json!({ "sub": "u1", "exp": 10 })), "{alg}");
            assert!(verify(&token, alg, other.public_key()).is_none(), "{alg}: another key of the same alg");

            let (signed, signature) = token.rsplit_once('.').unwrap();
            let (header, _) = signed.split_once('.').unwrap();
            let forged = URL_SAFE_NO_PAD.encode(json!({ "sub": "u2", "exp": 10 }).to_string());
            assert!(verify(&format!("{header}.{forged}.{signature}"), alg, one.public_key()).is_none(), "{alg}");
            let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap();
            flipped[0] ^= 1;
            let flipped = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(flipped));
            assert!(verify(&flipped, alg, one.public_key()).is_none(), "{alg}: a changed signature");
        }
    }

    #[test]
    fn the_key_decides_the_algorithm_not_the_header() {
        let ed = signer("k1", SigningAlg::EdDsa);
        let token = ed.sign(&json!({ "sub": "u1" })).unwrap();
        for &alg in SigningAlg::ALL.iter().filter(|&&a| a != SigningAlg::EdDsa) {
            let relabelled = with_header(&token, &json!({ "alg": alg.as_str(), "typ": "JWT", "kid": "k1" }));
            assert!(verify(&relabelled, SigningAlg::EdDsa, ed.public_key()).is_none(), "header {alg} on an EdDSA key");
            assert!(verify(&token, alg, ed.public_key()).is_none(), "an EdDSA token checked as {alg}");
        }
        let none = with_header(&token, &json!({ "alg": "none", "typ": "JWT", "kid": "k1" }));
        let (unsigned, _) = none.rsplit_once('.').unwrap();
        for forged in [none.clone(), format!("{unsigned}."), unsigned.to_owned()] {
            for &alg in SigningAlg::ALL {
                assert!(verify(&forged, alg, ed.public_key()).is_none(), "alg none as {alg}: {forged}");
            }
        }
        let no_alg = with_header(&token, &json!({ "typ": "JWT", "kid": "k1" }));
        assert!(verify(&no_alg, SigningAlg::EdDsa, ed.public_key()).is_none());
    }

    #[test]
    fn keys_of_one_alg_do_not_load_as_another() {
        for &alg in SigningAlg::ALL {
            let pkcs8 = Signer::generate_pkcs8(alg).unwrap();
            for &other in SigningAlg::ALL.iter().filter(|&&o| o != alg) {
                assert!(Signer::from_pkcs8("k".into(), other, &pkcs8).is_err(), "{alg} key as {other}");
            }
        }
    }

    #[test]
    fn jwk_members_follow_rfc_7518() {
        let ed = signer("k", SigningAlg::EdDsa);
        let Some(JwkKey::Okp { crv: "Ed25519", x }) = jwk_key(SigningAlg::EdDsa, ed.public_key()) else { panic!() };
        assert_eq!(URL_SAFE_NO_PAD.decode(x).unwrap(), ed.public_key());

        let ec = signer("k", SigningAlg::Es256);
        let Some(JwkKey::Ec { crv: "P-256", x, y }) = jwk_key(SigningAlg::Es256, ec.public_key()) else { panic!() };
        let (x, y) = (URL_SAFE_NO_PAD.decode(x).unwrap(), URL_SAFE_NO_PAD.decode(y).unwrap());
        assert_eq!((x.len(), y.len()), (32, 32));
        assert_eq!([&[4u8][..], &x, &y].concat(), ec.public_key());

        let rsa = signer("k", SigningAlg::Rs256);
        let Some(JwkKey::Rsa { n, e }) = jwk_key(SigningAlg::Rs256, rsa.public_key()) else { panic!() };
        assert_eq!(e, "AQAB", "65537");
        let n = URL_SAFE_NO_PAD.decode(n).unwrap();
        assert_eq!(n.len(), 256, "2048 bits, no leading zero byte");
        assert!(n[0] >= 0x80);

        assert_eq!(jwk_key(SigningAlg::Es256, ed.public_key()), None);
        assert_eq!(jwk_key(SigningAlg::Rs256, ed.public_key()), None);
    }
}
