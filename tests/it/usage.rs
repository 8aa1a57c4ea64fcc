//! Uses of keys and sessions are recorded off the request path: verifications hand them to
//! a flusher that writes them in one transaction every few seconds (and when the server
//! stops; the SIGTERM test is in `binary`).
use std::time::{Duration, Instant};

use keystead::core::usage::FLUSH_EVERY;
use serde_json::json;

use crate::support::TestServer;

fn last_used(s: &TestServer, key_id: &str) -> Option<i64> {
    s.db().query_row("SELECT last_used_at FROM keys WHERE id = ?1", [key_id], |r| r.get(0)).expect("row")
}

#[test]
fn ten_thousand_verifications_of_a_thousand_keys_take_a_handful_of_write_transactions() {
    let s = TestServer::spawn();
    let a = s.signup("many-keys@example.test");
    let mut keys = vec![(a.key_id.clone(), a.key.clone())];
    for n in 1..1000 {
        let res = s.post("/v1/keys", Some(&a.token), json!({ "name": format!("key {n}") }));
        assert_eq!(res.status, 201, "{}", res.text);
        keys.push((res.str("/id"), res.str("/key")));
    }
    let started = Instant::now();
    let before = s.app.db.commits();
    std::thread::scope(|scope| {
        for part in keys.chunks(250) {
            let s = &s;
            scope.spawn(move || {
                for round in 0..10 {
                    for (_, key) in part {
                        let res = s.post("/v1/verify/key", None, json!({ "key": key }));
                        assert_eq!(res.body["valid"], json!(true), "round {round}: {}", res.text);
                    }
                }
            });
        }
    });
    s.flush_usage();
    let writes = s.app.db.commits() - before;
    assert!(started.elapsed() < Duration::from_secs(60), "the test is about one minute: {:?}", started.elapsed());
    // One per flush (every few seconds), plus the odd write of the mail sender.
    assert!(writes <= 2 + started.elapsed().as_secs() / FLUSH_EVERY.as_secs(), "{writes} write transactions");
    for (id, _) in &keys {
        assert!(last_used(&s, id).is_some(), "the use of key {id} is recorded");
    }
}

#[test]
fn the_flusher_writes_a_use_within_seconds_on_its_own() {
    let s = TestServer::spawn();
    let a = s.signup("flushed@example.test");
    assert_eq!(s.post("/v1/verify/key", None, json!({ "key": a.key })).body["valid"], json!(true));
    assert_eq!(s.post("/v1/verify/session", None, json!({ "token": a.token })).body["valid"], json!(true));
    let deadline = Instant::now() + FLUSH_EVERY + Duration::from_secs(3);
    while last_used(&s, &a.key_id).is_none() {
        assert!(Instant::now() < deadline, "no flush within {FLUSH_EVERY:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
