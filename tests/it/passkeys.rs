//! Passkeys as a second factor (API.md "Second factor"): registration in two calls, the
//! list, removal, and the second step of a sign-in with an assertion, in both realms.
//! The authenticator is `support::passkey`'s software key (the browser test uses
//! WebDriver's virtual one); every refusal the WebAuthn rules name is tried here.
use serde_json::{Value, json};

use crate::support::passkey::{SoftPasskey, b64, with_bad_signature};
use crate::support::{PASSWORD, Res, TestServer, assert_error};

const ME: &str = "/v1/me/mfa";
const ADMIN_ME: &str = "/v1/admin/me/mfa";

fn passkeys(prefix: &str) -> String {
    format!("{prefix}/passkeys")
}

fn finish(s: &TestServer, token: &str, ceremony: &str, name: &str, credential: &Value) -> Res {
    s.post(&passkeys(ME), Some(token), json!({ "ceremony_id": ceremony, "name": name, "credential": credential }))
}

/// The `mfa_required` answer of a password login: its token and the passkey options.
fn password_step(s: &TestServer, email: &str) -> (String, Value) {
    let res = s.login(email, PASSWORD);
    let token = TestServer::mfa_token(&res);
    (token, res.body["error"]["passkey_options"].clone())
}

fn second_step(s: &TestServer, path: &str, token: &str, credential: &Value) -> Res {
    s.post(path, None, json!({ "mfa_token": token, "credential": credential }))
}

#[test]
fn a_passkey_is_registered_listed_and_signs_in() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_error(
        &s.post(&passkeys(ME), Some(&a.token), json!({ "password": "wrong password!" })),
        401,
        "invalid_credentials",
    );

    let res = s.post(&passkeys(ME), Some(&a.token), json!({ "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    let options = &res.body["options"]["publicKey"];
    let host = url::Url::parse(&s.base).unwrap().host_str().unwrap().to_owned();
    assert_eq!(options["rp"]["id"], json!(host));
    assert_eq!(options["user"]["name"], json!("ann@example.test"));
    let handle = options["user"]["id"].as_str().unwrap();
    assert!(!handle.is_empty() && !handle.contains("ann"), "an opaque user handle: {handle}");
    assert_eq!(options["challenge"].as_str().unwrap().len(), 43, "32 random bytes");
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{ "type": "public-key", "alg": -7 }, { "type": "public-key", "alg": -8 }])
    );
    assert_eq!(options["authenticatorSelection"]["userVerification"], json!("preferred"));
    assert_eq!(options["attestation"], json!("none"));
    assert_eq!(options["excludeCredentials"], json!([]));
    let expires = res.body["expires_at"].as_str().unwrap();
    assert!(expires > s.app.clock.now().plus_secs(299).rfc3339().as_str(), "five minutes: {expires}");

    let mut laptop = SoftPasskey::es256(&s.base);
    let answer = laptop.register(&res.body["options"]);
    let res = finish(&s, &a.token, &res.str("/ceremony_id"), " Work laptop ", &answer);
    assert_eq!(res.status, 201, "{}", res.text);
    let passkey = res.body["passkey"].clone();
    assert_eq!(passkey["name"], json!("Work laptop"));
    assert_eq!(passkey["last_used_at"], Value::Null);
    assert_eq!(res.body["recovery_codes"].as_array().unwrap().len(), 10, "the first factor brings the codes");

    let status = s.get(ME, Some(&a.token));
    assert_eq!(status.body["totp"], json!(false));
    assert_eq!(status.body["passkeys"], json!([passkey]));
    assert_eq!(status.body["recovery_codes_left"], json!(10));
    assert_eq!(s.get(&passkeys(ME), Some(&a.token)).body, json!({ "passkeys": [passkey] }));

    // A second passkey: the first is excluded, and the codes stand.
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    assert_eq!(
        options["publicKey"]["excludeCredentials"],
        json!([{ "type": "public-key", "id": b64(&laptop.credential_id) }])
    );
    let mut key = SoftPasskey::ed25519(&s.base);
    let res = finish(&s, &a.token, &ceremony, "Security key", &key.register(&options));
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(res.body.get("recovery_codes").is_none(), "{}", res.text);

    let (token, options) = password_step(&s, "ann@example.test");
    let login = s.login("ann@example.test", PASSWORD);
    assert_eq!(login.body["error"]["methods"], json!(["recovery_code", "passkey"]));
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [b64(&laptop.credential_id), b64(&key.credential_id)]);
    assert_eq!(options["publicKey"]["rpId"], json!(host));

    let res = second_step(&s, "/v1/auth/mfa", &token, &laptop.sign_in(&options));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(s.get("/v1/me", Some(&res.str("/session_token"))).status, 200);
    let listed = s.get(&passkeys(ME), Some(&a.token)).body["passkeys"][0].clone();
    assert!(listed["last_used_at"].is_string(), "{listed}");
    let stored: i64 =
        s.db().query_row("SELECT sign_count FROM passkeys WHERE name = 'Work laptop'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 2, "the counter of the last use");

    // The Ed25519 key signs in too; a spent token takes no second answer.
    let (token, options) = password_step(&s, "ann@example.test");
    assert_eq!(second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&options)).status, 200);
    assert_error(&second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&options)), 401, "unauthorized");

    let audit = s.audit_text();
    for action in ["mfa.passkey_registration_started", "mfa.passkey_added", "auth.mfa_passed"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
    assert!(audit.contains("\"method\":\"passkey\""), "{audit}");
    for secret in [b64(&laptop.credential_id), ceremony, token] {
        assert!(!audit.contains(&secret), "nothing of the ceremony in the audit log: {secret}");
    }
}

