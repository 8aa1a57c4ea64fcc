//! The real binary: `admin create` (password on stdin), `serve` (flags or `KEYSTEAD_*`
//! variables, clean exit on SIGTERM), `backup`, and what its log lines may and may not say.
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::PASSWORD;

const BIN: &str = env!("CARGO_BIN_EXE_keystead");

/// The binary with a clean environment of `KEYSTEAD_*` variables, logging at info.
pub(crate) fn keystead(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in [
        "KEYSTEAD_DB",
        "KEYSTEAD_BIND",
        "KEYSTEAD_BASE_URL",
        "KEYSTEAD_SIGNUP",
        "KEYSTEAD_KEY_PREFIX",
        "KEYSTEAD_MASTER_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// `keystead admin create` with `password` as the line on stdin.
fn admin_create(db: &Path, email: &str, password: &str) -> Output {
    let mut child =
        keystead(&["admin", "create", "--db", db.to_str().expect("utf-8"), "--email", email, "--name", "Op"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn admin create");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write password");
    child.wait_with_output().expect("admin create runs")
}

/// A port nobody listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A running `keystead serve`; killed on drop if a test failed before stopping it.
pub(crate) struct Served {
    child: Child,
    base: String,
    stderr: Option<JoinHandle<String>>,
    agent: ureq::Agent,
}

impl Served {
    pub(crate) fn start(cmd: Command, port: u16) -> Self {
        Self::start_with(cmd, port, Stdio::null())
    }

    /// As `start`, with the process's standard output going to `stdout`.
    fn start_with(cmd: Command, port: u16, stdout: Stdio) -> Self {
        let served = Self::spawn(cmd, port, stdout);
        served.wait_healthy();
        served
    }

    /// The process started, not yet answering (a test of HTTPS waits its own way).
    pub(crate) fn spawn(mut cmd: Command, port: u16, stdout: Stdio) -> Self {
        let mut child = cmd.stdout(stdout).stderr(Stdio::piped()).spawn().expect("spawn serve");
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        // No kept-alive connections: a test may count the server's open ones.
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).max_idle_connections(0).build();
        Self { child, base: format!("http://127.0.0.1:{port}"), stderr: Some(stderr), agent }
    }

    /// Sends the process a signal (`HUP`, `TERM`).
    pub(crate) fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([&format!("-{name}"), &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -{name} {pid} failed");
    }

    /// Polls /healthz until the process listens (the binary takes a moment to start).
    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(res) = self.agent.get(&format!("{}/healthz", self.base)).call() {
                assert_eq!(res.status(), 200);
                let body: Value = res.into_json().expect("json");
                assert_eq!(body, json!({ "status": "ok" }));
                return;
            }
            assert!(Instant::now() < deadline, "keystead serve did not answer /healthz on {}", self.base);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let res = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = res.status();
        let text = res.into_string().expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit; returns the status and stderr.
    pub(crate) fn terminate(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "keystead serve did not exit within 10 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = self.stderr.take().expect("stderr reader").join().expect("stderr text");
        (status, stderr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn serve_flags(db: &Path, port: u16) -> Command {
    let bind = format!("127.0.0.1:{port}");
    keystead(&["serve", "--db", db.to_str().expect("utf-8"), "--bind", &bind])
}

fn admins_in(db: &Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn.prepare("SELECT email, name, status FROM admins ORDER BY email").expect("select");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn key_file(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.key", db.display()))
}

pub(crate) fn tmp_db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("k.db")
}

#[test]
fn admin_create_reads_the_password_from_stdin_and_that_operator_logs_in() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let out = admin_create(&db, "OP@example.test", PASSWORD);
    assert!(out.status.success(), "admin create failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("op@example.test"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD), "the password is echoed");
    assert_eq!(admins_in(&db), vec![("op@example.test".into(), "Op".into(), "active".into())]);

    let port = free_port();
    let served = Served::start(serve_flags(&db, port), port);
    let (status, body) = served.call(
        "POST",
        "/v1/admin/auth/login",
        None,
        Some(json!({ "email": "op@example.test", "password": PASSWORD })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["admin"]["email"], json!("op@example.test"));
    assert_eq!(body["admin"]["name"], json!("Op"));
    let (status, _) = served.call(
        "POST",
        "/v1/admin/auth/login",
        None,
        Some(json!({ "email": "op@example.test", "password": "not it at all" })),
    );
    assert_eq!(status, 401);
    let (exit, _) = served.terminate();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn admin_create_refuses_a_weak_password_and_a_taken_email() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    for weak in ["short", "password123", ""] {
        let out = admin_create(&db, "op@example.test", weak);
        assert!(!out.status.success(), "a weak password {weak:?} was accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("weak_password"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(admins_in(&db).is_empty(), "an operator was created with a weak password");

    assert!(admin_create(&db, "op@example.test", PASSWORD).status.success());
    let again = admin_create(&db, "op@example.test", "another fine long passphrase");
    assert!(!again.status.success(), "a second operator with the same email");
    assert_eq!(admins_in(&db).len(), 1);
}

/// `keystead demo` with these arguments in `dir`; the server and the logins it printed
/// (email → password).
fn demo(dir: &Path, args: &[&str]) -> (Served, Vec<(String, String)>) {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut cmd = keystead(&[&["demo", "--bind", &bind], args].concat());
    cmd.current_dir(dir);
    let mut served = Served::start_with(cmd, port, Stdio::piped());
    let stdout = served.child.stdout.take().expect("stdout");
    let mut logins = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.expect("a line");
        if line.contains("API keys match") {
            break;
        }
        let login = line.split_once(": ").and_then(|(_, l)| l.split_once(" / "));
        if let Some((email, rest)) = login {
            let password = rest.split_whitespace().next().expect("a password");
            logins.push((email.to_owned(), password.to_owned()));
        }
    }
    (served, logins)
}

#[test]
fn demo_seeds_random_logins_that_work_through_the_api_and_the_pages() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let (served, logins) = demo(dir.path(), &["--db", db.to_str().expect("utf-8")]);
    let [(operator, operator_password), (owner, owner_password)] = &logins[..] else {
        panic!("two logins printed: {logins:?}");
    };
    assert_eq!((operator.as_str(), owner.as_str()), ("operator@demo.test", "owner@demo.test"));
    assert!(owner_password.len() >= 32 && owner_password != operator_password, "random passwords: {logins:?}");
    let (status, body) =
        served.call("POST", "/v1/auth/login", None, Some(json!({ "email": owner, "password": owner_password })));
    assert_eq!(status, 200, "{body}");
    let token = body["session_token"].as_str().expect("a session");
    let old = json!({ "email": owner, "password": "demo owner passphrase" });
    assert_eq!(served.call("POST", "/v1/auth/login", None, Some(old)).0, 401, "the fixed password of old");
    let login = json!({ "email": operator, "password": operator_password });
    let (status, body) = served.call("POST", "/v1/admin/auth/login", None, Some(login));
    assert_eq!(status, 200, "{body}");
    let operator_token = body["session_token"].as_str().expect("an operator session");
    demo_company_is_seeded(&served, token, operator_token, &db);
    let page = served.agent.get(&format!("{}/login", served.base)).call().expect("the login page");
    assert_eq!(page.status(), 200);
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("script-src 'self'")));
    let (exit, stderr) = served.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");

    // A second demo replaces its own earlier database, with new passwords.
    let (served, again) = demo(dir.path(), &["--db", db.to_str().expect("utf-8")]);
    assert_eq!(again.len(), 2);
    assert_ne!(again[1].1, *owner_password);
    let (status, _) =
        served.call("POST", "/v1/auth/login", None, Some(json!({ "email": owner, "password": again[1].1 })));
    assert_eq!(status, 200);
    assert!(served.terminate().0.success());
}

/// What `keystead demo` seeds, seen by its printed owner and operator over HTTP and in its
/// database: the customers and their states, the first one's people and keys, weeks of
/// audit events and daily activity, and the one failed delivery.
fn demo_company_is_seeded(served: &Served, owner: &str, operator: &str, db: &Path) {
    let (status, tenants) = served.call("GET", "/v1/admin/tenants?limit=100", Some(operator), None);
    assert_eq!(status, 200, "{tenants}");
    let mut states = pairs(&tenants, |t| (text(&t["name"]), text(&t["status"])));
    states.sort();
    let expected = [
        ("Bluebird Tutoring", "deleted"),
        ("Copperleaf Studio", "suspended"),
        ("Fjord Cycles", "active"),
        ("Greenfield Dental", "active"),
        ("Harbor Lane Bakery", "active"),
    ];
    assert_eq!(states, expected.map(|(n, s)| (n.to_owned(), s.to_owned())), "{tenants}");

    let (status, members) = served.call("GET", "/v1/tenant/members?limit=100", Some(owner), None);
    assert_eq!(status, 200, "{members}");
    let mut people = pairs(&members, |m| (text(&m["email"]), format!("{}/{}", text(&m["role"]), text(&m["status"]))));
    people.sort();
    let expected = [
        ("lena.fischer@demo.test", "member/removed"),
        ("marco.rossi@demo.test", "admin/active"),
        ("owner@demo.test", "owner/active"),
        ("priya.shah@demo.test", "member/active"),
        ("tom.becker@demo.test", "member/invited"),
    ];
    assert_eq!(people, expected.map(|(e, s)| (e.to_owned(), s.to_owned())), "{members}");

    let (status, keys) = served.call("GET", "/v1/keys?limit=100", Some(owner), None);
    assert_eq!(status, 200, "{keys}");
    let key = |name: &str| {
        keys["items"].as_array().and_then(|ks| ks.iter().find(|k| k["name"] == name)).cloned().unwrap_or_else(|| {
            panic!("no key {name:?}: {keys}");
        })
    };
    assert!(key("Staging")["revoked_at"].is_string(), "a revoked key");
    let campaign = key("Holiday campaign");
    assert!(campaign["revoked_at"].is_null() && campaign["expires_at"].is_string(), "{campaign}");
    assert!(key("Default key")["expires_at"].is_null() && key("Point of sale")["revoked_at"].is_null());

    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    let now = one("SELECT unixepoch()");
    let expires = one("SELECT expires_at FROM keys WHERE name = 'Holiday campaign'");
    assert!(expires > now && expires < now + 7 * 86_400, "expiring within the week: {expires} vs {now}");
    let audit_days = one("SELECT (MAX(at) - MIN(at)) / 86400 FROM audit_log");
    let audit_distinct = one("SELECT COUNT(DISTINCT at / 86400) FROM audit_log");
    assert!(audit_days > 14 && audit_distinct > 10, "audit over {audit_days} days, on {audit_distinct}");
    for action in ["tenant.suspended", "tenant.deleted", "member.removed", "member.role_changed", "api_key.revoked"] {
        let n = one(&format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"));
        assert_eq!(n, 1, "{action}");
    }
    let reasons = one("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'tenant.%ed' AND reason <> ''");
    assert!(reasons >= 2, "the operator's changes carry reasons");
    for metric in ["logins_succeeded", "verifications_valid", "signups"] {
        let days = one(&format!(
            "SELECT COUNT(DISTINCT day) FROM daily_activity WHERE metric = '{metric}' AND tenant_id = ''"
        ));
        assert!(days >= 5, "{metric} on {days} days");
    }
    let activity_days = one("SELECT MAX(day) - MIN(day) FROM daily_activity WHERE metric = 'logins_succeeded'");
    assert!(activity_days > 14, "daily activity over {activity_days} days");
    let failed = one("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND attempts > 0 AND last_error IS NOT NULL");
    assert_eq!(failed, 1, "one failed delivery");
    let live = one(&format!("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > {now}"));
    assert!(live >= 5, "live sessions: {live}");
}

/// A pair of strings made of each item of a list.
fn pairs(list: &Value, pair: impl Fn(&Value) -> (String, String)) -> Vec<(String, String)> {
    list["items"].as_array().expect("items").iter().map(pair).collect()
}

fn text(v: &Value) -> String {
    v.as_str().expect("a string").to_owned()
}

#[test]
fn demo_never_reads_keystead_db_nor_replaces_a_file_it_did_not_create() {
    let dir = tempfile::tempdir().expect("tmp");
    // KEYSTEAD_DB names the real database: demo leaves it alone and uses keystead-demo.db.
    let real = tmp_db(&dir);
    assert!(admin_create(&real, "op@example.test", PASSWORD).status.success());
    let before = std::fs::read(&real).expect("read the real db");
    let port = free_port();
    let mut cmd = keystead(&["demo", "--bind", &format!("127.0.0.1:{port}")]);
    cmd.env("KEYSTEAD_DB", &real).current_dir(dir.path());
    let served = Served::start(cmd, port);
    assert!(served.terminate().0.success());
    assert!(dir.path().join("keystead-demo.db").exists(), "the demo's own database");
    assert_eq!(std::fs::read(&real).expect("read the real db"), before, "KEYSTEAD_DB's file is untouched");

    // --db naming a database (or any file) that no demo created: refused, the file kept.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "precious").expect("write");
    for file in [&real, &notes] {
        let out = keystead(&["demo", "--db", file.to_str().expect("utf-8")]).output().expect("demo runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("not a database keystead demo created"), "{stderr}");
    }
    assert_eq!(std::fs::read(&real).expect("read the real db"), before);
    assert!(key_file(&real).exists(), "its key file too");
    assert_eq!(std::fs::read_to_string(&notes).expect("read"), "precious");
}

#[test]
fn demo_takes_the_brand_flags() {
    let dir = tempfile::tempdir().expect("tmp");
    let (served, _) =
        demo(dir.path(), &["--product-name", "Harbor Suite", "--support-url", "https://help.harbor.test"]);
    let page = served.agent.get(&format!("{}/login", served.base)).call().expect("GET /login");
    let page = page.into_string().expect("html");
    assert!(page.contains("Harbor Suite"), "the product's name:\n{page}");
    assert!(page.contains("https://help.harbor.test"), "the support link:\n{page}");
    assert!(served.terminate().0.success());
}

#[test]
fn serve_answers_healthz_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let port = free_port();
    let served = Served::start(serve_flags(&db, port), port);
    assert!(db.exists(), "serve creates the database on first start");
    let (status, body) = served.call("GET", "/v1/nope", None, None);
    assert_eq!((status, body["error"]["code"].clone()), (404, json!("not_found")));
    let started = Instant::now();
    let (exit, stderr) = served.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?} to stop", started.elapsed());
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "the listening address is logged:\n{stderr}");
    // Stopped means stopped: nothing listens on the port any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn sigterm_writes_the_uses_still_pending() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let port = free_port();
    let served = Served::start(serve_flags(&db, port), port);
    let body =
        json!({ "tenant_name": "Flushed", "email": "flush@example.test", "password": "correct horse battery staple" });
    let (status, signed) = served.call("POST", "/v1/auth/signup", None, Some(body));
    assert_eq!(status, 201, "{signed}");
    let (status, verdict) =
        served.call("POST", "/v1/verify/key", None, Some(json!({ "key": signed["api_key"]["key"] })));
    assert_eq!((status, verdict["valid"].clone()), (200, json!(true)));
    // At once, well before the flusher's next turn.
    let (exit, stderr) = served.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr:\n{stderr}");
    let conn = rusqlite::Connection::open(&db).expect("open db");
    let used: Option<i64> = conn
        .query_row("SELECT last_used_at FROM keys WHERE id = ?1", [signed["api_key"]["id"].as_str()], |r| r.get(0))
        .expect("key row");
    assert!(used.is_some(), "the verification before SIGTERM is recorded");
}

#[test]
fn serve_takes_keystead_max_connections_and_refuses_zero() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let zero = keystead(&["serve", "--db", db.to_str().expect("utf-8"), "--max-connections", "0"])
        .output()
        .expect("serve runs");
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--max-connections"), "{zero:?}");

    let port = free_port();
    let mut cmd = serve_flags(&db, port);
    cmd.env("KEYSTEAD_MAX_CONNECTIONS", "1");
    let served = Served::start(cmd, port);
    let connect = || {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream
    };
    // The one place: taken as soon as the health checks' connections are seen closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut held = loop {
        let mut stream = connect();
        if crate::connections::healthz(&mut stream).starts_with("HTTP/1.1 200") {
            break stream;
        }
        assert!(Instant::now() < deadline, "the only place never came free");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut refused = String::new();
    connect().read_to_string(&mut refused).expect("an answer, then the end");
    assert!(refused.starts_with("HTTP/1.1 503 ") && refused.contains("\"unavailable\""), "{refused}");
    assert!(crate::connections::healthz(&mut held).starts_with("HTTP/1.1 200"));
    drop(held);
    let (exit, stderr) = served.terminate();
    assert!(exit.success());
    assert!(
        stderr.contains("connection limit reached (1 open): new connections get 503"),
        "the refusal is logged:\n{stderr}"
    );
}

#[test]
fn serve_reads_keystead_bind_and_keystead_db() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("from-env.db");
    let port = free_port();
    let mut cmd = keystead(&["serve"]);
    cmd.env("KEYSTEAD_BIND", format!("127.0.0.1:{port}")).env("KEYSTEAD_DB", &db).current_dir(dir.path());
    let served = Served::start(cmd, port);
    assert!(db.exists(), "KEYSTEAD_DB names the database file");
    assert!(!dir.path().join("keystead.db").exists(), "the default database was used instead");
    let (status, _) = served.call(
        "POST",
        "/v1/auth/signup",
        None,
        Some(json!({ "tenant_name": "Env Co", "email": "env@example.test", "password": PASSWORD })),
    );
    assert_eq!(status, 201);
    let (exit, _) = served.terminate();
    assert!(exit.success());
    let conn = rusqlite::Connection::open(&db).expect("open");
    let n: i64 = conn.query_row("SELECT count(*) FROM portal_users", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 1, "the signup went to the KEYSTEAD_DB file");
}

#[test]
fn backup_writes_a_copy_that_holds_the_data_while_the_server_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    assert!(admin_create(&db, "op@example.test", PASSWORD).status.success());
    let port = free_port();
    let served = Served::start(serve_flags(&db, port), port);
    let (status, _) = served.call(
        "POST",
        "/v1/auth/signup",
        None,
        Some(json!({ "tenant_name": "Backed Up", "email": "ann@example.test", "password": PASSWORD })),
    );
    assert_eq!(status, 201);

    let copy = dir.path().join("copy.db");
    let out = keystead(&["backup", "--db", db.to_str().expect("utf-8"), copy.to_str().expect("utf-8")])
        .output()
        .expect("backup runs");
    assert!(out.status.success(), "backup failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(admins_in(&copy), vec![("op@example.test".into(), "Op".into(), "active".into())]);
    let conn = rusqlite::Connection::open_with_flags(&copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
    assert_eq!(check, "ok");
    let tenant: String = conn.query_row("SELECT name FROM tenants", [], |r| r.get(0)).expect("the tenant is copied");
    assert_eq!(tenant, "Backed Up");

    // A backup never overwrites a file.
    let before = std::fs::read(&copy).expect("read copy");
    let again = keystead(&["backup", "--db", db.to_str().expect("utf-8"), copy.to_str().expect("utf-8")])
        .output()
        .expect("backup runs");
    assert!(!again.status.success(), "backup overwrote an existing file");
    assert_eq!(std::fs::read(&copy).expect("read copy"), before);

    let (status, _) = served.call("GET", "/healthz", None, None);
    assert_eq!(status, 200, "the server kept running through the backup");
    let (exit, _) = served.terminate();
    assert!(exit.success());
}

/// Signs Ann up through the served binary; the signup answer.
fn sign_up(served: &Served) -> Value {
    let body = json!({ "tenant_name": "Logged", "email": "ann@example.test", "password": PASSWORD });
    served.call("POST", "/v1/auth/signup", None, Some(body)).1
}

#[test]
fn log_lines_name_route_templates_and_never_secrets() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    assert!(admin_create(&db, "op@example.test", PASSWORD).status.success());
    let port = free_port();
    let served = Served::start(serve_flags(&db, port), port);

    let (_, admin) = served.call(
        "POST",
        "/v1/admin/auth/login",
        None,
        Some(json!({ "email": "op@example.test", "password": PASSWORD })),
    );
    let admin_token = admin["session_token"].as_str().expect("admin token").to_owned();
    let signup = sign_up(&served);
    let token = signup["session_token"].as_str().expect("token").to_owned();
    let api_key = signup["api_key"]["key"].as_str().expect("key").to_owned();
    let key_id = signup["api_key"]["id"].as_str().expect("key id").to_owned();
    let (status, _) = served.call("POST", "/v1/verify/key", None, Some(json!({ "key": api_key })));
    assert_eq!(status, 200);
    let (status, _) = served.call("POST", "/v1/verify/session", None, Some(json!({ "token": token })));
    assert_eq!(status, 200);
    let (status, _) = served.call("GET", &format!("/v1/me?token={token}"), Some(&token), None);
    assert_eq!(status, 200);
    let (status, _) = served.call("DELETE", &format!("/v1/keys/{key_id}"), Some(&token), None);
    assert_eq!(status, 204);
    let (status, _) = served.call("GET", &format!("/v1/nope/{token}"), None, None);
    assert_eq!(status, 404);
    let (status, _) = served.call("POST", "/v1/admin/auth/logout", Some(&admin_token), None);
    assert_eq!(status, 204);
    let (exit, log) = served.terminate();
    assert!(exit.success());

    for line in [
        "POST /v1/admin/auth/login 200",
        "POST /v1/auth/signup 201",
        "POST /v1/verify/key 200",
        "POST /v1/verify/session 200",
        "GET /v1/me 200",
        "DELETE /v1/keys/{id} 204",
        "POST /v1/admin/auth/logout 204",
    ] {
        assert!(log.contains(line), "no log line with {line:?}:\n{log}");
    }
    for (what, secret) in
        [("password", PASSWORD), ("admin token", &admin_token), ("session token", &token), ("API key", &api_key)]
    {
        assert!(!log.contains(secret), "the {what} is in the log:\n{log}");
    }
    assert!(!log.contains(&api_key[12..]) && !log.contains(&token[..20]), "part of a secret is in the log:\n{log}");
}

/// Runs a one-shot command to its end; (success, stderr).
fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("keystead runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[track_caller]
fn assert_plain_refusal((ok, stderr): (bool, String), needles: &[&str]) {
    assert!(!ok, "should fail");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing from:\n{stderr}");
    }
    assert!(!stderr.contains("internal_error") && !stderr.contains("500"), "an HTTP code:\n{stderr}");
}

#[test]
fn every_command_takes_the_master_key_as_serve_does_and_none_writes_a_second_one() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let path = db.to_str().expect("utf-8");

    let mut create = keystead(&["admin", "create", "--db", path, "--email", "op@example.test"]);
    create.env("KEYSTEAD_MASTER_KEY", &key).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = create.spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("write");
    assert!(child.wait_with_output().expect("runs").status.success());
    assert!(!key_file(&db).exists(), "admin create used KEYSTEAD_MASTER_KEY, it wrote no key file");

    let mut list = keystead(&["tenants", "list", "--db", path]);
    list.env("KEYSTEAD_MASTER_KEY", &key);
    assert!(run(list).0);
    assert!(run(keystead(&["users", "list", "--db", path, "--master-key", &key])).0);

    // No key at all: refused, naming the fix, and still no key file.
    let missing = [path, "KEYSTEAD_MASTER_KEY", &format!("{path}.key")];
    assert_plain_refusal(run(keystead(&["users", "list", "--db", path])), &missing);
    let copy = dir.path().join("copy.db");
    assert_plain_refusal(run(keystead(&["backup", "--db", path, copy.to_str().expect("utf-8")])), &missing);
    assert!(!key_file(&db).exists() && !copy.exists());

    // Another key: the process stops saying what does not open and what to set.
    let mut wrong = serve_flags(&db, free_port());
    wrong.env("KEYSTEAD_MASTER_KEY", &other);
    assert_plain_refusal(run(wrong), &["does not open", "signing key", "KEYSTEAD_MASTER_KEY"]);
    let wrong = keystead(&["tenants", "list", "--db", path, "--master-key", &other]);
    assert_plain_refusal(run(wrong), &["does not open"]);

    let port = free_port();
    let mut serve = serve_flags(&db, port);
    serve.env("KEYSTEAD_MASTER_KEY", &key);
    let served = Served::start(serve, port);
    let login = json!({ "email": "op@example.test", "password": PASSWORD });
    assert_eq!(served.call("POST", "/v1/admin/auth/login", None, Some(login)).0, 200);
    assert!(served.terminate().0.success());
}

#[test]
fn a_key_file_that_does_not_open_the_database_stops_the_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    assert!(admin_create(&db, "op@example.test", PASSWORD).status.success());
    let other = tempfile::tempdir().expect("tmp");
    let elsewhere = tmp_db(&other);
    assert!(admin_create(&elsewhere, "op@example.test", PASSWORD).status.success());
    std::fs::copy(key_file(&elsewhere), key_file(&db)).expect("the wrong key file");
    let restore = format!("restore {}", key_file(&db).display());
    assert_plain_refusal(run(serve_flags(&db, free_port())), &["does not open", &restore]);
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = keystead(&["--version"]).output().expect("runs");
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert_eq!(head.len(), 12, "the tests run in a git checkout");
    assert_eq!(printed, format!("keystead {} (commit {head})", env!("CARGO_PKG_VERSION")));
}

