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

/// Workers hammer a key and a session while the test revokes them: every verification
/// sent after the revocation's answer fails, on whichever worker and connection it lands.
#[test]
fn a_revocation_under_load_holds_from_the_very_next_request_on_every_worker() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let s = TestServer::spawn();
    let a = s.signup("cache-load@example.test");
    let doomed = s.post("/v1/keys", Some(&a.token), json!({ "name": "doomed" }));
    assert_eq!(doomed.status, 201, "{}", doomed.text);
    let (key_id, key) = (doomed.str("/id"), doomed.str("/key"));
    let login = s.login(&a.email, crate::support::PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text);
    let session = login.str("/session_token");
    let listed = s.get("/v1/sessions", Some(&session));
    let session_id = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["current"] == json!(true)))
        .and_then(|i| i["id"].as_str())
        .expect("the current session")
        .to_owned();

    let revoked = AtomicBool::new(false);
    let checked_after = AtomicUsize::new(0);
    let warm = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for n in 0..8 {
            let (s, key, session, revoked, checked_after, warm) = (&s, &key, &session, &revoked, &checked_after, &warm);
            scope.spawn(move || {
                let mut after = 0;
                while after < 40 {
                    let sent_after_revocation = revoked.load(Ordering::SeqCst);
                    let verdicts = [
                        s.post("/v1/verify/key", None, json!({ "key": key })).body["valid"].clone(),
                        s.post("/v1/verify/session", None, json!({ "token": session })).body["valid"].clone(),
                        json!(s.get("/v1/me", Some(session)).status == 200),
                    ];
                    if sent_after_revocation {
                        assert_eq!(verdicts, [json!(false), json!(false), json!(false)], "thread {n}");
                        after += 1;
                    } else {
                        warm.fetch_add(1, Ordering::SeqCst);
                    }
                }
                checked_after.fetch_add(after, Ordering::SeqCst);
            });
        }
        // Every worker has both cached before the revocations.
        while warm.load(Ordering::SeqCst) < 200 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(s.delete(&format!("/v1/keys/{key_id}"), Some(&a.token)).status, 204);
        assert_eq!(s.delete(&format!("/v1/sessions/{session_id}"), Some(&a.token)).status, 204);
        revoked.store(true, Ordering::SeqCst);
    });
    assert_eq!(checked_after.load(Ordering::SeqCst), 8 * 40);
    // What was not revoked still verifies.
    assert_eq!(s.post("/v1/verify/key", None, json!({ "key": a.key })).body["valid"], json!(true));
    assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
}

#[test]
fn a_tenant_suspended_from_the_command_line_stops_its_keys_and_sessions_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("cache-cli@example.test");
    for _ in 0..ROUNDS {
        assert_eq!(s.post("/v1/verify/key", None, json!({ "key": a.key })).body["valid"], json!(true));
        assert_eq!(s.get("/v1/me", Some(&a.token)).status, 200);
    }
    crate::cli::ok(&s, &["tenants", "suspend", &a.tenant_id, "--reason", "cache test"]);
    for _ in 0..ROUNDS {
        let res = s.post("/v1/verify/key", None, json!({ "key": a.key }));
        assert_eq!(res.body, json!({ "valid": false, "code": "tenant_inactive" }));
        assert_error(&s.get("/v1/me", Some(&a.token)), 401, "unauthorized");
    }
}
