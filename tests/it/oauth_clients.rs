//! `/v1/admin/clients*`: operators register, list, edit, rotate and disable OpenID Connect
//! clients; secrets are shown once and stored only as SHA-256; every rule of the redirect
//! URIs and of the fields is a 400 naming the field; every change is audited, never with
//! the secret.
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::operator::{ids, reason};
use crate::support::{Res, TestServer, assert_error};

pub(crate) const CALLBACK: &str = "https://app.example.test/callback";

/// A client registered by `op` with `extra` fields over a name and one redirect URI.
#[track_caller]
pub(crate) fn register(s: &TestServer, op: &str, extra: Value) -> Res {
    let mut body = json!({ "name": "Wiki", "redirect_uris": [CALLBACK] });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let res = s.post("/v1/admin/clients", Some(op), body);
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

/// A registered confidential client: (client_id, client_secret).
#[track_caller]
pub(crate) fn confidential(s: &TestServer, op: &str, extra: Value) -> (String, String) {
    let res = register(s, op, extra);
    (res.str("/client/id"), res.str("/client_secret"))
}

fn stored_hash(s: &TestServer, id: &str) -> Option<String> {
    s.db()
        .query_row(
            "SELECT CASE WHEN secret_hash IS NOT NULL THEN hex(secret_hash) END FROM oauth_clients WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .expect("row")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
}

fn clients_stored(s: &TestServer) -> i64 {
    s.db().query_row("SELECT count(*) FROM oauth_clients", [], |r| r.get(0)).expect("count")
}

#[test]
fn a_confidential_client_gets_its_secret_once_and_it_is_stored_hashed() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let t = s.signup("ann@example.test");
    let res = register(
        &s,
        &op,
        json!({
            "name": "  Grafana  ", "trusted": true, "tenant_id": t.tenant_id, "id_token_alg": "ES256",
            "redirect_uris": [CALLBACK, "http://127.0.0.1:3000/cb", CALLBACK],
            "post_logout_redirect_uris": ["https://app.example.test/bye"],
        }),
    );
    let (client, secret) = (&res.body["client"], res.str("/client_secret"));
    let id = res.str("/client/id");
    assert_eq!(client["name"], "Grafana", "trimmed");
    assert_eq!(
        (&client["public"], &client["trusted"], &client["introspect"]),
        (&json!(false), &json!(true), &json!(false))
    );
    assert_eq!(client["tenant_id"], t.tenant_id.as_str());
    assert_eq!(client["redirect_uris"], json!([CALLBACK, "http://127.0.0.1:3000/cb"]), "repeats dropped");
    assert_eq!(client["post_logout_redirect_uris"], json!(["https://app.example.test/bye"]));
    assert_eq!((&client["id_token_alg"], &client["status"]), (&json!("ES256"), &json!("active")));
    assert_eq!((&client["disabled_reason"], &client["secret_rotated_at"]), (&Value::Null, &Value::Null));
    assert!(client["created_at"].as_str().is_some_and(|t| t.ends_with('Z')) && client["updated_at"].is_string());
    assert_eq!(secret.len(), 43, "256 bits, base64url");

    // Stored as its SHA-256 only; no other answer, and no audit row, shows it again.
    assert_eq!(stored_hash(&s, &id), Some(sha256_hex(&secret)));
    let listed = s.get("/v1/admin/clients", Some(&op));
    assert_eq!(ids(&listed), vec![id.clone()]);
    let one = s.get(&format!("/v1/admin/clients/{id}"), Some(&op));
    assert_eq!(one.status, 200);
    assert_eq!(one.body["client"], *client);
    for text in [&listed.text, &one.text, &s.audit_text()] {
        assert!(!text.contains(&secret) && !text.contains("client_secret"), "{text}");
    }
    let event = s.last_event(&op, "oauth_client.registered");
    assert_eq!(
        (&event["actor_type"], &event["target_type"], &event["target_id"]),
        (&json!("admin"), &json!("oauth_client"), &json!(id))
    );
    assert_eq!(event["after"]["redirect_uris"], client["redirect_uris"]);
    let dump: String = s
        .db()
        .query_row(
            "SELECT group_concat(coalesce(before, '') || coalesce(after, '') || coalesce(reason, '')) FROM audit_log",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert!(!dump.contains(&secret));
}

#[test]
fn a_public_client_has_no_secret_to_show_or_rotate() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let res = register(&s, &op, json!({ "public": true }));
    let id = res.str("/client/id");
    assert!(res.body.get("client_secret").is_none(), "{}", res.text);
    assert_eq!((&res.body["client"]["public"], &res.body["client"]["id_token_alg"]), (&json!(true), &json!("RS256")));
    assert_eq!(stored_hash(&s, &id), None);
    assert_error(
        &s.post(&format!("/v1/admin/clients/{id}/rotate-secret"), Some(&op), json!({})),
        400,
        "invalid_request",
    );
    // Whether it is public is fixed: a PATCH cannot make it confidential or let it introspect.
    let res = s.patch(&format!("/v1/admin/clients/{id}"), Some(&op), json!({ "introspect": true }));
    assert_error(&res, 400, "invalid_request");
    assert!(res.body["error"]["fields"]["introspect"].is_string(), "{}", res.text);
}

#[test]
fn every_rule_of_the_fields_is_a_400_naming_the_field_and_stores_nothing() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let long = format!("https://app.example.test/{}", "x".repeat(2000));
    let eleven: Vec<String> = (0..11).map(|i| format!("https://app.example.test/{i}")).collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "redirect_uris": [CALLBACK] }), "name"),
        (json!({ "name": "   ", "redirect_uris": [CALLBACK] }), "name"),
        (json!({ "name": "x".repeat(101), "redirect_uris": [CALLBACK] }), "name"),
        (json!({ "name": "Wiki\u{202E}", "redirect_uris": [CALLBACK] }), "name"),
        (json!({ "name": "Wiki" }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": [] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["/callback"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["app.example.test/cb"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["http://app.example.test/cb"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["http://localhost.example.test/cb"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["https://app.example.test/cb#top"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": ["ftp://app.example.test/cb"] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": [long] }), "redirect_uris"),
        (json!({ "name": "Wiki", "redirect_uris": eleven }), "redirect_uris"),
        (
            json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "post_logout_redirect_uris": ["http://evil.test/"] }),
            "post_logout_redirect_uris",
        ),
        (
            json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "tenant_id": "00000000-0000-4000-8000-000000000000" }),
            "tenant_id",
        ),
        (json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "tenant_id": "nope" }), "tenant_id"),
        (json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "public": true, "introspect": true }), "introspect"),
        (json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "id_token_alg": "HS256" }), "id_token_alg"),
    ];
    for (body, field) in cases {
        let res = s.post("/v1/admin/clients", Some(&op), body.clone());
        assert_error(&res, 400, "invalid_request");
        assert!(res.body["error"]["fields"][field].is_string(), "{body}: {}", res.text);
    }
    // Wrong types are 400 as well, never a 500.
    for body in [
        json!({ "name": "Wiki", "redirect_uris": CALLBACK }),
        json!({ "name": "Wiki", "redirect_uris": [CALLBACK], "public": "yes" }),
    ] {
        assert_error(&s.post("/v1/admin/clients", Some(&op), body), 400, "invalid_request");
    }
    assert_eq!(clients_stored(&s), 0);
    // A gateway's client that only introspects needs no redirect URI.
    let res = register(&s, &op, json!({ "name": "Gateway", "redirect_uris": [], "introspect": true }));
    assert_eq!(res.body["client"]["redirect_uris"], json!([]));
}

