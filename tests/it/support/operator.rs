//! Helpers of the operator-realm tests: reasons, memberships made through the portal's own
//! routes (invite, activate, remove), and looks at stored audit rows.
use serde_json::{Value, json};

use super::{PASSWORD, Res, Signed, TestServer};

pub fn reason(text: &str) -> Value {
    json!({ "reason": text })
}

impl TestServer {
    /// A read-write connection to the server's database (fixtures; proving the audit log is append-only).
    pub fn db_rw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).expect("open db read-write")
    }

    /// Makes an account that signed up elsewhere a member of `owner`'s tenant as people do
    /// it: the owner invites it ("invited"), it accepts signed in with its own session (no
    /// link is handed over for an existing account) ("active"), and the owner removes it
    /// ("removed"). Accepting opens no session, so a fixture adds none to the counts.
    pub fn add_member(&self, owner: &Signed, who: &Signed, role: &str, status: &str) {
        let res = self.invite(&owner.token, &who.email, role);
        assert_eq!(res.status, 201, "invite {} as {role}: {}", who.email, res.text);
        if status == "invited" {
            return;
        }
        let path = format!("/v1/me/invitations/{}/accept", owner.tenant_id);
        let res = self.post(&path, Some(&who.token), json!({}));
        assert_eq!(res.status, 200, "{} accepts: {}", who.email, res.text);
        match status {
            "active" => {}
            "removed" => {
                let res = self.delete(&format!("/v1/tenant/members/{}", who.user_id), Some(&owner.token));
                assert_eq!(res.status, 204, "remove {}: {}", who.email, res.text);
            }
            other => panic!("add_member makes invited, active or removed members, not {other}"),
        }
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

/// The ids a list (`/v1/admin/users` or `/v1/admin/tenants`) answers for `?q=`, encoded
/// as a browser would; `items` checks the answer is a 200.
pub fn found(s: &TestServer, op: &str, list: &str, q: &str) -> Vec<String> {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    ids(&s.get(&format!("{list}?q={q}"), Some(op)))
}
