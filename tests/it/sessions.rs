//! `/v1/sessions`: listing one's own sessions, revoking one or all others, tenant isolation,
//! and the idle and absolute lifetimes of portal sessions (moved with the app's clock).
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{PASSWORD, Res, TestServer, assert_error};

const DAY: i64 = 24 * 3600;

/// Logs in with a recognisable User-Agent; returns the session token.
fn login_as(s: &TestServer, email: &str, user_agent: &str) -> String {
    let body = json!({ "email": email, "password": PASSWORD }).to_string();
    let res = s.send(
        "POST",
        "/v1/auth/login",
        None,
        &[("Content-Type", "application/json"), ("User-Agent", user_agent)],
        Some(body.as_bytes()),
    );
    assert_eq!(res.status, 200, "login: {}", res.text);
    res.str("/session_token")
}

fn list(s: &TestServer, token: &str) -> Vec<Value> {
    let res = s.get("/v1/sessions", Some(token));
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body.get("next_cursor").is_some(), "{}", res.text);
    res.body["items"].as_array().expect("items").clone()
}

/// The id of the caller's own session (the one listed as current).
fn current_id(s: &TestServer, token: &str) -> String {
    let items = list(s, token);
    let current: Vec<&Value> = items.iter().filter(|i| i["current"] == json!(true)).collect();
    assert_eq!(current.len(), 1, "exactly one current session: {items:?}");
    current[0]["id"].as_str().expect("id").to_owned()
}

fn me(s: &TestServer, token: &str) -> Res {
    s.get("/v1/me", Some(token))
}

/// Whether the session works; its use is then written at once (the flusher does within
/// seconds, and these tests move the clock by hours).
fn alive(s: &TestServer, token: &str) -> bool {
    let res = me(s, token);
    s.flush_usage();
    match res.status {
        200 => true,
        401 => {
            assert_error(&res, 401, "unauthorized");
            false
        }
        other => panic!("unexpected {other}: {}", res.text),
    }
}

#[test]
fn the_list_holds_own_sessions_with_one_current_and_their_origin() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let laptop = login_as(&s, "ann@example.test", "Laptop/1.0 (test)");
    let b = s.signup("bob@example.test");

    let items = list(&s, &laptop);
    assert_eq!(items.len(), 2, "{items:?}");
    for item in &items {
        for field in ["id", "tenant_id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "current"] {
            assert!(item.get(field).is_some(), "session without {field}: {item}");
        }
        assert_eq!(item["tenant_id"], json!(a.tenant_id));
        assert_eq!(item["ip"], json!("127.0.0.1"));
    }
    let current: Vec<&Value> = items.iter().filter(|i| i["current"] == json!(true)).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], json!("Laptop/1.0 (test)"));
    let other = items.iter().find(|i| i["current"] == json!(false)).expect("the sign-up session");
    assert_ne!(other["user_agent"], json!("Laptop/1.0 (test)"));

    // Seen from the sign-up session, the laptop is the one not current.
    let from_signup = list(&s, &a.token);
    let laptop_id = current[0]["id"].as_str().expect("id");
    let seen = from_signup.iter().find(|i| i["id"] == json!(laptop_id)).expect("same sessions");
    assert_eq!(seen["current"], json!(false));

    // B's session is not A's business.
    let b_id = current_id(&s, &b.token);
    assert!(!items.iter().any(|i| i["id"] == json!(b_id)));

    // The database keeps the origin and SHA-256 of the token, never the token.
    let db = s.db();
    let (hash, ip, ua): (Vec<u8>, String, String) = db
        .query_row("SELECT hash, ip, user_agent FROM sessions WHERE id = ?1", [laptop_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("row");
    assert_eq!(hash, Sha256::digest(laptop.as_bytes()).to_vec());
    assert_eq!((ip.as_str(), ua.as_str()), ("127.0.0.1", "Laptop/1.0 (test)"));
    let leaked: i64 = db
        .query_row(
            "SELECT count(*) FROM sessions WHERE instr(CAST(hash AS TEXT), ?1) > 0 OR instr(user_agent, ?1) > 0",
            [&laptop],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(leaked, 0);
}

#[test]
fn the_recorded_ip_ignores_x_forwarded_for_unless_trusted_and_long_agents_are_cut() {
    let login = |s: &TestServer, user_agent: &str| {
        let body = json!({ "email": "ann@example.test", "password": PASSWORD }).to_string();
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", user_agent),
            ("X-Forwarded-For", "203.0.113.9, 198.51.100.7"),
        ];
        let res = s.send("POST", "/v1/auth/login", None, &headers, Some(body.as_bytes()));
        assert_eq!(res.status, 200, "{}", res.text);
        res.str("/session_token")
    };
    let long_agent = "A".repeat(1000);

    let direct = TestServer::spawn();
    direct.signup("ann@example.test");
    let token = login(&direct, &long_agent);
    let items = list(&direct, &token);
    let mine = items.iter().find(|i| i["current"] == json!(true)).expect("current");
    assert_eq!(mine["ip"], json!("127.0.0.1"), "X-Forwarded-For believed without --trust-proxy");
    assert_eq!(mine["user_agent"].as_str().map(str::len), Some(256), "the user agent is stored whole");

    let proxied = TestServer::with(|c| c.trust_proxy = true);
    proxied.signup("ann@example.test");
    let token = login(&proxied, "Proxied");
    let items = list(&proxied, &token);
    let mine = items.iter().find(|i| i["current"] == json!(true)).expect("current");
    assert_eq!(mine["ip"], json!("198.51.100.7"), "behind a trusted proxy the last hop is the client");
}

#[test]
fn sessions_page_with_a_cursor() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    login_as(&s, "ann@example.test", "Second");
    login_as(&s, "ann@example.test", "Third");
    let first = s.get("/v1/sessions?limit=2", Some(&a.token));
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    let cursor = first.str("/next_cursor");
    let rest = s.get(&format!("/v1/sessions?limit=2&cursor={cursor}"), Some(&a.token));
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(1), "{}", rest.text);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    assert_error(&s.get("/v1/sessions?limit=0", Some(&a.token)), 400, "invalid_request");
    assert_error(&s.get("/v1/sessions?cursor=!!", Some(&a.token)), 400, "invalid_request");
}

