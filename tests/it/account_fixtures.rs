//! Helpers of the account tests (signup, login, account): a writable connection for
//! states no route can make yet, and checks on what the database keeps.
use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use argon2::{Argon2, PasswordHasher as _};
use rusqlite::Connection;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{PASSWORD, Res, TestServer, token_of};

/// The PHC prefix of a hash made with today's parameters (argon2id, OWASP: m = 19 MiB, t = 2, p = 1).
pub const CURRENT_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// A writable connection beside the server's own, for states a test sets directly.
pub fn writable(s: &TestServer) -> Connection {
    let conn = Connection::open(s.db_path()).expect("open db for writing");
    conn.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    conn
}

pub fn exec(s: &TestServer, sql: &str, params: impl rusqlite::Params) {
    let n = writable(s).execute(sql, params).expect(sql);
    assert!(n > 0, "{sql} changed no row");
}

pub fn count(s: &TestServer, sql: &str, params: impl rusqlite::Params) -> i64 {
    s.db().query_row(sql, params, |r| r.get(0)).expect(sql)
}

pub fn sha256(raw: &str) -> Vec<u8> {
    Sha256::digest(raw.as_bytes()).to_vec()
}

/// The stored password hash of an account.
pub fn stored_hash(s: &TestServer, email: &str) -> String {
    s.db()
        .query_row("SELECT password_hash FROM portal_users WHERE email = ?1", [email], |r| r.get(0))
        .expect("account with a password hash")
}

/// Asserts a PHC string of today's parameters that verifies `password`.
#[track_caller]
pub fn assert_current_hash_of(hash: &str, password: &str) {
    assert!(hash.starts_with(CURRENT_PHC), "not a current argon2id PHC string: {hash}");
    assert!(!hash.contains(password), "the password is in the hash");
    let parsed = PasswordHash::new(hash).expect("PHC string");
    assert!(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(), "hash does not verify");
}

/// A PHC string of `password` with parameters far below today's, as an old release might
/// have stored.
pub fn weak_hash(algorithm: argon2::Algorithm, password: &str) -> String {
    let params = argon2::Params::new(64, 1, 1, None).expect("params");
    let salt = argon2::password_hash::SaltString::encode_b64(&[9u8; 16]).expect("salt");
    Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

#[derive(Debug)]
pub struct AuditRow {
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub tenant_id: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub before: Value,
    pub after: Value,
}

/// The audit rows of one action, in the order they were written.
pub fn audit(s: &TestServer, action: &str) -> Vec<AuditRow> {
    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT actor_type, actor_id, tenant_id, target_type, target_id, before, after
             FROM audit_log WHERE action = ?1 ORDER BY seq",
        )
        .expect("audit query");
    let json_of = |v: Option<String>| v.map_or(Value::Null, |t| serde_json::from_str(&t).expect("audit JSON"));
    stmt.query_map([action], |r| {
        Ok(AuditRow {
            actor_type: r.get(0)?,
            actor_id: r.get(1)?,
            tenant_id: r.get(2)?,
            target_type: r.get(3)?,
            target_id: r.get(4)?,
            before: json_of(r.get(5)?),
            after: json_of(r.get(6)?),
        })
    })
    .expect("audit rows")
    .collect::<Result<_, _>>()
    .expect("audit rows")
}

/// Asserts that no audit row holds any of `secrets` in any column.
#[track_caller]
pub fn assert_not_in_audit(s: &TestServer, secrets: &[&str]) {
    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT action || '|' || coalesce(actor_id, '') || '|' || coalesce(tenant_id, '') || '|' ||
                    coalesce(target_id, '') || '|' || coalesce(ip, '') || '|' || coalesce(user_agent, '') || '|' ||
                    coalesce(reason, '') || '|' || coalesce(before, '') || '|' || coalesce(after, '')
             FROM audit_log",
        )
        .expect("audit query");
    let rows: Vec<String> =
        stmt.query_map([], |r| r.get(0)).expect("audit rows").collect::<Result<_, _>>().expect("audit rows");
    assert!(!rows.is_empty(), "no audit rows at all");
    for row in &rows {
        for secret in secrets {
            assert!(!row.contains(secret), "an audit row holds a secret: {row}");
        }
    }
}

/// Whether the database files (main file and write-ahead log) hold `needle` anywhere, in
/// any table or free page.
pub fn db_files_contain(s: &TestServer, needle: &str) -> bool {
    let main = s.db_path();
    let mut bytes = std::fs::read(&main).expect("read db file");
    bytes.extend(std::fs::read(main.with_extension("db-wal")).unwrap_or_default());
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Asserts that none of `secrets` appears anywhere in the database files.
#[track_caller]
pub fn assert_nowhere_in_db(s: &TestServer, secrets: &[&str]) {
    assert!(db_files_contain(s, "@example.test"), "the scan sees stored data");
    for secret in secrets {
        assert!(secret.len() >= 10, "too short to search for: {secret}");
        assert!(!db_files_contain(s, secret), "the database files hold the raw secret {secret:?}");
    }
}

/// Logs in, optionally into a given tenant.
pub fn login_into(s: &TestServer, email: &str, password: &str, tenant_id: Option<&str>) -> Res {
    let mut body = json!({ "email": email, "password": password });
    if let Some(t) = tenant_id {
        body["tenant_id"] = json!(t);
    }
    s.post("/v1/auth/login", None, body)
}

/// Starts a second tenant with `POST /v1/tenants`; returns its id. The session now acts in it.
pub fn new_tenant(s: &TestServer, token: &str, name: &str) -> String {
    let res = s.post("/v1/tenants", Some(token), json!({ "tenant_name": name }));
    assert_eq!(res.status, 201, "POST /v1/tenants: {}", res.text);
    res.str("/tenant/id")
}

/// An account owning an active tenant (password `PASSWORD`) on a server whose signup mode
/// refuses self-service sign-up: an operator creates the tenant (`POST /v1/admin/tenants`)
/// and the invited owner activates. Returns (user id, tenant id).
pub fn seed_owner(s: &TestServer, email: &str) -> (String, String) {
    let op = s.admin(&format!("seeder-{}@operator.test", uuid::Uuid::new_v4()));
    let res = s.post("/v1/admin/tenants", Some(&op), json!({ "name": "Seeded", "owner_email": email }));
    assert_eq!(res.status, 201, "POST /v1/admin/tenants: {}", res.text);
    let token = token_of(&res.str("/activation_url"));
    let res = s.post("/v1/auth/activate", None, json!({ "token": token, "password": PASSWORD }));
    assert_eq!(res.status, 200, "activate {email}: {}", res.text);
    (res.str("/user/id"), res.str("/tenant/id"))
}

/// Asserts an RFC 3339 UTC timestamp and returns it as unix seconds.
#[track_caller]
pub fn unix_of(res: &Res, pointer: &str) -> i64 {
    let text = res.str(pointer);
    assert!(text.ends_with('Z'), "{pointer} is not UTC: {text}");
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{pointer} is not RFC 3339 ({e}): {text}"))
        .unix_timestamp()
}

/// Unix seconds now, as the server's clock sees it.
pub fn now(s: &TestServer) -> i64 {
    s.app.clock.now().unix()
}

/// Asserts a raw API key of the default format `ksk_` + 49 base62 characters.
#[track_caller]
pub fn assert_key_format(key: &str) {
    let rest = key.strip_prefix("ksk_").unwrap_or_else(|| panic!("key without the ksk_ prefix: {key}"));
    assert_eq!(rest.len(), 49, "key length: {key}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "key outside [0-9A-Za-z]: {key}");
}
