//! The audit log: what operator changes record, the filters and pages of
//! `/v1/admin/audit` and `/v1/tenant/audit`, append-only storage and no secrets in it.
//! Also `/v1/admin/outbox`, the other operator log.
use serde_json::{Value, json};

use crate::support::operator::{ids, items, reason};
use crate::support::smtp::SmtpSink;
use crate::support::{PASSWORD, TestServer, assert_error, token_of, wait_until};

const UA: &str = "keystead-tests/1.0";

#[test]
fn an_operator_change_records_who_where_why_and_what() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let op_id = s.admin_id(&op, "op@example.test");
    let a = s.signup("ann@example.test");
    let count = || items(&s.get("/v1/admin/audit?action=tenant.suspended", Some(&op))).len();
    assert_eq!(count(), 0);

    let body = reason(" unpaid invoice ").to_string();
    let headers = [("Content-Type", "application/json"), ("User-Agent", UA)];
    let path = format!("/v1/admin/tenants/{}/suspend", a.tenant_id);
    assert_eq!(s.send("POST", &path, Some(&op), &headers, Some(body.as_bytes())).status, 200);
    assert_eq!(count(), 1, "one event per change");

    let e = s.last_event(&op, "tenant.suspended");
    assert!(e["id"].as_str().is_some_and(|id| id.len() == 36), "{e}");
    assert!(e["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{e}");
    assert_eq!(e["actor_type"], "admin");
    assert_eq!(e["actor_id"], op_id.as_str());
    assert_eq!(e["tenant_id"], a.tenant_id.as_str());
    assert_eq!((&e["target_type"], &e["target_id"]), (&json!("tenant"), &json!(a.tenant_id)));
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["user_agent"], UA);
    assert_eq!(e["reason"], "unpaid invoice");
    assert_eq!(e["before"], json!({ "status": "active" }));
    assert_eq!(e["after"], json!({ "status": "suspended", "sessions_revoked": 1, "memberships_changed": 0 }));

    // A refused change records nothing.
    s.post(&path, Some(&op), reason("again"));
    assert_eq!(count(), 1);
}