#[test]
fn a_registration_answer_that_does_not_verify_is_refused_and_spends_its_ceremony() {
    let s = TestServer::spawn();
    let a = s.signup("bea@example.test");
    let b = s.signup("bob@example.test");

    let refused = |ceremony: &str, answer: &Value| {
        assert_error(&finish(&s, &a.token, ceremony, "Key", answer), 400, "invalid_credential")
    };

    // Another origin, another RP id, another ceremony's challenge: each refused, and the
    // refusal spends the ceremony (a right answer to it comes too late).
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    let mut phishing = SoftPasskey::es256(&s.base);
    phishing.origin = "http://evil.example".into();
    refused(&ceremony, &phishing.register(&options));
    refused(&ceremony, &SoftPasskey::es256(&s.base).register(&options));

    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    let mut other_rp = SoftPasskey::es256(&s.base);
    other_rp.rp_id = "evil.example".into();
    refused(&ceremony, &other_rp.register(&options));

    let (first, _) = s.passkey_ceremony(ME, &a.token);
    let (_, second_options) = s.passkey_ceremony(ME, &a.token);
    refused(&first, &SoftPasskey::es256(&s.base).register(&second_options));

    // Someone else's ceremony, an unknown one, one that is not an id, one that expired.
    let (bobs, options) = s.passkey_ceremony(ME, &b.token);
    refused(&bobs, &SoftPasskey::es256(&s.base).register(&options));
    refused("0b8a5c37-2a5e-4a59-9b0c-8cb4b25d9f2e", &SoftPasskey::es256(&s.base).register(&options));
    refused("not-a-ceremony", &SoftPasskey::es256(&s.base).register(&options));
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    s.app.clock.advance(301);
    refused(&ceremony, &SoftPasskey::es256(&s.base).register(&options));

    // A used ceremony, and a credential registered already.
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    let mut key = SoftPasskey::es256(&s.base);
    let answer = key.register(&options);
    assert_eq!(finish(&s, &a.token, &ceremony, "Key", &answer).status, 201);
    refused(&ceremony, &answer);
    let (again, options) = s.passkey_ceremony(ME, &a.token);
    refused(&again, &key.register(&options));
    let (bobs, options) = s.passkey_ceremony(ME, &b.token);
    assert_error(
        &s.post(
            &passkeys(ME),
            Some(&b.token),
            json!({ "ceremony_id": bobs, "name": "Mine", "credential": key.register(&options) }),
        ),
        400,
        "invalid_credential",
    );
    assert_eq!(s.get(&passkeys(ME), Some(&a.token)).body["passkeys"].as_array().unwrap().len(), 1);
    assert_eq!(s.get(&passkeys(ME), Some(&b.token)).body["passkeys"], json!([]), "bob has none");
}

