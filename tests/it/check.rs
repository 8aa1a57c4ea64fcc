//! `keystead check`: an installation is reported sound only when it is, and checking it
//! changes nothing (no migration, no key file).
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::support::TestServer;

fn check(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keystead"));
    cmd.arg("check").arg("--db").arg(db).args(extra).env("RUST_LOG", "warn");
    for var in ["KEYSTEAD_BASE_URL", "KEYSTEAD_MASTER_KEY", "KEYSTEAD_SMTP_URL"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().expect("keystead runs")
}

/// The report and whether the command succeeded.
fn report(out: &Output) -> (bool, String) {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A server whose database holds one sealed value of every kind.
fn sealed_everything() -> TestServer {
    let s = TestServer::spawn();
    let ann = s.signup("ann@example.test");
    let res = s.patch("/v1/tenant", Some(&ann.token), json!({ "provider_key": "sk-live-provider-0123456789" }));
    assert_eq!(res.status, 200, "{}", res.text);
    s.enrol_totp("/v1/me/mfa", &ann.token);
    s
}

/// A copy of the server's database in a directory of its own, without its key file.
fn copy_without_key(s: &TestServer, dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("copy.db");
    s.app.db.backup_to(&copy).expect("backup");
    copy
}

#[test]
fn a_sound_installation_passes_and_is_left_as_it_was() {
    let s = sealed_everything();
    let migrations = |db: &Path| {
        let conn = rusqlite::Connection::open(db).expect("open");
        conn.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get::<_, i64>(0)).expect("count")
    };
    let before = migrations(&s.db_path());
    let (ok, text) = report(&check(&s.db_path(), &[], &[]));
    assert!(ok, "{text}");
    for line in ["ok    schema", "up to date", "PRAGMA quick_check: ok", "1 × signing key", "1 × TOTP secret"] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(text.contains("1 × provider key of tenant") && text.contains("opens every sealed value"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(!text.contains("sk-live-provider"), "no secret in the report: {text}");
    assert_eq!(migrations(&s.db_path()), before);
}

#[test]
fn a_wrong_or_missing_master_key_fails() {
    let s = sealed_everything();
    let wrong = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let (ok, text) = report(&check(&s.db_path(), &[], &[("KEYSTEAD_MASTER_KEY", wrong)]));
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL  master key") && text.contains("does not open"), "{text}");

    let dir = tempfile::tempdir().expect("dir");
    let copy = copy_without_key(&s, dir.path());
    let (ok, text) = report(&check(&copy, &[], &[]));
    assert!(!ok, "{text}");
    assert!(text.contains("no key is given") && text.contains("KEYSTEAD_MASTER_KEY"), "{text}");
    assert!(!copy.with_extension("db.key").exists(), "check creates no key file");
    // With the key given, the copy passes: what a restore needs is the file and the key.
    let key = std::fs::read_to_string(s.db_path().with_extension("db.key")).expect("key file");
    let (ok, text) = report(&check(&copy, &[], &[("KEYSTEAD_MASTER_KEY", key.trim())]));
    assert!(ok, "{text}");
}

#[test]
fn pending_steps_are_reported_and_a_newer_schema_fails() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().expect("dir");
    let copy = copy_without_key(&s, dir.path());
    std::fs::copy(s.db_path().with_extension("db.key"), copy.with_extension("db.key")).expect("key");
    let conn = rusqlite::Connection::open(&copy).expect("open");
    let last: i64 = conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0)).expect("max");
    conn.execute("DELETE FROM schema_migrations WHERE version = ?1", [last]).expect("forget a step");
    let (ok, text) = report(&check(&copy, &[], &[]));
    assert!(ok, "a pending step is what serve applies: {text}");
    assert!(text.contains(&format!("pending: {last} ")) && !text.contains("up to date"), "{text}");
    conn.execute("INSERT INTO schema_migrations VALUES (?1, ?2, 0), (9999, 'future', 0)", rusqlite::params![last, "x"])
        .expect("steps");
    let (ok, text) = report(&check(&copy, &[], &[]));
    assert!(!ok && text.contains("9999") && text.contains("newer keystead"), "{text}");
}

#[test]
fn a_damaged_shared_or_missing_database_fails() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().expect("dir");
    let (ok, text) = report(&check(&dir.path().join("nothing.db"), &[], &[]));
    assert!(!ok && text.contains("does not exist"), "{text}");
    assert!(!dir.path().join("nothing.db").exists(), "check creates no database");

    let copy = copy_without_key(&s, dir.path());
    std::fs::copy(s.db_path().with_extension("db.key"), copy.with_extension("db.key")).expect("key");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (ok, text) = report(&check(&copy, &[], &[]));
    assert!(!ok && text.contains("FAIL  file mode") && text.contains("chmod 600"), "{text}");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    // Garbage over the pages after the first: the file still opens, its contents do not.
    let mut bytes = std::fs::read(&copy).expect("read");
    let (page, len) = (4096, bytes.len());
    for b in bytes.iter_mut().skip(page).take(len.saturating_sub(2 * page)) {
        *b = 0x5a;
    }
    std::fs::write(&copy, &bytes).expect("write");
    let (ok, text) = report(&check(&copy, &[], &[]));
    assert!(!ok && text.contains("FAIL"), "{text}");
}

#[test]
fn an_invalid_configuration_fails_first() {
    let s = TestServer::spawn();
    let (ok, text) = report(&check(&s.db_path(), &["--base-url", "ftp://auth.example.com"], &[]));
    assert!(!ok && text.contains("FAIL  configuration") && text.contains("--base-url"), "{text}");
}
