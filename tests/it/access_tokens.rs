use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keystead::app::App;
use keystead::core::access_tokens::LIFETIME_SECS;
use keystead::core::signing::{self, JWKS_MAX_AGE_SECS};
use keystead::crypto::jwt;
use keystead::types::SigningAlg::EdDsa;
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
    let claims = jwt::verify(&token, EdDsa, &public).expect("the signature checks out");
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
    assert_ne!(jwt::verify(&second, EdDsa, &public).unwrap()["jti"], claims["jti"], "every token has its own jti");
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
    let reopened = App::open(s.app.config.clone()).unwrap();
    let token = signing::sign(&reopened, EdDsa, &json!({ "sub": "x" })).unwrap();
    assert_eq!(header_of(&token)["kid"], kid, "the same key signs after a restart");
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

fn token_of(s: &TestServer, session: &str) -> String {
    let res = s.post("/v1/auth/token", Some(session), json!({}));
    assert_eq!(res.status, 200, "{}", res.text);
    res.str("/access_token")
}

/// The published EdDSA keys (those of access tokens), by kid.
fn published(s: &TestServer) -> Vec<(String, Vec<u8>)> {
    let jwks = s.get("/.well-known/jwks.json", None);
    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    keys.iter()
        .filter(|k| k["alg"] == "EdDSA")
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), URL_SAFE_NO_PAD.decode(k["x"].as_str().unwrap()).unwrap()))
        .collect()
}

/// Whether the token's signature checks out against the key its header names in the JWKS.
fn verifies(s: &TestServer, token: &str) -> bool {
    let kid = header_of(token)["kid"].as_str().unwrap().to_owned();
    published(s).iter().any(|(k, x)| *k == kid && jwt::verify(token, EdDsa, x).is_some())
}

#[test]
fn a_rotated_key_is_published_first_then_signs_and_the_old_one_stays_until_its_tokens_expired() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let before = token_of(&s, &a.token);
    let old = header_of(&before)["kid"].as_str().unwrap().to_owned();

    // `keystead signing-keys rotate` runs in another process: its own App on the same file.
    let cli = App::open(s.app.config.clone()).unwrap();
    let rotated = signing::rotate(&cli).unwrap();
    let rotated = rotated.keys.into_iter().find(|k| k.alg == EdDsa).unwrap();
    assert_eq!(rotated.retired, vec![old.clone()]);
    let kids: Vec<String> = published(&s).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kids, vec![rotated.kid.clone(), old.clone()], "both published at once, newest first");
    let last_of_old = token_of(&s, &a.token);
    assert_eq!(header_of(&last_of_old)["kid"], old.as_str(), "the old key signs until cached JWKS hold the new one");

    s.app.clock.advance(JWKS_MAX_AGE_SECS);
    let after = token_of(&s, &a.token);
    assert_eq!(header_of(&after)["kid"], rotated.kid.as_str(), "the running server signs with the new key");
    assert!(verifies(&s, &after) && verifies(&s, &last_of_old), "both keys are published");

    // The old key's last token expires LIFETIME_SECS after it stopped signing.
    s.app.clock.advance(LIFETIME_SECS);
    assert!(verifies(&s, &last_of_old), "still published while its last token may be live");
    s.app.clock.advance(61);
    assert_eq!(published(&s).into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![rotated.kid.clone()]);
    assert!(verifies(&s, &after));

    let events: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'signing_key.rotated' AND target_id = ?1",
            [&rotated.kid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 1, "the rotation is audited");
}

#[test]
fn the_audience_is_configurable() {
    let s = TestServer::with(|c| c.token_audience = Some("https://api.example.test".into()));
    let a = s.signup("ann@example.test");
    let token = token_of(&s, &a.token);
    let (_, x) = published(&s).remove(0);
    assert_eq!(jwt::verify(&token, EdDsa, &x).unwrap()["aud"], "https://api.example.test");
}

#[test]
fn forward_auth_refuses_a_token_for_another_audience() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let sid = s.get("/v1/sessions", Some(&a.token)).body["items"][0]["id"].as_str().unwrap().to_owned();
    let now = s.app.clock.now();
    let token_for = |aud: &str| {
        let claims = json!({
            "iss": s.app.config.base_url, "aud": aud, "sub": a.user_id, "tid": a.tenant_id, "role": "owner",
            "sid": sid, "jti": "x", "iat": now.unix(), "exp": now.unix() + 60,
        });
        format!("Bearer {}", signing::sign(&s.app, EdDsa, &claims).unwrap())
    };
    let ask = |auth: &str| s.send("GET", "/v1/forward-auth", None, &[("Authorization", auth)], None);
    assert_eq!(ask(&token_for(&s.app.config.base_url)).status, 200, "our own audience passes");
    assert_error(&ask(&token_for("https://other.example.test")), 401, "unauthorized");
}
