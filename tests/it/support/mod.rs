//! The test harness: a real server on 127.0.0.1:0 over a temporary database, and a small
//! HTTP client that speaks to it as any client would.
#![allow(dead_code)] // each test file uses its own part of the harness

pub mod mfa;
pub mod operator;
pub mod passkey;
pub mod smtp;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use keystead::app::App;
use keystead::config::{Config, SmtpSettings};
use keystead::core::operators::{self, NewAdmin};
use keystead::core::principal::Actor;
use keystead::crypto::secret::Secret;
use keystead::limit::{Limits, Rate};
use keystead::server::{self, Running};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A password every policy accepts.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub app: Arc<App>,
    pub base: String,
    dir: TempDir,
    running: Option<Running>,
    agent: ureq::Agent,
}

/// A response: status, headers (names lower-cased) and the body parsed as JSON (Null when empty).
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub body: Value,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A string field of the body, by JSON pointer (`/user/id`); panics with the body when absent.
    pub fn str(&self, pointer: &str) -> String {
        match self.body.pointer(pointer).and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => panic!("no string at {pointer} in {} {}", self.status, self.text),
        }
    }
}

/// The name `signup` gives the tenant of `email`: "Tenant of ann" for ann@example.test (a
/// tenant name may not hold an address).
pub fn tenant_name_of(email: &str) -> String {
    format!("Tenant of {}", email.split('@').next().unwrap_or(email))
}

/// Limits loose enough that no test trips them by accident; tests of 429 set their own.
pub fn loose_limits() -> Limits {
    let loose = Rate { burst: 10_000, per_hour: 100_000 };
    Limits {
        login_by_ip: loose,
        login_by_account: loose,
        signup_by_ip: loose,
        failed_verify_by_ip: loose,
        token_use_by_ip: loose,
        forgot_by_ip: loose,
        mfa_by_account: loose,
    }
}

/// What a sign-up gives a test: the owner's session, ids and the first API key.
#[derive(Debug, Clone)]
pub struct Signed {
    pub email: String,
    pub token: String,
    pub user_id: String,
    pub tenant_id: String,
    pub key: String,
    pub key_id: String,
}

/// One HTTP exchange: the status, every header (names lower-cased, repeated ones kept, as
/// `Set-Cookie` is) and the body as text. 4xx and 5xx are answers, not errors.
pub fn exchange(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, Vec<(String, String)>, String) {
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: transport error {e}"),
    };
    let mut names = response.headers_names();
    names.sort();
    names.dedup();
    let mut all = Vec::new();
    for name in names {
        for value in response.all(&name) {
            all.push((name.to_ascii_lowercase(), value.to_owned()));
        }
    }
    (response.status(), all, response.into_string().expect("body"))
}

impl TestServer {
    pub fn spawn() -> Self {
        Self::with(|_| {})
    }

    /// A server whose base URL names `localhost`: browsers refuse WebAuthn on an IP
    /// address, so the passkey tests in the browser need a host name.
    pub fn on_localhost() -> Self {
        let mut s = Self::with(|c| c.base_url = c.base_url.replace("127.0.0.1", "localhost"));
        s.base = s.base.replace("127.0.0.1", "localhost");
        s
    }