#[test]
fn json_log_lines_carry_the_request_fields_and_no_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = tmp_db(&dir);
    let port = free_port();
    let mut cmd = serve_flags(&db, port);
    cmd.args(["--log-format", "json"]);
    let served = Served::start(cmd, port);
    let signup = sign_up(&served);
    let token = signup["session_token"].as_str().expect("token").to_owned();
    let tenant_id = signup["tenant"]["id"].as_str().expect("tenant").to_owned();
    assert_eq!(served.call("GET", "/v1/me", Some(&token), None).0, 200);
    let (exit, log) = served.terminate();
    assert!(exit.success());
    let lines: Vec<Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert!(lines.iter().all(|l| l["time"].is_string() && l["level"].is_string() && l["message"].is_string()));
    let me = lines.iter().find(|l| l["route"] == "/v1/me").expect("a line for GET /v1/me");
    assert_eq!((me["method"].as_str(), me["status"].as_u64()), (Some("GET"), Some(200)));
    assert_eq!(me["tenant_id"].as_str(), Some(tenant_id.as_str()), "the tenant the session acts in");
    assert!(me["request_id"].is_string() && me["duration_ms"].is_number(), "{me}");
    let signed_up = lines.iter().find(|l| l["route"] == "/v1/auth/signup").expect("signup line");
    assert!(signed_up["tenant_id"].is_null() && signed_up["status"] == 201, "{signed_up}");
    assert!(!log.contains(PASSWORD) && !log.contains(&token), "no secret in the log:\n{log}");
}
