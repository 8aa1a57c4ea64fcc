//! Metrics for Prometheus: the counters the server keeps (`Metrics`, owned by the app),
//! the scrape's rendering of them with the gauges read at scrape time (`render`), and the
//! private listener that serves them (`serve`). Counting on the hot path is a relaxed
//! atomic add: no lock, no allocation; a route's slot is found in a map built at start.
//!
//! Cardinality is bounded by construction: a request is counted under its route's
//! template (never its path, which holds ids and may hold a token), a path no route knows
//! under `(unmatched)`, and every other label comes from a fixed list.
pub mod serve;
pub mod text;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use text::{Kind, Text};

use crate::app::App;
use crate::error::Error;
use crate::http::Method;
use crate::http::router::{PAGES, ROUTES};
use crate::types::Realm;

/// The request-latency histogram's upper bounds, in seconds (a login's argon2 hash takes
/// tens of milliseconds; a verification well under one).
pub const LATENCY_BOUNDS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The route of a request matched to no route (as the log line names it).
pub const UNMATCHED: &str = "(unmatched)";
/// The route of a request refused before routing (408, 413, 414, 431…).
pub const EDGE: &str = "(edge)";
/// The method label of a request whose method is not its route's own (HEAD, a 405), and
/// of one matched to no route.
const OTHER_METHOD: &str = "other";

/// The results of `/v1/verify/key`: its verdicts, then the refusals.
const KEY_RESULTS: &[&str] = &["ok", "unknown", "revoked", "expired", "tenant_inactive", "rate_limited", "error"];
/// The results of `/v1/verify/session`.
const SESSION_RESULTS: &[&str] = &["ok", "invalid", "mfa_enrolment_required", "rate_limited", "error"];
/// The results of a login's password step (API and sign-in pages alike).
const LOGIN_RESULTS: &[&str] =
    &["ok", "mfa_required", "failed", "rate_limited", "disabled", "refused", "invalid", "unavailable", "error"];

pub struct Metrics {
    routes: Vec<RouteStats>,
    /// (method, route template) → index in `routes`; read-only after start.
    index: HashMap<(&'static str, &'static str), usize>,
    /// Kept by the public listener's accept loop (`tiny_http::ConnectionLimit`).
    pub connections_open: Arc<AtomicUsize>,
    pub connections_refused: Arc<AtomicU64>,
    verify_key: Tally,
    verify_session: Tally,
    logins_portal: Tally,
    logins_admin: Tally,
}

impl Default for Metrics {
    fn default() -> Self {
        let own = ROUTES.iter().chain(PAGES).map(|r| (r.method.as_str(), r.path));
        let others = ROUTES.iter().chain(PAGES).map(|r| r.path).chain([UNMATCHED, EDGE]).map(|p| (OTHER_METHOD, p));
        let mut index = HashMap::new();
        let mut routes = Vec::new();
        for (method, template) in own.chain(others) {
            index.entry((method, template)).or_insert_with(|| {
                routes.push(RouteStats::new(method, template));
                routes.len() - 1
            });
        }
        Self {
            routes,
            index,
            connections_open: Arc::default(),
            connections_refused: Arc::default(),
            verify_key: Tally::new(KEY_RESULTS),
            verify_session: Tally::new(SESSION_RESULTS),
            logins_portal: Tally::new(LOGIN_RESULTS),
            logins_admin: Tally::new(LOGIN_RESULTS),
        }
    }
}

impl Metrics {
    /// One answered request: its route template (`Req::route`), status and time taken.
    pub fn request(&self, method: Method, route: &str, status: u16, took: Duration) {
        if let Some(r) = self.slot(method, route) {
            r.count_status(status);
            r.observe(took);
        }
    }

    /// One request refused before routing (its time is not a handler's: no latency).
    pub fn refused_at_edge(&self, status: u16) {
        if let Some(r) = self.slot(Method::Other, EDGE) {
            r.count_status(status);
        }
    }

    /// The password step of a login, by its outcome.
    pub fn login<T>(&self, realm: Realm, outcome: &Result<T, Error>) {
        let result = match outcome {
            Ok(_) => "ok",
            Err(Error::MfaRequired(_)) => "mfa_required",
            Err(Error::InvalidCredentials) => "failed",
            Err(Error::RateLimited { .. }) => "rate_limited",
            Err(Error::AccountDisabled) => "disabled",
            Err(e) => match e.status_and_code().0 {
                400 => "invalid",
                503 => "unavailable",
                500.. => "error",
                // The password was right, yet no session opens (no tenant to act in).
                _ => "refused",
            },
        };
        match realm {
            Realm::Portal => self.logins_portal.add(result),
            Realm::Admin => self.logins_admin.add(result),
        }
    }

    /// A `/v1/verify/key` answer: its verdict (`ok` or the invalid code) or its error.
    pub fn key_verified(&self, outcome: Result<&'static str, &Error>) {
        self.verify_key.add(verification(outcome));
    }

    /// A `/v1/verify/session` answer, as `key_verified`.
    pub fn session_verified(&self, outcome: Result<&'static str, &Error>) {
        self.verify_session.add(verification(outcome));
    }