#[test]
fn only_operators_run_clients() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let owner = s.signup("ann@example.test");
    let (id, _) = confidential(&s, &op, json!({}));
    let calls: [(&str, String); 6] = [
        ("GET", "/v1/admin/clients".into()),
        ("POST", "/v1/admin/clients".into()),
        ("GET", format!("/v1/admin/clients/{id}")),
        ("PATCH", format!("/v1/admin/clients/{id}")),
        ("POST", format!("/v1/admin/clients/{id}/rotate-secret")),
        ("POST", format!("/v1/admin/clients/{id}/disable")),
    ];
    for (method, path) in &calls {
        for token in [None, Some(owner.token.as_str()), Some("not-a-token")] {
            let res = s.json(method, path, token, json!({ "name": "x", "redirect_uris": [CALLBACK], "reason": "x" }));
            assert_error(&res, 401, "unauthorized");
        }
    }
    assert_eq!(clients_stored(&s), 1);
}

#[test]
fn unknown_and_malformed_ids_are_404() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    for id in ["00000000-0000-4000-8000-000000000000", "nope"] {
        assert_error(&s.get(&format!("/v1/admin/clients/{id}"), Some(&op)), 404, "not_found");
        assert_error(&s.patch(&format!("/v1/admin/clients/{id}"), Some(&op), json!({ "name": "x" })), 404, "not_found");
        assert_error(&s.post(&format!("/v1/admin/clients/{id}/rotate-secret"), Some(&op), json!({})), 404, "not_found");
        assert_error(&s.post(&format!("/v1/admin/clients/{id}/disable"), Some(&op), reason("x")), 404, "not_found");
        assert_error(&s.post(&format!("/v1/admin/clients/{id}/enable"), Some(&op), reason("x")), 404, "not_found");
    }
}

