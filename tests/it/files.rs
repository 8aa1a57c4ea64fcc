//! Nothing raw is recoverable from the files: after invite, reset, verify and email-change
//! flows (with and without SMTP), the database, its -wal and -shm files and a `keystead
//! backup` copy hold none of the raw secrets; every file is created 0600, and a database
//! others may read is refused.
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::{PASSWORD, TestServer, token_of, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_keystead");

/// Where the flows' links come from: the mail received, or (without SMTP) the outbox,
/// whose sealed bodies the harness opens with the app's key.
enum Links<'a> {
    Mailed(&'a SmtpSink),
    Outbox,
}

impl Links<'_> {
    fn token(&self, s: &TestServer, to: &str, kind: &str, subject: &str, path: &str) -> String {
        match self {
            Links::Mailed(sink) => sink.mail_to(to, subject).token(path),
            Links::Outbox => {
                let message = s.outbox_to(to, kind).pop().unwrap_or_else(|| panic!("no {kind} mail to {to}"));
                let needle = format!("{path}?token=");
                let at = message.body_text.find(&needle).unwrap_or_else(|| panic!("no link in {}", message.body_text));
                let rest = &message.body_text[at + needle.len()..];
                let end =
                    rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
                rest[..end].to_owned()
            }
        }
    }
}

/// Runs every flow that mails a link, and returns each raw secret seen on the way.
fn flows(s: &TestServer, links: &Links<'_>) -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    let mut keep = |what: &str, value: String| secrets.push((what.to_owned(), value));
    let owner = s.signup("owner@a.test");
    keep("owner password", PASSWORD.into());
    keep("session token", owner.token.clone());
    keep("API key", owner.key.clone());
    let provider = "sk-live-provider-secret-0123456789-WXYZ";
    assert_eq!(s.patch("/v1/tenant", Some(&owner.token), json!({ "provider_key": provider })).status, 200);
    keep("provider key", provider.into());

    // Verify: the sign-up's verification link.
    let verify = links.token(s, "owner@a.test", "verify_email", "Confirm your email", "/verify-email");
    assert_eq!(s.post("/v1/auth/verify-email", None, json!({ "token": verify })).status, 204);
    keep("verification token", verify);

    // Invite: the link from the response (no SMTP) or the mail, and the member's password.
    let res = s.invite(&owner.token, "new@a.test", "member");
    assert_eq!(res.status, 201, "{}", res.text);
    let activation = match links {
        Links::Outbox => token_of(&res.str("/activation_url")),
        Links::Mailed(_) => links.token(s, "new@a.test", "invitation", "invited", "/activate"),
    };
    let member_password = "member passphrase never stored raw";
    let res = s.post("/v1/auth/activate", None, json!({ "token": activation, "password": member_password }));
    assert_eq!(res.status, 200, "{}", res.text);
    keep("activation token", activation);
    keep("member password", member_password.into());
    keep("member session token", res.str("/session_token"));
    // An invitation left pending: its live link is in the outbox (sealed) only.
    let res = s.invite(&owner.token, "pending@a.test", "member");
    let pending = match links {
        Links::Outbox => token_of(&res.str("/activation_url")),
        Links::Mailed(_) => links.token(s, "pending@a.test", "invitation", "invited", "/activate"),
    };
    keep("pending activation token", pending);

    // Reset: one link used, a newer one left unused.
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "new@a.test" })).status, 202);
    let reset = links.token(s, "new@a.test", "password_reset", "Reset", "/reset-password");
    let new_password = "a reset passphrase never stored raw";
    let res = s.post("/v1/auth/reset-password", None, json!({ "token": reset, "password": new_password }));
    assert_eq!(res.status, 204, "{}", res.text);
    keep("reset token", reset);
    keep("reset password", new_password.into());
    s.app.clock.advance(301);
    assert_eq!(s.post("/v1/auth/forgot-password", None, json!({ "email": "new@a.test" })).status, 202);
    keep("unused reset token", links.token(s, "new@a.test", "password_reset", "Reset", "/reset-password"));

    // Email change, confirmed.
    let res = s.post("/v1/me/email", Some(&owner.token), json!({ "new_email": "moved@a.test", "password": PASSWORD }));
    assert_eq!(res.status, 202, "{}", res.text);
    let change = links.token(s, "moved@a.test", "email_change", "Confirm your new", "/confirm-email");
    assert_eq!(s.post("/v1/auth/confirm-email-change", None, json!({ "token": change })).status, 204);
    keep("email-change token", change);
    secrets
}

/// `keystead backup` of the server's database (its key file beside it) into `out`.
fn backup(s: &TestServer, out: &Path) {
    let db = s.db_path();
    let done = Command::new(BIN).arg("backup").arg("--db").arg(&db).arg(out).env("RUST_LOG", "warn").output();
    let done = done.expect("backup runs");
    assert!(done.status.success(), "backup: {}", String::from_utf8_lossy(&done.stderr));
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The flows, then a scan of every file for every secret (and the modes of the files).
fn scan_after_flows(s: &TestServer, links: &Links<'_>) {
    let secrets = flows(s, links);
    if let Links::Mailed(_) = links {
        wait_until("every mail is sent", || s.outbox().iter().all(|m| m.sent_at.is_some()));
    }
    let dir = tempfile::tempdir().expect("tmp");
    let copy = dir.path().join("backup.db");
    backup(s, &copy);
    let db = s.db_path();
    let files = [db.clone(), with_suffix(&db, "-wal"), with_suffix(&db, "-shm"), copy];
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (what, secret) in &secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "the raw {what} is in {}", file.display());
        }
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&with_suffix(&db, ".key")), 0o600);
    // The scan reads what the files hold: the data itself is there, in the clear.
    let all: Vec<u8> = files.iter().flat_map(|f| std::fs::read(f).expect("read")).collect();
    assert!(all.windows(12).any(|w| w == b"moved@a.test"), "the scan sees stored data");
}

#[test]
fn no_raw_secret_is_in_the_files_without_smtp() {
    let s = TestServer::spawn();
    scan_after_flows(&s, &Links::Outbox);
}

#[test]
fn no_raw_secret_is_in_the_files_with_smtp() {
    let sink = SmtpSink::start();
    let s = TestServer::with_smtp(&sink.url());
    scan_after_flows(&s, &Links::Mailed(&sink));
}

#[test]
fn a_database_others_may_read_is_refused_by_every_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("k.db");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).arg("--db").arg(&db).env_remove("KEYSTEAD_DB").output();
        let out = out.expect("keystead runs");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert!(run(&["tenants", "list"]).0, "creates the database");
    assert_eq!(mode(&db), 0o600, "created readable by its owner only");
    for readable in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(readable)).expect("chmod");
        for args in [&["serve", "--bind", "127.0.0.1:0"][..], &["users", "list"], &["tenants", "list"]] {
            let (ok, stderr) = run(args);
            assert!(!ok, "{args:?} started on a {readable:o} database");
            assert!(stderr.contains(&format!("chmod 600 {}", db.display())), "{args:?}: {stderr}");
        }
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(run(&["users", "list"]).0, "the fix named works");
}
