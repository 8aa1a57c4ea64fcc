//! `GET /metrics` on `--metrics-bind`, read by a parser nobody here wrote: the Prometheus
//! project's own Python client (`prometheus_client.parser`, Debian's
//! python3-prometheus-client, which test.sh installs). Counters must follow real requests,
//! labels must be route templates and fixed words, and nothing secret or any raw path may
//! appear. The public port does not serve the metrics.
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use keystead::http::router::{PAGES, ROUTES};
use keystead::limit::Rate;
use serde::Deserialize;
use serde_json::json;

use crate::connections::healthz;
use crate::support::{PASSWORD, TestServer, wait_until};

/// Every family a scrape holds, with its type (a counter's family name drops `_total`).
const FAMILIES: &[(&str, &str)] = &[
    ("keystead_http_requests", "counter"),
    ("keystead_http_request_duration_seconds", "histogram"),
    ("keystead_argon2_queue_depth", "gauge"),
    ("keystead_argon2_in_use", "gauge"),
    ("keystead_argon2_refusals", "counter"),
    ("keystead_connections_open", "gauge"),
    ("keystead_connections_refused", "counter"),
    ("keystead_outbox_pending", "gauge"),
    ("keystead_outbox_failed", "gauge"),
    ("keystead_sessions_active", "gauge"),
    ("keystead_verifications", "counter"),
    ("keystead_rate_limit_refusals", "counter"),
    ("keystead_logins", "counter"),
];

/// Reads the exposition on stdin with `text_string_to_metric_families`, writes it as JSON.
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([
    {"name": f.name, "type": f.type,
     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
    for f in text_string_to_metric_families(sys.stdin.read())
]))
"#;

#[derive(Deserialize, Debug)]
struct Family {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    samples: Vec<Sample>,
}

#[derive(Deserialize, Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape: its text as served, and as the reference parser read it.
struct Scrape {
    text: String,
    families: Vec<Family>,
}

impl Scrape {
    /// The value of the sample named `name` with exactly these labels.
    #[track_caller]
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let found = self.samples().find(|s| s.name == name && s.labels == want).map(|s| s.value);
        found.unwrap_or_else(|| panic!("no sample {name}{labels:?} in\n{}", self.text))
    }

    fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.families.iter().flat_map(|f| &f.samples)
    }
}

/// `GET /metrics` on the metrics address, parsed by `prometheus_client`.
fn scrape(s: &TestServer) -> Scrape {
    let addr = s.metrics_addr().expect("the server was started with metrics_bind");
    let res = ureq::get(&format!("http://{addr}/metrics")).call().expect("the scrape answers 200");
    let content_type = res.header("content-type").unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = res.into_string().expect("the scrape's text");
    let families = serde_json::from_str(&parse(&text)).expect("the parser's JSON");
    Scrape { text, families }
}