#[test]
fn a_patch_changes_what_it_names_and_audits_before_and_after() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let t = s.signup("ann@example.test");
    let (id, _) = confidential(&s, &op, json!({ "tenant_id": t.tenant_id }));
    let path = format!("/v1/admin/clients/{id}");
    s.app.clock.advance(5);
    let res = s.patch(
        &path,
        Some(&op),
        json!({ "name": "Wiki 2", "redirect_uris": ["https://wiki.example.test/cb"], "trusted": true,
                "introspect": true, "tenant_id": null, "id_token_alg": "EdDSA",
                "post_logout_redirect_uris": ["http://[::1]:8080/"] }),
    );
    assert_eq!(res.status, 200, "{}", res.text);
    let c = &res.body["client"];
    assert_eq!(
        (&c["name"], &c["trusted"], &c["introspect"], &c["tenant_id"]),
        (&json!("Wiki 2"), &json!(true), &json!(true), &Value::Null)
    );
    assert_eq!((&c["redirect_uris"], &c["id_token_alg"]), (&json!(["https://wiki.example.test/cb"]), &json!("EdDSA")));
    assert_ne!(c["updated_at"], c["created_at"]);
    assert_eq!(s.get(&path, Some(&op)).body["client"], *c, "stored");
    let event = s.last_event(&op, "oauth_client.updated");
    assert_eq!((&event["before"]["name"], &event["after"]["name"]), (&json!("Wiki"), &json!("Wiki 2")));
    assert_eq!(event["before"]["tenant_id"], t.tenant_id.as_str());

    // Nothing to change: 200, nothing audited. A bad field: 400, nothing changed.
    let count = |s: &TestServer| -> i64 {
        s.db()
            .query_row("SELECT count(*) FROM audit_log WHERE action = 'oauth_client.updated'", [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(s.patch(&path, Some(&op), json!({ "name": "Wiki 2" })).status, 200);
    assert_eq!(s.patch(&path, Some(&op), json!({})).status, 200);
    assert_eq!(count(&s), 1);
    for (body, field) in [
        (json!({ "redirect_uris": ["http://wiki.example.test/cb"] }), "redirect_uris"),
        (json!({ "name": "" }), "name"),
        (json!({ "tenant_id": "00000000-0000-4000-8000-000000000000" }), "tenant_id"),
        (json!({ "id_token_alg": "none" }), "id_token_alg"),
    ] {
        let res = s.patch(&path, Some(&op), body);
        assert_error(&res, 400, "invalid_request");
        assert!(res.body["error"]["fields"][field].is_string(), "{}", res.text);
    }
    assert_eq!(s.get(&path, Some(&op)).body["client"], *c, "unchanged");
    assert_eq!(count(&s), 1);
}

#[test]
fn disabling_needs_a_reason_and_follows_the_allowed_transitions() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let (id, _) = confidential(&s, &op, json!({}));
    let disable = format!("/v1/admin/clients/{id}/disable");
    assert_error(&s.send("POST", &disable, Some(&op), &[], None), 400, "reason_required");
    for body in [json!({}), reason("   "), json!({ "reason": null })] {
        assert_error(&s.post(&disable, Some(&op), body), 400, "reason_required");
    }
    assert_error(&s.post(&disable, Some(&op), json!({ "reason": 7 })), 400, "invalid_request");
    let res = s.post(&disable, Some(&op), reason("leaked secret"));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (&res.body["client"]["status"], &res.body["client"]["disabled_reason"]),
        (&json!("disabled"), &json!("leaked secret"))
    );
    assert_error(&s.post(&disable, Some(&op), reason("again")), 409, "invalid_transition");
    let event = s.last_event(&op, "oauth_client.disabled");
    assert_eq!((&event["reason"], &event["after"]["status"]), (&json!("leaked secret"), &json!("disabled")));

    let enable = format!("/v1/admin/clients/{id}/enable");
    let res = s.post(&enable, Some(&op), reason("new secret issued"));
    assert_eq!(
        (&res.body["client"]["status"], &res.body["client"]["disabled_reason"]),
        (&json!("active"), &Value::Null)
    );
    assert_error(&s.post(&enable, Some(&op), reason("again")), 409, "invalid_transition");
}

