//! The hot paths cache what they read (per worker thread, until the next commit): a change
//! is seen by the very next request, whether this server or another process (the command
//! line) wrote it.
use serde_json::json;

use crate::support::{TestServer, assert_error};

/// A writable connection of "another process" to the server's database.
fn other_process(s: &TestServer) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(s.db_path()).expect("open db");
    conn.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    conn
}

// More requests than workers, so that every worker has the value cached.
const ROUNDS: usize = 12;

#[test]
fn a_key_revoked_elsewhere_stops_verifying_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("cache-key@example.test");
    for _ in 0..ROUNDS {
        assert_eq!(s.post("/v1/verify/key", None, json!({ "key": a.key })).body["valid"], json!(true));
    }
    other_process(&s).execute("UPDATE keys SET revoked_at = 1 WHERE id = ?1", [&a.key_id]).expect("revoke");
    for _ in 0..ROUNDS {
        let res = s.post("/v1/verify/key", None, json!({ "key": a.key }));
        assert_eq!(res.body, json!({ "valid": false, "code": "revoked" }));
    }
}

#[test]
fn a_session_revoked_elsewhere_stops_working_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("cache-session@example.test");
    for _ in 0..ROUNDS {
        assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
        assert_eq!(s.post("/v1/verify/session", None, json!({ "token": a.token })).body["valid"], json!(true));
    }
    other_process(&s).execute("UPDATE sessions SET revoked_at = 1", []).expect("revoke");
    for _ in 0..ROUNDS {
        assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
        assert_eq!(s.post("/v1/verify/session", None, json!({ "token": a.token })).body["valid"], json!(false));
    }
}

#[test]
fn a_profile_changed_elsewhere_or_here_shows_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("cache-profile@example.test");
    for _ in 0..ROUNDS {
        assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
    }
    other_process(&s).execute("UPDATE portal_users SET name = 'Renamed Elsewhere'", []).expect("rename");
    for _ in 0..ROUNDS {
        assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Renamed Elsewhere");
    }
    assert_eq!(s.patch("/v1/me", Some(&a.token), json!({ "name": "Renamed Here" })).status, 200);
    for _ in 0..ROUNDS {
        assert_eq!(s.get("/v1/me", Some(&a.token)).str("/user/name"), "Renamed Here");
    }
}
