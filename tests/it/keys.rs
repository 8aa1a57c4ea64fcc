//! `/v1/keys`: listing (filters, keyset pagination), creation (validation, the raw key shown
//! once, only its SHA-256 stored), revocation, roles and tenant isolation.
use std::collections::HashSet;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{Res, Signed, TestServer, assert_error};

/// A session of a `member` of `owner`'s tenant: invited, then activated through its link.
fn member_of(s: &TestServer, owner: &Signed, email: &str) -> String {
    let member = s.join(&owner.token, email, "member");
    assert_eq!(s.get("/v1/me", Some(&member.token)).str("/user/role"), "member");
    member.token
}

fn create(s: &TestServer, token: &str, body: Value) -> Res {
    s.post("/v1/keys", Some(token), body)
}

fn created(s: &TestServer, token: &str, body: Value) -> Res {
    let res = create(s, token, body);
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

fn items(res: &Res) -> &Vec<Value> {
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"].as_array().unwrap_or_else(|| panic!("no items: {}", res.text))
}

fn ids(res: &Res) -> Vec<String> {
    items(res).iter().map(|k| k["id"].as_str().expect("id").to_owned()).collect()
}

fn verify(s: &TestServer, key: &str) -> Res {
    let res = s.post("/v1/verify/key", None, json!({ "key": key }));
    assert_eq!(res.status, 200, "{}", res.text);
    res
}

#[test]
fn the_list_has_its_shape_and_holds_the_first_key() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = s.get("/v1/keys", Some(&a.token));
    assert_eq!(ids(&res), vec![a.key_id.clone()]);
    assert_eq!(res.body["next_cursor"], Value::Null);
    let k = &res.body["items"][0];
    for field in [
        "id",
        "tenant_id",
        "name",
        "prefix",
        "scopes",
        "meta",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ] {
        assert!(k.get(field).is_some(), "api_key without {field}: {k}");
    }
    assert_eq!(k["tenant_id"], json!(a.tenant_id));
    assert_eq!(k["prefix"], json!(&a.key[..12]));
    assert!(k.get("key").is_none(), "the raw key is listed: {k}");
    assert!(!res.text.contains(&a.key), "the raw key is in the list");
}

#[test]
fn the_list_needs_a_session() {
    let s = TestServer::spawn();
    assert_error(&s.get("/v1/keys", None), 401, "unauthorized");
    assert_error(&s.get("/v1/keys", Some("not-a-session")), 401, "unauthorized");
}

#[test]
fn revoked_and_expired_keys_are_listed_unless_filtered() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let revoked = created(&s, &a.token, json!({ "name": "to revoke" })).str("/id");
    assert_eq!(s.delete(&format!("/v1/keys/{revoked}"), Some(&a.token)).status, 204);
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let expired = created(&s, &a.token, json!({ "name": "short-lived", "expires_at": soon })).str("/id");
    s.app.clock.advance(7200);

    let all: HashSet<String> = ids(&s.get("/v1/keys", Some(&a.token))).into_iter().collect();
    let want: HashSet<String> = [a.key_id.clone(), revoked.clone(), expired.clone()].into();
    assert_eq!(all, want);

    assert_eq!(ids(&s.get("/v1/keys?status=active", Some(&a.token))), vec![a.key_id.clone()]);
    let res = s.get("/v1/keys?status=revoked", Some(&a.token));
    assert_eq!(ids(&res), vec![revoked]);
    assert!(res.body["items"][0]["revoked_at"].is_string(), "{}", res.text);
    assert_eq!(ids(&s.get("/v1/keys?status=expired", Some(&a.token))), vec![expired]);

    for bogus in ["bogus", "", "ACTIVE"] {
        assert_error(&s.get(&format!("/v1/keys?status={bogus}"), Some(&a.token)), 400, "invalid_request");
    }
}

#[test]
fn pages_of_two_walk_every_key_once_in_the_unpaged_order() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for n in 0..4 {
        created(&s, &a.token, json!({ "name": format!("key {n}") }));
    }
    let unpaged = ids(&s.get("/v1/keys", Some(&a.token)));
    assert_eq!(unpaged.len(), 5);

    let mut walked = Vec::new();
    let mut path = "/v1/keys?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let res = s.get(&path, Some(&a.token));
        let page = ids(&res);
        assert!(page.len() <= 2, "a page of {} with limit=2", page.len());
        walked.extend(page);
        pages += 1;
        assert!(pages <= 5, "pagination does not end");
        match res.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/keys?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "a key appears twice: {walked:?}");
    assert_eq!(walked, unpaged);
}

