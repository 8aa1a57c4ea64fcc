//! Keystead as an OpenID Connect provider, judged by a relying party nobody here wrote:
//! Python's authlib (pinned, in the virtual environment test.sh makes under target/) does
//! discovery, the code flow with PKCE S256, the token requests and the ID token's
//! validation against the JWKS; tests/browser/oidc_rp.py only orchestrates it and prints a
//! JSON line per step. Headless Chromium goes through Keystead's real pages between: the
//! login, the tenant choice, the consent, and back to the relying party's loopback server.
//!
//! What is judged comes from the specifications (OpenID Connect Core 1.0, RFC 6749, 7636,
//! 7009, RP-Initiated Logout 1.0) and API.md's "Signing in to other applications".
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, tenant_name_of};
use crate::webdriver::Chrome;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/oidc_rp.py");

/// The Python of the virtual environment with authlib: `OIDC_RP_PYTHON` (test.sh sets
/// it), else where test.sh puts it.
fn python() -> String {
    std::env::var("OIDC_RP_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/oidc-venv/bin/python").to_owned())
}

/// A free port on the loopback address for the relying party's redirect URI (registered
/// before the relying party binds it).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A client as the operator API registered it.
struct Client {
    id: String,
    secret: Option<String>,
}

/// The relying party's two loopback addresses.
struct RpUris {
    origin: String,
    redirect: String,
    logged_out: String,
}

impl RpUris {
    fn new() -> Self {
        let origin = format!("http://127.0.0.1:{}", free_port());
        Self { redirect: format!("{origin}/callback"), logged_out: format!("{origin}/logged-out"), origin }
    }
}

/// Registers a client through the operator API (helper A's `POST /v1/admin/clients`).
fn register(s: &TestServer, operator: &str, body: Value) -> Client {
    let res = s.post("/v1/admin/clients", Some(operator), body.clone());
    assert_eq!(res.status, 201, "POST /v1/admin/clients {body} must register the client: {} {}", res.status, res.text);
    let id = res.str("/client/id");
    let secret = res.body.get("client_secret").and_then(Value::as_str).map(str::to_owned);
    let public = body["public"] == json!(true);
    assert_eq!(
        secret.is_none(),
        public,
        "a secret once for a confidential client, none for a public one: {}",
        res.text
    );
    Client { id, secret }
}

/// The running relying party: its JSON lines, one per step, in order.
struct Rp {
    child: Child,
    lines: mpsc::Receiver<Value>,
    stderr: Arc<Mutex<String>>,
}

impl Rp {
    fn start(s: &TestServer, client: &Client, uris: &RpUris, scenario: &str) -> Self {
        let mut command = Command::new(python());
        command
            .arg(SCRIPT)
            .args(["--issuer", &s.base, "--client-id", &client.id, "--redirect-uri", &uris.redirect])
            .args(["--post-logout-redirect-uri", &uris.logged_out, "--scenario", scenario, "--timeout", "60"])
            .env_remove("OIDC_RP_CLIENT_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(secret) = &client.secret {
            // Not on the command line, where every process could read it.
            command.env("OIDC_RP_CLIENT_SECRET", secret);
        }
        Self::spawn(command)
    }

    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): ./test.sh makes target/oidc-venv with authlib (or set OIDC_RP_PYTHON)",
                python()
            )
        });
        let stdout = child.stdout.take().expect("the relying party's stdout");
        let mut stderr_pipe = child.stderr.take().expect("its stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or_else(|_| json!({ "step": "unparsed", "line": line }));
                if send.send(value).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut all = String::new();
            let _ = stderr_pipe.read_to_string(&mut all);
            sink.lock().expect("stderr buffer").push_str(&all);
        });
        Self { child, lines, stderr }
    }

    /// The next step, which must be `name`; fails on the relying party's "error" step,
    /// on another step, and after 90 s of silence.
    #[track_caller]
    fn step(&mut self, name: &str) -> Value {
        let line = match self.lines.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => line,
            Err(e) => {
                // The stderr thread gets what is left once the process has ended.
                let _ = self.child.kill();
                let _ = self.child.wait();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "no step {name} from the relying party ({e}); its stderr: {}",
                    self.stderr.lock().expect("stderr")
                )
            }
        };
        assert_ne!(line["step"], "error", "the relying party failed, waiting for step {name}: {line}");
        assert_eq!(line["step"], name, "the relying party's next step: {line}");
        line
    }
}

