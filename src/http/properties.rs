//! Property tests over the parsers of untrusted input: whatever the bytes, each answers a
//! value or a 4xx, never a panic or a 5xx. (The HTTP-level ones, with every API body and
//! the request head, are in tests/it/fuzz.rs.)
use proptest::prelude::*;
use serde::Deserialize;

use super::{Method, Req, auth, body, form};
use crate::crypto::api_key;
use crate::error::Error;
use crate::store::page::Page;

fn req(headers: Vec<(String, String)>, url: &str, body: Vec<u8>) -> Req {
    Req::new(Method::Post, url, headers, body, None, None)
}

fn config() -> ProptestConfig {
    // Bounded: a few hundred cases each, well under a second; nothing written on failure
    // (the failing input is in the message).
    ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() }
}

fn is_client_error(e: &Error) -> bool {
    (400..500).contains(&e.status_and_code().0)
}

/// JSON-ish text: mostly valid JSON objects of API field names, sometimes mangled.
fn json_text() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        ".*".prop_map(|s| serde_json::Value::String(s).to_string()),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("(email|name|password|role|reason|[a-z]{1,6})", inner), 0..4).prop_map(|v| {
                let fields: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    });
    prop_oneof![
        value.clone().prop_map(String::into_bytes),
        (value, any::<usize>(), any::<u8>()).prop_map(|(v, at, byte)| {
            let mut bytes = v.into_bytes();
            let at = at % (bytes.len() + 1);
            bytes.insert(at, byte);
            bytes
        }),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)] // only parsed
struct Body {
    email: String,
    name: Option<String>,
    #[serde(default, deserialize_with = "body::nullable")]
    reason: Option<Option<String>>,
    tags: Option<Vec<u32>>,
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_bodies_parse_or_are_4xx(bytes in json_text(), declared in prop::option::of("application/json(; charset=utf-8)?|text/plain|")) {
        let headers = declared.map(|d| vec![("content-type".to_owned(), d)]).unwrap_or_default();
        let req = req(headers, "/v1/x", bytes);
        if let Err(e) = body::json::<Body>(&req) {
            prop_assert!(is_client_error(&e), "{e:?}");
        }
        if let Err(e) = body::reason(&req) {
            prop_assert!(is_client_error(&e), "{e:?}");
        }
    }

    #[test]
    fn form_bodies_parse_or_are_415(bytes in prop::collection::vec(any::<u8>(), 0..128), declared in "application/x-www-form-urlencoded|multipart/form-data|.{0,20}") {
        let req = req(vec![("content-type".to_owned(), declared)], "/login", bytes);
        match form::Form::parse(&req) {
            Ok(form) => { let _ = (form.text("email"), form.all("role"), form.optional("name")); }
            Err(e) => prop_assert!(matches!(e, Error::UnsupportedMediaType)),
        }
    }

    #[test]
    fn query_strings_and_cursors_parse_or_are_400(query in "[a-z=&%0-9A-F+;.!-]{0,40}|.{0,40}", limit in prop::option::of(".{0,24}"), cursor in prop::option::of("[A-Za-z0-9_=-]{0,40}|.{0,40}")) {
        let req = req(Vec::new(), &format!("/v1/keys?{query}"), Vec::new());
        if let Err(e) = body::page(&req) {
            prop_assert!(is_client_error(&e), "{e:?}");
        }
        for name in ["q", "status", "since"] {
            if let Err(e) = body::text(&req, name).and_then(|_| body::time(&req, name)) {
                prop_assert!(is_client_error(&e), "{e:?}");
            }
        }
        if let Err(e) = Page::parse(limit.as_deref(), cursor.as_deref()) {
            prop_assert!(is_client_error(&e), "{e:?}");
        }
    }

    #[test]
    fn a_cursor_given_out_reads_back(at in any::<i64>(), id in "[A-Za-z0-9-]{1,64}") {
        let cursor = crate::store::page::Cursor { at, id: id.clone() };
        let page = Page::parse(None, Some(&cursor.encode())).expect("our own cursor");
        let after = page.after.expect("a cursor");
        prop_assert_eq!((after.at, after.id), (at, id));
    }

    #[test]
    fn authorization_headers_give_a_token_or_none(value in "(Bearer|bearer|Basic|) ?.{0,80}") {
        let req = req(vec![("authorization".to_owned(), value.clone())], "/v1/me", Vec::new());
        if let Some(token) = auth::bearer(&req) {
            prop_assert!(value.contains(token));
        }
    }

    #[test]
    fn api_keys_are_well_formed_only_with_their_checksum(prefix in "[a-z_]{1,8}", key in ".{0,80}", flip in any::<prop::sample::Index>()) {
        prop_assert!(!api_key::is_well_formed(&prefix, &key) || key.starts_with(&prefix));
        let good = api_key::generate(&prefix);
        let good = good.expose();
        prop_assert!(api_key::is_well_formed(&prefix, good));
        // Any one character changed (to another of the alphabet) breaks the checksum.
        let at = prefix.len() + flip.index(good.len() - prefix.len());
        let mut changed = good.as_bytes().to_vec();
        changed[at] = if changed[at] == b'a' { b'b' } else { b'a' };
        prop_assert!(!api_key::is_well_formed(&prefix, &String::from_utf8_lossy(&changed)));
    }
}
