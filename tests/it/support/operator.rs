//! Helpers of the operator-realm tests: reasons, fixtures the members routes will provide
//! once they land (until then inserted directly), and looks at stored audit rows.
use serde_json::{Value, json};

use super::{PASSWORD, Res, TestServer};

pub fn reason(text: &str) -> Value {
    json!({ "reason": text })
}

impl TestServer {
    /// A read-write connection to the server's database (fixtures; proving the audit log is append-only).
    pub fn db_rw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).expect("open db read-write")
    }

    /// Gives an account a membership in another tenant.
    // Until the members routes (invite, activate, remove) land, the fixture is written directly.
    pub fn add_membership(&self, tenant_id: &str, user_id: &str, role: &str, status: &str) {
        self.db_rw()
            .execute(
                "INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, unixepoch(), unixepoch())",
                [tenant_id, user_id, role, status],
            )
            .expect("membership inserted");
    }

    pub fn membership_status(&self, tenant_id: &str, user_id: &str) -> String {
        self.db()
            .query_row(
                "SELECT status FROM memberships WHERE tenant_id = ?1 AND user_id = ?2",
                [tenant_id, user_id],
                |r| r.get(0),
            )
            .expect("membership exists")
    }

    /// Logs a portal account in to one tenant; the session token.
    pub fn login_to(&self, email: &str, tenant_id: &str) -> String {
        let res =
            self.post("/v1/auth/login", None, json!({ "email": email, "password": PASSWORD, "tenant_id": tenant_id }));
        assert_eq!(res.status, 200, "login of {email} to {tenant_id}: {}", res.text);
        res.str("/session_token")
    }

    pub fn verify_key(&self, key: &str) -> Value {
        let res = self.post("/v1/verify/key", None, json!({ "key": key }));
        assert_eq!(res.status, 200, "{}", res.text);
        res.body
    }

    /// The id of the operator with this email, as `GET /v1/admin/admins` lists it.
    pub fn admin_id(&self, token: &str, email: &str) -> String {
        let res = self.get("/v1/admin/admins?limit=200", Some(token));
        let found = items(&res).into_iter().find(|a| a["email"] == email);
        found.and_then(|a| a["id"].as_str().map(str::to_owned)).expect("operator listed")
    }

    /// The newest audit event with this action, as the admin API shows it.
    pub fn last_event(&self, admin: &str, action: &str) -> Value {
        let res = self.get(&format!("/v1/admin/audit?action={action}&limit=1"), Some(admin));
        assert_eq!(res.status, 200, "{}", res.text);
        res.body["items"][0].clone()
    }

    pub fn tenant_status(&self, admin: &str, tenant_id: &str) -> String {
        self.get(&format!("/v1/admin/tenants/{tenant_id}"), Some(admin)).str("/tenant/status")
    }
}

/// Items of a list response.
pub fn items(res: &Res) -> Vec<Value> {
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"].as_array().cloned().unwrap_or_default()
}

pub fn ids(res: &Res) -> Vec<String> {
    items(res).iter().map(|v| v["id"].as_str().unwrap_or_default().to_owned()).collect()
}
