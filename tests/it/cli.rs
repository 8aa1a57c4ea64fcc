//! `keystead tenants …` and `keystead users …`: the same operations from the machine,
//! printing tables or the API's JSON, audited as the "system" actor.
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, assert_error, token_of};

pub(crate) fn keystead(s: &TestServer, args: &[&str]) -> Output {
    let db = s.db_path();
    Command::new(env!("CARGO_BIN_EXE_keystead"))
        .args(args)
        .arg("--db")
        .arg(&db)
        .env("RUST_LOG", "warn")
        .env_remove("KEYSTEAD_BASE_URL")
        .output()
        .expect("keystead runs")
}

/// Runs a command that must succeed; its standard output.
#[track_caller]
pub(crate) fn ok(s: &TestServer, args: &[&str]) -> String {
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
    assert!(table.contains("tenant-of-ann") && table.contains(&b.tenant_id), "{table}");
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
    assert!(table.contains("bob@example.test") && table.contains("tenant-of-bob:owner:active"), "{table}");
    fails(&s, &["users", "list", "--tenant-id", "nope"], "tenant_id");

    fails(&s, &["users", "disable", &a.user_id, "--reason", "x"], "last_owner");
    s.add_member(&a, &b, "owner", "active");
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

#[test]
fn a_tenant_is_created_from_the_command_line_and_its_owner_activates() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let base = "https://id.example.test/";
    let args = [
        "tenants",
        "create",
        "--name",
        "Seeded Co",
        "--owner-email",
        "Owner@Seeded.test",
        "--owner-name",
        "Sam",
        "--plan",
        "team",
        "--max-seats",
        "3",
        "--base-url",
        base,
    ];
    let out = ok(&s, &args);
    assert!(out.starts_with("ID") && out.contains("seeded-co") && out.contains("team"), "{out}");
    assert!(out.contains("owner@seeded.test") && out.contains("invited"), "{out}");
    assert!(out.contains("in the outbox") && out.contains("--smtp-url"), "says where the mail is: {out}");
    // The lifetime told is core's, as the mail tells it.
    let days = keystead::core::tokens::lifetime_secs(keystead::types::TokenKind::Activation) / 86_400;
    assert!(out.contains(&format!("(valid {days} days, single use)")), "{out}");
    let url = out.lines().find(|l| l.starts_with("https://id.example.test/activate?token=")).expect("the link");
    let token = token_of(url);
    let queued = s.outbox_to("owner@seeded.test", "invitation");
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].holds(&format!("{}?token={token}", "https://id.example.test/activate")),
        "the mail links there too"
    );

    let event = s.last_event(&op, "tenant.created");
    assert_eq!((&event["actor_type"], &event["actor_id"]), (&json!("system"), &json!(null)));
    assert_eq!(s.last_event(&op, "member.invited")["actor_type"], "system");

    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.str("/user/role"), res.str("/tenant/slug")), ("owner".into(), "seeded-co".into()));
    assert_eq!(res.body["tenant"]["max_seats"], 3);

    // --json prints the API's answer, an existing account is invited as owner, and --slug is kept.
    let args =
        ["tenants", "create", "--name", "Second", "--slug", "second", "--owner-email", "owner@seeded.test", "--json"];
    let out = json_of(&ok(&s, &args));
    assert_eq!(out["tenant"]["slug"], "second");
    assert_eq!((&out["owner"]["id"], &out["owner"]["status"]), (&res.body["user"]["id"], &json!("invited")));
    assert_eq!(out["invite_email"], json!({ "sent": false, "reason": "smtp_not_configured" }));
    assert!(out.get("activation_url").is_none(), "no link opens an existing account: {out}");
    let login = s.login("owner@seeded.test", PASSWORD);
    let path = format!("/v1/me/invitations/{}/accept", out["tenant"]["id"].as_str().unwrap());
    let res = s.post(&path, Some(&login.str("/session_token")), json!({}));
    assert_eq!(res.status, 200, "an existing account accepts signed in: {}", res.text);

    fails(
        &s,
        &["tenants", "create", "--name", "Third", "--slug", "second", "--owner-email", "x@seeded.test"],
        "slug_taken",
    );
    fails(&s, &["tenants", "create", "--name", "X", "--slug", "Bad Slug", "--owner-email", "x@seeded.test"], "slug");
    fails(&s, &["tenants", "create", "--name", "X", "--owner-email", "nope"], "owner_email");
    fails(&s, &["tenants", "create", "--name", "X", "--owner-email", "x@seeded.test", "--max-seats", "0"], "max_seats");
    fails(&s, &["tenants", "create", "--owner-email", "x@seeded.test"], "--name");
    fails(&s, &["tenants", "create", "--name", "X", "--owner-email", "x@s.test", "--base-url", "ftp://x"], "base-url");
    assert!(s.outbox_to("x@seeded.test", "invitation").is_empty(), "failed commands leave nothing behind");
}