#[test]
fn bad_limits_and_cursors_are_400() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for limit in ["0", "-1", "abc", "", "1.5"] {
        let res = s.get(&format!("/v1/keys?limit={limit}"), Some(&a.token));
        assert_error(&res, 400, "invalid_request");
    }
    for cursor in ["!!", "not-a-cursor", "bm9kb3Q", "%00"] {
        assert_error(&s.get(&format!("/v1/keys?cursor={cursor}"), Some(&a.token)), 400, "invalid_request");
    }
}

#[test]
fn a_limit_over_200_is_capped_at_200() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for n in 0..201 {
        created(&s, &a.token, json!({ "name": format!("key {n}") }));
    }
    for limit in ["500", "201", "99999999999999999999999"] {
        let res = s.get(&format!("/v1/keys?limit={limit}"), Some(&a.token));
        assert_eq!(items(&res).len(), 200, "limit={limit}");
        let cursor = res.body["next_cursor"].as_str().expect("a next page").to_owned();
        let rest = s.get(&format!("/v1/keys?limit={limit}&cursor={cursor}"), Some(&a.token));
        assert_eq!(items(&rest).len(), 2, "limit={limit}");
        assert_eq!(rest.body["next_cursor"], Value::Null);
    }
    assert_eq!(items(&s.get("/v1/keys", Some(&a.token))).len(), 50, "the default limit is 50");
}

#[test]
fn creation_shows_the_key_once_and_stores_only_its_digest() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let res = created(
        &s,
        &a.token,
        json!({ "name": "  CI deploys  ", "scopes": ["deploy", "read:logs", "deploy"], "meta": { "env": "prod", "n": 3 } }),
    );
    let key = res.str("/key");
    let id = res.str("/id");
    assert!(key.starts_with("ksk_") && key.len() == 4 + 43 + 6, "{key}");
    assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
    assert_eq!(res.str("/prefix"), key[..12]);
    assert_eq!(res.str("/name"), "CI deploys");
    assert_eq!(res.body["scopes"], json!(["deploy", "read:logs"]), "scopes are deduplicated in order");
    assert_eq!(res.body["meta"], json!({ "env": "prod", "n": 3 }));
    assert_eq!(res.str("/tenant_id"), a.tenant_id);
    assert_eq!(res.str("/created_by"), a.user_id);
    assert_eq!(res.body["revoked_at"], Value::Null);
    assert_eq!(res.body["expires_at"], Value::Null);
    assert_eq!(res.body["last_used_at"], Value::Null);

    // Never again: not in the list.
    let list = s.get("/v1/keys", Some(&a.token));
    let listed = items(&list).iter().find(|k| k["id"] == json!(id)).expect("listed").clone();
    assert!(listed.get("key").is_none());
    assert!(!list.text.contains(&key));
    assert_eq!(listed["meta"], json!({ "env": "prod", "n": 3 }));
    assert_eq!(listed["scopes"], json!(["deploy", "read:logs"]));

    // The database keeps SHA-256(key), the prefix, the scopes and the meta; never the key.
    let db = s.db();
    let (hash, prefix, scopes, meta): (Vec<u8>, String, String, Option<String>) = db
        .query_row("SELECT hash, prefix, scopes, meta FROM keys WHERE id = ?1", [&id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("key row");
    assert_eq!(hash, Sha256::digest(key.as_bytes()).to_vec());
    assert_eq!(prefix, &key[..12]);
    assert_eq!(serde_json::from_str::<Value>(&scopes).expect("scopes json"), json!(["deploy", "read:logs"]));
    assert_eq!(
        serde_json::from_str::<Value>(&meta.expect("meta")).expect("meta json"),
        json!({ "env": "prod", "n": 3 })
    );
    for (table, raw) in [("keys", &key), ("audit_log", &key), ("keys", &a.key), ("audit_log", &a.key)] {
        let secret_part = &raw[12..];
        assert!(!dump(&db, table).contains(secret_part), "{table} holds a raw key");
    }

    let created_events: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'api_key.created' AND target_id = ?1 AND tenant_id = ?2 AND actor_id = ?3",
            [&id, &a.tenant_id, &a.user_id],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(created_events, 1);
}

/// Every column of every row of `table`, as text (blobs as hex and as lossy UTF-8).
fn dump(db: &rusqlite::Connection, table: &str) -> String {
    let mut stmt = db.prepare(&format!("SELECT * FROM {table}")).expect("select");
    let columns = stmt.column_count();
    let mut out = String::new();
    let mut rows = stmt.query([]).expect("query");
    while let Some(row) = rows.next().expect("row") {
        for i in 0..columns {
            match row.get_ref(i).expect("column") {
                rusqlite::types::ValueRef::Text(t) => out.push_str(&String::from_utf8_lossy(t)),
                rusqlite::types::ValueRef::Blob(b) => {
                    out.push_str(&String::from_utf8_lossy(b));
                    out.extend(b.iter().map(|x| format!("{x:02x}")));
                }
                other => out.push_str(&format!("{other:?}")),
            }
            out.push('\u{1f}');
        }
        out.push('\n');
    }
    assert!(!out.is_empty(), "{table} is empty");
    out
}

#[test]
fn meta_must_be_an_object_of_at_most_4096_bytes() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // {"b":"…"} serializes to 8 bytes plus the string.
    let at_limit = created(&s, &a.token, json!({ "name": "k", "meta": { "b": "x".repeat(4088) } }));
    assert_eq!(at_limit.body["meta"]["b"].as_str().map(str::len), Some(4088));
    let over = create(&s, &a.token, json!({ "name": "k", "meta": { "b": "x".repeat(4089) } }));
    assert_error(&over, 400, "invalid_request");
    assert!(over.body.pointer("/error/fields/meta").is_some(), "{}", over.text);
    for meta in [json!("text"), json!([1, 2]), json!(5), json!(true)] {
        assert_error(&create(&s, &a.token, json!({ "name": "k", "meta": meta })), 400, "invalid_request");
    }
    // null is "no meta".
    assert_eq!(created(&s, &a.token, json!({ "name": "k", "meta": null })).body["meta"], Value::Null);
    let count: i64 = s.db().query_row("SELECT count(*) FROM keys", [], |r| r.get(0)).expect("count");
    assert_eq!(count, 3, "only the first key, the one at the limit and the one without meta exist");
}

