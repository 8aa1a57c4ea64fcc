//! A software passkey for the HTTP tests: an ES256 (P-256) or EdDSA (Ed25519) key made
//! with ring, answering the server's options as a browser with a platform authenticator
//! does, in the JSON form, so that a test can also break what a real one never would
//! (origin, RP id, challenge, counter, signature). The real one is the browser test's
//! WebDriver virtual authenticator.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

enum Key {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

pub struct SoftPasskey {
    key: Key,
    pub credential_id: Vec<u8>,
    /// The signature counter the next answer carries (after it grows by one).
    pub counter: u32,
    /// Where the "browser" says the page was: the server's origin unless a test lies.
    pub origin: String,
    pub rp_id: String,
    /// What the registration's options named the user by, sent back with each sign-in.
    pub user_handle: Option<String>,
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url from the server")
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("CBOR");
    out
}

fn int(n: i64) -> Cbor {
    Cbor::Integer(n.into())
}

impl SoftPasskey {
    /// A P-256 key for the server at `base` (its host is the RP id).
    pub fn es256(base: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).expect("P-256 key");
        Self::of(Key::Es256(key), base)
    }

    pub fn ed25519(base: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("Ed25519 key");
        Self::of(Key::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key")), base)
    }

    fn of(key: Key, base: &str) -> Self {
        let url = url::Url::parse(base).expect("base URL");
        let credential_id = ring::rand::generate::<[u8; 16]>(&SystemRandom::new()).expect("random").expose().to_vec();
        Self {
            key,
            credential_id,
            counter: 0,
            origin: url.origin().ascii_serialization(),
            rp_id: url.host_str().expect("host").to_owned(),
            user_handle: None,
        }
    }

    /// The public key as a COSE_Key (RFC 9053).
    fn cose_key(&self) -> Vec<u8> {
        let map = match &self.key {
            Key::Es256(k) => {
                let point = k.public_key().as_ref();
                vec![
                    (int(1), int(2)),
                    (int(3), int(-7)),
                    (int(-1), int(1)),
                    (int(-2), Cbor::Bytes(point[1..33].to_vec())),
                    (int(-3), Cbor::Bytes(point[33..].to_vec())),
                ]
            }
            Key::EdDsa(k) => vec![
                (int(1), int(1)),
                (int(3), int(-8)),
                (int(-1), int(6)),
                (int(-2), Cbor::Bytes(k.public_key().as_ref().to_vec())),
            ],
        };
        cbor(&Cbor::Map(map))
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// rpIdHash, flags (user present and verified, `extra`) and the counter, grown by one.
    fn authenticator_data(&mut self, extra_flags: u8) -> Vec<u8> {
        self.counter += 1;
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(0x01 | 0x04 | extra_flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    /// The answer to `navigator.credentials.create()` with these options (`{publicKey}`),
    /// attestation "none".
    pub fn register(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().expect("a challenge");
        self.user_handle = options["publicKey"]["user"]["id"].as_str().map(str::to_owned);
        let mut auth_data = self.authenticator_data(0x40);
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&u16::try_from(self.credential_id.len()).expect("short id").to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(Vec::new())),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
        ]);
        json!({
            "type": "public-key", "id": b64(&self.credential_id), "rawId": b64(&self.credential_id),
            "response": {
                "clientDataJSON": b64(&self.client_data("webauthn.create", challenge)),
                "attestationObject": b64(&cbor(&attestation)),
            },
        })
    }

    /// The answer to `navigator.credentials.get()` with these options, signed.
    pub fn sign_in(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().expect("a challenge");
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.authenticator_data(0);
        let signed = [&auth_data[..], &Sha256::digest(&client_data)].concat();
        let signature = match &self.key {
            Key::Es256(k) => k.sign(&SystemRandom::new(), &signed).expect("signs").as_ref().to_vec(),
            Key::EdDsa(k) => k.sign(&signed).as_ref().to_vec(),
        };
        json!({
            "type": "public-key", "id": b64(&self.credential_id), "rawId": b64(&self.credential_id),
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(&signature),
                "userHandle": self.user_handle,
            },
        })
    }
}

/// The same answer with one bit of its signature flipped.
pub fn with_bad_signature(mut answer: Value) -> Value {
    let mut signature = unb64(answer["response"]["signature"].as_str().expect("a signature"));
    let last = signature.len() - 1;
    signature[last] ^= 1;
    answer["response"]["signature"] = json!(b64(&signature));
    answer
}

impl super::TestServer {
    /// Registers `key` as a passkey named `name` through `{prefix}/passkeys` (`/v1/me/mfa`
    /// or `/v1/admin/me/mfa`); the 201 answer.
    pub fn register_passkey(&self, prefix: &str, token: &str, key: &mut SoftPasskey, name: &str) -> super::Res {
        let (ceremony, options) = self.passkey_ceremony(prefix, token);
        let answer = key.register(&options);
        let res = self.post(
            &format!("{prefix}/passkeys"),
            Some(token),
            json!({ "ceremony_id": ceremony, "name": name, "credential": answer }),
        );
        assert_eq!(res.status, 201, "register a passkey: {}", res.text);
        res
    }

    /// Starts a registration with the password: the ceremony id and the creation options.
    pub fn passkey_ceremony(&self, prefix: &str, token: &str) -> (String, Value) {
        let res = self.post(&format!("{prefix}/passkeys"), Some(token), json!({ "password": super::PASSWORD }));
        assert_eq!(res.status, 200, "start a passkey registration: {}", res.text);
        (res.str("/ceremony_id"), res.body["options"].clone())
    }
}
