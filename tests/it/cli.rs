//! `keystead tenants …` and `keystead users …`: the same operations from the machine,
//! printing tables or the API's JSON, audited as the "system" actor.
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, assert_error};

fn keystead(s: &TestServer, args: &[&str]) -> Output {
    let db = s.db_path();
    Command::new(env!("CARGO_BIN_EXE_keystead"))
        .args(args)
        .arg("--db")
        .arg(&db)
        .env("RUST_LOG", "warn")
        .output()
        .expect("keystead runs")
}

/// Runs a command that must succeed; its standard output.
#[track_caller]
fn ok(s: &TestServer, args: &[&str]) -> String {
    let out = keystead(s, args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "keystead {args:?} failed: {stderr}{stdout}");
    stdout.into_owned()
}

#[track_caller]
fn fails(s: &TestServer, args: &[&str], needle: &str) {
    let out = keystead(s, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "keystead {args:?} should fail");
    assert!(stderr.contains(needle), "keystead {args:?}: expected {needle:?} in {stderr}");
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON output")
}

#[test]
fn tenants_are_listed_and_changed_from_the_command_line() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    s.app.clock.advance(1);
    let b = s.signup("bob@example.test");

    // --json prints exactly what the API answers.
    let listed = json_of(&ok(&s, &["tenants", "list", "--json"]));
    assert_eq!(listed, s.get("/v1/admin/tenants", Some(&op)).body);
    let table = ok(&s, &["tenants", "list"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("tenant-of-ann-example-test") && table.contains(&b.tenant_id), "{table}");
    let paged = ok(&s, &["tenants", "list", "--limit", "1"]);
    assert!(paged.contains("more: --cursor "), "{paged}");
    let searched = json_of(&ok(&s, &["tenants", "list", "--json", "--q", "of ann", "--status", "active"]));
    assert_eq!(searched["items"].as_array().map(Vec::len), Some(1));

    let out = json_of(&ok(&s, &["tenants", "suspend", &a.tenant_id, "--reason", "from the shell", "--json"]));
    assert_eq!(out["tenant"]["status"], "suspended");
    assert_eq!(out["tenant"]["id"], a.tenant_id.as_str());
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_eq!(s.verify_key(&a.key)["code"], "tenant_inactive");
    let event = s.last_event(&op, "tenant.suspended");
    assert_eq!((&event["actor_type"], &event["actor_id"]), (&json!("system"), &json!(null)));
    assert_eq!(event["reason"], "from the shell");

    fails(&s, &["tenants", "suspend", &a.tenant_id, "--reason", "again"], "invalid_transition");
    fails(&s, &["tenants", "delete", &a.tenant_id, "--reason", "   "], "reason_required");
    fails(&s, &["tenants", "delete", &a.tenant_id], "--reason");
    fails(&s, &["tenants", "delete", "00000000-0000-4000-8000-000000000000", "--reason", "x"], "not_found");
    fails(&s, &["tenants", "list", "--status", "bogus"], "bogus");
    fails(&s, &["tenants", "list", "--limit", "0"], "limit");

    let table = ok(&s, &["tenants", "delete", &a.tenant_id, "--reason", "closed"]);
    assert!(table.lines().nth(1).is_some_and(|row| row.contains("deleted")), "{table}");
    ok(&s, &["tenants", "restore", &a.tenant_id, "--reason", "reopened"]);
    assert_eq!(s.tenant_status(&op, &a.tenant_id), "active");
    assert_eq!(s.verify_key(&a.key)["valid"], true);
}

#[test]
fn accounts_are_listed_disabled_and_enabled_from_the_command_line() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");

    let listed = json_of(&ok(&s, &["users", "list", "--json"]));
    assert_eq!(listed, s.get("/v1/admin/users", Some(&op)).body);
    let ann = json_of(&ok(&s, &["users", "list", "--json", "--q", "ann", "--tenant-id", &a.tenant_id]));
    assert_eq!(ann["items"][0]["id"], a.user_id.as_str());
    assert_eq!(ann["items"].as_array().map(Vec::len), Some(1));
    let table = ok(&s, &["users", "list", "--status", "active"]);
    assert!(table.contains("bob@example.test") && table.contains("tenant-of-bob-example-test:owner:active"), "{table}");
    fails(&s, &["users", "list", "--tenant-id", "nope"], "tenant_id");

    fails(&s, &["users", "disable", &a.user_id, "--reason", "x"], "last_owner");
    s.add_membership(&a.tenant_id, &b.user_id, "owner", "active");
    let out = json_of(&ok(&s, &["users", "disable", &a.user_id, "--reason", "cli", "--json"]));
    assert_eq!(out["account"]["status"], "disabled");
    assert_error(&s.login("ann@example.test", PASSWORD), 403, "account_disabled");
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    fails(&s, &["users", "disable", &a.user_id, "--reason", "x"], "invalid_transition");
    let table = ok(&s, &["users", "enable", &a.user_id, "--reason", "cli"]);
    assert!(table.contains("ann@example.test") && table.contains("active"), "{table}");
    assert_eq!(s.login("ann@example.test", PASSWORD).status, 200);
    assert_eq!(s.last_event(&op, "account.enabled")["actor_type"], "system");
}
