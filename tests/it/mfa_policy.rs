//! Second factor for operators (their own routes, the two-step login) and the policies
//! that require one: `--operator-mfa required` and a tenant owner's `require_mfa`.
use serde_json::json;

use crate::support::{PASSWORD, TestServer, assert_error};

const ADMIN_ME: &str = "/v1/admin/me/mfa";

#[test]
fn an_operator_enrols_and_then_signs_in_in_two_steps() {
    let s = TestServer::spawn();
    let op = s.admin("op@operator.test");
    assert_eq!(s.get(ADMIN_ME, Some(&op)).body["required"], json!(false), "the harness runs with optional");
    let app = s.enrol_totp(ADMIN_ME, &op);
    assert_eq!(s.get(ADMIN_ME, Some(&op)).body["totp"], json!(true));
    let res = s.post("/v1/admin/auth/login", None, json!({ "email": "op@operator.test", "password": PASSWORD }));
    let token = TestServer::mfa_token(&res);
    // The realms never take each other's tokens.
    assert_error(
        &s.post("/v1/auth/mfa", None, json!({ "mfa_token": token, "code": app.code(&s) })),
        401,
        "unauthorized",
    );
    assert_error(
        &s.post("/v1/admin/auth/mfa", None, json!({ "mfa_token": token, "code": "000000" })),
        400,
        "invalid_code",
    );
    let res = s.post("/v1/admin/auth/mfa", None, json!({ "mfa_token": token, "code": app.code(&s) }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/admin/email"), "op@operator.test");
    assert_eq!(s.get("/v1/admin/stats", Some(&res.str("/session_token"))).status, 200);
    assert_error(
        &s.post("/v1/admin/auth/mfa", None, json!({ "mfa_token": token, "code": app.code(&s) })),
        401,
        "unauthorized",
    );
    // A portal session is not an operator's, on these routes either.
    let a = s.signup("ann@example.test");
    assert_error(&s.get(ADMIN_ME, Some(&a.token)), 401, "unauthorized");
    assert_error(&s.get("/v1/me/mfa", Some(&op)), 401, "unauthorized");
}

#[test]
fn a_required_operator_factor_closes_everything_but_enrolment_and_logout() {
    let s = TestServer::with(|c| c.operator_mfa = keystead::types::MfaPolicy::Required);
    let op = s.admin("op@operator.test");
    assert_error(&s.get("/v1/admin/stats", Some(&op)), 403, "mfa_enrolment_required");
    assert_error(&s.get("/v1/admin/tenants", Some(&op)), 403, "mfa_enrolment_required");
    assert_eq!(s.get(ADMIN_ME, Some(&op)).body["required"], json!(true));
    let app = s.enrol_totp(ADMIN_ME, &op);
    assert_eq!(s.get("/v1/admin/stats", Some(&op)).status, 200);
    let res =
        s.post(&format!("{ADMIN_ME}/totp/disable"), Some(&op), json!({ "password": PASSWORD, "code": app.code(&s) }));
    assert_error(&res, 403, "mfa_enrolment_required");
    let other = s.admin("other@operator.test");
    assert_eq!(s.post("/v1/admin/auth/logout", Some(&other), json!({})).status, 204, "logout stays open");
}

#[test]
fn a_tenant_that_requires_a_factor_closes_its_routes_until_the_member_enrols() {
    let s = TestServer::spawn();
    let owner = s.signup("owner@example.test");
    let member = s.join(&owner.token, "mia@example.test", "member");
    let admin = s.join(&owner.token, "adam@example.test", "admin");

    let on = json!({ "require_mfa": true });
    assert_error(&s.patch("/v1/tenant", Some(&owner.token), on.clone()), 403, "mfa_enrolment_required");
    assert_error(&s.patch("/v1/tenant", Some(&admin.token), on.clone()), 403, "forbidden");
    assert_error(&s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": "yes" })), 400, "invalid_request");
    let owner_app = s.enrol_totp("/v1/me/mfa", &owner.token);
    let res = s.patch("/v1/tenant", Some(&owner.token), on);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["tenant"]["require_mfa"], json!(true));
    assert_eq!(s.get("/v1/tenant", Some(&owner.token)).body["tenant"]["require_mfa"], json!(true));

    for path in ["/v1/keys", "/v1/tenant", "/v1/sessions"] {
        assert_error(&s.get(path, Some(&member.token)), 403, "mfa_enrolment_required");
    }
    assert_error(&s.post("/v1/auth/token", Some(&member.token), json!({})), 403, "mfa_enrolment_required");
    assert_eq!(s.get("/v1/me", Some(&member.token)).status, 200);
    assert_eq!(s.get("/v1/me/mfa", Some(&member.token)).body["required"], json!(true));
    let app = s.enrol_totp("/v1/me/mfa", &member.token);
    assert_eq!(s.get("/v1/keys", Some(&member.token)).status, 200);
    let disable = json!({ "password": PASSWORD, "code": app.code(&s) });
    assert_error(&s.post("/v1/me/mfa/totp/disable", Some(&member.token), disable), 403, "mfa_enrolment_required");
    assert_eq!(s.post("/v1/auth/logout", Some(&admin.token), json!({})).status, 204, "logout stays open");

    // Off again: the factor may go, and nobody is shut out.
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": false })).status, 200);
    let disable = json!({ "password": PASSWORD, "code": owner_app.code(&s) });
    assert_eq!(s.post("/v1/me/mfa/totp/disable", Some(&owner.token), disable).status, 204);
    assert!(
        s.db()
            .query_row("SELECT count(*) FROM audit_log WHERE action = 'tenant.updated' AND after LIKE '%\"require_mfa\":true%'", [], |r| r.get::<_, i64>(0))
            .unwrap()
            == 1
    );
}

#[test]
fn a_policy_elsewhere_does_not_close_a_tenant_without_one() {
    let s = TestServer::spawn();
    let strict = s.signup("strict@example.test");
    let ann = s.signup("ann@example.test");
    s.add_member(&strict, &ann, "member", "active");
    s.enrol_totp("/v1/me/mfa", &strict.token);
    assert_eq!(s.patch("/v1/tenant", Some(&strict.token), json!({ "require_mfa": true })).status, 200);
    // Ann's own tenant has no policy: its routes stay open.
    assert_eq!(s.get("/v1/keys", Some(&ann.token)).status, 200);
    assert_eq!(s.get("/v1/me/mfa", Some(&ann.token)).body["required"], json!(true), "a tenant of hers needs one");
    let res = s.post("/v1/auth/switch-tenant", Some(&ann.token), json!({ "tenant_id": strict.tenant_id }));
    assert_eq!(res.status, 200, "switching stays open: {}", res.text);
    assert_error(&s.get("/v1/keys", Some(&ann.token)), 403, "mfa_enrolment_required");
}

#[test]
fn an_operator_resets_a_locked_out_persons_factors() {
    let s = TestServer::spawn();
    let op = s.admin("op@operator.test");
    let a = s.signup("ann@example.test");
    let app = s.enrol_totp("/v1/me/mfa", &a.token);
    let path = format!("/v1/admin/users/{}/reset-mfa", a.user_id);
    assert_error(&s.post(&path, Some(&op), json!({})), 400, "reason_required");
    assert_error(&s.post(&path, Some(&op), json!({ "reason": "  " })), 400, "reason_required");
    assert_error(&s.post(&path, Some(&a.token), json!({ "reason": "lost phone" })), 401, "unauthorized");
    let unknown = format!("/v1/admin/users/{}/reset-mfa", uuid_like());
    assert_error(&s.post(&unknown, Some(&op), json!({ "reason": "lost phone" })), 404, "not_found");
    let pending = TestServer::mfa_token(&s.login(&a.email, PASSWORD));

    let res = s.post(&path, Some(&op), json!({ "reason": "lost phone, identity checked by video call" }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/account/id"), a.user_id);
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_error(
        &s.post("/v1/auth/mfa", None, json!({ "mfa_token": pending, "code": app.code(&s) })),
        401,
        "unauthorized",
    );
    let res = s.login(&a.email, PASSWORD);
    assert_eq!(res.status, 200, "the password alone again: {}", res.text);
    assert_eq!(s.get("/v1/me/mfa", Some(&res.str("/session_token"))).body["recovery_codes_left"], json!(0));
    let (reason, after): (String, String) = s
        .db()
        .query_row("SELECT reason, after FROM audit_log WHERE action = 'mfa.reset'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(reason, "lost phone, identity checked by video call");
    assert!(after.contains("\"totp_removed\":true") && after.contains("\"recovery_codes_removed\":10"), "{after}");
    assert!(!after.contains(&app.secret));
}

fn uuid_like() -> &'static str {
    "00000000-0000-4000-8000-000000000000"
}

/// README "Choices": the product's backend sees what forward authentication sees. A
/// member shut out by the tenant's policy verifies as `{valid: false}` (no failed attempt
/// charged: the token is real) and gets no access token, until it enrols.
#[test]
fn a_session_shut_out_by_a_policy_does_not_verify_nor_get_an_access_token() {
    let s = TestServer::with(|c| c.limits.failed_verify_by_ip = keystead::limit::Rate { burst: 2, per_hour: 2 });
    let owner = s.signup("owner@example.test");
    let member = s.join(&owner.token, "mia@example.test", "member");
    let verify = |token: &str| s.post("/v1/verify/session", None, json!({ "token": token }));
    assert_eq!(verify(&member.token).body["valid"], json!(true));
    s.enrol_totp("/v1/me/mfa", &owner.token);
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "require_mfa": true })).status, 200);

    for _ in 0..4 {
        let res = verify(&member.token);
        assert_eq!((res.status, &res.body), (200, &json!({ "valid": false })), "{}", res.text);
    }
    assert_error(&s.post("/v1/auth/token", Some(&member.token), json!({})), 403, "mfa_enrolment_required");
    assert_eq!(verify(&owner.token).body["valid"], json!(true), "the owner holds a factor");

    s.enrol_totp("/v1/me/mfa", &member.token);
    let res = verify(&member.token);
    assert_eq!(res.body["valid"], json!(true), "{}", res.text);
    assert_eq!(res.str("/user_id"), member.user_id);
    assert_eq!(s.post("/v1/auth/token", Some(&member.token), json!({})).status, 200);
    // Unknown tokens still count: the allowance of 2 was not spent above.
    assert_eq!(verify("not-a-session").status, 200);
    assert_eq!(verify("not-a-session").status, 200);
    assert_error(&verify("not-a-session"), 429, "rate_limited");
}