impl Drop for Rp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A page of Keystead's that the browser met on its way back to the relying party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Login,
    TenantChoice,
    Consent,
    LogoutConfirmation,
}

/// Who signs in when a login page comes, and which tenant to pick when asked.
#[derive(Clone, Copy)]
struct Person<'a> {
    email: Option<&'a str>,
    tenant: Option<&'a str>,
}

const NOBODY: Person<'static> = Person { email: None, tenant: None };

/// Opens `url` and does what a person would on each of Keystead's pages until the browser
/// is back at the relying party (`back_to`): signs in (email + password), picks the
/// tenant, allows the consent, confirms a logout. The pages met, in order. A login page
/// when `who` has no email fails.
fn drive(chrome: &Chrome, url: &str, back_to: &str, who: Person<'_>) -> Vec<Page> {
    chrome.goto(url);
    let mut pages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let here = chrome.url();
        if here.starts_with(back_to) {
            return pages;
        }
        let on_authorize = here.split('?').next().is_some_and(|p| p.ends_with("/oauth/authorize"));
        // On /oauth/authorize itself any form counts; elsewhere one that posts there.
        let forms =
            if on_authorize { "//form".to_owned() } else { "//form[contains(@action,'/oauth/authorize')]".to_owned() };
        let button_with = |text: &str| format!("{forms}//button[contains(normalize-space(.),'{text}')]");
        let now = |using: &str, value: &str| chrome.elements_now(using, value).into_iter().next();

        let acted = if !chrome.elements_now("css selector", "input[name=password]").is_empty() {
            let email = who.email.unwrap_or_else(|| panic!("a login page where none may come: {here}"));
            assert!(pages.len() < 8, "login again and again: {pages:?} at {here}");
            chrome.type_into("form:has(input[name=password]) input[name=email]", email);
            chrome.type_into("input[name=password]", PASSWORD);
            let submit = now("css selector", "form:has(input[name=password]) button[type=submit]")
                .unwrap_or_else(|| panic!("no submit button in the login form at {here}"));
            Some((Page::Login, submit))
        } else if let Some(allow) = now("xpath", &button_with("Allow")) {
            Some((Page::Consent, allow))
        } else if let Some(tenant) = who.tenant.and_then(|t| now("xpath", &button_with(t)).map(|b| (t, b))) {
            Some((Page::TenantChoice, tenant.1))
        } else if let Some(label) =
            who.tenant.and_then(|t| now("xpath", &format!("{forms}//label[contains(normalize-space(.),'{t}')]")))
        {
            // A choice of radio buttons and one submit button.
            chrome.click_element(&label);
            let submit = now("xpath", &format!("{forms}//button[@type='submit' or not(@type)]"))
                .unwrap_or_else(|| panic!("a tenant choice without a submit button at {here}"));
            Some((Page::TenantChoice, submit))
        } else {
            now("xpath", "//form[contains(@action,'/oauth/logout')]//button").map(|b| (Page::LogoutConfirmation, b))
        };
        match acted {
            Some((page, button)) => {
                pages.push(page);
                // Marks the document, so that the next look is at the page the click brings.
                chrome.script("window.__rpDriven = true; return null");
                chrome.click_element(&button);
                let left = Instant::now() + Duration::from_secs(15);
                while chrome.script("return window.__rpDriven === true") == json!(true) {
                    assert!(Instant::now() < left, "the {page:?} page at {here} stayed after the click");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            None => {
                assert!(
                    Instant::now() < deadline,
                    "not back at {back_to} but at {here} after {pages:?}, on a page this test cannot read: {}",
                    chrome.text("body")
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Discovery names the fixed endpoints and what API.md says is supported.
fn assert_discovery(s: &TestServer, step: &Value) {
    let c = &step["config"];
    let b = &s.base;
    assert_eq!(c["issuer"], json!(b), "issuer = the base URL");
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/v1/oauth/token"),
        ("userinfo_endpoint", "/v1/oauth/userinfo"),
        ("revocation_endpoint", "/v1/oauth/revoke"),
        ("end_session_endpoint", "/oauth/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(c[field], json!(format!("{b}{path}")), "{field} in {c}");
    }
    let has = |field: &str, value: &str| c[field].as_array().is_some_and(|a| a.contains(&json!(value)));
    assert!(has("response_types_supported", "code"), "{c}");
    assert!(has("subject_types_supported", "public"), "{c}");
    assert!(has("id_token_signing_alg_values_supported", "RS256"), "{c}");
    assert!(has("code_challenge_methods_supported", "S256"), "{c}");
    assert!(!has("code_challenge_methods_supported", "plain"), "plain is refused: {c}");
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(has("token_endpoint_auth_methods_supported", method), "{method}: {c}");
    }
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(has("scopes_supported", scope), "{scope}: {c}");
    }
    if c.get("grant_types_supported").is_some() {
        assert!(has("grant_types_supported", "authorization_code") && has("grant_types_supported", "refresh_token"));
    }
    assert!(step["jwks_kty"].as_array().is_some_and(|k| k.contains(&json!("RSA"))), "an RSA key in the JWKS: {step}");
}

/// What the ID token and userinfo must say of the person.
struct Expected<'a> {
    user_id: &'a str,
    email: &'a str,
    token: &'a str,
    tenant_id: &'a str,
    role: &'a str,
}

fn assert_claims(s: &TestServer, claims: &Value, header: &Value, nonce: &Value, who: &Expected<'_>) {
    let me = s.get("/v1/me", Some(who.token));
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(header["alg"], "RS256", "RS256 by default: {header}");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()), "a kid names the key: {header}");
    assert_eq!(claims["sub"], json!(who.user_id), "sub = the account id: {claims}");
    assert_eq!(claims["email"], json!(who.email), "{claims}");
    assert_eq!(claims["email_verified"], me.body["user"]["email_verified"], "as Keystead knows it: {claims}");
    assert!(claims["email_verified"].is_boolean(), "{claims}");
    assert_eq!(claims["name"], me.body["user"]["name"], "profile scope: {claims}");
    assert_eq!(claims["tid"], json!(who.tenant_id), "the tenant acted in: {claims}");
    assert_eq!(claims["role"], json!(who.role), "{claims}");
    assert_eq!(&claims["nonce"], nonce, "the nonce echoed: {claims}");
    let (auth_time, iat) = (claims["auth_time"].as_i64(), claims["iat"].as_i64());
    assert!(auth_time.is_some_and(|a| iat.is_some_and(|i| a <= i && i - a < 600)), "auth_time before iat: {claims}");
    let amr = claims["amr"].as_array().unwrap_or_else(|| panic!("amr: {claims}"));
    assert!(amr.contains(&json!("pwd")), "a password was used: {claims}");
}

/// One run of the "flow" scenario: who goes through the browser, what the tokens must
/// say, and the pages each of the two authorizations may meet (the first exactly, the
/// second one of several).
struct Case<'a> {
    person: Person<'a>,
    expected: Expected<'a>,
    first: &'a [Page],
    second: &'a [&'a [Page]],
}

