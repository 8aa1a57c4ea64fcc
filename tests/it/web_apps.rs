//! `/app/apps`: the person's consents and live grants, each revocable by a form; taking a
//! consent back ends that client's grants too.
use serde_json::json;

use crate::oidc_fixtures::{Client, Pkce, assert_oauth_error, authorize_path, claims, code_of, params_of};
use crate::support::web::Browser;
use crate::support::{PASSWORD, Signed, TestServer};

const OFFLINE: &str = "openid email offline_access";

fn signed_in<'a>(s: &'a TestServer, email: &str) -> (Signed, Browser<'a>) {
    let who = s.signup(email);
    let b = Browser::new(s);
    b.post("/login", &[("email", email), ("password", PASSWORD)]).assert_redirect("/app");
    (who, b)
}

/// Signs in to a client that is not trusted through its consent page; the token response.
fn consent_and_sign_in(s: &TestServer, b: &Browser<'_>, client: &Client, tenant: &str) -> crate::support::Res {
    let pkce = Pkce::new();
    let path = authorize_path(client, &pkce, &[("scope", OFFLINE)]);
    let page = b.get(&path);
    page.assert_page(200);
    assert!(page.has("wants to sign you in"), "{}", page.text);
    let mut fields = params_of(&path);
    fields.extend([("tenant".to_owned(), tenant.to_owned()), ("decision".to_owned(), "allow".to_owned())]);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let code = code_of(s, &b.post("/oauth/authorize", &borrowed));
    let res = s.redeem(client, &code, &pkce);
    assert_eq!(res.status, 200, "{}", res.text);
    res
}

fn consent_count(s: &TestServer) -> i64 {
    s.db().query_row("SELECT count(*) FROM oauth_consents", [], |r| r.get(0)).unwrap()
}

#[test]
fn the_page_lists_and_revokes_grants_and_consents() {
    let s = TestServer::spawn();
    let op = s.admin("op@apps.test");
    let trusted = s.oidc_client(&op, "Grafana", json!({}));
    let asking = s.oidc_client(&op, "Wiki", json!({ "trusted": false }));
    let (owner, b) = signed_in(&s, "owner@apps.test");
    let session = b.cookie("ks_session").unwrap();
    let grafana = s.sign_in_to(&trusted, &session, OFFLINE);
    let wiki = consent_and_sign_in(&s, &b, &asking, &owner.tenant_id);

    let page = b.get("/app/apps");
    page.assert_page(200);
    assert!(page.has("Grafana") && page.has("Wiki") && page.has("email, offline_access"), "{}", page.text);
    assert!(page.has(&format!("/app/apps/consents/{}/revoke", asking.id)));
    assert!(b.get("/app").has("href=\"/app/apps\""));

    // One grant revoked: Grafana's chain ends, the Wiki's goes on.
    let gid = claims(&grafana.str("/access_token"))["gid"].as_str().unwrap().to_owned();
    b.post(&format!("/app/apps/grants/{gid}/revoke"), &[]).assert_redirect("/app/apps?done=grant-revoked");
    assert!(s.grant_revoked(&grafana.str("/access_token")));
    assert_oauth_error(&s.refresh(&trusted, &grafana.str("/refresh_token"), &[]), 400, "invalid_grant");
    assert!(!s.grant_revoked(&wiki.str("/access_token")));
    assert!(!b.get("/app/apps").has(&gid));
    // Again: it is no longer live, so 404.
    assert_eq!(b.post(&format!("/app/apps/grants/{gid}/revoke"), &[]).status, 404);

    // The consent taken back: the Wiki's grant ends with it, and it asks again.
    b.post(&format!("/app/apps/consents/{}/revoke", asking.id), &[]).assert_redirect("/app/apps?done=consent-revoked");
    assert_eq!(consent_count(&s), 0);
    assert!(s.grant_revoked(&wiki.str("/access_token")));
    assert!(b.get(&authorize_path(&asking, &Pkce::new(), &[("scope", OFFLINE)])).has("wants to sign you in"));
    assert_eq!(b.post(&format!("/app/apps/consents/{}/revoke", asking.id), &[]).status, 404);
    let audit = s.audit_text();
    assert!(audit.contains("oauth.grant_revoked") && audit.contains("oauth.consent_revoked"), "{audit}");
}

#[test]
fn another_accounts_grants_and_consents_are_not_found() {
    let s = TestServer::spawn();
    let op = s.admin("op@apps-b.test");
    let asking = s.oidc_client(&op, "Wiki", json!({ "trusted": false }));
    let (owner, b) = signed_in(&s, "owner@apps-b.test");
    let wiki = consent_and_sign_in(&s, &b, &asking, &owner.tenant_id);
    let (_, stranger) = signed_in(&s, "stranger@apps-b.test");
    let gid = claims(&wiki.str("/access_token"))["gid"].as_str().unwrap().to_owned();
    assert!(!stranger.get("/app/apps").has("Wiki"));
    assert_eq!(stranger.post(&format!("/app/apps/grants/{gid}/revoke"), &[]).status, 404);
    assert_eq!(stranger.post(&format!("/app/apps/consents/{}/revoke", asking.id), &[]).status, 404);
    assert_eq!(stranger.post("/app/apps/grants/not-an-id/revoke", &[]).status, 404);
    // Without the form's CSRF token nothing happens either.
    let forged = b.post_raw(&format!("/app/apps/grants/{gid}/revoke"), &[("Origin", "https://evil.test")], &[]);
    assert_eq!(forged.status, 403);
    assert!(!s.grant_revoked(&wiki.str("/access_token")));
    assert_eq!(consent_count(&s), 1);
    // Signed out: to the login page.
    assert_eq!(Browser::new(&s).get("/app/apps").status, 303);
}