#[test]
fn operators_filter_and_page_the_audit_log_newest_first() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let op_id = s.admin_id(&op, "op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    s.app.clock.advance(1000);
    s.post(&format!("/v1/admin/tenants/{}/suspend", a.tenant_id), Some(&op), reason("x"));

    let all = items(&s.get("/v1/admin/audit?limit=200", Some(&op)));
    assert!(all.len() >= 8, "{all:?}");
    assert_eq!(all[0]["action"], "tenant.suspended", "newest first");
    let times: Vec<&str> = all.iter().filter_map(|e| e["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    let in_a = items(&s.get(&format!("/v1/admin/audit?tenant_id={}", a.tenant_id), Some(&op)));
    assert!(in_a.len() >= 3 && in_a.iter().all(|e| e["tenant_id"] == a.tenant_id.as_str()), "{in_a:?}");
    let by_op = items(&s.get(&format!("/v1/admin/audit?actor_id={op_id}"), Some(&op)));
    assert!(!by_op.is_empty() && by_op.iter().all(|e| e["actor_id"] == op_id.as_str()));
    let created = items(&s.get("/v1/admin/audit?action=tenant.created", Some(&op)));
    let tenants: Vec<&Value> = created.iter().map(|e| &e["tenant_id"]).collect();
    assert_eq!(tenants, [&json!(b.tenant_id), &json!(a.tenant_id)]);
    let both = format!("/v1/admin/audit?action=tenant.created&tenant_id={}", b.tenant_id);
    assert_eq!(items(&s.get(&both, Some(&op))).len(), 1);

    let suspended_at = all[0]["at"].as_str().unwrap().to_owned();
    let since = items(&s.get(&format!("/v1/admin/audit?since={suspended_at}"), Some(&op)));
    assert!(since.iter().all(|e| e["at"].as_str().unwrap() >= suspended_at.as_str()));
    assert!(since.iter().any(|e| e["action"] == "tenant.suspended"));
    let signed_up_at = all[1]["at"].as_str().unwrap().to_owned(); // the newest event before the clock jump
    let until = items(&s.get(&format!("/v1/admin/audit?until={signed_up_at}&limit=200"), Some(&op)));
    assert!(!until.is_empty() && until.iter().all(|e| e["action"] != "tenant.suspended"));
    assert_eq!(until.len() + since.len(), all.len());

    // Pages of 3 walk the whole log once, in order.
    let mut walked = Vec::new();
    let mut path = "/v1/admin/audit?limit=3".to_owned();
    loop {
        let res = s.get(&path, Some(&op));
        walked.extend(ids(&res));
        match res.body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/admin/audit?limit=3&cursor={c}"),
            None => break,
        }
    }
    let every: Vec<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(walked, every);

    assert_error(&s.get("/v1/admin/audit?since=yesterday", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/audit?until=2026-13-01T00:00:00Z", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/audit?cursor=%%%", Some(&op)), 400, "invalid_request");
    assert_error(&s.get("/v1/admin/audit?limit=0", Some(&op)), 400, "invalid_request");
}

#[test]
fn the_tenant_audit_is_scoped_to_the_session_tenant_for_owners_and_admins() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let c = s.signup("cy@example.test");
    s.add_member(&a, &b, "member", "active");
    s.add_member(&a, &c, "admin", "active");
    s.post(&format!("/v1/admin/tenants/{}/revoke-sessions", b.tenant_id), Some(&op), reason("x"));

    let owner = items(&s.get("/v1/tenant/audit", Some(&a.token)));
    assert!(owner.iter().any(|e| e["action"] == "tenant.created"));
    assert!(owner.iter().all(|e| e["tenant_id"] == a.tenant_id.as_str()), "{owner:?}");
    let admin_in_a = s.login_to("cy@example.test", &a.tenant_id);
    assert_eq!(ids(&s.get("/v1/tenant/audit?limit=200", Some(&admin_in_a))).len(), owner.len() + 1, "+ cy's login");

    let member_in_a = s.login_to("bob@example.test", &a.tenant_id);
    assert_error(&s.get("/v1/tenant/audit", Some(&member_in_a)), 403, "forbidden");
    // Another tenant's events stay invisible, whatever the filter says.
    let other = s.get(&format!("/v1/tenant/audit?tenant_id={}", b.tenant_id), Some(&a.token));
    assert!(items(&other).is_empty());
    let own = s.get(&format!("/v1/tenant/audit?tenant_id={}&action=tenant.created", a.tenant_id), Some(&a.token));
    assert_eq!(items(&own).len(), 1);
    assert_error(&s.get("/v1/tenant/audit", None), 401, "unauthorized");
}

#[test]
fn audit_rows_cannot_be_updated_or_deleted() {
    let s = TestServer::spawn();
    s.signup("ann@example.test");
    let db = s.db_rw();
    let before: i64 = db.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0)).unwrap();
    assert!(before > 0);
    let update = db.execute("UPDATE audit_log SET reason = 'tampered'", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let delete = db.execute("DELETE FROM audit_log", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
    let after: i64 = db.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0)).unwrap();
    let tampered: i64 =
        db.query_row("SELECT COUNT(*) FROM audit_log WHERE reason = 'tampered'", [], |r| r.get(0)).unwrap();
    assert_eq!((after, tampered), (before, 0));
}

