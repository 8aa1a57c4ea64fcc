//! Accessibility of every page: axe-core (from the npm registry, which ./test.sh installs
//! into target/axe) run in the page, in the light and the dark theme, at a desktop width
//! and at 320 px, finds no serious or critical violation; and at 320 px no page scrolls
//! sideways. The findings of every page are gathered and reported together.
use std::path::Path;

use serde_json::{Value, json};

use crate::support::mfa::Authenticator;
use crate::support::passkey::SoftPasskey;
use crate::support::{PASSWORD, TestServer};
use crate::webdriver::Chrome;

const AXE: &str = "target/axe/node_modules/axe-core/axe.min.js";

/// Runs axe on the page; resolves to its serious and critical violations, each with the
/// targets of (at most five of) its nodes.
const RUN_AXE: &str = "
return axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({ id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary) })));";

/// The page's width against the viewport's, and the outermost elements that stick out
/// furthest on the right (those inside a container that scrolls or clips them do not widen the page).
const MEASURE_WIDTH: &str = "
const inner = window.innerWidth;
const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
  if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  [...e.classList].map(c => '.' + c).join('');
const sticks = e => e.getBoundingClientRect().right > inner + 0.5 && !clipped(e);
const over = [...document.body.querySelectorAll('*')]
  .filter(e => sticks(e) && !sticks(e.parentElement))
  .map(e => [e, e.getBoundingClientRect().right])
  .sort((a, b) => b[1] - a[1]).slice(0, 6)
  .map(([e, right]) => name(e) + ' reaches ' + Math.round(right) + ' px: ' +
       e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60));
return { scroll: document.documentElement.scrollWidth, inner, over };";

struct Audit {
    chrome: Chrome,
    axe: String,
    findings: Vec<String>,
    pages: usize,
}

impl Audit {
    /// Fails (never skips) when axe-core is not installed.
    fn start() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(AXE);
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read {} ({e}): ./test.sh installs axe-core from the npm registry", path.display())
        });
        Self { chrome: Chrome::start(), axe, findings: Vec::new(), pages: 0 }
    }

    fn visit(&mut self, s: &TestServer, path: &str) {
        self.chrome.goto(&format!("{}{path}", s.base));
        self.check(path);
    }

    /// Checks the page the browser is on, named `page` in the findings, in each theme and width.
    fn check(&mut self, page: &str) {
        self.pages += 1;
        for (scheme, width) in [("light", 1280), ("light", 320), ("dark", 320), ("dark", 1280)] {
            self.chrome.prefer_color_scheme(scheme);
            self.chrome.set_viewport_width(width);
            let violations = self.chrome.script(&format!("{}\n{RUN_AXE}", self.axe));
            for v in violations.as_array().expect("a list of violations") {
                let nodes: Vec<_> = v["nodes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                self.findings.push(format!(
                    "{page} ({scheme}, {width} px): {} [{}] {}\n    {}",
                    v["id"].as_str().unwrap_or_default(),
                    v["impact"].as_str().unwrap_or_default(),
                    v["help"].as_str().unwrap_or_default(),
                    nodes.join("\n    ")
                ));
            }
            if width == 320 {
                let m = self.chrome.script(MEASURE_WIDTH);
                if m["scroll"].as_i64() > m["inner"].as_i64() {
                    let over: Vec<_> = m["over"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    self.findings.push(format!(
                        "{page} ({scheme}): {} px wide in a {} px viewport\n    {}",
                        m["scroll"],
                        m["inner"],
                        over.join("\n    ")
                    ));
                }
            }
        }
        self.chrome.prefer_color_scheme("light");
        self.chrome.set_viewport_width(1280);
    }

    fn assert_clean(&self, expected_pages: usize) {
        assert_eq!(self.pages, expected_pages, "every page was looked at");
        assert!(self.findings.is_empty(), "{} findings:\n{}", self.findings.len(), self.findings.join("\n"));
    }
}

fn sign_in_with(chrome: &Chrome, s: &TestServer, login: &str, email: &str, password: &str) {
    chrome.goto(&format!("{}{login}", s.base));
    chrome.type_into("input[name=email]", email);
    chrome.type_into("input[name=password]", password);
    chrome.click("main form button[type=submit]");
}

fn sign_in(chrome: &Chrome, s: &TestServer, login: &str, email: &str) {
    sign_in_with(chrome, s, login, email, PASSWORD);
}

