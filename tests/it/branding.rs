//! Branding: a server started with a product name, logo, accent colour, support URL, From
//! name and mail texts shows them on its pages and in its mail, names Keystead only in the
//! pages' footer, serves the logo safely, and refuses bad values at start-up.
use std::path::Path;
use std::process::{Command, Output};

use crate::support::smtp::SmtpSink;
use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer};

const LOGO: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\" fill=\"#e91e63\"/></svg>";
const SUPPORT: &str = "https://help.acme.example/";
const INVITATION: &str = "Subject: Join {tenant} at {product}\n\nHi,\n\n{product} invites you to {tenant}:\n{link}\n\nIt works for {valid_for}. Questions: {support_url}\n";

const NOTICE: &str = "Subject: {product}: your password changed\n\n{what}\nAt {when}. Not you? Open {page_url}\n";

/// A server branded "Acme Cloud", its logo and mail templates in `dir`.
fn acme(dir: &Path) -> TestServer {
    std::fs::write(dir.join("logo.svg"), LOGO).expect("logo");
    let templates = dir.join("mail");
    std::fs::create_dir(&templates).expect("templates dir");
    std::fs::write(templates.join("invitation.txt"), INVITATION).expect("template");
    std::fs::write(templates.join("notice_password_changed.txt"), NOTICE).expect("template");
    TestServer::with(|c| {
        c.product_name = "Acme Cloud".into();
        c.logo = Some(dir.join("logo.svg"));
        c.accent_color = Some("#E91E63".into());
        c.support_url = Some(SUPPORT.into());
        c.mail_templates = Some(templates);
    })
}

/// The page shows the brand, and "Keystead" only in its footer.
#[track_caller]
fn assert_branded(page: &str) {
    assert!(page.contains("· Acme Cloud</title>"), "title: {page}");
    assert!(page.contains("<span>Acme Cloud</span></a>"), "header: {page}");
    assert!(page.contains("<img class=\"logo\" src=\"/assets/brand-logo.svg?v="), "logo: {page}");
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/assets/brand.css?v="), "accent: {page}");
    assert!(page.contains(&format!("<a href=\"{SUPPORT}\">Help</a>")), "support link: {page}");
    assert_eq!(page.matches("Keystead").count(), 1, "Keystead beyond the footer: {page}");
    let footer = page.split("<footer").nth(1).unwrap_or_default();
    assert!(footer.contains("Runs on Keystead"), "footer: {page}");
}

/// The first `/assets/…` URL of `prefix` in a page.
fn asset_url(page: &str, prefix: &str) -> String {
    let at = page.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {page}"));
    page[at..].split('"').next().unwrap_or_default().replace("&#61;", "=")
}

#[test]
fn the_login_and_portal_pages_show_the_product_and_name_keystead_only_in_the_footer() {
    let dir = tempfile::tempdir().expect("dir");
    let s = acme(dir.path());
    let b = Browser::new(&s);
    let login = b.get("/login");
    login.assert_page(200);
    assert_branded(&login.text);

    s.signup("ann@acme.test");
    b.post("/login", &[("email", "ann@acme.test"), ("password", PASSWORD)]).assert_redirect("/app");
    for path in ["/app", "/app/team", "/app/keys", "/app/settings"] {
        let page = b.get(path);
        page.assert_page(200);
        assert_branded(&page.text);
    }
    // The error page too.
    let missing = b.send("GET", "/no-such-page", &[("Accept", "text/html")], None);
    assert_eq!(missing.status, 404);
    assert_branded(&missing.text);
}