#[test]
fn the_list_pages_newest_first() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let made: Vec<String> = (0..3)
        .map(|_| {
            s.app.clock.advance(1);
            confidential(&s, &op, json!({})).0
        })
        .collect();
    let first = s.get("/v1/admin/clients?limit=2", Some(&op));
    assert_eq!(ids(&first), vec![made[2].clone(), made[1].clone()]);
    let cursor = first.str("/next_cursor");
    let rest = s.get(&format!("/v1/admin/clients?limit=2&cursor={cursor}"), Some(&op));
    assert_eq!(ids(&rest), vec![made[0].clone()]);
    assert!(rest.body["next_cursor"].is_null());
    for bad in ["?limit=0", "?cursor=!!"] {
        assert_error(&s.get(&format!("/v1/admin/clients{bad}"), Some(&op)), 400, "invalid_request");
    }
}

#[test]
fn clients_are_run_from_the_command_line() {
    use crate::cli::{keystead, ok};
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let t = s.signup("ann@example.test");

    let out = ok(
        &s,
        &["clients", "create", "--name", "Wiki", "--redirect-uri", CALLBACK, "--tenant-id", &t.tenant_id, "--json"],
    );
    let created: Value = serde_json::from_str(&out).expect("JSON");
    let (id, secret) = (
        created["client"]["id"].as_str().expect("id").to_owned(),
        created["client_secret"].as_str().expect("secret").to_owned(),
    );
    assert_eq!(stored_hash(&s, &id), Some(sha256_hex(&secret)));
    assert_eq!(
        created["client"],
        s.get(&format!("/v1/admin/clients/{id}"), Some(&op)).body["client"],
        "the API's object"
    );
    let event = s.last_event(&op, "oauth_client.registered");
    assert_eq!((&event["actor_type"], &event["actor_id"]), (&json!("system"), &Value::Null));

    // The table prints the secret once, after the row.
    let table = ok(&s, &["clients", "create", "--name", "Gateway", "--introspect"]);
    assert!(
        table.starts_with("ID") && table.contains("introspects") && table.contains("shown only this once"),
        "{table}"
    );
    let gateway_secret = table.lines().last().expect("the secret line").to_owned();
    assert_eq!(gateway_secret.len(), 43, "{table}");
    let public =
        ok(&s, &["clients", "create", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1:5173/cb"]);
    assert!(public.contains("public") && !public.contains("secret"), "{public}");

    let listed: Value = serde_json::from_str(&ok(&s, &["clients", "list", "--json"])).expect("JSON");
    assert_eq!(listed, s.get("/v1/admin/clients", Some(&op)).body);
    assert!(!listed.to_string().contains(&secret));
    assert!(ok(&s, &["clients", "list", "--limit", "1"]).contains("more: --cursor "));

    let rotated: Value = serde_json::from_str(&ok(&s, &["clients", "rotate-secret", &id, "--json"])).expect("JSON");
    let new = rotated["client_secret"].as_str().expect("a new secret");
    assert_eq!(stored_hash(&s, &id), Some(sha256_hex(new)));

    let disabled: Value =
        serde_json::from_str(&ok(&s, &["clients", "disable", &id, "--reason", "from the shell", "--json"]))
            .expect("JSON");
    assert_eq!(
        (&disabled["client"]["status"], &disabled["client"]["disabled_reason"]),
        (&json!("disabled"), &json!("from the shell"))
    );
    ok(&s, &["clients", "enable", &id, "--reason", "back"]);

    for (args, needle) in [
        (vec!["clients", "disable", &id, "--reason", "  "], "reason_required"),
        (vec!["clients", "disable", "00000000-0000-4000-8000-000000000000", "--reason", "x"], "not_found"),
        (vec!["clients", "create", "--name", "Bad", "--redirect-uri", "http://evil.test/cb"], "must be https"),
        (vec!["clients", "create", "--name", "Bad", "--redirect-uri", CALLBACK, "--tenant-id", "nope"], "tenant_id"),
        (vec!["clients", "rotate-secret", created["client"]["id"].as_str().unwrap_or_default(), "--bogus"], "--bogus"),
    ] {
        let out = keystead(&s, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(needle), "keystead {args:?}: {stderr}");
    }
}

#[test]
fn an_operator_without_a_required_factor_is_403_until_it_enrols() {
    let s = TestServer::with(|c| c.operator_mfa = keystead::types::MfaPolicy::Required);
    let op = s.admin("op@example.test");
    assert_error(&s.get("/v1/admin/clients", Some(&op)), 403, "mfa_enrolment_required");
    let res = s.post("/v1/admin/clients", Some(&op), json!({ "name": "Wiki", "redirect_uris": [CALLBACK] }));
    assert_error(&res, 403, "mfa_enrolment_required");
    assert_eq!(clients_stored(&s), 0);
}
