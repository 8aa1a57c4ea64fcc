//! Forward authentication behind real reverse proxies nobody here wrote: Debian's nginx
//! (`auth_request`) and Caddy (`forward_auth`) in front of a static site, with the
//! configuration the README gives. Signed out, the browser is sent to Keystead's login
//! page and, once signed in, back to the site; a member without the role a path demands
//! gets 403; a crafted `next` to another host lands on `/app`. test.sh installs both.
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::web::Browser;
use crate::support::{PASSWORD, TestServer, exchange};

const SITE: &str = "<!DOCTYPE html><title>Wiki</title><p>The team wiki</p>";

/// A proxy process, killed when the test ends.
struct Proxy {
    child: Child,
    base: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts the proxy that `command` makes for a port, and waits until it accepts
/// connections there. A free port found by binding may be taken again before the proxy
/// binds it (the rest of the suite opens hundreds of connections), so a proxy that exits
/// at once is started again on another port; its standard error is shown if all fail.
fn start(dir: &Path, what: &str, command: impl Fn(u16) -> Command) -> Proxy {
    let log = dir.join(format!("{what}.stderr"));
    for _ in 0..3 {
        let port = free_port();
        let stderr = std::fs::File::create(&log).expect("stderr file");
        let child = command(port).stdout(Stdio::null()).stderr(stderr).spawn();
        let mut proxy = Proxy {
            child: child.unwrap_or_else(|e| panic!("cannot start {what} ({e}): test.sh installs it")),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return proxy;
            }
            if proxy.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("{what} did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// The static site both proxies serve: `/` for every member, `/admin-only/` for admins.
fn site(dir: &Path) {
    std::fs::create_dir_all(dir.join("site/admin-only")).expect("site dir");
    std::fs::write(dir.join("site/index.html"), SITE).expect("index");
    std::fs::write(dir.join("site/admin-only/index.html"), SITE).expect("admin index");
}

fn nginx(dir: &Path, keystead: &str) -> Proxy {
    site(dir);
    std::fs::create_dir_all(dir.join("tmp")).expect("tmp");
    start(dir, "nginx", |port| nginx_on(dir, keystead, port))
}

fn nginx_on(dir: &Path, keystead: &str, port: u16) -> Command {
    let d = dir.display();
    // The README's recipe, with this test's ports and paths around it.
    let conf = format!(
        r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {d}/site;
    location / {{
      auth_request /_keystead;
      auth_request_set $keystead_email $upstream_http_x_keystead_email;
      auth_request_set $keystead_login $upstream_http_x_keystead_login_url;
      add_header X-Seen-Email $keystead_email always;
      error_page 401 = @keystead_login;
    }}
    location /admin-only/ {{
      auth_request /_keystead_admin;
      auth_request_set $keystead_login $upstream_http_x_keystead_login_url;
      error_page 401 = @keystead_login;
    }}
    location = /_keystead {{
      internal;
      proxy_pass {keystead}/v1/forward-auth?redirect=0;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }}
    location = /_keystead_admin {{
      internal;
      proxy_pass {keystead}/v1/forward-auth?redirect=0&role=admin;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }}
    location @keystead_login {{
      return 302 $keystead_login;
    }}
  }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("conf");
    let mut cmd = Command::new("nginx");
    cmd.arg("-p").arg(dir).arg("-e").arg(dir.join("error.log")).arg("-c").arg(dir.join("nginx.conf"));
    cmd
}

fn caddy(dir: &Path, keystead: &str) -> Proxy {
    site(dir);
    start(dir, "caddy", |port| caddy_on(dir, keystead, port))
}

fn caddy_on(dir: &Path, keystead: &str, port: u16) -> Command {
    let d = dir.display();
    let upstream = keystead.trim_start_matches("http://");
    let conf = format!(
        r#"{{
  admin off
  auto_https off
  storage file_system {d}/caddy
}}
http://127.0.0.1:{port} {{
  root * {d}/site
  handle /admin-only/* {{
    forward_auth {upstream} {{
      uri /v1/forward-auth?role=admin
    }}
    file_server
  }}
  handle {{
    # `route` keeps this order: the header is set after forward_auth copied the identity.
    route {{
      forward_auth {upstream} {{
        uri /v1/forward-auth
        copy_headers X-Keystead-Email X-Keystead-Role
      }}
      header X-Seen-Email {{http.request.header.X-Keystead-Email}}
      file_server
    }}
  }}
}}
"#
    );
    std::fs::write(dir.join("Caddyfile"), conf).expect("conf");
    let mut cmd = Command::new("caddy");
    cmd.args(["run", "--adapter", "caddyfile", "--config"]).arg(dir.join("Caddyfile"));
    cmd.env("HOME", dir).env("XDG_DATA_HOME", dir).env("XDG_CONFIG_HOME", dir);
    cmd
}

/// A GET through the proxy as a browser sends it (HTML wanted, redirects not followed).
fn visit(proxy: &Proxy, path: &str, session: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(10)).build();
    let cookie = session.map(|t| format!("ks_session={t}"));
    let mut headers = vec![("Accept", "text/html")];
    if let Some(c) = &cookie {
        headers.push(("Cookie", c));
    }
    exchange(&agent, "GET", &format!("{}{path}", proxy.base), &headers, None)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The whole trip through one proxy.
fn sign_in_through(s: &TestServer, proxy: &Proxy) {
    let owner = s.signup("owner@proxy.test");
    s.join(&owner.token, "member@proxy.test", "member");

    // Signed out: to Keystead's login page, with the site's URL as `next`.
    let (status, headers, text) = visit(proxy, "/", None);
    assert_eq!(status, 302, "{text}");
    let location = header(&headers, "location").expect("a Location").to_owned();
    let login = format!("{}/login?next=", s.app.config.base_url);
    assert!(location.starts_with(&login), "{location}");
    let next: String = form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
        .find(|(k, _)| k == "next")
        .expect("next")
        .1
        .into();
    assert_eq!(next, format!("{}/", proxy.base));

    // Signing in there sends the browser back to the site, which now lets it in.
    let b = Browser::new(s);
    let path = location.trim_start_matches(&s.app.config.base_url);
    let form = b.get(path);
    form.assert_page(200);
    assert_eq!(form.field("next").as_deref(), Some(next.as_str()));
    b.post("/login", &[("email", "member@proxy.test"), ("password", PASSWORD), ("next", &next)]).assert_redirect(&next);
    let session = b.cookie("ks_session").expect("signed in");
    let (status, headers, text) = visit(proxy, "/", Some(&session));
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("The team wiki"), "{text}");
    assert_eq!(header(&headers, "x-seen-email"), Some("member@proxy.test"), "the site sees who it is");

    // A member is not an admin.
    let (status, _, text) = visit(proxy, "/admin-only/", Some(&session));
    assert_eq!(status, 403, "{text}");
    let (status, _, _) = visit(proxy, "/admin-only/", Some(&owner.token));
    assert_eq!(status, 200, "the owner passes");

    // A `next` crafted to leave for another host is not followed.
    let b = Browser::new(s);
    b.post("/login", &[("email", "member@proxy.test"), ("password", PASSWORD), ("next", "http://evil.example.test/")])
        .assert_redirect("/app");
}

#[test]
fn nginx_auth_request_signs_people_in_and_keeps_roles() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().expect("temp dir");
    let proxy = nginx(dir.path(), &s.base);
    sign_in_through(&s, &proxy);
}

#[test]
fn caddy_forward_auth_signs_people_in_and_keeps_roles() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().expect("temp dir");
    let proxy = caddy(dir.path(), &s.base);
    sign_in_through(&s, &proxy);
}