#[test]
fn the_logo_and_accent_are_served_with_their_bytes_type_and_caching_and_the_svg_cannot_run_script() {
    let dir = tempfile::tempdir().expect("dir");
    let s = acme(dir.path());
    let login = Browser::new(&s).get("/login").text;

    let logo = s.get(&asset_url(&login, "/assets/brand-logo.svg"), None);
    assert_eq!((logo.status, logo.text.as_str()), (200, LOGO));
    assert_eq!(logo.header("content-type"), Some("image/svg+xml"));
    assert_eq!(logo.header("x-content-type-options"), Some("nosniff"));
    let csp = logo.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox") && !csp.contains("script"), "{csp}");
    assert_eq!(logo.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = logo.header("etag").expect("etag").to_owned();
    let again = s.send("GET", "/assets/brand-logo.svg", None, &[("If-None-Match", &etag)], None);
    assert_eq!(again.status, 304);
    // The tab's icon is the logo.
    assert!(
        login.contains("rel=\"icon\" href=\"/assets/brand-logo.svg?v=") && login.contains("type=\"image/svg+xml\"")
    );

    let css = s.get(&asset_url(&login, "/assets/brand.css"), None);
    assert_eq!((css.status, css.header("content-type")), (200, Some("text/css; charset=utf-8")));
    assert!(
        css.text.contains(":root { --accent: #") && css.text.contains("prefers-color-scheme: dark"),
        "{}",
        css.text
    );
    assert!(!css.text.contains("E91E63"), "only the colour written anew: {}", css.text);

    // A server without a logo serves none.
    let plain = TestServer::spawn();
    assert_eq!(plain.get("/assets/brand-logo.svg", None).status, 404);
    assert_eq!(plain.get("/assets/brand.css", None).status, 404);
}

#[test]
fn mail_carries_the_product_and_support_url_and_the_operators_text_replaces_the_built_in_one() {
    let dir = tempfile::tempdir().expect("dir");
    let s = acme(dir.path());
    let ann = s.signup("ann@acme.test");
    let tenant = crate::support::tenant_name_of("ann@acme.test");
    assert_eq!(s.invite(&ann.token, "bob@acme.test", "member").status, 201);

    // The operator's invitation, its placeholders filled, the signature after it.
    let invited = s.outbox_to("bob@acme.test", "invitation");
    let m = invited.first().expect("an invitation");
    assert_eq!(m.subject, format!("Join {tenant} at Acme Cloud"));
    let link = format!("{}/activate?token=", s.base);
    assert!(m.body_text.starts_with(&format!("Hi,\n\nAcme Cloud invites you to {tenant}:\n{link}")), "{}", m.body_text);
    assert!(m.body_text.contains("It works for 7 days. Questions: https://help.acme.example/"), "{}", m.body_text);
    assert!(m.body_text.contains(&format!("-- \nAcme Cloud - {}\nHelp: {SUPPORT}", s.base)), "{}", m.body_text);
    assert!(m.body_html.contains(&format!("<a href=\"{link}")), "{}", m.body_html);
    assert!(m.body_html.contains(&format!("<a href=\"{SUPPORT}\">Help</a>")), "{}", m.body_html);

    // A built-in text: the product in subject and signature, the support link, no Keystead.
    let res = s.post("/v1/auth/forgot-password", None, serde_json::json!({ "email": "ann@acme.test" }));
    assert_eq!(res.status, 202, "{}", res.text);
    let reset = s.outbox_to("ann@acme.test", "password_reset");
    let m = reset.first().expect("a reset mail");
    assert_eq!(m.subject, "Reset your Acme Cloud password");
    assert!(m.body_text.contains(&format!("Acme Cloud - {}\nHelp: {SUPPORT}", s.base)), "{}", m.body_text);
    for message in s.outbox() {
        assert!(!message.subject.contains("Keystead") && !message.holds("Keystead"), "{message:?}");
    }
}

#[test]
fn the_from_name_is_the_given_one_or_the_products() {
    let sink = SmtpSink::start();
    let smtp = keystead::config::SmtpSettings::parse(&sink.url()).expect("smtp");
    let s = TestServer::with(|c| {
        c.smtp = Some(smtp.clone());
        c.product_name = "Acme Cloud".into();
        c.mail_from = "no-reply@acme.example".into();
        c.mail_from_name = Some("Acme Support".into());
    });
    s.signup("ann@acme.test");
    let mail = sink.mail_to("ann@acme.test", "Acme Cloud");
    let from = mail.data.lines().find(|l| l.starts_with("From: ")).unwrap_or_default();
    assert!(from.contains("Acme Support") && from.contains("<no-reply@acme.example>"), "{from}");

    let s = TestServer::with(|c| {
        c.smtp = Some(smtp);
        c.product_name = "Acme Cloud".into();
        c.mail_from = "no-reply@acme.example".into();
    });
    s.signup("bob@acme.test");
    let mail = sink.mail_to("bob@acme.test", "Acme Cloud");
    let from = mail.data.lines().find(|l| l.starts_with("From: ")).unwrap_or_default();
    assert!(from.contains("Acme Cloud") && from.contains("<no-reply@acme.example>"), "{from}");
}

/// `keystead <command> --db <dir>/k.db` with these flags, in a clean environment.
fn run(command: &str, dir: &Path, flags: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keystead"));
    cmd.arg(command).arg("--db").arg(dir.join("k.db")).args(flags).env("RUST_LOG", "warn");
    if command == "serve" {
        cmd.args(["--bind", "127.0.0.1:0"]);
    }
    for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("KEYSTEAD_")) {
        cmd.env_remove(var);
    }
    cmd.output().expect("keystead runs")
}

