//! The second factor of portal accounts: TOTP enrolment, recovery codes and the two-step
//! login (API.md "Second factor"). Codes come from `totp-rs`, not the server's code.
use serde_json::{Value, json};

use crate::support::mfa::Authenticator;
use crate::support::{PASSWORD, TestServer, assert_error};

const ME: &str = "/v1/me/mfa";

fn second_step(s: &TestServer, token: &str, code: &str) -> crate::support::Res {
    s.post("/v1/auth/mfa", None, json!({ "mfa_token": token, "code": code }))
}

fn login_token(s: &TestServer, email: &str) -> String {
    TestServer::mfa_token(&s.login(email, PASSWORD))
}

#[test]
fn enrolment_shows_the_secret_once_and_confirms_with_a_code() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = s.get(ME, Some(&a.token));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({ "totp": false, "passkeys": [], "recovery_codes_left": 0, "required": false }));

    assert_error(
        &s.post(&format!("{ME}/totp"), Some(&a.token), json!({ "password": "wrong password!" })),
        401,
        "invalid_credentials",
    );
    assert_error(
        &s.post(&format!("{ME}/totp/confirm"), Some(&a.token), json!({ "code": "123456" })),
        409,
        "not_pending",
    );

    let res = s.post(&format!("{ME}/totp"), Some(&a.token), json!({ "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    let secret = res.str("/secret");
    assert_eq!(secret.len(), 32, "160 bits of base32");
    let uri = res.str("/otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/Keystead:ann%40example%2Etest?secret=") && uri.contains(&secret), "{uri}");
    let svg = res.str("/qr_svg");
    assert!(svg.contains("<svg") && !svg.contains("<script"), "an SVG, drawn without script");
    assert_eq!(s.get(ME, Some(&a.token)).body["totp"], json!(false), "pending is not active");

    let app = Authenticator::new(&secret);
    assert_error(
        &s.post(&format!("{ME}/totp/confirm"), Some(&a.token), json!({ "code": "000000" })),
        400,
        "invalid_code",
    );
    assert_error(
        &s.post(&format!("{ME}/totp/confirm"), Some(&a.token), json!({ "code": "not a code" })),
        400,
        "invalid_code",
    );
    let res = s.post(&format!("{ME}/totp/confirm"), Some(&a.token), json!({ "code": app.code(&s) }));
    assert_eq!(res.status, 200, "{}", res.text);
    let codes: Vec<&str> = res.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(codes.len(), 10);
    let mut distinct = codes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);

    assert_eq!(
        s.get(ME, Some(&a.token)).body,
        json!({ "totp": true, "passkeys": [], "recovery_codes_left": 10, "required": false })
    );
    assert_error(
        &s.post(&format!("{ME}/totp"), Some(&a.token), json!({ "password": PASSWORD })),
        409,
        "already_enrolled",
    );
    assert_error(
        &s.post(&format!("{ME}/totp/confirm"), Some(&a.token), json!({ "code": app.code(&s) })),
        409,
        "not_pending",
    );

    // Stored sealed, and never again in a response or an audit row.
    let stored: Vec<u8> = s.db().query_row("SELECT secret FROM totp_factors", [], |r| r.get(0)).unwrap();
    let raw = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
    assert!(
        !stored.windows(raw.len()).any(|w| w == raw.as_slice())
            && !stored.windows(8).any(|w| w == &secret.as_bytes()[..8])
    );
    let audit = s.audit_text();
    assert!(audit.contains("mfa.totp_enabled"), "{audit}");
    assert!(!audit.contains(&secret) && codes.iter().all(|c| !audit.contains(c)), "{audit}");
    assert!(!s.get(ME, Some(&a.token)).text.contains(&secret));
}

#[test]
fn every_mfa_route_needs_a_session_and_its_fields() {
    let s = TestServer::spawn();
    for path in ["/totp", "/totp/confirm", "/totp/disable", "/recovery-codes"] {
        assert_error(&s.post(&format!("{ME}{path}"), None, json!({})), 401, "unauthorized");
    }
    assert_error(&s.get(ME, None), 401, "unauthorized");
    let a = s.signup("ann@example.test");
    let res = s.post(&format!("{ME}/totp"), Some(&a.token), json!({}));
    assert_error(&res, 400, "invalid_request");
    assert_eq!(res.body.pointer("/error/fields/password"), Some(&json!("is required")));
    assert_error(&s.post("/v1/auth/mfa", None, json!({ "code": "123456" })), 400, "invalid_request");
    assert_error(&second_step(&s, "no-such-token", "123456"), 401, "unauthorized");
}