#[test]
fn no_audit_row_holds_a_raw_token_key_or_password() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let second = s.login_to("ann@example.test", &a.tenant_id);
    let wrong = "wrong horse battery staple";
    assert_error(&s.login("ann@example.test", wrong), 401, "invalid_credentials");
    let new_key = s.post("/v1/keys", Some(&a.token), json!({ "name": "ci" })).str("/key");
    let eve_password = "another operator passphrase 42";
    let eve = json!({ "email": "eve@example.test", "password": eve_password });
    assert_eq!(s.post("/v1/admin/admins", Some(&op), eve).status, 201);
    let eve_token = s
        .post("/v1/admin/auth/login", None, json!({ "email": "eve@example.test", "password": eve_password }))
        .str("/session_token");
    let bad_admin = json!({ "email": "eve@example.test", "password": wrong });
    assert_error(&s.post("/v1/admin/auth/login", None, bad_admin), 401, "invalid_credentials");
    for what in ["suspend", "restore", "revoke-sessions", "delete", "restore"] {
        s.post(&format!("/v1/admin/tenants/{}/{what}", a.tenant_id), Some(&eve_token), reason("audit check"));
    }
    s.post(&format!("/v1/admin/users/{}/disable", a.user_id), Some(&op), reason("x"));
    s.patch(&format!("/v1/admin/tenants/{}", a.tenant_id), Some(&op), json!({ "name": "Renamed", "max_seats": 3 }));
    let created = s.post("/v1/admin/tenants", Some(&op), json!({ "name": "New", "owner_email": "olga@example.test" }));
    let activation = token_of(&created.str("/activation_url"));
    let activated = s.post("/v1/auth/activate", None, json!({ "token": activation, "password": eve_password }));
    let olga = activated.str("/session_token");

    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT action, COALESCE(actor_id, '') || ' ' || COALESCE(tenant_id, '') || ' ' || COALESCE(target_id, '')
                    || ' ' || COALESCE(ip, '') || ' ' || COALESCE(user_agent, '') || ' ' || COALESCE(reason, '')
                    || ' ' || COALESCE(before, '') || ' ' || COALESCE(after, '')
             FROM audit_log",
        )
        .unwrap();
    let rows: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    assert!(rows.len() >= 15, "{rows:?}");
    let secrets =
        [PASSWORD, wrong, eve_password, &a.key, &new_key, &a.token, &second, &op, &eve_token, &activation, &olga];
    for (action, text) in &rows {
        for secret in secrets {
            assert!(!text.contains(secret), "{action} holds a secret: {text}");
        }
    }
}

