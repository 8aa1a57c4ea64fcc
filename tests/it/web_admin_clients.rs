//! `/admin/clients*`: the list and registration form (the secret shown once, after it), a
//! client's page and its forms (settings, a new secret, disable / enable with a reason),
//! each calling the operation of `/v1/admin/clients*`.
use crate::oauth_clients::CALLBACK;
use crate::support::TestServer;
use crate::support::web::Page;
use crate::web_admin::{assert_form_error, audit_rows, operator};

fn clients_stored(s: &TestServer) -> i64 {
    s.db().query_row("SELECT count(*) FROM oauth_clients", [], |r| r.get(0)).expect("count")
}

/// The text of the element with this id (`<code id="client-secret">…</code>`).
fn element(page: &Page, id: &str) -> String {
    let at = page.text.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {}", page.text));
    let start = page.text[at..].find('>').map(|i| at + i + 1).expect("tag end");
    let end = page.text[start..].find('<').map(|i| start + i).expect("element end");
    page.text[start..end].to_owned()
}

#[test]
fn registering_shows_the_secret_once_and_the_list_links_the_client() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    let list = op.get("/admin/clients");
    list.assert_page(200);
    assert!(list.has("href=\"/admin/clients\"") && list.has("No clients yet.") && list.has("name=\"redirect_uris\""));

    let redirects = format!("{CALLBACK}\n\n  http://localhost:3000/cb  \n");
    let created = op.post(
        "/admin/clients",
        &[("name", "Grafana"), ("redirect_uris", &redirects), ("id_token_alg", "ES256"), ("trusted", "on")],
    );
    created.assert_page(201);
    let (id, secret) = (element(&created, "client-id"), element(&created, "client-secret"));
    assert_eq!(secret.len(), 43, "{}", created.text);
    let (uris, alg, trusted): (String, String, bool) = s
        .db()
        .query_row("SELECT redirect_uris, id_token_alg, trusted FROM oauth_clients WHERE id = ?1", [&id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("stored");
    assert_eq!(
        (uris.as_str(), alg.as_str(), trusted),
        (r#"["https://app.example.test/callback","http://localhost:3000/cb"]"#, "ES256", true)
    );

    let list = op.get("/admin/clients");
    assert!(list.has(&format!("href=\"/admin/clients/{id}\"")) && list.has("Grafana"), "{}", list.text);
    let details = op.get(&format!("/admin/clients/{id}"));
    details.assert_page(200);
    assert!(details.has(CALLBACK) && details.has("/rotate-secret\"") && details.has("/disable\""), "{}", details.text);
    assert!(!details.has("/enable\""), "an active client offers no enable");
    for page in [&list, &details] {
        assert!(!page.has(&secret), "the secret is shown only once");
    }

    // A public client: no secret to show, none to rotate.
    let public = op.post(
        "/admin/clients",
        &[("name", "SPA"), ("redirect_uris", CALLBACK), ("id_token_alg", "RS256"), ("public", "on")],
    );
    public.assert_page(201);
    assert!(public.has("has no secret") && !public.has("id=\"client-secret\""), "{}", public.text);
    let spa = op.get(&format!("/admin/clients/{}", element(&public, "client-id")));
    assert!(!spa.has("/rotate-secret\""), "{}", spa.text);
}

#[test]
fn a_refused_registration_comes_back_with_what_was_typed_and_stores_nothing() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    for (fields, message) in [
        (
            vec![("name", "Wiki"), ("redirect_uris", "http://wiki.example.test/cb"), ("id_token_alg", "RS256")],
            "must be https",
        ),
        (vec![("name", ""), ("redirect_uris", CALLBACK), ("id_token_alg", "RS256")], "name must not be empty"),
        (
            vec![("name", "Wiki"), ("redirect_uris", CALLBACK), ("id_token_alg", "RS256"), ("tenant_id", "nope")],
            "must name an existing tenant",
        ),
        (
            vec![
                ("name", "Wiki"),
                ("redirect_uris", CALLBACK),
                ("id_token_alg", "RS256"),
                ("public", "on"),
                ("introspect", "on"),
            ],
            "only for confidential clients",
        ),
    ] {
        let page = op.post("/admin/clients", &fields);
        assert_form_error(&page, 400, message);
        assert!(page.has("value=\"Wiki\"") || fields[0].1.is_empty(), "the name stays typed: {}", page.text);
    }
    assert_eq!(clients_stored(&s), 0);
}

#[test]
fn the_details_forms_change_rotate_disable_and_enable() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    let created =
        op.post("/admin/clients", &[("name", "Wiki"), ("redirect_uris", CALLBACK), ("id_token_alg", "RS256")]);
    let (id, secret) = (element(&created, "client-id"), element(&created, "client-secret"));
    let path = format!("/admin/clients/{id}");
    let hash = |s: &TestServer| -> Vec<u8> {
        s.db().query_row("SELECT secret_hash FROM oauth_clients WHERE id = ?1", [&id], |r| r.get(0)).expect("hash")
    };

    let saved = op.post(
        &path,
        &[
            ("name", "Wiki 2"),
            ("redirect_uris", "https://wiki.example.test/cb"),
            ("id_token_alg", "EdDSA"),
            ("introspect", "on"),
        ],
    );
    saved.assert_redirect(&format!("{path}?done=updated"));
    let page = op.get(&format!("{path}?done=updated"));
    assert!(
        page.has("The client is updated.") && page.has("Wiki 2") && page.has("https://wiki.example.test/cb"),
        "{}",
        page.text
    );
    assert!(page.has("<option value=\"EdDSA\" selected>"), "{}", page.text);
    assert_form_error(
        &op.post(&path, &[("name", "Wiki 2"), ("redirect_uris", "/cb"), ("id_token_alg", "EdDSA")]),
        400,
        "must be an absolute URL",
    );

    let before = hash(&s);
    let rotated = op.post(&format!("{path}/rotate-secret"), &[]);
    rotated.assert_page(200);
    let new = element(&rotated, "client-secret");
    assert!(new != secret && hash(&s) != before, "a new secret is stored");

    let rows = audit_rows(&s);
    for fields in [vec![], vec![("reason", "  ")]] {
        assert_form_error(&op.post(&format!("{path}/disable"), &fields), 400, "A reason is required.");
    }
    assert_eq!(audit_rows(&s), rows, "nothing audited");
    op.post(&format!("{path}/disable"), &[("reason", "leaked")]).assert_redirect(&format!("{path}?done=disabled"));
    let page = op.get(&path);
    assert!(
        page.has("disabled") && page.has("(leaked)") && page.has("/enable\"") && !page.has("/disable\""),
        "{}",
        page.text
    );
    let page = op.post(&format!("{path}/disable"), &[("reason", "again")]);
    page.assert_page(409);
    op.post(&format!("{path}/enable"), &[("reason", "rotated")]).assert_redirect(&format!("{path}?done=enabled"));
    let status: String =
        s.db().query_row("SELECT status FROM oauth_clients WHERE id = ?1", [&id], |r| r.get(0)).expect("status");
    assert_eq!(status, "active");

    // An unknown client is the 404 page.
    op.get("/admin/clients/00000000-0000-4000-8000-000000000000").assert_page(404);
}

#[test]
fn a_form_without_the_csrf_token_registers_nothing() {
    let s = TestServer::spawn();
    let op = operator(&s, "op@a.test");
    op.get("/admin/clients");
    let fields = [("name", "Wiki"), ("redirect_uris", CALLBACK), ("id_token_alg", "RS256")];
    op.post_raw("/admin/clients", &[("Origin", &s.base)], &fields).assert_page(403);
    assert_eq!(clients_stored(&s), 0);
}