#[test]
fn login_takes_a_second_step_and_a_code_works_once() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let sessions_before: i64 = s.db().query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();

    let res = s.login(&a.email, PASSWORD);
    let token = TestServer::mfa_token(&res);
    assert_eq!(res.body.pointer("/error/methods"), Some(&json!(["totp", "recovery_code"])));
    assert!(res.body.pointer("/error/expires_at").and_then(Value::as_str).is_some());
    assert!(res.body.get("session_token").is_none() && res.body.pointer("/error/session_token").is_none());
    let sessions_after: i64 = s.db().query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(sessions_before, sessions_after, "no session before the second step");
    // A wrong password still gets nothing about the factor.
    assert_error(&s.login(&a.email, "wrong password!"), 401, "invalid_credentials");

    let code = app.code(&s);
    assert_error(&second_step(&s, &token, "000000"), 400, "invalid_code");
    let res = second_step(&s, &token, &code);
    assert_eq!(res.status, 200, "{}", res.text);
    for field in ["session_token", "expires_at", "user", "tenant", "memberships"] {
        assert!(res.body.get(field).is_some(), "{field} in {}", res.text);
    }
    assert_eq!(res.str("/user/id"), a.user_id);
    assert_eq!(s.get("/v1/me", Some(&res.str("/session_token"))).status, 200);

    // The token is spent, and the code (its step, or an earlier one) is refused after a success.
    assert_error(&second_step(&s, &token, &code), 401, "unauthorized");
    assert_error(&second_step(&s, &login_token(&s, &a.email), &code), 400, "invalid_code");
    s.app.clock.advance(30);
    assert_eq!(second_step(&s, &login_token(&s, &a.email), &app.code(&s)).status, 200, "the next step's code works");
}

#[test]
fn the_same_code_used_concurrently_succeeds_once() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let tokens: Vec<String> = (0..4).map(|_| login_token(&s, &a.email)).collect();
    for code in [app.code(&s), app.recovery_codes[0].clone()] {
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = tokens
                .iter()
                .map(|t| {
                    let (s, code) = (&s, code.clone());
                    scope.spawn(move || second_step(s, t, &code).status)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|&&st| st == 200).count(), 1, "{code}: {statuses:?}");
        assert!(statuses.iter().all(|&st| st == 200 || st == 400 || st == 401), "{statuses:?}");
    }
}

#[test]
fn a_recovery_code_signs_in_once() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let code = &app.recovery_codes[3];
    let res = second_step(&s, &login_token(&s, &a.email), &code.to_uppercase());
    assert_eq!(res.status, 200, "case does not matter: {}", res.text);
    assert_error(&second_step(&s, &login_token(&s, &a.email), code), 400, "invalid_code");
    assert_eq!(s.get(ME, Some(&a.token)).body["recovery_codes_left"], json!(9));
    assert!(s.audit_text().contains(r#"auth.mfa_passed  {"method":"recovery_code"}"#), "{}", s.audit_text());
    assert!(!s.audit_text().contains(code.as_str()));
}

#[test]
fn an_mfa_token_lives_five_minutes_and_five_wrong_codes_end_it() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);

    let token = login_token(&s, &a.email);
    s.app.clock.advance(301);
    assert_error(&second_step(&s, &token, &app.code(&s)), 401, "unauthorized");

    let token = login_token(&s, &a.email);
    for _ in 0..4 {
        assert_error(&second_step(&s, &token, "000000"), 400, "invalid_code");
    }
    let res = second_step(&s, &token, "000000");
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
    assert_error(&second_step(&s, &token, &app.code(&s)), 401, "unauthorized");
    assert!(s.audit_text().contains(r#"auth.mfa_throttled  {"scope":"mfa_token"}"#));
    assert_eq!(second_step(&s, &login_token(&s, &a.email), &app.code(&s)).status, 200, "a new login may try again");
}

#[test]
fn wrong_codes_are_throttled_per_account_across_tokens() {
    let s = TestServer::with(|c| c.limits.mfa_by_account = keystead::limit::Rate { burst: 3, per_hour: 1 });
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    for _ in 0..3 {
        assert_error(&second_step(&s, &login_token(&s, &a.email), "000000"), 400, "invalid_code");
    }
    let res = second_step(&s, &login_token(&s, &a.email), &app.code(&s));
    assert_error(&res, 429, "rate_limited");
    assert!(res.header("retry-after").is_some());
    assert!(s.audit_text().contains(r#"auth.mfa_throttled  {"scope":"account"}"#));
}

#[test]
fn disabling_needs_the_password_and_a_code_and_ends_the_second_step() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let disable = |password: &str, code: &str| {
        s.post(&format!("{ME}/totp/disable"), Some(&a.token), json!({ "password": password, "code": code }))
    };
    assert_error(&disable("wrong password!", &app.code(&s)), 401, "invalid_credentials");
    assert_error(&disable(PASSWORD, "000000"), 400, "invalid_code");
    assert_error(&disable(PASSWORD, "zzzz-zzzz-zzzz-zzzz"), 400, "invalid_code");
    let res = disable(PASSWORD, &app.recovery_codes[0]);
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(
        s.get(ME, Some(&a.token)).body,
        json!({ "totp": false, "passkeys": [], "recovery_codes_left": 0, "required": false })
    );
    assert_eq!(s.login(&a.email, PASSWORD).status, 200, "one step again");
    assert!(s.audit_text().contains("mfa.totp_disabled"));
    // Enrolling again is a first factor again: new recovery codes.
    let again = s.enrol_totp(ME, &a.token);
    assert_eq!(again.recovery_codes.len(), 10);
    assert!(again.recovery_codes.iter().all(|c| !app.recovery_codes.contains(c)));
}

#[test]
fn regenerated_recovery_codes_replace_the_old_ones() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &a.token);
    let regenerate = |password: &str, code: &str| {
        s.post(&format!("{ME}/recovery-codes"), Some(&a.token), json!({ "password": password, "code": code }))
    };
    assert_error(&regenerate("wrong password!", &app.code(&s)), 401, "invalid_credentials");
    assert_error(&regenerate(PASSWORD, "000000"), 400, "invalid_code");
    let res = regenerate(PASSWORD, &app.code(&s));
    assert_eq!(res.status, 200, "{}", res.text);
    let fresh: Vec<String> =
        res.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(fresh.len(), 10);
    assert_error(&second_step(&s, &login_token(&s, &a.email), &app.recovery_codes[1]), 400, "invalid_code");
    assert_eq!(second_step(&s, &login_token(&s, &a.email), &fresh[1]).status, 200);
    let audit = s.audit_text();
    assert!(audit.contains("mfa.recovery_codes_regenerated") && fresh.iter().all(|c| !audit.contains(c.as_str())));
}