/// The check is not blind: an image without a text, a box wider than the screen and a
/// text that only the dark theme makes too faint, put into a clean page, are all found.
#[test]
fn the_audit_finds_a_violation_and_a_page_too_wide() {
    let s = TestServer::spawn();
    let mut audit = Audit::start();
    audit.chrome.goto(&format!("{}/login", s.base));
    audit.chrome.script(
        "const img = document.createElement('img'); img.src = '/assets/icon.svg'; document.querySelector('main').append(img);
         const box = document.createElement('div'); box.style.width = '400px'; box.textContent = 'wide';
         document.querySelector('main').append(box);
         const faint = document.createElement('p'); faint.style.color = '#3a4352'; faint.textContent = 'faint at night';
         document.querySelector('main').append(faint);",
    );
    audit.check("/login (broken on purpose)");
    let findings = audit.findings.join("\n");
    assert!(findings.contains("image-alt [critical]"), "{findings}");
    assert!(findings.contains("px wide in a 320 px viewport"), "{findings}");
    assert!(findings.contains("div reaches"), "the box is named: {findings}");
    assert!(findings.contains("(dark, 320 px): color-contrast [serious]"), "{findings}");
    assert!(!findings.contains("(light, 320 px): color-contrast"), "{findings}");
}

#[test]
fn every_portal_page_passes_axe_and_fits_320_px() {
    let s = TestServer::spawn();
    let owner = s.signup("pat@a.test");
    s.join(&owner.token, "member.with.a.rather.long.address@example-company.test", "member");
    let invited = s.invite(&owner.token, "ivy@a.test", "admin");
    assert_eq!(invited.status, 201, "{}", invited.text);
    let activation = invited.str("/activation_url");
    let res = s.post("/v1/keys", Some(&owner.token), json!({ "name": "Billing service", "scopes": ["read:users"] }));
    assert_eq!(res.status, 201, "{}", res.text);
    // Mia signs in with an authenticator app or a passkey, and has invited pat to her tenant.
    let mia = s.signup("mia@a.test");
    s.enrol_totp("/v1/me/mfa", &mia.token);
    s.register_passkey("/v1/me/mfa", &mia.token, &mut SoftPasskey::es256(&s.base), "Mia's phone");
    assert_eq!(s.invite(&mia.token, "pat@a.test", "member").status, 201);

    let mut audit = Audit::start();
    let token_page = |path: &str| format!("{path}?token=not-a-real-token");
    for page in [
        "/login".to_owned(),
        "/login?done=signed-out".to_owned(),
        "/signup".to_owned(),
        "/forgot-password".to_owned(),
        token_page("/reset-password"),
        token_page("/verify-email"),
        token_page("/confirm-email"),
        token_page("/activate"),
        activation.trim_start_matches(&s.base).to_owned(),
    ] {
        audit.visit(&s, &page);
    }
    assert!(audit.chrome.text("main form").contains("Choose a password"), "the invitation's form");
    audit.visit(&s, "/no-such-page");
    assert_eq!(audit.chrome.text("h1"), "Not found", "the error page");

    audit.chrome.goto(&format!("{}/forgot-password", s.base));
    audit.chrome.type_into("input[name=email]", "pat@a.test");
    audit.chrome.click("main form button[type=submit]");
    audit.chrome.find("main p strong");
    audit.check("/forgot-password (sent)");

    sign_in_with(&audit.chrome, &s, "/login", "pat@a.test", "not the password");
    audit.chrome.find("main .error");
    audit.check("/login (wrong password)");

    sign_in(&audit.chrome, &s, "/login", "mia@a.test");
    // The second step is the answer to the password's post, at /login.
    audit.chrome.find("form[action='/login/mfa'] button[data-passkey=get]");
    audit.check("/login/mfa");

    audit.chrome.goto(&format!("{}/signup", s.base));
    audit.chrome.type_into("input[name=tenant_name]", "Sam's Company");
    audit.chrome.type_into("input[name=email]", "sam@a.test");
    audit.chrome.type_into("input[name=password]", PASSWORD);
    audit.chrome.click("main form button[type=submit]");
    audit.chrome.find("#api-key");
    audit.check("/signup (signed up)");
    audit.chrome.click("a.button[href='/app']");
    audit.chrome.wait_for_url("/app");
    audit.chrome.click("header form[action='/logout'] button");
    audit.chrome.wait_for_url("/login?done=signed-out");

    sign_in(&audit.chrome, &s, "/login", "pat@a.test");
    audit.chrome.wait_for_url("/app");
    for page in ["/app", "/app/team", "/app/keys", "/app/sessions", "/app/security", "/app/settings", "/app/audit"] {
        audit.visit(&s, page);
        assert!(audit.chrome.url().ends_with(page), "still signed in at {}", audit.chrome.url());
    }
    audit.chrome.goto(&format!("{}/app", s.base));
    audit.chrome.find("form[action$='/accept'] button");

    audit.chrome.goto(&format!("{}/app/team", s.base));
    audit.chrome.type_into("form[action='/app/team'] input[name=email]", "new.colleague@a.test");
    audit.chrome.click("form[action='/app/team'] button[type=submit]");
    audit.chrome.find("#activation-url");
    audit.check("/app/team (an invitation's link)");

    audit.chrome.goto(&format!("{}/app/keys", s.base));
    audit.chrome.type_into("form[action='/app/keys'] input[name=name]", "Deploy bot");
    audit.chrome.click("form[action='/app/keys'] button[type=submit]");
    audit.chrome.find("#new-key");
    audit.check("/app/keys (a new key)");

    // The security page while an authenticator is being set up: its QR code and key.
    audit.chrome.goto(&format!("{}/app/security", s.base));
    audit.chrome.type_into("form[action='/app/security/totp'] input[name=password]", PASSWORD);
    audit.chrome.click("form[action='/app/security/totp'] button[type=submit]");
    let key = audit.chrome.text("main .qr + p code");
    audit.check("/app/security (QR code)");
    let app = Authenticator::new(&key);
    audit.chrome.type_into("form[action='/app/security/totp/confirm'] input[name=code]", &app.code(&s));
    audit.chrome.click("form[action='/app/security/totp/confirm'] button[type=submit]");
    audit.chrome.find("ul.codes");
    audit.check("/app/security (recovery codes)");
    // With both factors: the table of passkeys, with a form in each row.
    s.register_passkey("/v1/me/mfa", &owner.token, &mut SoftPasskey::es256(&s.base), "Security key on the keyring");
    audit.visit(&s, "/app/security");
    audit.chrome.find("#passkeys tbody form");
    audit.chrome.type_into("form[action='/app/security/passkeys'] input[name=name]", "This laptop");
    audit.chrome.type_into("form[action='/app/security/passkeys'] input[name=password]", PASSWORD);
    audit.chrome.click("form[action='/app/security/passkeys'] button[type=submit]");
    audit.chrome.find("button[data-passkey=create]");
    audit.check("/app/security (passkey ceremony)");
    audit.assert_clean(27);
}