/// Runs `PARSE` on Debian's python3 (where python3-prometheus-client installs), else on the
/// first python3 found; fails, never skips, when neither has the parser.
fn parse(text: &str) -> String {
    for python in ["/usr/bin/python3", "python3"] {
        let Ok(mut child) = Command::new(python)
            .args(["-c", PARSE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            continue;
        };
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("feed the parser");
        let out = child.wait_with_output().expect("the parser ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No module named 'prometheus_client'") {
            continue;
        }
        assert!(out.status.success(), "prometheus_client refused the scrape: {stderr}\n{text}");
        return String::from_utf8(out.stdout).expect("UTF-8 JSON");
    }
    panic!("no python3 with prometheus_client: install Debian's python3-prometheus-client (./test.sh does)");
}

fn with_metrics(configure: impl FnOnce(&mut keystead::config::Config)) -> TestServer {
    TestServer::with(|c| {
        c.metrics_bind = Some("127.0.0.1:0".into());
        configure(c);
    })
}

/// Sends raw bytes to the public port and reads the answer to its end.
fn raw(s: &TestServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(s.base.trim_start_matches("http://")).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_scrape_parses_and_its_counters_follow_real_requests() {
    let s = with_metrics(|c| c.limits.failed_verify_by_ip = Rate { burst: 2, per_hour: 1 });
    let first = scrape(&s);
    for (name, kind) in FAMILIES {
        let family = first.families.iter().find(|f| f.name == *name);
        assert_eq!(family.map(|f| f.kind.as_str()), Some(*kind), "{name} in\n{}", first.text);
    }
    assert_eq!(first.value("keystead_logins_total", &[("realm", "portal"), ("result", "failed")]), 0.0);

    let ann = s.signup("ann@example.test");
    assert_eq!(s.login(&ann.email, "not the password at all").status, 401);
    let after_failure = scrape(&s);
    assert_eq!(after_failure.value("keystead_logins_total", &[("realm", "portal"), ("result", "failed")]), 1.0);
    assert_eq!(after_failure.value("keystead_logins_total", &[("realm", "portal"), ("result", "ok")]), 0.0);

    assert_eq!(s.login(&ann.email, PASSWORD).status, 200);
    let operator = s.admin("op@example.test");
    assert_eq!(s.get(&format!("/v1/admin/tenants/{}", ann.tenant_id), Some(&operator)).status, 200);
    let valid = s.post("/v1/verify/key", None, json!({ "key": ann.key }));
    assert_eq!(valid.body["valid"], true, "{}", valid.text);
    let session = s.post("/v1/verify/session", None, json!({ "token": ann.token }));
    assert_eq!(session.body["valid"], true, "{}", session.text);
    // Two wrong keys use up the allowance of failed verifications; the third is refused.
    for _ in 0..2 {
        assert_eq!(s.post("/v1/verify/key", None, json!({ "key": "sk_not_a_key" })).body["code"], "unknown");
    }
    assert_eq!(s.post("/v1/verify/key", None, json!({ "key": "sk_not_a_key" })).status, 429);
    let revoked = s.delete(&format!("/v1/keys/{}", ann.key_id), Some(&ann.token));
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert_eq!(s.get("/metrics", None).status, 404, "the public port does not serve the metrics");
    assert_eq!(s.get(&format!("/no/such/{}", ann.user_id), None).status, 404);
    let long_header = format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Long: {}\r\n\r\n", "a".repeat(9000));
    assert!(raw(&s, long_header.as_bytes()).starts_with("HTTP/1.1 431"));

    let m = scrape(&s);
    let logins = |realm, result| m.value("keystead_logins_total", &[("realm", realm), ("result", result)]);
    assert_eq!((logins("portal", "failed"), logins("portal", "ok"), logins("admin", "ok")), (1.0, 1.0, 1.0));
    let verified = |kind, result| m.value("keystead_verifications_total", &[("kind", kind), ("result", result)]);
    assert_eq!(verified("key", "ok"), 1.0);
    assert_eq!(verified("key", "unknown"), 2.0);
    assert_eq!(verified("key", "rate_limited"), 1.0);
    assert_eq!(verified("session", "ok"), 1.0);
    assert_eq!(verified("session", "invalid"), 0.0);
    assert_eq!(m.value("keystead_rate_limit_refusals_total", &[("limit", "failed_verify_by_ip")]), 1.0);
    assert_eq!(m.value("keystead_rate_limit_refusals_total", &[("limit", "login_by_ip")]), 0.0);

    let requests = |method, route, status| {
        m.value("keystead_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", "/v1/auth/login", "401"), 1.0);
    assert_eq!(requests("POST", "/v1/auth/login", "200"), 1.0);
    assert_eq!(requests("GET", "/v1/admin/tenants/{id}", "200"), 1.0);
    assert_eq!(requests("DELETE", "/v1/keys/{id}", "204"), 1.0);
    assert_eq!(requests("POST", "/v1/verify/key", "200"), 3.0);
    assert_eq!(requests("POST", "/v1/verify/key", "429"), 1.0);
    assert_eq!(requests("other", "(unmatched)", "404"), 2.0, "/metrics and /no/such/… on the public port");
    assert_eq!(requests("other", "(edge)", "431"), 1.0);

    // The histogram: cumulative buckets ending in +Inf, which equals its count.
    let login = [("method", "POST"), ("route", "/v1/auth/login")];
    let bucket = |le| m.value("keystead_http_request_duration_seconds_bucket", &[login[0], login[1], ("le", le)]);
    let bounds = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"];
    let counts: Vec<f64> = bounds.iter().map(|le| bucket(le)).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "cumulative: {counts:?}");
    assert_eq!(counts.last(), Some(&2.0));
    assert_eq!(m.value("keystead_http_request_duration_seconds_count", &login), 2.0);
    assert!(m.value("keystead_http_request_duration_seconds_sum", &login) > 0.0, "two argon2 hashes take time");
    assert_eq!(bucket("0.001"), 0.0, "an argon2 hash takes more than a millisecond");

    // The database's gauges, read at the scrape.
    let unsent = s.outbox().iter().filter(|o| o.sent_at.is_none() && o.scrubbed_at.is_none()).count() as f64;
    assert!(unsent >= 1.0, "the sign-up's verification mail waits (no SMTP)");
    assert_eq!(m.value("keystead_outbox_pending", &[]), unsent);
    assert_eq!(m.value("keystead_outbox_failed", &[]), 0.0);
    assert_eq!(m.value("keystead_sessions_active", &[("realm", "portal")]), 2.0, "the sign-up's and the login's");
    assert_eq!(m.value("keystead_sessions_active", &[("realm", "admin")]), 1.0);
    assert_eq!(m.value("keystead_argon2_queue_depth", &[]), 0.0);
    assert_eq!(m.value("keystead_argon2_in_use", &[]), 0.0);
    assert_eq!(m.value("keystead_argon2_refusals_total", &[("reason", "busy")]), 0.0);

    // Labels are route templates and fixed words: no path, id, key, token or address.
    let templates: Vec<&str> = ROUTES.iter().chain(PAGES).map(|r| r.path).chain(["(unmatched)", "(edge)"]).collect();
    for sample in m.samples() {
        if let Some(route) = sample.labels.get("route") {
            assert!(templates.contains(&route.as_str()), "route label {route:?} is no template");
        }
    }
    let secrets =
        [ann.key.as_str(), &ann.token, &operator, PASSWORD, "not the password", &ann.email, "op@example.test"];
    for secret in secrets {
        assert!(!m.text.contains(secret), "the scrape shows {secret}");
    }
    for id in [&ann.key_id, &ann.tenant_id, &ann.user_id] {
        assert!(!m.text.contains(id.as_str()), "the scrape shows the id {id}");
    }
    assert!(!m.text.contains("/no/such") && !m.text.contains("sk_not_a_key"));
}

#[test]
fn the_metrics_listener_serves_only_get_metrics() {
    let s = with_metrics(|_| {});
    let addr = s.metrics_addr().expect("a metrics address");
    assert_ne!(addr.to_string(), s.base.trim_start_matches("http://"), "its own port");
    let agent = ureq::agent();
    let status = |r: Result<ureq::Response, ureq::Error>| match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
        Err(e) => panic!("transport error {e}"),
    };
    assert_eq!(status(agent.get(&format!("http://{addr}/metrics?x=1")).call()), 200);
    assert_eq!(status(agent.get(&format!("http://{addr}/healthz")).call()), 404);
    assert_eq!(status(agent.post(&format!("http://{addr}/metrics")).call()), 405);
    // Off unless set.
    assert!(TestServer::spawn().metrics_addr().is_none());
}

#[test]
fn connections_open_and_refused_are_counted_at_accept() {
    let s = with_metrics(|c| c.max_connections = 3);
    let connect = || {
        let stream = TcpStream::connect(s.base.trim_start_matches("http://")).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream
    };
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect()).collect();
    for stream in &mut held {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    let mut refused = String::new();
    connect().read_to_string(&mut refused).expect("an answer, then the end");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let m = scrape(&s);
    assert_eq!(m.value("keystead_connections_open", &[]), 3.0, "the scrape's own is on the metrics port");
    assert_eq!(m.value("keystead_connections_refused_total", &[]), 1.0);
    // A request is counted once its answer is written, so the client can read the third
    // answer a moment before the count shows it.
    let healthz_ok = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    wait_until("the three requests are counted", || {
        scrape(&s).value("keystead_http_requests_total", &healthz_ok) == 3.0
    });
    drop(held);
    wait_until("the closed connections are no longer open", || {
        scrape(&s).value("keystead_connections_open", &[]) == 0.0
    });
}