#[test]
fn the_list_needs_a_session() {
    let s = TestServer::spawn();
    assert_error(&s.get("/v1/sessions", None), 401, "unauthorized");
    assert_error(&s.delete("/v1/sessions", Some("nope")), 401, "unauthorized");
}

#[test]
fn revoking_one_session_ends_it_and_only_it() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let laptop = login_as(&s, "ann@example.test", "Laptop");
    let signup_id = current_id(&s, &a.token);

    let res = s.delete(&format!("/v1/sessions/{signup_id}"), Some(&laptop));
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!alive(&s, &a.token), "the revoked token still works");
    assert!(alive(&s, &laptop));
    assert!(!list(&s, &laptop).iter().any(|i| i["id"] == json!(signup_id)), "a revoked session is listed");

    let db = s.db();
    let revoked_at: Option<i64> =
        db.query_row("SELECT revoked_at FROM sessions WHERE id = ?1", [&signup_id], |r| r.get(0)).expect("row");
    assert!(revoked_at.is_some());
    let events: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'session.revoked' AND target_id = ?1 AND actor_id = ?2",
            [&signup_id, &a.user_id],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(events, 1);

    // Gone is gone: a second revocation finds nothing.
    assert_error(&s.delete(&format!("/v1/sessions/{signup_id}"), Some(&laptop)), 404, "not_found");
}

#[test]
fn a_session_may_revoke_itself() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let own = current_id(&s, &a.token);
    assert_eq!(s.delete(&format!("/v1/sessions/{own}"), Some(&a.token)).status, 204);
    assert!(!alive(&s, &a.token));
}

#[test]
fn another_accounts_session_is_404_and_stays_valid() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    let a_session = current_id(&s, &a.token);
    assert_error(&s.delete(&format!("/v1/sessions/{a_session}"), Some(&b.token)), 404, "not_found");
    assert!(alive(&s, &a.token), "B revoked A's session");
    let revoked_at: Option<i64> =
        s.db().query_row("SELECT revoked_at FROM sessions WHERE id = ?1", [&a_session], |r| r.get(0)).expect("row");
    assert_eq!(revoked_at, None);
}

