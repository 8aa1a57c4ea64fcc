use serde_json::json;

use crate::support::{TestServer, assert_error};

#[test]
fn healthz_answers_and_unknown_paths_are_404() {
    let s = TestServer::spawn();
    let res = s.get("/healthz", None);
    assert_eq!(res.status, 200);
    assert_eq!(res.body, json!({ "status": "ok" }));
    assert_error(&s.get("/v1/nope", None), 404, "not_found");
}

#[test]
fn a_signed_up_owner_sees_itself() {
    let s = TestServer::spawn();
    let a = s.signup("ann@example.test");
    let me = s.get("/v1/me", Some(&a.token));
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.str("/user/email"), "ann@example.test");
    assert_eq!(me.str("/user/role"), "owner");
}