/// A refresh token grant that must fail as RFC 6749 §5.2 says.
#[track_caller]
fn assert_invalid_grant(step: &Value) {
    assert_eq!(step["status"], 400, "{step}");
    assert_eq!(step["error"], "invalid_grant", "{step}");
}

/// The whole "flow" scenario of oidc_rp.py, as the browser and the relying party see it.
fn judge_flow(s: &TestServer, rp: &mut Rp, chrome: &Chrome, uris: &RpUris, case: &Case<'_>) {
    let expected = &case.expected;
    assert_discovery(s, &rp.step("discovery"));

    for (round, allowed) in [(1, &[case.first][..]), (2, case.second)] {
        let authorize = rp.step("authorize");
        let url = authorize["url"].as_str().expect("a URL");
        let pages = drive(chrome, url, &uris.origin, case.person);
        assert!(
            allowed.contains(&pages.as_slice()),
            "round {round}: Keystead's pages on the way to the relying party were {pages:?}, not one of {allowed:?}"
        );
        let callback = rp.step("callback");
        assert!(callback["params"]["code"].is_string(), "round {round}: a code: {callback}");
        assert!(callback["params"].get("error").is_none(), "round {round}: {callback}");

        let token = rp.step("token");
        assert_eq!(token["status"], 200, "{token}");
        assert!(token["token_type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("bearer")), "{token}");
        assert!(token["cache_control"].as_str().is_some_and(|c| c.contains("no-store")), "RFC 6749 §5.1: {token}");
        assert_eq!(token["has_refresh_token"], true, "offline_access gives a refresh token: {token}");
        let id = rp.step("id_token");
        assert_claims(s, &id["claims"], &id["header"], &authorize["nonce"], expected);

        if round == 1 {
            let userinfo = rp.step("userinfo");
            assert_eq!(userinfo["status"], 200, "{userinfo}");
            assert_eq!(userinfo["same_sub"], true, "{userinfo}");
            assert_eq!(userinfo["claims"]["email"], json!(expected.email), "{userinfo}");

            let refresh = rp.step("refresh");
            assert_eq!(refresh["status"], 200, "{refresh}");
            assert_eq!(refresh["rotated"], true, "a new refresh token on every use: {refresh}");
            if let Some(sub) = refresh.get("id_token_sub") {
                assert_eq!(sub, &json!(expected.user_id), "{refresh}");
            }
            // The old one again: refused, and the chain with it (the new one is dead too).
            assert_invalid_grant(&rp.step("reuse_old"));
            assert_invalid_grant(&rp.step("reuse_new"));
        }
    }

    // RFC 7009: revoked, the refresh token is refused; an unknown token is answered 200.
    let revoke = rp.step("revoke");
    assert_eq!(revoke["status"], 200, "{revoke}");
    assert_invalid_grant(&rp.step("revoked_refresh"));
    let unknown = rp.step("revoke_unknown");
    assert_eq!(unknown["status"], 200, "{unknown}");

    // RP-initiated logout: back at the post-logout URI with the state, and signed out.
    let end = rp.step("end_session");
    let url = end["url"].as_str().expect("a URL");
    let pages = drive(chrome, url, &uris.origin, NOBODY);
    assert!(pages.iter().all(|p| *p == Page::LogoutConfirmation), "only a confirmation may come: {pages:?}");
    let out = rp.step("logged_out");
    assert_eq!(out["params"]["state"], end["state"], "{out}");
    assert!(chrome.url().starts_with(&uris.logged_out), "at {}", chrome.url());
    rp.step("done");
    chrome.goto(&format!("{}/app", s.base));
    chrome.wait_for_url("/login");
}

#[test]
fn the_relying_party_validates_id_tokens_as_it_must() {
    // Offline: authlib's validator accepts a good RS256 token and refuses a wrong nonce,
    // aud, iss, key or algorithm and an expired one; PKCE S256 matches RFC 7636's example.
    let output = Command::new(python())
        .args([SCRIPT, "--self-check"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): ./test.sh makes target/oidc-venv", python()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    let line: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(line["ok"], true, "{line}");
    assert_eq!(line["authlib"], "1.9.6", "the pinned authlib: {line}");
    assert!(output.stderr.is_empty(), "quiet: {}", String::from_utf8_lossy(&output.stderr));
}

/// A server as `keystead serve` runs one: its ES256 and RS256 keys are made in the
/// background after start, and a relying party reads the JWKS once they are published.
fn serving() -> TestServer {
    let s = TestServer::spawn();
    keystead::core::signing::make_missing_in_background(s.app.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.get("/.well-known/jwks.json", None).body["keys"].as_array().map_or(0, Vec::len) < 3 {
        assert!(Instant::now() < deadline, "the background keys never came");
        std::thread::sleep(Duration::from_millis(100));
    }
    s
}

#[test]
fn a_trusted_confidential_client_signs_in_a_member_of_two_tenants_refreshes_revokes_and_logs_out() {
    let s = serving();
    let op = s.admin("op@a.test");
    let bob = s.signup("bob@a.test");
    let ann = s.signup("ann@a.test");
    s.accept(&bob.token, "ann@a.test", "member");
    let uris = RpUris::new();
    let client = register(
        &s,
        &op,
        json!({
            "name": "Dashboard",
            "redirect_uris": [uris.redirect],
            "post_logout_redirect_uris": [uris.logged_out],
            "trusted": true,
        }),
    );
    let mut rp = Rp::start(&s, &client, &uris, "flow");
    let chrome = Chrome::start();
    let bobs = tenant_name_of("bob@a.test");
    let case = Case {
        person: Person { email: Some("ann@a.test"), tenant: Some(&bobs) },
        expected: Expected {
            user_id: &ann.user_id,
            email: "ann@a.test",
            token: &ann.token,
            tenant_id: &bob.tenant_id,
            role: "member",
        },
        // Trusted: no consent. Two tenants: the choice; on the second authorization again,
        // unless Keystead remembers it (either will do; a login or a consent will not).
        first: &[Page::Login, Page::TenantChoice],
        second: &[&[Page::TenantChoice], &[]],
    };
    judge_flow(&s, &mut rp, &chrome, &uris, &case);
    chrome.assert_quiet_console();
}

#[test]
fn a_public_client_that_is_not_trusted_asks_consent_once_and_cannot_go_without_pkce() {
    let s = serving();
    let op = s.admin("op@a.test");
    let cy = s.signup("cy@a.test");
    let uris = RpUris::new();
    let client = register(
        &s,
        &op,
        json!({
            "name": "Single-page app",
            "redirect_uris": [uris.redirect],
            "post_logout_redirect_uris": [uris.logged_out],
            "public": true,
            "trusted": false,
        }),
    );
    let mut rp = Rp::start(&s, &client, &uris, "flow");
    let chrome = Chrome::start();
    let case = Case {
        person: Person { email: Some("cy@a.test"), tenant: None },
        expected: Expected {
            user_id: &cy.user_id,
            email: "cy@a.test",
            token: &cy.token,
            tenant_id: &cy.tenant_id,
            role: "owner",
        },
        // One tenant: no choice. Not trusted: the consent, once.
        first: &[Page::Login, Page::Consent],
        second: &[&[]],
    };
    judge_flow(&s, &mut rp, &chrome, &uris, &case);
    chrome.assert_quiet_console();
    drop(rp);

    // Without a code challenge the public client is refused (RFC 7636 §4.4.1:
    // invalid_request on the redirect). The browser is signed out by now.
    let mut rp = Rp::start(&s, &client, &uris, "no-pkce");
    rp.step("discovery");
    let authorize = rp.step("authorize");
    assert_eq!(authorize["pkce"], false);
    let url = authorize["url"].as_str().expect("a URL");
    assert!(!url.contains("code_challenge"), "{url}");
    let pages = drive(&chrome, url, &uris.origin, case.person);
    assert!(!pages.contains(&Page::Consent), "{pages:?}");
    let callback = rp.step("callback");
    assert_eq!(callback["params"]["error"], "invalid_request", "{callback}");
    assert!(callback["params"].get("code").is_none(), "no code without PKCE: {callback}");
    rp.step("done");
}

#[test]
fn prompt_none_without_a_session_comes_back_with_login_required() {
    let s = serving();
    let op = s.admin("op@a.test");
    s.signup("dee@a.test");
    let uris = RpUris::new();
    let client = register(&s, &op, json!({ "name": "Wiki", "redirect_uris": [uris.redirect], "trusted": true }));
    let mut rp = Rp::start(&s, &client, &uris, "prompt-none");
    let chrome = Chrome::start();
    rp.step("discovery");
    let authorize = rp.step("authorize");
    let url = authorize["url"].as_str().expect("a URL");
    assert!(url.contains("prompt=none"), "{url}");
    // No page at all: a login page here fails the drive.
    let pages = drive(&chrome, url, &uris.origin, NOBODY);
    assert!(pages.is_empty(), "{pages:?}");
    let callback = rp.step("callback");
    assert_eq!(callback["params"]["error"], "login_required", "OpenID Connect Core §3.1.2.6: {callback}");
    assert!(callback["params"].get("code").is_none(), "{callback}");
    rp.step("done");
}