#[test]
fn unknown_and_malformed_session_ids_are_404() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_error(&s.delete("/v1/sessions/0b0d2a4e-1c1f-4f4e-9a9a-000000000001", Some(&a.token)), 404, "not_found");
    assert_error(&s.delete("/v1/sessions/garbage", Some(&a.token)), 404, "not_found");
    assert!(alive(&s, &a.token));
}

#[test]
fn revoking_all_others_keeps_the_current_one_and_other_accounts() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let second = login_as(&s, "ann@example.test", "Second");
    let third = login_as(&s, "ann@example.test", "Third");
    let b = s.signup("bob@example.test");
    assert_eq!(list(&s, &third).len(), 3);

    let res = s.delete("/v1/sessions", Some(&third));
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!alive(&s, &a.token));
    assert!(!alive(&s, &second));
    assert!(alive(&s, &third));
    assert!(alive(&s, &b.token), "another account's session was revoked");
    let left = list(&s, &third);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], json!(true));

    let db = s.db();
    let revoked: i64 = db
        .query_row("SELECT count(*) FROM sessions WHERE user_id = ?1 AND revoked_at IS NOT NULL", [&a.user_id], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(revoked, 2);
    let after: String = db
        .query_row(
            "SELECT after FROM audit_log WHERE action = 'session.revoked_others' AND actor_id = ?1",
            [&a.user_id],
            |r| r.get(0),
        )
        .expect("one audit event");
    assert_eq!(serde_json::from_str::<Value>(&after).expect("json"), json!({ "revoked": 2 }));
}

/// A member's session in a new tenant: `(owner, member)`.
fn member_session(s: &TestServer) -> (crate::support::Signed, crate::support::Joined) {
    let owner = s.signup("olga@example.test");
    let member = s.join(&owner.token, "ann@example.test", "member");
    (owner, member)
}

#[test]
fn an_idle_member_session_lapses_after_7_days() {
    let s = TestServer::spawn();
    let (_, a) = member_session(&s);
    assert!(alive(&s, &a.token));
    s.app.clock.advance(8 * DAY);
    assert!(!alive(&s, &a.token), "a session idle for 8 days still works");
    let verdict = s.post("/v1/verify/session", None, json!({ "token": a.token }));
    assert_eq!(verdict.body, json!({ "valid": false }));
    // The password still works: a new session is opened.
    assert!(alive(&s, &login_as(&s, "ann@example.test", "Back")));
}

#[test]
fn use_within_the_idle_window_keeps_a_member_session_alive() {
    let s = TestServer::spawn();
    let (_, a) = member_session(&s);
    let unused = login_as(&s, "ann@example.test", "Unused");
    s.app.clock.advance(6 * DAY);
    assert!(alive(&s, &a.token), "used on day 6");
    let listed = list(&s, &a.token);
    let mine = listed.iter().find(|i| i["current"] == json!(true)).expect("current");
    assert_ne!(mine["last_seen_at"], mine["created_at"], "use on day 6 is recorded");

    s.app.clock.advance(6 * DAY);
    assert!(alive(&s, &a.token), "used on day 6, so alive on day 12");
    assert!(!alive(&s, &unused), "unused for 12 days, yet alive");
}

#[test]
fn a_member_session_ends_after_30_days_however_busy() {
    let s = TestServer::spawn();
    let (_, a) = member_session(&s);
    for day in [6, 12, 18, 24] {
        s.app.clock.advance(6 * DAY);
        assert!(alive(&s, &a.token), "day {day}");
    }
    s.app.clock.advance(5 * DAY);
    assert!(alive(&s, &a.token), "day 29");
    s.app.clock.advance(2 * DAY);
    assert!(!alive(&s, &a.token), "day 31: past the absolute lifetime");
}

const HOUR: i64 = 3600;