#[test]
fn the_registration_routes_name_what_is_missing() {
    let s = TestServer::spawn();
    let a = s.signup("cid@example.test");
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    let answer = SoftPasskey::es256(&s.base).register(&options);
    let post = |body: Value| s.post(&passkeys(ME), Some(&a.token), body);

    let res = post(json!({}));
    assert_error(&res, 400, "invalid_request");
    assert!(res.body["error"]["fields"]["password"].is_string(), "{}", res.text);
    let res = post(json!({ "ceremony_id": ceremony, "credential": answer }));
    assert_error(&res, 400, "invalid_request");
    assert!(res.body["error"]["fields"]["name"].is_string(), "{}", res.text);
    for name in ["", "   ", &"x".repeat(65), "tab\there"] {
        let res = post(json!({ "ceremony_id": ceremony, "name": name, "credential": answer }));
        assert_error(&res, 400, "invalid_request");
        assert!(res.body["error"]["fields"]["name"].is_string(), "{name:?}: {}", res.text);
    }
    let res = post(json!({ "ceremony_id": ceremony, "name": "Key" }));
    assert!(res.body["error"]["fields"]["credential"].is_string(), "{}", res.text);
    let res = post(json!({ "ceremony_id": ceremony, "name": "Key", "credential": "a string" }));
    assert!(res.body["error"]["fields"]["credential"].is_string(), "{}", res.text);
    assert_error(&post(json!({ "password": PASSWORD, "ceremony_id": ceremony })), 400, "invalid_request");
    assert_error(&post(json!({ "ceremony_id": 7, "name": "Key", "credential": answer })), 400, "invalid_request");
    // None of these spent the ceremony: the answer still registers.
    assert_eq!(post(json!({ "ceremony_id": ceremony, "name": "x".repeat(64), "credential": answer })).status, 201);

    // A garbled answer is refused, never a 500.
    let (ceremony, _) = s.passkey_ceremony(ME, &a.token);
    let garbled = json!({ "type": "public-key", "id": "AA", "rawId": "AA", "response": { "clientDataJSON": "!!", "attestationObject": 5 } });
    assert_error(
        &post(json!({ "ceremony_id": ceremony, "name": "Key", "credential": garbled })),
        400,
        "invalid_credential",
    );

    for (method, path) in [("GET", passkeys(ME)), ("POST", passkeys(ME)), ("DELETE", format!("{}/x", passkeys(ME)))] {
        assert_error(&s.json(method, &path, None, json!({})), 401, "unauthorized");
    }
}

#[test]
fn an_assertion_that_does_not_verify_counts_as_a_wrong_code() {
    let s = TestServer::spawn();
    let a = s.signup("dee@example.test");
    let b = s.signup("dan@example.test");
    let mut key = SoftPasskey::es256(&s.base);
    s.register_passkey(ME, &a.token, &mut key, "Phone");
    let mut bobs = SoftPasskey::es256(&s.base);
    s.register_passkey(ME, &b.token, &mut bobs, "Bob's phone");

    let (token, options) = password_step(&s, "dee@example.test");
    let wrong =
        |credential: &Value| assert_error(&second_step(&s, "/v1/auth/mfa", &token, credential), 400, "invalid_code");
    wrong(&with_bad_signature(key.sign_in(&options)));
    let origin = std::mem::replace(&mut key.origin, "http://evil.example".into());
    wrong(&key.sign_in(&options));
    key.origin = origin;
    // Bob's passkey is not Dee's, even with a valid signature of Dee's challenge.
    wrong(&bobs.sign_in(&options));
    // A counter that does not grow: a cloned authenticator.
    key.counter = 0;
    wrong(&key.sign_in(&options));
    key.counter = 10;
    // Neither a code nor a credential, or both: the request is wrong, not the factor.
    assert_error(&s.post("/v1/auth/mfa", None, json!({ "mfa_token": token })), 400, "invalid_request");
    assert_error(
        &s.post(
            "/v1/auth/mfa",
            None,
            json!({ "mfa_token": token, "code": "123456", "credential": key.sign_in(&options) }),
        ),
        400,
        "invalid_request",
    );
    // The fifth wrong answer ends the token.
    let res = second_step(&s, "/v1/auth/mfa", &token, &json!({ "type": "public-key" }));
    assert_error(&res, 429, "rate_limited");
    assert_error(&second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&options)), 401, "unauthorized");
    assert!(s.audit_text().contains("auth.mfa_throttled"));

    // A new token, a new challenge: an answer to the old one is refused, a fresh one passes.
    let (token, fresh) = password_step(&s, "dee@example.test");
    assert_ne!(fresh["publicKey"]["challenge"], options["publicKey"]["challenge"]);
    let stale = key.sign_in(&options);
    assert_error(&second_step(&s, "/v1/auth/mfa", &token, &stale), 400, "invalid_code");
    assert_eq!(second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&fresh)).status, 200);
    // A passkey answer on an account without passkeys is a wrong code too.
    let c = s.signup("cal@example.test");
    let mut app = s.enrol_totp(ME, &c.token);
    app.recovery_codes.clear();
    let (token, none) = password_step(&s, "cal@example.test");
    assert_eq!(none, Value::Null, "no passkey, no options");
    assert_error(&second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&fresh)), 400, "invalid_code");
}

