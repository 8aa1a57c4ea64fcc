//! `/v1/admin/admins*`: operators manage operators; the last active one always stays.
use std::sync::{Arc, Barrier};

use serde_json::json;

use crate::support::operator::{items, reason};
use crate::support::{PASSWORD, TestServer, assert_error};

#[test]
fn operators_create_and_list_operators() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let body = json!({ "email": " Eve@Example.TEST ", "name": "Eve", "password": PASSWORD });
    let res = s.post("/v1/admin/admins", Some(&op), body);
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.str("/admin/email"), "eve@example.test");
    assert_eq!(res.str("/admin/status"), "active");
    assert_eq!(res.body["admin"]["last_login_at"], json!(null));
    assert!(!res.text.contains("argon2") && !res.text.contains(PASSWORD));
    let eve = s.post("/v1/admin/auth/login", None, json!({ "email": "eve@example.test", "password": PASSWORD }));
    assert_eq!(eve.status, 200, "{}", eve.text);

    let list = items(&s.get("/v1/admin/admins", Some(&op)));
    let mut emails: Vec<&str> = list.iter().filter_map(|a| a["email"].as_str()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["eve@example.test", "op@example.test"]);
    let page = s.get("/v1/admin/admins?limit=1", Some(&op));
    assert_eq!(items(&page).len(), 1);
    assert!(page.body["next_cursor"].is_string());

    let again = json!({ "email": "eve@example.test", "password": PASSWORD });
    assert_error(&s.post("/v1/admin/admins", Some(&op), again), 409, "email_taken");
    let weak = json!({ "email": "fay@example.test", "password": "password1" });
    assert_error(&s.post("/v1/admin/admins", Some(&op), weak), 400, "weak_password");
    let long = json!({ "email": "fay@example.test", "password": "x".repeat(257) });
    assert_error(&s.post("/v1/admin/admins", Some(&op), long), 400, "invalid_request");
    let bad = json!({ "email": "not an email", "password": PASSWORD });
    assert_error(&s.post("/v1/admin/admins", Some(&op), bad), 400, "invalid_request");
    assert_error(
        &s.post("/v1/admin/admins", Some(&op), json!({ "email": "fay@example.test" })),
        400,
        "invalid_request",
    );
    let event = s.last_event(&op, "admin.created");
    assert_eq!(event["actor_type"], "admin");
    assert_eq!(event["after"], json!({ "email": "eve@example.test", "name": "Eve" }));
}

#[test]
fn disabling_an_operator_ends_its_sessions_and_the_last_one_stays() {
    let s = TestServer::spawn();
    let op = s.admin("op@example.test");
    let eve = s.admin("eve@example.test");
    let (op_id, eve_id) = (s.admin_id(&op, "op@example.test"), s.admin_id(&op, "eve@example.test"));

    let path = format!("/v1/admin/admins/{eve_id}/disable");
    assert_error(&s.post(&path, Some(&op), json!({ "reason": "  " })), 400, "reason_required");
    assert_error(&s.post(&path, Some(&op), json!({ "reason": 1 })), 400, "invalid_request");
    let res = s.post(&path, Some(&op), reason("left the company"));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.str("/admin/status"), "disabled");
    assert_error(&s.get("/v1/admin/stats", Some(&eve)), 401, "unauthorized");
    let login = s.post("/v1/admin/auth/login", None, json!({ "email": "eve@example.test", "password": PASSWORD }));
    assert_error(&login, 403, "account_disabled");
    assert_error(&s.post(&path, Some(&op), reason("again")), 409, "invalid_transition");

    let me = format!("/v1/admin/admins/{op_id}/disable");
    assert_error(&s.post(&me, Some(&op), reason("no one left")), 409, "last_admin");
    assert_eq!(s.get("/v1/admin/stats", Some(&op)).status, 200, "still in");
    let missing = "/v1/admin/admins/00000000-0000-4000-8000-000000000000/disable";
    assert_error(&s.post(missing, Some(&op), reason("x")), 404, "not_found");
    let event = s.last_event(&op, "admin.disabled");
    assert_eq!(event["target_id"], eve_id.as_str());
    assert_eq!(event["after"], json!({ "status": "disabled", "sessions_revoked": 1 }));
}

/// Two operators disable each other at the same moment: exactly one wins, and one active
/// operator always remains. The loser gets 409 last_admin, or 401 when the winner's change
/// already ended its session.
#[test]
fn two_operators_disabling_each_other_leave_exactly_one() {
    let s = Arc::new(TestServer::spawn());
    let mut survivor = ("op0@example.test".to_owned(), s.admin("op0@example.test"));
    for round in 1..=5 {
        let email = format!("op{round}@example.test");
        let challenger = (email.clone(), s.admin(&email));
        let ids = [s.admin_id(&survivor.1, &challenger.0), s.admin_id(&survivor.1, &survivor.0)];
        let tokens = [survivor.1.clone(), challenger.1.clone()];
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (s, barrier, token, target) = (s.clone(), barrier.clone(), tokens[i].clone(), ids[i].clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    s.post(&format!("/v1/admin/admins/{target}/disable"), Some(&token), reason("race")).status
                })
            })
            .collect();
        let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(statuses.iter().filter(|&&c| c == 200).count(), 1, "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|c| [200, 401, 409].contains(c)), "round {round}: {statuses:?}");
        let active: i64 =
            s.db().query_row("SELECT COUNT(*) FROM admins WHERE status = 'active'", [], |r| r.get(0)).unwrap();
        assert_eq!(active, 1, "round {round}");
        // Whoever was not disabled carries on into the next round.
        if statuses[1] == 200 {
            survivor = challenger;
        }
    }
}