    fn slot(&self, method: Method, route: &str) -> Option<&RouteStats> {
        let i = self
            .index
            .get(&(method.as_str(), route))
            .or_else(|| self.index.get(&(OTHER_METHOD, route)))
            .or_else(|| self.index.get(&(OTHER_METHOD, UNMATCHED)))?;
        self.routes.get(*i)
    }
}

fn verification(outcome: Result<&'static str, &Error>) -> &'static str {
    match outcome {
        Ok(verdict) => verdict,
        Err(Error::RateLimited { .. }) => "rate_limited",
        Err(_) => "error",
    }
}

/// One route's answers by status, and its latency histogram.
struct RouteStats {
    method: &'static str,
    template: &'static str,
    /// Statuses claimed first come (0 = free); a route answers a handful of statuses.
    statuses: [(AtomicU16, AtomicU64); 12],
    /// Answers whose status found no free slot (counted as status "other").
    other: AtomicU64,
    /// Observations per bucket, not cumulative; the last is above every bound.
    buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    sum_micros: AtomicU64,
}

impl RouteStats {
    fn new(method: &'static str, template: &'static str) -> Self {
        Self {
            method,
            template,
            statuses: Default::default(),
            other: AtomicU64::new(0),
            buckets: Default::default(),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let bucket = LATENCY_BOUNDS.iter().position(|b| secs <= *b).unwrap_or(LATENCY_BOUNDS.len());
        if let Some(b) = self.buckets.get(bucket) {
            b.fetch_add(1, Relaxed);
        }
        self.sum_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    fn count_status(&self, status: u16) {
        for (code, count) in &self.statuses {
            let seen = match code.load(Relaxed) {
                0 => code.compare_exchange(0, status, Relaxed, Relaxed).unwrap_or_else(|now| now),
                seen => seen,
            };
            // `seen` is 0 when this thread just claimed the slot for `status`.
            if seen == status || seen == 0 {
                count.fetch_add(1, Relaxed);
                return;
            }
        }
        self.other.fetch_add(1, Relaxed);
    }

    fn answered(&self) -> u64 {
        self.statuses.iter().map(|(_, n)| n.load(Relaxed)).sum::<u64>() + self.other.load(Relaxed)
    }

    fn observed(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }
}

/// Counts by a fixed set of labels, plus "other" for any label not in it.
struct Tally {
    labels: &'static [&'static str],
    counts: Box<[AtomicU64]>,
}

impl Tally {
    fn new(labels: &'static [&'static str]) -> Self {
        Self { labels, counts: (0..=labels.len()).map(|_| AtomicU64::new(0)).collect() }
    }

    fn add(&self, label: &str) {
        let i = self.labels.iter().position(|l| *l == label).unwrap_or(self.labels.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Relaxed);
        }
    }

    fn each(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.labels.iter().copied().chain(["other"]).zip(self.counts.iter().map(|c| c.load(Relaxed)))
    }
}

