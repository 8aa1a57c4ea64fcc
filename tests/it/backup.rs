//! Backups of a live database: the copy `keystead backup` takes (`Db::backup_to`, VACUUM
//! INTO) while writes go on holds every write acknowledged before it started, passes
//! SQLite's integrity check, and restores into a server that verifies the keys it holds.
//! This is also how Litestream's promise is tested here: Litestream itself ships only as a
//! release binary, which these machines cannot fetch.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use keystead::app::App;
use keystead::config::Config;
use keystead::crypto::aead::key_file;
use keystead::server;
use serde_json::json;

use crate::support::TestServer;

#[test]
fn a_backup_under_write_load_holds_every_acknowledged_write_and_restores() {
    let s = Arc::new(TestServer::spawn());
    let owner = s.signup("owner@backup.test");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop, token) = (s.clone(), stop.clone(), owner.token.clone());
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let res = s.post("/v1/keys", Some(&token), json!({ "name": format!("key {n}") }));
                assert_eq!(res.status, 201, "{}", res.text);
                acknowledged.push((res.str("/id"), res.str("/key")));
            }
            acknowledged
        })
    };
    // Let writes pile up, then copy while they go on.
    crate::support::wait_until("some keys are written", || {
        s.db().query_row("SELECT count(*) FROM keys", [], |r| r.get::<_, i64>(0)).unwrap_or(0) >= 20
    });
    let before: i64 = s.db().query_row("SELECT count(*) FROM keys", [], |r| r.get(0)).expect("count");
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("keystead.db");
    s.app.db.backup_to(&copy).expect("backup");
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let acknowledged = writer.join().expect("writer");

    let conn = rusqlite::Connection::open(&copy).expect("open copy");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
    assert_eq!(check, "ok");
    let copied: Vec<String> = conn
        .prepare("SELECT id FROM keys")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids");
    drop(conn);
    // Every key acknowledged before the copy began is in it (keys are acknowledged in order).
    let first_keys = usize::try_from(before).expect("count") - 1; // the sign-up's own key
    assert!(acknowledged.len() > first_keys, "writes went on during the backup");
    for (id, _) in &acknowledged[..first_keys] {
        assert!(copied.contains(id), "acknowledged key {id} is missing from the backup");
    }

    // Restore: the copy and the master key file, under a new server.
    std::fs::copy(key_file(&s.db_path()), key_file(&copy)).expect("copy the key file");
    let listener = server::listen("127.0.0.1:0", server::CLIENT_TIMEOUT).expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = Config::new(copy.clone());
    config.base_url.clone_from(&base);
    let restored = server::start_on(Arc::new(App::open(config).expect("the restored database opens")), listener)
        .expect("serve the restored database");
    let (id, key) = &acknowledged[first_keys - 1];
    let answer: serde_json::Value = ureq::post(&format!("{base}/v1/verify/key"))
        .send_json(json!({ "key": key }))
        .expect("verify")
        .into_json()
        .expect("json");
    assert_eq!((answer["valid"].clone(), answer["key_id"].clone()), (json!(true), json!(id)));
    restored.stop();
}