#[test]
fn expiry_must_be_a_future_rfc3339_timestamp() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for expires_at in [json!("2001-01-01T00:00:00Z"), json!("tomorrow"), json!("2030-01-01"), json!(1_900_000_000)] {
        let res = create(&s, &a.token, json!({ "name": "k", "expires_at": expires_at }));
        assert_error(&res, 400, "invalid_request");
    }
    let res = created(&s, &a.token, json!({ "name": "k", "expires_at": "2099-01-02T03:04:05Z" }));
    assert_eq!(res.str("/expires_at"), "2099-01-02T03:04:05Z");
    let offset = created(&s, &a.token, json!({ "name": "k", "expires_at": "2099-01-02T05:04:05+02:00" }));
    assert_eq!(offset.str("/expires_at"), "2099-01-02T03:04:05Z", "shown in UTC");
}

#[test]
fn names_and_scopes_are_checked() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    for body in [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({}),
        json!({ "name": 5 }),
        json!({ "name": "x".repeat(101) }),
        json!({ "name": "k", "scopes": "read" }),
        json!({ "name": "k", "scopes": ["has space"] }),
        json!({ "name": "k", "scopes": [""] }),
        json!({ "name": "k", "scopes": [1] }),
        json!({ "name": "k", "scopes": (0..51).map(|n| format!("s{n}")).collect::<Vec<_>>() }),
        json!({ "name": "k", "scopes": ["x".repeat(65)] }),
    ] {
        assert_error(&create(&s, &a.token, body), 400, "invalid_request");
    }
    let fifty: Vec<String> = (0..50).map(|n| format!("s{n}")).collect();
    let many = created(&s, &a.token, json!({ "name": "k", "scopes": fifty, "meta": {} }));
    assert_eq!(many.body["scopes"].as_array().map(Vec::len), Some(50));
    assert_eq!(many.body["meta"], json!({}));
    assert_eq!(s.delete(&format!("/v1/keys/{}", many.str("/id")), Some(&a.token)).status, 204);
    let blank = create(&s, &a.token, json!({ "name": "  " }));
    assert!(blank.body.pointer("/error/fields/name").is_some(), "{}", blank.text);
    assert_eq!(ids(&s.get("/v1/keys?status=active", Some(&a.token))), vec![a.key_id.clone()], "nothing was created");
}