#[test]
fn bad_brand_values_stop_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("dir");
    let templates = dir.path().join("mail");
    std::fs::create_dir(&templates).expect("dir");
    std::fs::write(templates.join("invitation.txt"), "Subject: Join {tenant}\n\nNo link here.\n").expect("template");
    std::fs::write(dir.path().join("logo.gif"), "GIF89a").expect("logo");
    let templates = templates.to_str().expect("utf-8");
    let gif = dir.path().join("logo.gif");
    let cases: [(&[&str], &str); 5] = [
        (&["--accent-color", "red;}"], "--accent-color must be a hex colour such as #1f4e79"),
        (&["--support-url", "javascript:alert(1)"], "--support-url must be an http:// or https:// URL"),
        (&["--mail-templates", templates], "invitation.txt: the body must contain {link}"),
        (&["--logo", gif.to_str().expect("utf-8")], "must be an .svg or .png file"),
        (&["--product-name", ""], "--product-name must be 1 to 60 characters"),
    ];
    for (flags, message) in cases {
        let out = run("serve", dir.path(), flags);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{flags:?}: {stderr}");
    }
    // Nothing was created by a refused start.
    assert!(!dir.path().join("k.db").exists());
}

#[test]
fn check_reads_the_logo_and_mail_texts_as_serve_would() {
    let dir = tempfile::tempdir().expect("dir");
    let s = acme(dir.path());
    let db = s.db_path();
    let templates = dir.path().join("mail");
    let check = |flags: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keystead"));
        cmd.arg("check").arg("--db").arg(&db).args(flags).env("RUST_LOG", "warn");
        for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("KEYSTEAD_")) {
            cmd.env_remove(var);
        }
        let out = cmd.output().expect("check runs");
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let dir_flag = templates.to_str().expect("utf-8");
    let report = check(&["--product-name", "Acme Cloud", "--support-url", SUPPORT, "--mail-templates", dir_flag]);
    assert!(report.contains("ok    branding") && report.contains("product \"Acme Cloud\""), "{report}");
    assert!(report.contains("operator mail texts: invitation, notice_password_changed"), "{report}");
    // Without --support-url, the template's {support_url} has nothing to say.
    let report = check(&["--mail-templates", dir_flag]);
    assert!(report.contains("FAIL  branding") && report.contains("no --support-url is set"), "{report}");
    std::fs::write(templates.join("invite.txt"), "Subject: x\n\n{link}").expect("misnamed");
    let report = check(&["--support-url", SUPPORT, "--mail-templates", dir_flag]);
    assert!(report.contains("FAIL  branding") && report.contains("invite.txt: not a mail template"), "{report}");
}

#[test]
fn operator_pages_notices_and_authenticator_apps_name_the_product_too() {
    let dir = tempfile::tempdir().expect("dir");
    let s = acme(dir.path());
    let login = Browser::new(&s).get("/admin/login");
    login.assert_page(200);
    assert_branded(&login.text);

    let ann = s.signup("ann@acme.test");
    let new = "another horse battery staple";
    let body = serde_json::json!({ "current_password": PASSWORD, "new_password": new });
    assert_eq!(s.post("/v1/me/password", Some(&ann.token), body).status, 204);
    let told = s.outbox_to("ann@acme.test", "notice_password_changed");
    let m = told.first().expect("a notice");
    assert_eq!(m.subject, "Acme Cloud: your password changed");
    assert!(m.body_text.starts_with("The password of your account was changed"), "{}", m.body_text);
    let page = format!("{}/app/sessions", s.base);
    assert!(m.body_text.contains(&format!("Not you? Open {page}")), "{}", m.body_text);
    assert!(m.body_html.contains(&format!("<a href=\"{page}\">{page}</a>")), "{}", m.body_html);
    assert!(m.body_text.contains("security notice because it concerns your Acme Cloud account"), "{}", m.body_text);

    let res = s.post("/v1/me/mfa/totp", Some(&ann.token), serde_json::json!({ "password": new }));
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.str("/otpauth_uri").starts_with("otpauth://totp/Acme%20Cloud:ann%40acme%2Etest?"), "{}", res.text);
}