#[test]
fn an_invitation_into_an_account_with_a_factor_waits_for_the_second_step() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@example.test");
    let ann = s.signup("ann@example.test");
    let app = s.enrol_totp(ME, &ann.token);
    assert_eq!(s.invite(&owner.token, &ann.email, "member").status, 201);
    // An existing account's link only goes by mail.
    let mail = s.outbox_to(&ann.email, "invitation").pop().expect("invitation mail");
    let url = mail.body_text.split_whitespace().find(|w| w.contains("token=")).expect("link").to_owned();
    let link = crate::support::token_of(&url);
    assert_error(
        &s.post("/v1/auth/activate", None, json!({ "token": link, "password": "wrong password!" })),
        401,
        "invalid_credentials",
    );
    let res = s.post("/v1/auth/activate", None, json!({ "token": link, "password": PASSWORD }));
    let token = TestServer::mfa_token(&res);
    assert_eq!(s.membership_status(&owner.tenant_id, &ann.user_id), "invited", "nothing accepted yet");
    assert_error(&second_step(&s, &token, "000000"), 400, "invalid_code");
    let res = second_step(&s, &token, &app.code(&s));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/tenant/id"), owner.tenant_id);
    assert_eq!(s.membership_status(&owner.tenant_id, &ann.user_id), "active");
    assert_error(
        &s.post("/v1/auth/activate", None, json!({ "token": link, "password": PASSWORD })),
        400,
        "invalid_token",
    );
}

#[test]
fn the_second_step_honours_the_tenant_the_login_asked_for() {
    let s = TestServer::spawn();
    let ann = s.signup("ann@example.test");
    let res = s.post("/v1/tenants", Some(&ann.token), json!({ "tenant_name": "Second" }));
    assert_eq!(res.status, 201, "{}", res.text);
    let second = res.str("/tenant/id");
    let app = s.enrol_totp(ME, &ann.token);
    let res =
        s.post("/v1/auth/login", None, json!({ "email": ann.email, "password": PASSWORD, "tenant_id": ann.tenant_id }));
    let res = second_step(&s, &TestServer::mfa_token(&res), &app.code(&s));
    assert_eq!(res.str("/tenant/id"), ann.tenant_id);
    assert_ne!(second, ann.tenant_id);
}

#[test]
fn a_password_reset_does_not_skip_the_factor() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    s.enrol_totp(ME, &a.token);
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": a.email })).status, 202);
    let mail = s.outbox_to(&a.email, "password_reset").pop().expect("reset mail");
    let link = mail.body_text.split_whitespace().find(|w| w.contains("token=")).expect("link").to_owned();
    let new_password = "an entirely new passphrase";
    let res = s.post(
        "/v1/auth/reset-password",
        None,
        json!({ "token": crate::support::token_of(&link), "password": new_password }),
    );
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(res.body.get("session_token").is_none());
    TestServer::mfa_token(&s.login(&a.email, new_password));
}