#[test]
fn removing_a_passkey_needs_the_password_and_keeps_a_required_last_factor() {
    let s = TestServer::spawn();
    let a = s.signup("eve@example.test");
    let b = s.signup("eli@example.test");
    let mut key = SoftPasskey::es256(&s.base);
    let id = s.register_passkey(ME, &a.token, &mut key, "Phone").str("/passkey/id");
    let mut bobs = SoftPasskey::es256(&s.base);
    let bobs_id = s.register_passkey(ME, &b.token, &mut bobs, "Phone").str("/passkey/id");
    let remove = |token: &str, id: &str, password: &str| {
        s.json("DELETE", &format!("{}/{id}", passkeys(ME)), Some(token), json!({ "password": password }))
    };

    let res = s.json("DELETE", &format!("{}/{id}", passkeys(ME)), Some(&a.token), json!({}));
    assert_error(&res, 400, "invalid_request");
    assert_error(&remove(&a.token, &id, "wrong password!"), 401, "invalid_credentials");
    assert_error(&remove(&a.token, "0b8a5c37-2a5e-4a59-9b0c-8cb4b25d9f2e", PASSWORD), 404, "not_found");
    assert_error(&remove(&a.token, "not-an-id", PASSWORD), 404, "not_found");
    assert_error(&remove(&a.token, &bobs_id, PASSWORD), 404, "not_found");
    assert_eq!(s.get(&passkeys(ME), Some(&b.token)).body["passkeys"].as_array().unwrap().len(), 1, "bob's stays");

    // The owner's policy needs a factor: the last one stays, until there is another.
    assert_eq!(s.patch("/v1/tenant", Some(&a.token), json!({ "require_mfa": true })).status, 200);
    assert_error(&remove(&a.token, &id, PASSWORD), 403, "mfa_enrolment_required");
    let app = s.enrol_totp(ME, &a.token);
    assert!(app.recovery_codes.is_empty(), "the codes of the passkey stand");
    assert_eq!(remove(&a.token, &id, PASSWORD).status, 204);
    let status = s.get(ME, Some(&a.token)).body;
    assert_eq!((status["passkeys"].clone(), status["recovery_codes_left"].clone()), (json!([]), json!(10)));
    assert!(s.audit_text().contains("mfa.passkey_removed"));

    // Without a policy, the last factor goes, and its recovery codes with it.
    let mut key = SoftPasskey::es256(&s.base);
    let id = s.register_passkey(ME, &b.token, &mut key, "Laptop").str("/passkey/id");
    assert_eq!(remove(&b.token, &bobs_id, PASSWORD).status, 204);
    assert_eq!(s.get(ME, Some(&b.token)).body["recovery_codes_left"], json!(10), "one passkey is left");
    assert_eq!(remove(&b.token, &id, PASSWORD).status, 204);
    assert_eq!(s.get(ME, Some(&b.token)).body["recovery_codes_left"], json!(0));
    assert_eq!(s.login("eli@example.test", PASSWORD).status, 200, "no factor: the password alone");
    let mails = s.outbox_to("eli@example.test", "notice_factor_changed");
    assert!(mails.iter().any(|m| m.holds("A passkey was removed")), "a notice of the change");
}