#[test]
fn a_locked_out_accounts_factors_are_reset_from_the_command_line() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let a = s.signup("ann@example.test");
    s.enrol_totp("/v1/me/mfa", &a.token);
    assert_error(&s.login(&a.email, PASSWORD), 403, "mfa_required");
    fails(&s, &["users", "reset-mfa", &a.user_id, "--reason", " "], "reason_required");
    fails(&s, &["users", "reset-mfa", "00000000-0000-4000-8000-000000000000", "--reason", "x"], "not_found");
    let out = json_of(&ok(&s, &["users", "reset-mfa", &a.user_id, "--reason", "lost phone", "--json"]));
    assert_eq!(out["account"]["id"], a.user_id.as_str());
    assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    assert_eq!(s.login(&a.email, PASSWORD).status, 200, "the password alone again");
    let event = s.last_event(&op, "mfa.reset");
    assert_eq!((event["actor_type"].as_str(), event["reason"].as_str()), (Some("system"), Some("lost phone")));
}

/// An operator locked out of its own factor (there may be no other operator to ask) is
/// recovered on the server's machine.
#[test]
fn a_locked_out_operators_factors_are_reset_from_the_command_line() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let other = s.admin("other@example.test");
    s.enrol_totp("/v1/admin/me/mfa", &op);
    let login = json!({ "email": "op@example.test", "password": PASSWORD });
    assert_error(&s.post("/v1/admin/auth/login", None, login.clone()), 403, "mfa_required");
    fails(&s, &["admin", "reset-mfa", "op@example.test", "--reason", " "], "reason_required");
    fails(&s, &["admin", "reset-mfa", "op@example.test"], "--reason");
    fails(&s, &["admin", "reset-mfa", "nobody@example.test", "--reason", "x"], "not_found");
    fails(&s, &["admin", "reset-mfa", "not an address", "--reason", "x"], "email");
    assert_eq!(s.get("/v1/admin/me/mfa", Some(&op)).body["totp"], json!(true), "failed commands change nothing");

    let out = ok(&s, &["admin", "reset-mfa", "OP@example.test", "--reason", "lost phone, checked in person"]);
    assert!(out.contains("op@example.test") && out.contains("ended its sessions"), "{out}");
    assert_error(&s.get("/v1/admin/me/mfa", Some(&op)), 401, "unauthorized");
    let res = s.post("/v1/admin/auth/login", None, login);
    assert_eq!(res.status, 200, "the password alone again: {}", res.text);
    assert_eq!(s.get("/v1/admin/me/mfa", Some(&res.str("/session_token"))).body["totp"], json!(false));
    let event = s.last_event(&other, "mfa.reset");
    assert_eq!(
        (event["actor_type"].as_str(), event["target_type"].as_str(), event["reason"].as_str()),
        (Some("system"), Some("admin"), Some("lost phone, checked in person"))
    );
    assert_eq!(event["after"]["sessions_revoked"], json!(1));
    let notice = s.outbox_to("op@example.test", "notice_factor_changed").pop().expect("told");
    assert!(notice.holds("An operator removed every second factor") && notice.holds("/admin/security"));
}

#[test]
fn a_signing_key_rotated_from_the_command_line_is_published_and_signs_in_the_running_server() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let kids = |s: &TestServer| -> Vec<String> {
        let jwks = s.get("/.well-known/jwks.json", None).body;
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    let old = kids(&s);
    assert_eq!(old.len(), 1);

    let out = json_of(&ok(&s, &["signing-keys", "rotate", "--json"]));
    let keys = out["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"], "one new key per alg");
    let mut published: Vec<String> = keys.iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    let new = published[2].clone();
    assert_eq!(out["retired"]["kids"], json!(old), "the server had made no RS256 or ES256 key yet");
    published.reverse();
    published.push(old[0].clone());
    assert_eq!(kids(&s), published, "the running server publishes old and new at once, newest first");

    s.app.clock.advance(keystead::core::signing::JWKS_MAX_AGE_SECS);
    let token = s.post("/v1/auth/token", Some(&a.token), json!({})).str("/access_token");
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], new.as_str(), "no restart needed");
    let table = ok(&s, &["signing-keys", "rotate"]);
    let eddsa = table.lines().find(|l| l.starts_with("EdDSA")).unwrap_or_default().to_owned();
    assert!(table.starts_with("ALG") && eddsa.contains(&new), "the second rotation retires the first new key: {table}");
    assert_eq!(table.lines().count(), 4, "a header and one row per alg: {table}");
}
