//! `keystead bench-seed` (hidden): a database at benchmark scale, here a small one, whose
//! sampled keys and sessions work against the running server, and whose accounts sign in.
use serde_json::json;

use crate::cli::{keystead, ok};
use crate::support::TestServer;

fn count(s: &TestServer, table: &str) -> i64 {
    s.db().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

#[test]
fn bench_seed_fills_every_table_and_its_samples_work() {
    let s = TestServer::spawn();
    let out = tempfile::tempdir().expect("tmp");
    let dir = out.path().to_str().expect("utf-8");
    let sizes =
        ["--tenants", "20", "--accounts", "200", "--keys", "300", "--sessions", "400", "--audit-events", "1000"];
    let printed = ok(&s, &[&["bench-seed", "--sample", "50", "--out", dir][..], &sizes[..]].concat());
    assert!(printed.contains("seeded 20 tenants, 200 accounts"), "{printed}");
    for (table, n) in [("tenants", 20), ("portal_users", 200), ("memberships", 200), ("keys", 300), ("audit_log", 1000)]
    {
        assert_eq!(count(&s, table), n, "{table}");
    }
    assert_eq!(count(&s, "sessions WHERE realm = 'portal' AND revoked_at IS NULL"), 400);
    assert_eq!(count(&s, "memberships WHERE role = 'owner'"), 20, "one owner a tenant");

    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).expect("sample file");
    let (keys, tokens) = (read("keys"), read("tokens"));
    for name in ["keys", "tokens"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(out.path().join(name)).expect("sample file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "raw secrets are their owner's only: {name}");
    }
    assert_eq!(keys.lines().collect::<std::collections::HashSet<_>>().len(), 50, "distinct keys");
    assert_eq!(tokens.lines().count(), 50);
    for key in keys.lines().step_by(7) {
        assert_eq!(s.post("/v1/verify/key", None, json!({ "key": key })).body["valid"], json!(true), "{key}");
    }
    for token in tokens.lines().step_by(7) {
        assert_eq!(s.get("/v1/me", Some(token)).status, 200, "a seeded session works");
    }
    let login = s.login("user0000200@bench.test", "bench correct horse battery staple");
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.body["user"]["role"], json!("member"));
}

#[test]
fn bench_seed_refuses_a_database_that_holds_its_rows_already() {
    let s = TestServer::spawn();
    let out = tempfile::tempdir().expect("tmp");
    let args =
        ["bench-seed", "--tenants", "2", "--accounts", "2", "--keys", "0", "--sessions", "0", "--audit-events", "0"];
    let dir = out.path().to_str().expect("utf-8");
    ok(&s, &[&args[..], &["--out", dir]].concat());
    let again = keystead(&s, &[&args[..], &["--out", dir]].concat());
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("bench-seed fills an empty database"), "{stderr}");
    let bad = keystead(&s, &["bench-seed", "--tenants", "0", "--out", dir]);
    assert!(!bad.status.success(), "no tenants is refused");
}