#[test]
fn members_list_keys_but_cannot_create_or_revoke_them() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let member = member_of(&s, &a, "mo@example.test");
    assert_eq!(ids(&s.get("/v1/keys", Some(&member))), vec![a.key_id.clone()]);
    assert_error(&create(&s, &member, json!({ "name": "mine" })), 403, "forbidden");
    assert_error(&s.delete(&format!("/v1/keys/{}", a.key_id), Some(&member)), 403, "forbidden");
    assert_eq!(verify(&s, &a.key).body["valid"], json!(true), "the key survived");
    let count: i64 = s
        .db()
        .query_row("SELECT count(*) FROM keys WHERE tenant_id = ?1", [&a.tenant_id], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 1);
}

#[test]
fn an_owner_demoted_to_member_loses_key_management_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    // A second owner changes ann's role (the last owner could not step down).
    let co = s.join(&a.token, "co@example.test", "owner");
    let ann = format!("/v1/tenant/members/{}", a.user_id);
    assert_eq!(s.patch(&ann, Some(&co.token), json!({ "role": "member" })).status, 200);
    assert_error(&create(&s, &a.token, json!({ "name": "k" })), 403, "forbidden");
    assert_eq!(s.patch(&ann, Some(&co.token), json!({ "role": "admin" })).status, 200);
    created(&s, &a.token, json!({ "name": "k" }));
}

#[test]
fn revoking_a_key_stops_verification_at_once() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    assert_eq!(verify(&s, &a.key).body["valid"], json!(true));
    let res = s.delete(&format!("/v1/keys/{}", a.key_id), Some(&a.token));
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(res.text.is_empty());
    assert_eq!(verify(&s, &a.key).body, json!({ "valid": false, "code": "revoked" }));

    let db = s.db();
    let revoked_at: Option<i64> =
        db.query_row("SELECT revoked_at FROM keys WHERE id = ?1", [&a.key_id], |r| r.get(0)).expect("row");
    assert!(revoked_at.is_some());
    let events: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'api_key.revoked' AND target_id = ?1 AND actor_id = ?2",
            [&a.key_id, &a.user_id],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(events, 1);

    // Revoking again changes nothing and still succeeds; no second event.
    assert_eq!(s.delete(&format!("/v1/keys/{}", a.key_id), Some(&a.token)).status, 204);
    let again: Option<i64> =
        db.query_row("SELECT revoked_at FROM keys WHERE id = ?1", [&a.key_id], |r| r.get(0)).expect("row");
    assert_eq!(again, revoked_at);
}

#[test]
fn unknown_and_malformed_key_ids_are_404() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let unknown = "0b0d2a4e-1c1f-4f4e-9a9a-000000000001";
    assert_error(&s.delete(&format!("/v1/keys/{unknown}"), Some(&a.token)), 404, "not_found");
    assert_error(&s.delete("/v1/keys/not-an-id", Some(&a.token)), 404, "not_found");
    assert_error(&s.delete("/v1/keys/%27%20OR%201=1", Some(&a.token)), 404, "not_found");
    assert_error(&s.delete(&format!("/v1/keys/{}", a.key_id), None), 401, "unauthorized");
}

#[test]
fn another_tenant_cannot_see_or_revoke_a_key() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let b = s.signup("bob@example.test");
    assert_error(&s.delete(&format!("/v1/keys/{}", a.key_id), Some(&b.token)), 404, "not_found");
    assert_eq!(verify(&s, &a.key).body["valid"], json!(true), "A's key still verifies");
    let revoked_at: Option<i64> =
        s.db().query_row("SELECT revoked_at FROM keys WHERE id = ?1", [&a.key_id], |r| r.get(0)).expect("row");
    assert_eq!(revoked_at, None);

    let b_list = s.get("/v1/keys", Some(&b.token));
    assert_eq!(ids(&b_list), vec![b.key_id.clone()]);
    assert!(!b_list.text.contains(&a.key_id));
    // A cursor made from A's keys shows B nothing of A's.
    for n in 0..3 {
        created(&s, &a.token, json!({ "name": format!("a{n}") }));
    }
    let cursor = s.get("/v1/keys?limit=1", Some(&a.token)).str("/next_cursor");
    let crossed = s.get(&format!("/v1/keys?limit=10&cursor={cursor}"), Some(&b.token));
    assert!(ids(&crossed).iter().all(|id| *id == b.key_id), "{}", crossed.text);
    // A key B creates belongs to B's tenant only.
    let mine = created(&s, &b.token, json!({ "name": "b's" })).str("/id");
    assert!(!ids(&s.get("/v1/keys", Some(&a.token))).contains(&mine));
}
