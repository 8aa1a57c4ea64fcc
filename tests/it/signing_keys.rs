//! The signing keys of all three algs: what the JWKS publishes of them, rotation, keys made
//! on first need, the step that added the alg, and RS256 and ES256 tokens checked by
//! `openssl` (test.sh installs it), which nobody here wrote.
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use keystead::app::App;
use keystead::core::signing::{self, JWKS_MAX_AGE_SECS, MAX_TOKEN_LIFETIME_SECS};
use keystead::types::SigningAlg::{self, EdDsa, Es256, Rs256};
use serde_json::{Value, json};

use crate::binary::{Served, free_port, serve_flags, tmp_db};
use crate::support::TestServer;

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64(token.split('.').next().unwrap())).unwrap()
}

fn jwks(s: &TestServer) -> Vec<Value> {
    let res = s.get("/.well-known/jwks.json", None);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("public, max-age=300"));
    res.body["keys"].as_array().unwrap().clone()
}

fn kids(keys: &[Value]) -> Vec<String> {
    keys.iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// A token of `alg` signed by `app`, with a claim to tell it by.
fn token(app: &App, alg: SigningAlg) -> String {
    signing::sign(app, alg, &json!({ "sub": "u1", "alg_was": alg.as_str() })).unwrap()
}

fn verified(s: &TestServer, token: &str) -> Option<Value> {
    signing::verify(&s.app, token, s.app.clock.now()).unwrap()
}

/// A server whose keys of all three algs exist (a served installation makes them at start).
fn with_every_key() -> (TestServer, Vec<String>) {
    let s = TestServer::spawn();
    let tokens = SigningAlg::ALL.iter().map(|&alg| token(&s.app, alg)).collect();
    (s, tokens)
}

#[test]
fn the_jwks_publishes_one_key_per_alg_with_the_members_of_rfc_7518() {
    let (s, tokens) = with_every_key();
    let keys = jwks(&s);
    assert_eq!(keys.len(), 3, "{keys:?}");
    for (alg, token) in SigningAlg::ALL.iter().zip(&tokens) {
        let key = keys.iter().find(|k| k["alg"] == alg.as_str()).unwrap_or_else(|| panic!("no {alg} key"));
        let mut members: Vec<&str> = key.as_object().unwrap().keys().map(String::as_str).collect();
        members.sort_unstable();
        let (kty, expected): (&str, &[&str]) = match alg {
            EdDsa => ("OKP", &["alg", "crv", "kid", "kty", "use", "x"]),
            Es256 => ("EC", &["alg", "crv", "kid", "kty", "use", "x", "y"]),
            Rs256 => ("RSA", &["alg", "e", "kid", "kty", "n", "use"]),
        };
        assert_eq!(members, expected, "{alg}: the public members only, never a private one");
        assert_eq!((key["kty"].as_str(), key["use"].as_str()), (Some(kty), Some("sig")));
        match alg {
            EdDsa => assert_eq!((key["crv"].as_str(), b64(key["x"].as_str().unwrap()).len()), (Some("Ed25519"), 32)),
            Es256 => {
                assert_eq!(key["crv"], "P-256");
                assert_eq!((b64(key["x"].as_str().unwrap()).len(), b64(key["y"].as_str().unwrap()).len()), (32, 32));
            }
            Rs256 => {
                assert_eq!(key["e"], "AQAB");
                assert_eq!(b64(key["n"].as_str().unwrap()).len(), 256, "RSA-2048");
            }
        }
        let header = header_of(token);
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some(alg.as_str()), Some("JWT")));
        assert_eq!(header["kid"], key["kid"], "{alg}: the header names its key");
        assert_eq!(verified(&s, token).unwrap()["alg_was"], alg.as_str());
    }
}

#[test]
fn a_token_is_checked_with_the_alg_of_the_key_its_kid_names() {
    let (s, tokens) = with_every_key();
    let keys = jwks(&s);
    let kid_of = |alg: SigningAlg| keys.iter().find(|k| k["alg"] == alg.as_str()).unwrap()["kid"].clone();
    let eddsa = &tokens[SigningAlg::ALL.iter().position(|&a| a == EdDsa).unwrap()];
    let (_, rest) = eddsa.split_once('.').unwrap();
    let relabel = |header: Value| format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
    assert!(verified(&s, eddsa).is_some());
    for other in [Es256, Rs256] {
        let as_other = relabel(json!({ "alg": other.as_str(), "typ": "JWT", "kid": kid_of(other) }));
        assert!(verified(&s, &as_other).is_none(), "an EdDSA signature presented as {other}");
        let kid_only = relabel(json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid_of(other) }));
        assert!(verified(&s, &kid_only).is_none(), "the {other} key does not check EdDSA, whatever the header says");
    }
    for header in [
        json!({ "alg": "none", "typ": "JWT", "kid": kid_of(EdDsa) }),
        json!({ "alg": "HS256", "typ": "JWT", "kid": kid_of(Rs256) }),
        json!({ "alg": "EdDSA", "typ": "JWT", "kid": "unknown" }),
        json!({ "alg": "EdDSA", "typ": "JWT" }),
    ] {
        assert!(verified(&s, &relabel(header.clone())).is_none(), "{header}");
    }
    let unsigned = relabel(json!({ "alg": "none", "kid": kid_of(EdDsa) }));
    assert!(verified(&s, &format!("{}.", unsigned.rsplit_once('.').unwrap().0)).is_none(), "alg none, no signature");
    assert!(verified(&s, "garbage").is_none());
}