/// The scrape: every series in the text format. The database's gauges cost one query on
/// partial indexes (`store::stats::gauges`).
pub fn render(app: &App) -> Result<String, Error> {
    let m = &app.metrics;
    let gauges = app.db.read(|c| crate::store::stats::gauges(c, app.clock.now(), crate::mail::MAX_ATTEMPTS))?;
    let mut t = Text::default();

    let name = "keystead_http_requests_total";
    t.family(name, Kind::Counter, "HTTP requests answered, by method, route template and status.");
    for r in m.routes.iter().filter(|r| r.answered() > 0) {
        let labels = [("method", r.method), ("route", r.template)];
        for (code, count) in &r.statuses {
            let (code, count) = (code.load(Relaxed), count.load(Relaxed));
            if code != 0 && count > 0 {
                t.sample(name, &[labels[0], labels[1], ("status", &code.to_string())], count as f64);
            }
        }
        let other = r.other.load(Relaxed);
        if other > 0 {
            t.sample(name, &[labels[0], labels[1], ("status", "other")], other as f64);
        }
    }
    let name = "keystead_http_request_duration_seconds";
    t.family(name, Kind::Histogram, "Time from a request's arrival to its answer, by method and route template.");
    for r in m.routes.iter().filter(|r| r.observed() > 0) {
        let counts: Vec<u64> = r.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let sum = r.sum_micros.load(Relaxed) as f64 / 1e6;
        t.histogram(name, &[("method", r.method), ("route", r.template)], &LATENCY_BOUNDS, &counts, sum);
    }

    let (waiting, in_use) = app.hasher.queue();
    let (busy, gone) = app.hasher.refusals();
    t.gauge("keystead_argon2_queue_depth", "Password hashes waiting for a hashing permit.", waiting as f64);
    t.gauge("keystead_argon2_in_use", "Hashing permits in use (at most --hash-threads).", in_use as f64);
    let name = "keystead_argon2_refusals_total";
    t.family(
        name,
        Kind::Counter,
        "Password hashes refused before they ran: every permit busy too long, or the client gone.",
    );
    t.sample(name, &[("reason", "busy")], busy as f64);
    t.sample(name, &[("reason", "client_gone")], gone as f64);

    let open = m.connections_open.load(Relaxed);
    t.gauge("keystead_connections_open", "Connections open on the public address.", open as f64);
    let name = "keystead_connections_refused_total";
    t.family(
        name,
        Kind::Counter,
        "Connections answered 503 and closed at accept (--max-connections, or a client's share).",
    );
    t.sample(name, &[], m.connections_refused.load(Relaxed) as f64);

    t.gauge("keystead_outbox_pending", "Mails not yet delivered and still to be tried.", gauges.outbox_pending as f64);
    t.gauge("keystead_outbox_failed", "Mails given up on after every attempt failed.", gauges.outbox_failed as f64);
    let name = "keystead_sessions_active";
    t.family(name, Kind::Gauge, "Live sessions (neither revoked, expired nor idle), by realm.");
    t.sample(name, &[("realm", "portal")], gauges.sessions_portal as f64);
    t.sample(name, &[("realm", "admin")], gauges.sessions_admin as f64);

    let name = "keystead_verifications_total";
    t.family(name, Kind::Counter, "Answers of /v1/verify/key and /v1/verify/session, by kind and result.");
    for (kind, tally) in [("key", &m.verify_key), ("session", &m.verify_session)] {
        for (result, n) in tally.each() {
            t.sample(name, &[("kind", kind), ("result", result)], n as f64);
        }
    }
    let name = "keystead_rate_limit_refusals_total";
    t.family(name, Kind::Counter, "Attempts refused 429 by a rate limit, by limit.");
    for (limit, n) in app.limits.refusals() {
        t.sample(name, &[("limit", limit)], n as f64);
    }
    let name = "keystead_logins_total";
    t.family(name, Kind::Counter, "Password steps of logins (API and sign-in pages), by realm and result.");
    for (realm, tally) in [("portal", &m.logins_portal), ("admin", &m.logins_admin)] {
        for (result, n) in tally.each() {
            t.sample(name, &[("realm", realm), ("result", result)], n as f64);
        }
    }
    Ok(t.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_claim_slots_and_overflow_to_other() {
        let r = RouteStats::new("GET", "/x");
        for status in 200..215 {
            r.count_status(status);
            r.observe(Duration::from_millis(2));
        }
        r.count_status(200);
        r.observe(Duration::from_secs(20));
        assert_eq!(r.statuses[0].0.load(Relaxed), 200);
        assert_eq!(r.statuses[0].1.load(Relaxed), 2);
        assert_eq!(r.other.load(Relaxed), 3, "12 slots, 15 statuses");
        assert_eq!((r.answered(), r.observed()), (16, 16));
        assert_eq!(r.buckets[1].load(Relaxed), 15, "2 ms falls in (1 ms, 2.5 ms]");
        assert_eq!(r.buckets[LATENCY_BOUNDS.len()].load(Relaxed), 1, "20 s is above every bound");
    }

    #[test]
    fn a_tally_counts_unknown_labels_as_other() {
        let t = Tally::new(&["ok", "bad"]);
        t.add("ok");
        t.add("ok");
        t.add("strange");
        assert_eq!(t.each().collect::<Vec<_>>(), [("ok", 2), ("bad", 0), ("other", 1)]);
    }

    #[test]
    fn requests_count_under_their_route_or_a_fixed_label() {
        let m = Metrics::default();
        let ms = Duration::from_millis(1);
        m.request(Method::Delete, "/v1/keys/{id}", 204, ms);
        m.request(Method::Head, "/v1/keys/{id}", 405, ms);
        m.request(Method::Get, "/no/such/path", 404, ms);
        m.request(Method::Get, UNMATCHED, 404, ms);
        m.refused_at_edge(431);
        let seen: Vec<_> =
            m.routes.iter().filter(|r| r.answered() > 0).map(|r| (r.method, r.template, r.answered())).collect();
        assert_eq!(
            seen,
            [
                ("DELETE", "/v1/keys/{id}", 1),
                ("other", "/v1/keys/{id}", 1),
                ("other", UNMATCHED, 2),
                ("other", EDGE, 1)
            ]
        );
        let edge = m.slot(Method::Other, EDGE).map(RouteStats::observed);
        assert_eq!(edge, Some(0), "no latency for a request no handler saw");
    }

    #[test]
    fn login_outcomes_map_to_fixed_results() {
        let m = Metrics::default();
        m.login::<()>(Realm::Portal, &Ok(()));
        m.login::<()>(Realm::Portal, &Err(Error::InvalidCredentials));
        m.login::<()>(Realm::Portal, &Err(Error::TenantSuspended));
        m.login::<()>(Realm::Admin, &Err(Error::Unavailable("busy".into())));
        m.login::<()>(Realm::Admin, &Err(Error::invalid("bad email")));
        let counted = |t: &Tally| t.each().filter(|(_, n)| *n > 0).collect::<Vec<_>>();
        assert_eq!(counted(&m.logins_portal), [("ok", 1), ("failed", 1), ("refused", 1)]);
        assert_eq!(counted(&m.logins_admin), [("invalid", 1), ("unavailable", 1)]);
    }
}
