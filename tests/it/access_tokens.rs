use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keystead::crypto::jwt;
use serde_json::{Value, json};

use crate::support::{TestServer, assert_error};

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[test]
fn an_access_token_verifies_against_the_published_jwks() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = s.post("/v1/auth/token", Some(&a.token), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/token_type"), "Bearer");
    assert_eq!(res.body["expires_in"], 300);
    let token = res.str("/access_token");

    let jwks = s.get("/.well-known/jwks.json", None);
    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key["kid"]);

    let public = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
    let claims = jwt::verify(&token, &public).expect("the signature checks out");
    assert_eq!(claims["iss"], s.app.config.base_url.as_str());
    assert_eq!(claims["aud"], s.app.config.base_url.as_str(), "the audience is the base URL by default");
    assert_eq!(claims["sub"], a.user_id.as_str());
    assert_eq!(claims["tid"], a.tenant_id.as_str());
    assert_eq!(claims["role"], "owner");
    let me = s.get("/v1/sessions", Some(&a.token));
    assert_eq!(claims["sid"], me.body["items"][0]["id"]);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);

    let second = s.post("/v1/auth/token", Some(&a.token), json!({})).str("/access_token");
    assert_ne!(jwt::verify(&second, &public).unwrap()["jti"], claims["jti"], "every token has its own jti");
}

#[test]
fn tokens_need_a_live_portal_session() {
    let s = TestServer::spawn();
    assert_error(&s.post("/v1/auth/token", None, json!({})), 401, "unauthorized");
    assert_error(&s.post("/v1/auth/token", Some("garbage"), json!({})), 401, "unauthorized");
    let admin = s.admin("op@example.test");
    assert_error(&s.post("/v1/auth/token", Some(&admin), json!({})), 401, "unauthorized");
    let a = s.signup("ann@example.test");
    assert_eq!(s.post("/v1/auth/logout", Some(&a.token), json!({})).status, 204);
    assert_error(&s.post("/v1/auth/token", Some(&a.token), json!({})), 401, "unauthorized");
}

#[test]
fn the_signing_key_survives_a_restart_and_is_stored_sealed() {
    let s = TestServer::spawn();
    let kid = s.get("/.well-known/jwks.json", None).body["keys"][0]["kid"].clone();
    let reopened = keystead::app::App::open(s.app.config.clone()).unwrap();
    assert_eq!(reopened.signer.kid, kid.as_str().unwrap(), "the same key signs after a restart");
    let (private, public): (Vec<u8>, Vec<u8>) = s
        .db()
        .query_row("SELECT private_key, public_key FROM signing_keys", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(public.len(), 32);
    // A PKCS#8 Ed25519 document starts with this DER header; the sealed value must not.
    let pkcs8_header = [0x30u8, 0x53, 0x02, 0x01, 0x01];
    assert!(!private.starts_with(&pkcs8_header));
    assert!(private.len() > 12 + 16, "nonce, ciphertext and tag");
}