#[test]
fn operators_page_through_the_outbox_without_bodies() {
    // Real mail through an SMTP listener: the sign-up's verification and one invitation are
    // delivered, then the listener goes down and a second invitation fails.
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    let op = s.admin("op@example.test");
    assert_eq!(s.get("/v1/admin/outbox", Some(&op)).body, json!({ "items": [], "next_cursor": null }));
    let a = s.signup("ann@example.test");
    let sent = |to: &str| s.outbox().iter().any(|m| m.to == to && m.sent_at.is_some());
    wait_until("the verification is sent", || sent("ann@example.test"));
    s.app.clock.advance(1);
    assert_eq!(s.invite(&a.token, "one@example.test", "member").status, 201);
    wait_until("the first invitation is sent", || sent("one@example.test"));
    sink.set_up(false);
    s.app.clock.advance(1);
    assert_eq!(s.invite(&a.token, "two@example.test", "member").status, 201);
    wait_until("the second invitation fails", || s.outbox_to("two@example.test", "invitation")[0].attempts == 1);

    let first = s.get("/v1/admin/outbox?limit=2", Some(&op));
    let page = items(&first);
    let to: Vec<&str> = page.iter().filter_map(|m| m["to"].as_str()).collect();
    assert_eq!(to, ["two@example.test", "one@example.test"], "newest first");
    let failed = &page[0];
    let mut fields: Vec<&str> = failed.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["attempts", "created_at", "id", "kind", "last_error", "sent_at", "subject", "to"]);
    assert_eq!(
        (&failed["kind"], &failed["sent_at"], &failed["attempts"]),
        (&json!("invitation"), &json!(null), &json!(1))
    );
    assert_eq!(failed["subject"], "You are invited to Tenant of ann on Keystead");
    assert!(failed["last_error"].as_str().is_some_and(|e| e.contains("421")), "{failed}");
    assert!(failed["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{failed}");
    assert_eq!((&page[1]["attempts"], &page[1]["last_error"]), (&json!(1), &json!(null)));
    assert!(page[1]["sent_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", first.text);
    assert!(!first.text.contains("token=") && !first.text.contains("/activate"), "no bodies: {}", first.text);

    let rest = s.get(&format!("/v1/admin/outbox?limit=2&cursor={}", first.str("/next_cursor")), Some(&op));
    assert_eq!(items(&rest).len(), 1);
    assert_eq!(
        (&items(&rest)[0]["to"], &items(&rest)[0]["kind"]),
        (&json!("ann@example.test"), &json!("verify_email"))
    );
    assert_eq!(rest.body["next_cursor"], json!(null));
    assert_error(&s.get("/v1/admin/outbox?limit=abc", Some(&op)), 400, "invalid_request");
}

/// Issue 10 item 9: account-level events (tenant switch, profile, password, email change
/// and verification requests) concern the account, not a tenant: no tenant's audit shows
/// them, even the tenant the session acted in. Before the fix tenant B's owner saw its
/// member's requested new address.
#[test]
fn account_level_events_are_shown_to_no_tenant() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let m = s.signup("mia@example.test");
    s.add_member(&a, &m, "member", "active");
    s.add_member(&b, &m, "member", "active");
    assert_eq!(s.post("/v1/auth/switch-tenant", Some(&m.token), json!({ "tenant_id": b.tenant_id })).status, 200);
    assert_eq!(s.patch("/v1/me", Some(&m.token), json!({ "name": "Mia M" })).status, 200);
    let change = json!({ "new_email": "secret-new@example.test", "password": PASSWORD });
    assert_eq!(s.post("/v1/me/email", Some(&m.token), change).status, 202);
    s.app.clock.advance(61);
    assert_eq!(s.post("/v1/me/verify-email", Some(&m.token), json!({})).status, 202);
    let body = json!({ "current_password": PASSWORD, "new_password": "another long passphrase 9" });
    assert_eq!(s.post("/v1/me/password", Some(&m.token), body).status, 204);
    assert_eq!(s.post("/v1/auth/switch-tenant", Some(&m.token), json!({ "tenant_id": a.tenant_id })).status, 200);

    let account_level = [
        "auth.tenant_switched",
        "account.profile_updated",
        "email.change_requested",
        "email.verification_requested",
        "account.password_changed",
    ];
    for owner in [&a, &b] {
        let res = s.get("/v1/tenant/audit?limit=200", Some(&owner.token));
        assert_eq!(res.status, 200);
        assert!(!res.text.contains("secret-new@example.test"), "{}", res.text);
        let seen: Vec<String> = items(&res).iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect();
        let leaked: Vec<&String> = seen.iter().filter(|a| account_level.contains(&a.as_str())).collect();
        assert!(leaked.is_empty(), "tenant {} sees {leaked:?}", owner.tenant_id);
    }
    // Rows written before account-level events lost their tenant are left out too.
    s.db_rw()
        .execute(
            "INSERT INTO audit_log (id, at, actor_type, actor_id, tenant_id, action, after)
             VALUES (?3, 1, 'user', ?1, ?2, 'email.change_requested', '{\"new_email\":\"old-new@example.test\"}')",
            [&m.user_id, &b.tenant_id, &uuid::Uuid::new_v4().to_string()],
        )
        .expect("an old row");
    let res = s.get("/v1/tenant/audit?limit=200", Some(&b.token));
    assert!(!res.text.contains("old-new@example.test"), "{}", res.text);
    // Operators see them all.
    let op = s.admin("op@example.test");
    let all = s.get(&format!("/v1/admin/audit?actor_id={}&limit=200", m.user_id), Some(&op));
    let actions: Vec<String> = items(&all).iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect();
    assert!(account_level.iter().all(|a| actions.iter().any(|x| x == a)), "{actions:?}");
}