#[test]
fn an_owner_session_idles_out_after_12_hours_and_ends_after_7_days() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let unused = login_as(&s, "ann@example.test", "Unused");
    let listed = list(&s, &a.token);
    let mine = listed.iter().find(|i| i["current"] == json!(true)).expect("current");
    let (created, expires) = (mine["created_at"].as_str().unwrap(), mine["expires_at"].as_str().unwrap());
    let at = |t: &str| keystead::types::Timestamp::parse("t", t).unwrap().unix();
    assert_eq!(at(expires) - at(created), 12 * HOUR, "{mine}");
    s.app.clock.advance(11 * HOUR);
    assert!(alive(&s, &a.token), "used after 11 hours");
    s.app.clock.advance(2 * HOUR);
    assert!(!alive(&s, &unused), "unused for 13 hours, yet alive");
    s.app.clock.advance(9 * HOUR);
    assert!(alive(&s, &a.token), "used 11 hours after its last use");
    let mut hours = 22;
    while hours + 11 < 7 * 24 {
        s.app.clock.advance(11 * HOUR);
        hours += 11;
        assert!(alive(&s, &a.token), "used every 11 hours: hour {hours}");
    }
    s.app.clock.advance((7 * 24 - hours) * HOUR);
    assert!(!alive(&s, &a.token), "past 7 days, however busy");
}

#[test]
fn an_admin_session_has_the_owners_lifetime_and_a_promotion_shortens_a_member_session() {
    let s = TestServer::spawn();
    let owner = s.signup("olga@example.test");
    let admin = s.join(&owner.token, "adam@example.test", "admin");
    let member = s.join(&owner.token, "mia@example.test", "member");
    let promoted = s.join(&owner.token, "pat@example.test", "member");
    s.app.clock.advance(13 * HOUR);
    assert!(!alive(&s, &admin.token), "an admin session idles out after 12 hours");
    assert!(alive(&s, &member.token) && alive(&s, &promoted.token));

    let res = s.patch(
        &format!("/v1/tenant/members/{}", promoted.user_id),
        Some(&login_as(&s, &owner.email, "O")),
        json!({ "role": "admin" }),
    );
    assert_eq!(res.status, 200, "{}", res.text);
    s.app.clock.advance(13 * HOUR);
    assert!(alive(&s, &member.token), "a member's 7 idle days");
    assert!(!alive(&s, &promoted.token), "promoted to admin: 12 idle hours");
}

#[test]
fn switching_to_a_tenant_one_owns_takes_the_owners_lifetime() {
    let s = TestServer::spawn();
    let (owner, a) = member_session(&s);
    let own = s.post("/v1/tenants", Some(&a.token), json!({ "tenant_name": "Ann's own" }));
    assert_eq!(own.status, 201, "{}", own.text);
    let own_tenant = own.str("/tenant/id");
    let back = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": owner.tenant_id }));
    assert_eq!(back.status, 200, "{}", back.text);

    // Acting as a member, the session outlives an owner's idle timeout…
    s.app.clock.advance(13 * HOUR);
    assert!(alive(&s, &a.token));
    // …and acting as an owner it does not.
    let res = s.post("/v1/auth/switch-tenant", Some(&a.token), json!({ "tenant_id": own_tenant }));
    assert_eq!(res.status, 200, "{}", res.text);
    s.app.clock.advance(13 * HOUR);
    assert!(!alive(&s, &a.token));

    // A member session older than an owner's lifetime cannot switch to act as owner.
    let old = login_as(&s, "ann@example.test", "Old");
    let res = s.post("/v1/auth/switch-tenant", Some(&old), json!({ "tenant_id": owner.tenant_id }));
    assert_eq!(res.status, 200, "{}", res.text);
    for _ in 0..8 {
        s.app.clock.advance(DAY);
        assert!(alive(&s, &old));
    }
    assert_error(
        &s.post("/v1/auth/switch-tenant", Some(&old), json!({ "tenant_id": own_tenant })),
        401,
        "unauthorized",
    );
    assert!(alive(&s, &old), "the refused switch changed nothing");
}

#[test]
fn configured_lifetimes_replace_the_defaults() {
    let s = TestServer::with(|c| {
        c.sessions.member.idle = HOUR;
        c.sessions.manager.idle = 10 * 60;
    });
    let (owner, member) = member_session(&s);
    s.app.clock.advance(11 * 60);
    assert!(!alive(&s, &owner.token), "--manager-session-idle 10m");
    assert!(alive(&s, &member.token));
    s.app.clock.advance(HOUR + 60);
    assert!(!alive(&s, &member.token), "--session-idle 1h");
}