#[test]
fn a_totp_authenticator_goes_under_a_policy_when_a_passkey_remains() {
    let s = TestServer::spawn();
    let a = s.signup("fay@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let mut key = SoftPasskey::es256(&s.base);
    let res = s.register_passkey(ME, &a.token, &mut key, "Phone");
    assert!(res.body.get("recovery_codes").is_none(), "the authenticator's codes stand");
    assert_eq!(s.patch("/v1/tenant", Some(&a.token), json!({ "require_mfa": true })).status, 200);
    let res =
        s.post(&format!("{ME}/totp/disable"), Some(&a.token), json!({ "password": PASSWORD, "code": app.code(&s) }));
    assert_eq!(res.status, 204, "{}", res.text);
    let status = s.get(ME, Some(&a.token)).body;
    assert_eq!((status["totp"].clone(), status["recovery_codes_left"].clone()), (json!(false), json!(10)));
    assert_eq!(s.login("fay@example.test", PASSWORD).body["error"]["methods"], json!(["recovery_code", "passkey"]));
}

#[test]
fn operators_keep_passkeys_of_their_own_realm() {
    let s = TestServer::spawn();
    let operator = s.admin("ops@example.test");
    let mut key = SoftPasskey::es256(&s.base);
    let res = s.register_passkey(ADMIN_ME, &operator, &mut key, "Ops key");
    assert_eq!(res.body["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(s.get(ADMIN_ME, Some(&operator)).body["passkeys"][0]["name"], json!("Ops key"));
    assert_eq!(s.get(&passkeys(ADMIN_ME), Some(&operator)).body["passkeys"].as_array().unwrap().len(), 1);

    // A portal session does not reach an operator's ceremony, nor the other way round.
    let a = s.signup("gus@example.test");
    let (ceremony, options) = s.passkey_ceremony(ADMIN_ME, &operator);
    assert_error(
        &finish(&s, &a.token, &ceremony, "Key", &SoftPasskey::es256(&s.base).register(&options)),
        400,
        "invalid_credential",
    );
    assert_error(&s.get(&passkeys(ADMIN_ME), Some(&a.token)), 401, "unauthorized");

    let res = s.post("/v1/admin/auth/login", None, json!({ "email": "ops@example.test", "password": PASSWORD }));
    let token = TestServer::mfa_token(&res);
    let options = res.body["error"]["passkey_options"].clone();
    // The operator's token is not a portal one.
    assert_error(&second_step(&s, "/v1/auth/mfa", &token, &key.sign_in(&options)), 401, "unauthorized");
    let res = second_step(&s, "/v1/admin/auth/mfa", &token, &key.sign_in(&options));
    assert_eq!(res.status, 200, "{}", res.text);
    let session = res.str("/session_token");
    let id = s.get(&passkeys(ADMIN_ME), Some(&session)).str("/passkeys/0/id");
    let res =
        s.json("DELETE", &format!("{}/{id}", passkeys(ADMIN_ME)), Some(&session), json!({ "password": PASSWORD }));
    assert_eq!(res.status, 204, "optional operator factors in the tests: the last one goes");
}

#[test]
fn an_operator_reset_removes_the_passkeys_and_their_ceremonies() {
    let s = TestServer::spawn();
    let a = s.signup("hal@example.test");
    let mut key = SoftPasskey::es256(&s.base);
    s.register_passkey(ME, &a.token, &mut key, "Phone");
    let (ceremony, options) = s.passkey_ceremony(ME, &a.token);
    let operator = s.admin("ops@example.test");
    let res =
        s.post(&format!("/v1/admin/users/{}/reset-mfa", a.user_id), Some(&operator), json!({ "reason": "lost phone" }));
    assert_eq!(res.status, 200, "{}", res.text);
    let count: i64 = s.db().query_row("SELECT count(*) FROM passkeys", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 0);
    let login = s.login("hal@example.test", PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.str("/session_token");
    assert_error(
        &finish(&s, &token, &ceremony, "Key", &SoftPasskey::es256(&s.base).register(&options)),
        400,
        "invalid_credential",
    );
    assert!(s.audit_text().contains("\"passkeys_removed\":1"));
}