#[test]
fn every_operator_page_passes_axe_and_fits_320_px() {
    let s = TestServer::spawn();
    let owner = s.signup("pat@a.test");
    assert_eq!(s.invite(&owner.token, "ivy@a.test", "member").status, 201, "a message in the outbox");
    s.admin("op@a.test");
    let second = s.admin("second.operator.with.a.long.address@example-operations.test");
    s.enrol_totp("/v1/admin/me/mfa", &second);

    let mut audit = Audit::start();
    audit.visit(&s, "/admin/login");
    sign_in(&audit.chrome, &s, "/admin/login", "second.operator.with.a.long.address@example-operations.test");
    audit.chrome.find("form[action='/admin/login/mfa'] input[name=code]");
    audit.check("/admin/login/mfa");

    sign_in(&audit.chrome, &s, "/admin/login", "op@a.test");
    audit.chrome.wait_for_url("/admin");
    audit.chrome.goto(&format!("{}/admin/tenants/new", s.base));
    audit.chrome.type_into("input[name=name]", "Created Here");
    audit.chrome.type_into("input[name=owner_email]", "owner@created.test");
    audit.chrome.click("main form button[type=submit]");
    audit.chrome.wait_for_none("input[name=owner_email]");
    audit.check("/admin/tenants (created)");

    let tenant = format!("/admin/tenants/{}", owner.tenant_id);
    let user = format!("/admin/users/{}", owner.user_id);
    let pages = [
        "/admin",
        "/admin/tenants",
        "/admin/tenants/new",
        &tenant,
        "/admin/users",
        &user,
        "/admin/audit",
        "/admin/outbox",
        "/admin/admins",
        "/admin/security",
    ];
    for page in pages {
        audit.visit(&s, page);
        assert!(audit.chrome.url().ends_with(page), "still signed in at {}", audit.chrome.url());
    }
    audit.visit(&s, "/admin/no-such-page");
    assert_eq!(audit.chrome.text("h1"), "Not found", "the error page");
    audit.assert_clean(14);
}