    /// A server whose configuration the test adjusts first.
    pub fn with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::with_client_timeout(server::CLIENT_TIMEOUT, configure)
    }

    /// A server whose connections time out after `client_timeout` without a request.
    pub fn with_client_timeout(client_timeout: Duration, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // Bound first, so that the base URL (mail links, the pages' Origin check) is the real one.
        let listener = server::listen("127.0.0.1:0", client_timeout).expect("listen");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let mut config = Config::new(dir.path().join("keystead.db"));
        config.limits = loose_limits();
        config.workers = 4;
        config.base_url = base.clone();
        // Operators enrol a second factor only in the tests of that policy.
        config.operator_mfa = keystead::types::MfaPolicy::Optional;
        configure(&mut config);
        let app = Arc::new(App::open(config).expect("app opens"));
        let running = server::start_on(app.clone(), listener).expect("server starts");
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        Self { app, base, dir, running: Some(running), agent }
    }

    /// Where the server serves `GET /metrics` (started with `metrics_bind` set).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().and_then(Running::metrics_addr)
    }

    /// Writes the uses of keys and sessions pending (the flusher does every few seconds).
    pub fn flush_usage(&self) {
        self.app.usage.flush(&self.app).expect("flush usage");
    }

    /// Every audit row as one line of text (action, before, after), for asserting on what
    /// was recorded and what never is.
    pub fn audit_text(&self) -> String {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT action || ' ' || coalesce(before, '') || ' ' || coalesce(after, '') FROM audit_log")
            .expect("audit query");
        let lines = stmt.query_map([], |r| r.get::<_, String>(0)).expect("audit rows");
        lines.map(|l| l.expect("a row")).collect::<Vec<_>>().join("\n")
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("keystead.db")
    }

    /// A read-only connection to the server's database, for asserting on stored effects.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.db_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open db")
    }

    /// Sends a request with optional bearer token, extra headers and raw body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Res {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        all.extend_from_slice(headers);
        let (status, headers, text) = exchange(&self.agent, method, &format!("{}{path}", self.base), &all, body);
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        Res { status, headers, text, body }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.send("GET", path, token, &[], None)
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Res {
        self.send("DELETE", path, token, &[], None)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.json("POST", path, token, body)
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.json("PATCH", path, token, body)
    }

    pub fn json(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Res {
        let bytes = body.to_string().into_bytes();
        self.send(method, path, token, &[("Content-Type", "application/json")], Some(&bytes))
    }

    /// Signs up a new tenant owned by `email` (password `PASSWORD`).
    pub fn signup(&self, email: &str) -> Signed {
        let res = self.post(
            "/v1/auth/signup",
            None,
            json!({ "tenant_name": tenant_name_of(email), "email": email, "password": PASSWORD, "name": "Test Owner" }),
        );
        assert_eq!(res.status, 201, "signup of {email}: {}", res.text);
        Signed {
            email: email.to_owned(),
            token: res.str("/session_token"),
            user_id: res.str("/user/id"),
            tenant_id: res.str("/tenant/id"),
            key: res.str("/api_key/key"),
            key_id: res.str("/api_key/id"),
        }
    }

    pub fn login(&self, email: &str, password: &str) -> Res {
        self.post("/v1/auth/login", None, json!({ "email": email, "password": password }))
    }

    /// Creates an operator through the same core operation as `keystead admin create`, and
    /// logs it in; returns its session token.
    pub fn admin(&self, email: &str) -> String {
        let input =
            NewAdmin { email: email.into(), name: Some("Operator".into()), password: Secret::new(PASSWORD.into()) };
        operators::create_admin(&self.app, Actor::System, None, input).expect("admin created");
        let res = self.post("/v1/admin/auth/login", None, json!({ "email": email, "password": PASSWORD }));
        assert_eq!(res.status, 200, "admin login: {}", res.text);
        res.str("/session_token")
    }
}

/// A member added through the API: invited, then activated through its link.
#[derive(Debug, Clone)]
pub struct Joined {
    pub email: String,
    pub user_id: String,
    pub token: String,
}

/// A message as the outbox holds it.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub sent_at: Option<i64>,
    pub scrubbed_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl Outbox {
    pub fn holds(&self, needle: &str) -> bool {
        self.body_text.contains(needle) || self.body_html.contains(needle)
    }
}

/// The token inside a link such as `activation_url`.
pub fn token_of(url: &str) -> String {
    url.split_once("?token=").map(|(_, t)| t.to_owned()).unwrap_or_else(|| panic!("no token in {url}"))
}

