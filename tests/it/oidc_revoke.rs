//! `POST /v1/oauth/revoke` (RFC 7009): a client's refresh or access token revokes its grant;
//! another client's token, an unknown one, or one already revoked answers 200 and changes
//! nothing; client authentication is the token endpoint's.
use serde_json::json;

use crate::oidc_fixtures::{Client, assert_oauth_error};
use crate::support::{Res, TestServer};

const OFFLINE: &str = "openid email offline_access";

fn revoke(s: &TestServer, client: &Client, fields: &[(&str, &str)]) -> Res {
    s.oauth_post("/v1/oauth/revoke", client, fields)
}

#[track_caller]
fn assert_revoke_ok(res: &Res) {
    assert_eq!((res.status, res.text.as_str()), (200, ""), "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

fn setup(s: &TestServer, tag: &str) -> (Client, Res) {
    let op = s.admin(&format!("op@{tag}.test"));
    let client = s.oidc_client(&op, "Dashboard", json!({}));
    let owner = s.signup(&format!("owner@{tag}.test"));
    let tokens = s.sign_in_to(&client, &owner.token, OFFLINE);
    (client, tokens)
}

#[test]
fn a_refresh_token_revokes_its_grant() {
    let s = TestServer::spawn();
    let (client, tokens) = setup(&s, "rv-refresh");
    let refresh = tokens.str("/refresh_token");
    assert_revoke_ok(&revoke(&s, &client, &[("token", &refresh), ("token_type_hint", "refresh_token")]));
    assert!(s.grant_revoked(&tokens.str("/access_token")));
    assert_oauth_error(&s.refresh(&client, &refresh, &[]), 400, "invalid_grant");
    assert_oauth_error(&s.get("/v1/oauth/userinfo", Some(&tokens.str("/access_token"))), 401, "invalid_token");
    assert!(s.audit_text().contains("oauth.grant_revoked"));
    // Again: nothing left to revoke, the same answer.
    assert_revoke_ok(&revoke(&s, &client, &[("token", &refresh)]));
}

#[test]
fn an_access_token_revokes_its_grant_whatever_the_hint() {
    let s = TestServer::spawn();
    let (client, tokens) = setup(&s, "rv-access");
    let access = tokens.str("/access_token");
    // A wrong hint only orders the lookups (RFC 7009 §2.1).
    assert_revoke_ok(&revoke(&s, &client, &[("token", &access), ("token_type_hint", "refresh_token")]));
    assert!(s.grant_revoked(&access));
    assert_oauth_error(&s.get("/v1/oauth/userinfo", Some(&access)), 401, "invalid_token");
    assert_oauth_error(&s.refresh(&client, &tokens.str("/refresh_token"), &[]), 400, "invalid_grant");
}

#[test]
fn another_clients_or_an_unknown_token_changes_nothing() {
    let s = TestServer::spawn();
    let (client, tokens) = setup(&s, "rv-other");
    let op = s.admin("op2@rv-other.test");
    let other = s.oidc_client(&op, "Wiki", json!({ "public": true }));
    for token in [tokens.str("/refresh_token"), tokens.str("/access_token"), "no-such-token".to_owned()] {
        assert_revoke_ok(&revoke(&s, &other, &[("token", &token)]));
    }
    // A portal session token is not a client's either.
    let owner = s.signup("someone@rv-other.test");
    assert_revoke_ok(&revoke(&s, &client, &[("token", &owner.token)]));
    assert_eq!(s.get("/v1/me", Some(&owner.token)).status, 200);
    assert!(!s.grant_revoked(&tokens.str("/access_token")));
    assert_eq!(s.refresh(&client, &tokens.str("/refresh_token"), &[]).status, 200);
}

#[test]
fn the_request_and_the_client_are_checked() {
    let s = TestServer::spawn();
    let (client, tokens) = setup(&s, "rv-errors");
    assert_oauth_error(&revoke(&s, &client, &[]), 400, "invalid_request");
    let t = tokens.str("/refresh_token");
    assert_oauth_error(&revoke(&s, &client, &[("token", &t), ("token", &t)]), 400, "invalid_request");
    let wrong = Client { id: client.id.clone(), secret: Some("wrong".into()) };
    let res = revoke(&s, &wrong, &[("token", &t)]);
    assert_oauth_error(&res, 401, "invalid_client");
    assert_eq!(res.header("www-authenticate"), Some("Basic realm=\"keystead\""));
    let nobody = s.send(
        "POST",
        "/v1/oauth/revoke",
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(b"token=x"),
    );
    assert_oauth_error(&nobody, 401, "invalid_client");
    let json_body = s.post("/v1/oauth/revoke", None, json!({ "token": t }));
    assert_oauth_error(&json_body, 400, "invalid_request");
    assert!(!s.grant_revoked(&tokens.str("/access_token")));
    let res = s.get("/.well-known/openid-configuration", None);
    assert_eq!(res.str("/revocation_endpoint"), format!("{}/v1/oauth/revoke", s.base));
    assert_eq!(
        res.body["revocation_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
}