#[test]
fn rotation_publishes_a_key_per_alg_that_signs_later_and_retires_the_three_it_replaces() {
    let (s, before) = with_every_key();
    let old = kids(&jwks(&s));
    let cli = App::open(s.app.config.clone()).unwrap();
    let at = s.app.clock.now().unix();
    let rotated = signing::rotate(&cli).unwrap();
    assert_eq!(rotated.keys.iter().map(|k| k.alg).collect::<Vec<_>>(), SigningAlg::ALL);
    let new: Vec<String> = rotated.keys.iter().map(|k| k.kid.clone()).collect();
    let published = kids(&jwks(&s));
    assert_eq!(published.len(), 6, "old and new at once");
    assert!(new.iter().chain(&old).all(|k| published.contains(k)));
    for (key, alg) in rotated.keys.iter().zip(SigningAlg::ALL) {
        let old_of_alg = header_of(&before[SigningAlg::ALL.iter().position(|a| a == alg).unwrap()])["kid"].clone();
        assert_eq!(key.retired, vec![old_of_alg.as_str().unwrap().to_owned()], "{alg} replaces its own key");
    }
    let signs_in = rotated.signs_from.unix() - at;
    assert!((JWKS_MAX_AGE_SECS..JWKS_MAX_AGE_SECS + 3).contains(&signs_in), "{signs_in}: a second may pass meanwhile");
    assert_eq!(rotated.retired_at.unix() - rotated.signs_from.unix(), MAX_TOKEN_LIFETIME_SECS + 60);

    let last_of_old: Vec<String> = SigningAlg::ALL.iter().map(|&alg| token(&s.app, alg)).collect();
    for (t, old_token) in last_of_old.iter().zip(&before) {
        assert_eq!(
            header_of(t)["kid"],
            header_of(old_token)["kid"],
            "the old keys sign until cached JWKS hold the new"
        );
    }
    s.app.clock.advance(JWKS_MAX_AGE_SECS);
    for (&alg, kid) in SigningAlg::ALL.iter().zip(&new) {
        assert_eq!(header_of(&token(&s.app, alg))["kid"], kid.as_str(), "{alg} signs with its new key");
    }
    s.app.clock.advance(MAX_TOKEN_LIFETIME_SECS);
    assert!(last_of_old.iter().all(|t| verified(&s, t).is_some()), "published while their last tokens may be live");
    s.app.clock.advance(61);
    let mut left = kids(&jwks(&s));
    left.sort();
    let mut expected = new.clone();
    expected.sort();
    assert_eq!(left, expected, "the three old keys left the JWKS");
    assert!(last_of_old.iter().all(|t| verified(&s, t).is_none()));

    let events: i64 = s
        .db()
        .query_row("SELECT count(*) FROM audit_log WHERE action = 'signing_key.rotated'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 3, "each new key is audited");
}

#[test]
fn a_key_needed_before_it_exists_is_made_once_however_many_ask() {
    let s = TestServer::spawn();
    let algs = |s: &TestServer| -> Vec<String> {
        jwks(s).iter().map(|k| k["alg"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(algs(&s), ["EdDSA"], "an app that does not serve makes the ID-token keys on first need");
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..3).map(|_| scope.spawn(|| token(&s.app, Rs256))).collect();
        asks.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(algs(&s), ["RS256", "EdDSA"]);
    assert!(tokens.iter().all(|t| header_of(t)["kid"] == header_of(&tokens[0])["kid"]));
}

#[test]
fn serve_makes_the_missing_keys_without_the_start_waiting_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let served = Served::start(serve_flags(&tmp_db(&dir), port), port);
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
    let deadline = Instant::now() + Duration::from_secs(20);
    let algs = loop {
        let body: Value =
            agent.get(&format!("http://127.0.0.1:{port}/.well-known/jwks.json")).call().unwrap().into_json().unwrap();
        let mut algs: Vec<String> = body["keys"].as_array().unwrap().iter().map(|k| k["alg"].to_string()).collect();
        algs.sort();
        if algs.len() == 3 || Instant::now() > deadline {
            break algs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(algs, ["\"ES256\"", "\"EdDSA\"", "\"RS256\""]);
    assert!(served.terminate().0.success());
}

#[test]
fn a_database_from_before_the_alg_column_keeps_its_key() {
    let s = TestServer::spawn();
    let kid = kids(&jwks(&s)).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    s.app.db.backup_to(&copy).unwrap();
    std::fs::copy(s.db_path().with_extension("db.key"), copy.with_extension("db.key")).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("ALTER TABLE signing_keys DROP COLUMN alg; DELETE FROM schema_migrations WHERE version = 14;")
        .unwrap();
    drop(conn);

    let mut config = s.app.config.clone();
    config.db_path = copy.clone();
    let app = App::open(config).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let (stored, alg): (String, String) =
        conn.query_row("SELECT kid, alg FROM signing_keys", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((stored.as_str(), alg.as_str()), (kid.as_str(), "EdDSA"), "the key of before is an Ed25519 key");
    let t = token(&app, EdDsa);
    assert_eq!(header_of(&t)["kid"], kid.as_str(), "and it still signs");
    assert!(signing::verify(&app, &t, app.clock.now()).unwrap().is_some());
}

/// DER: a tag, the length (short or long form), the content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of the big-endian unsigned `bytes`: leading zeros dropped, and one put
/// back where the top bit would make it negative.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let content = if trimmed.first().is_none_or(|&b| b >= 0x80) { [&[0][..], &trimmed].concat() } else { trimmed };
    der(0x02, &content)
}

/// The JWK as a PEM SubjectPublicKeyInfo (RFC 5280, with RFC 3279 / RFC 5480 key types).
fn pem_of(jwk: &Value) -> String {
    let member = |name: &str| b64(jwk[name].as_str().unwrap());
    let (algorithm, key) = match jwk["kty"].as_str().unwrap() {
        "RSA" => {
            // rsaEncryption 1.2.840.113549.1.1.1, NULL parameters; RSAPublicKey { n, e }.
            let oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
            (oid.to_vec(), der(0x30, &[der_uint(&member("n")), der_uint(&member("e"))].concat()))
        }
        "EC" => {
            // id-ecPublicKey 1.2.840.10045.2.1 on prime256v1 1.2.840.10045.3.1.7; the uncompressed point.
            let oids = [
                &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01][..],
                &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            ];
            (oids.concat(), [&[0x04][..], &member("x"), &member("y")].concat())
        }
        other => panic!("no PEM for {other}"),
    };
    let spki = der(0x30, &[der(0x30, &algorithm), der(0x03, &[&[0][..], &key].concat())].concat());
    let body = STANDARD.encode(spki);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

/// Whether `openssl dgst -sha256 -verify` accepts the token's signature over its signing
/// input. An ES256 signature is r || s (RFC 7518 §3.4); openssl reads the DER of ECDSA-Sig-Value.
fn openssl_verifies(dir: &Path, jwk: &Value, token: &str) -> bool {
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = b64(signature);
    let signature = match jwk["kty"].as_str().unwrap() {
        "EC" => der(0x30, &[der_uint(&signature[..32]), der_uint(&signature[32..])].concat()),
        _ => signature,
    };
    let (pem, sig, data) = (dir.join("pub.pem"), dir.join("sig.der"), dir.join("data"));
    std::fs::write(&pem, pem_of(jwk)).unwrap();
    std::fs::write(&sig, signature).unwrap();
    std::fs::write(&data, signed).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&pem)
        .arg("-signature")
        .arg(&sig)
        .arg(&data)
        .output()
        .expect("openssl runs (test.sh installs it)");
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(["Verified OK", "Verification failure"].contains(&said.as_str()), "openssl: {said} {out:?}");
    out.status.success() && said == "Verified OK"
}

#[test]
fn openssl_verifies_rs256_and_es256_tokens_against_the_published_jwks() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().unwrap();
    for alg in [Rs256, Es256] {
        let t = token(&s.app, alg);
        let keys = jwks(&s);
        let jwk = keys.iter().find(|k| k["kid"] == header_of(&t)["kid"]).unwrap();
        assert!(openssl_verifies(dir.path(), jwk, &t), "{alg}");
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let (header, _) = signed.split_once('.').unwrap();
        let forged = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(r#"{"sub":"u2"}"#));
        assert!(!openssl_verifies(dir.path(), jwk, &forged), "{alg}: another payload under the same signature");
    }
}