/// Polls `check` for up to 10 s; panics naming `what` if it never holds.
#[track_caller]
pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl TestServer {
    /// A server whose mail goes to this SMTP URL.
    pub fn with_smtp(url: &str) -> Self {
        let smtp = SmtpSettings::parse(url).expect("smtp url");
        Self::with(move |c| c.smtp = Some(smtp))
    }

    pub fn invite(&self, token: &str, email: &str, role: &str) -> Res {
        self.post("/v1/tenant/members", Some(token), json!({ "email": email, "role": role, "name": "Invited Person" }))
    }

    /// Invites `email` with `role` and has it join: a new account through the handed-over
    /// link (server without SMTP) with `PASSWORD`; an existing account (no link is handed
    /// over for it) as `accept` does.
    pub fn join(&self, owner_token: &str, email: &str, role: &str) -> Joined {
        let res = self.invite(owner_token, email, role);
        assert_eq!(res.status, 201, "invite {email}: {}", res.text);
        let Some(url) = res.body.get("activation_url").and_then(Value::as_str) else {
            return self.accept_signed_in(&res, email);
        };
        let body = json!({ "token": token_of(url), "password": PASSWORD });
        let res = self.post("/v1/auth/activate", None, body);
        assert_eq!(res.status, 200, "activate {email}: {}", res.text);
        Joined { email: email.to_owned(), user_id: res.str("/user/id"), token: res.str("/session_token") }
    }

    /// As `join`, for an account that exists already (password `PASSWORD`). No link is
    /// handed over for it (it would open the account): it signs in, accepts the pending
    /// invitation, and the session switches to that tenant.
    pub fn accept(&self, owner_token: &str, email: &str, role: &str) -> Joined {
        let res = self.invite(owner_token, email, role);
        assert_eq!(res.status, 201, "invite {email}: {}", res.text);
        assert!(res.body.get("activation_url").is_none(), "a link for an existing account: {}", res.text);
        self.accept_signed_in(&res, email)
    }

    fn accept_signed_in(&self, invited: &Res, email: &str) -> Joined {
        let tenant = invited.str("/user/tenant_id");
        let login = self.login(email, PASSWORD);
        assert_eq!(login.status, 200, "login {email}: {}", login.text);
        let token = login.str("/session_token");
        let path = format!("/v1/me/invitations/{tenant}/accept");
        let res = self.post(&path, Some(&token), json!({}));
        assert_eq!(res.status, 200, "accept {email}: {}", res.text);
        let res = self.post("/v1/auth/switch-tenant", Some(&token), json!({ "tenant_id": tenant }));
        assert_eq!(res.status, 200, "switch {email}: {}", res.text);
        Joined { email: email.to_owned(), user_id: res.str("/user/id"), token }
    }

    /// Every outbox message, oldest first, with its bodies as sent (opened with the app's
    /// master key when sealed) until it is scrubbed, and without its link after.
    pub fn outbox(&self) -> Vec<Outbox> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "SELECT to_addr, kind, body_text, body_html, sent_at, scrubbed_at, attempts, last_error, id, sealed_body, subject
                 FROM outbox ORDER BY seq",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| {
                let message = Outbox {
                    to: r.get(0)?,
                    kind: r.get(1)?,
                    body_text: r.get(2)?,
                    body_html: r.get(3)?,
                    sent_at: r.get(4)?,
                    scrubbed_at: r.get(5)?,
                    attempts: r.get(6)?,
                    last_error: r.get(7)?,
                    subject: r.get(10)?,
                };
                Ok((message, r.get::<_, String>(8)?, r.get::<_, Option<Vec<u8>>>(9)?))
            })
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        rows.into_iter()
            .map(|(mut m, id, sealed)| {
                let (text, html) =
                    keystead::mail::bodies(&self.app.master_key, &id, sealed.as_deref(), &m.body_text, &m.body_html)
                        .expect("the sealed body opens with the app's key");
                (m.body_text, m.body_html) = (text, html);
                m
            })
            .collect()
    }

    /// The outbox messages to `to` of one kind.
    pub fn outbox_to(&self, to: &str, kind: &str) -> Vec<Outbox> {
        self.outbox().into_iter().filter(|m| m.to == to && m.kind == kind).collect()
    }

    /// Sets a tenant's seat limit as an operator does (`PATCH /v1/admin/tenants/{id}`),
    /// through an operator made for the purpose.
    pub fn set_max_seats(&self, tenant_id: &str, seats: Option<i64>) {
        let op = self.admin(&format!("seats-{tenant_id}@operator.test"));
        let res = self.patch(&format!("/v1/admin/tenants/{tenant_id}"), Some(&op), json!({ "max_seats": seats }));
        assert_eq!(res.status, 200, "set max_seats: {}", res.text);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

/// Asserts the API.md error shape with this status and code.
#[track_caller]
pub fn assert_error(res: &Res, status: u16, code: &str) {
    assert_eq!(res.status, status, "expected {status} {code}, got {}: {}", res.status, res.text);
    assert_eq!(res.body.pointer("/error/code").and_then(Value::as_str), Some(code), "body: {}", res.text);
    assert!(
        res.body.pointer("/error/message").and_then(Value::as_str).is_some_and(|m| !m.is_empty()),
        "error without a message: {}",
        res.text
    );
}
