//! Rate limits: token buckets in memory, keyed by what is limited and by whom (a client IP
//! or an account). A restart forgets them, which errs on the side of availability.
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::types::Timestamp;

/// `burst` attempts at once, refilled at `per_hour` an hour.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: u32,
    pub per_hour: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    LoginByIp,
    LoginByAccount,
    SignupByIp,
    FailedVerifyByIp,
    TokenUseByIp,
    ForgotByIp,
    /// Wrong second-factor codes of one person, across all its `mfa_token`s.
    MfaByAccount,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub login_by_ip: Rate,
    pub login_by_account: Rate,
    pub signup_by_ip: Rate,
    pub failed_verify_by_ip: Rate,
    pub token_use_by_ip: Rate,
    pub forgot_by_ip: Rate,
    pub mfa_by_account: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_by_ip: Rate { burst: 30, per_hour: 600 },
            login_by_account: Rate { burst: 10, per_hour: 60 },
            signup_by_ip: Rate { burst: 10, per_hour: 60 },
            failed_verify_by_ip: Rate { burst: 100, per_hour: 6000 },
            token_use_by_ip: Rate { burst: 20, per_hour: 300 },
            forgot_by_ip: Rate { burst: 10, per_hour: 60 },
            mfa_by_account: Rate { burst: 10, per_hour: 60 },
        }
    }
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::LoginByIp,
        Scope::LoginByAccount,
        Scope::SignupByIp,
        Scope::FailedVerifyByIp,
        Scope::TokenUseByIp,
        Scope::ForgotByIp,
        Scope::MfaByAccount,
    ];

    /// The limit's name in metrics (as its field of `Limits`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::LoginByIp => "login_by_ip",
            Scope::LoginByAccount => "login_by_account",
            Scope::SignupByIp => "signup_by_ip",
            Scope::FailedVerifyByIp => "failed_verify_by_ip",
            Scope::TokenUseByIp => "token_use_by_ip",
            Scope::ForgotByIp => "forgot_by_ip",
            Scope::MfaByAccount => "mfa_by_account",
        }
    }

    /// Whether `who` is a client address (grouped by `client_key`) rather than an account.
    fn by_client(self) -> bool {
        !matches!(self, Scope::LoginByAccount)
    }
}

/// The network a client address stands for: an IPv4 address itself, an IPv6 address its
/// /64 (one subscriber line or host gets a whole /64 and picks any address in it at will).
pub fn client_net(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

/// What a client address is limited as: `client_net` of it, written out (`2001:db8::`); a
/// text that is no address (`unknown`) stands for itself. Requests keep the full address
/// for audit rows and sessions; limits (and composite keys such as account and client)
/// use this.
pub fn client_key(who: &str) -> String {
    who.parse::<IpAddr>().map_or_else(|_| who.to_owned(), |ip| client_net(ip).to_string())
}

impl Limits {
    fn rate(&self, scope: Scope) -> Rate {
        match scope {
            Scope::LoginByIp => self.login_by_ip,
            Scope::LoginByAccount => self.login_by_account,
            Scope::SignupByIp => self.signup_by_ip,
            Scope::FailedVerifyByIp => self.failed_verify_by_ip,
            Scope::TokenUseByIp => self.token_use_by_ip,
            Scope::ForgotByIp => self.forgot_by_ip,
            Scope::MfaByAccount => self.mfa_by_account,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: i64,
}

type Key = (Scope, String);

/// At most this many buckets: past it, the one looked at longest ago goes (a spray of
/// addresses costs memory up to here, no further).
const MAX_BUCKETS: usize = 100_000;
/// Buckets looked at per use: each goes if it has refilled, else to the back of the line.
const SWEEP_STEP: usize = 4;

#[derive(Default)]
struct Buckets {
    map: HashMap<Key, Bucket>,
    /// Every key of `map` once, in the order the sweep visits them.
    line: VecDeque<Key>,
}

pub struct Limiter {
    limits: Limits,
    buckets: Mutex<Buckets>,
    /// Attempts refused since start, by scope (in `Scope::ALL`'s order), for metrics.
    refused: [AtomicU64; Scope::ALL.len()],
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Self { limits, buckets: Mutex::default(), refused: Default::default() }
    }

    /// Takes one attempt from the bucket, or answers 429 when it is empty.
    pub fn hit(&self, scope: Scope, who: &str, now: Timestamp) -> Result<(), Error> {
        self.with_bucket(scope, who, now, |b| {
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                true
            } else {
                false
            }
        })
        .inspect_err(|_| {
            if let Some(n) = Scope::ALL.iter().position(|s| *s == scope).and_then(|i| self.refused.get(i)) {
                n.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// Attempts refused (429) since start, by scope.
    pub fn refusals(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Scope::ALL.iter().zip(&self.refused).map(|(s, n)| (s.name(), n.load(Ordering::Relaxed)))
    }

    /// Gives back one attempt taken by `hit` (up to the burst): for an allowance that should
    /// count only failures but must be taken before the work it guards.
    pub fn refund(&self, scope: Scope, who: &str, now: Timestamp) {
        let burst = f64::from(self.limits.rate(scope).burst);
        let _ = self.with_bucket(scope, who, now, |b| {
            b.tokens = (b.tokens + 1.0).min(burst);
            true
        });
    }

    fn lock(&self) -> MutexGuard<'_, Buckets> {
        // A panic while the lock was held can at worst have left one bucket's count
        // unchanged: the map is still sound, and refusing every later login for it
        // would turn one bug into an outage.
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_bucket(
        &self,
        scope: Scope,
        who: &str,
        now: Timestamp,
        f: impl FnOnce(&mut Bucket) -> bool,
    ) -> Result<(), Error> {
        let rate = self.limits.rate(scope);
        let who = if scope.by_client() { client_key(who) } else { who.to_owned() };
        let now = now.unix();
        let mut guard = self.lock();
        let buckets = &mut *guard;
        self.sweep(buckets, now);
        let key = (scope, who);
        if !buckets.map.contains_key(&key) {
            if buckets.map.len() >= MAX_BUCKETS {
                if let Some(oldest) = buckets.line.pop_front() {
                    buckets.map.remove(&oldest);
                }
            }
            buckets.line.push_back(key.clone());
        }
        let bucket = buckets.map.entry(key).or_insert(Bucket { tokens: f64::from(rate.burst), at: now });
        refill(bucket, rate, now);
        if f(bucket) {
            Ok(())
        } else {
            let per_sec = f64::from(rate.per_hour) / 3600.0;
            let wait = if per_sec > 0.0 { ((1.0 - bucket.tokens) / per_sec).ceil() } else { 3600.0 };
            Err(Error::RateLimited { retry_after: (wait as u64).max(1) })
        }
    }

    /// Looks at the next few buckets in line, each with its own scope's rate: a full one is
    /// forgotten (a new one would start full too), the others wait their next turn.
    fn sweep(&self, buckets: &mut Buckets, now: i64) {
        for _ in 0..SWEEP_STEP.min(buckets.line.len()) {
            let Some(key) = buckets.line.pop_front() else { break };
            let full = buckets.map.get_mut(&key).is_none_or(|b| {
                let rate = self.limits.rate(key.0);
                refill(b, rate, now);
                b.tokens >= f64::from(rate.burst)
            });
            if full {
                buckets.map.remove(&key);
            } else {
                buckets.line.push_back(key);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }
}

/// Adds what `rate` has refilled since the bucket was last seen, up to its burst.
fn refill(bucket: &mut Bucket, rate: Rate, now: i64) {
    let per_sec = f64::from(rate.per_hour) / 3600.0;
    bucket.tokens = (bucket.tokens + (now - bucket.at).max(0) as f64 * per_sec).min(f64::from(rate.burst));
    bucket.at = bucket.at.max(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills() {
        let limiter = Limiter::new(Limits { login_by_ip: Rate { burst: 2, per_hour: 3600 }, ..Limits::default() });
        let t = Timestamp::from_unix(1_000);
        assert!(limiter.hit(Scope::LoginByIp, "1.2.3.4", t).is_ok());
        assert!(limiter.hit(Scope::LoginByIp, "1.2.3.4", t).is_ok());
        assert!(matches!(limiter.hit(Scope::LoginByIp, "1.2.3.4", t), Err(Error::RateLimited { retry_after: 1 })));
        assert!(limiter.hit(Scope::LoginByIp, "5.6.7.8", t).is_ok(), "buckets are per client");
        assert!(limiter.hit(Scope::LoginByIp, "1.2.3.4", t.plus_secs(1)).is_ok());
        let refused: Vec<_> = limiter.refusals().filter(|(_, n)| *n > 0).collect();
        assert_eq!(refused, [("login_by_ip", 1)], "the one refusal, by its scope");
    }

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_clients_do_not_share() {
        let limiter = Limiter::new(Limits { login_by_ip: Rate { burst: 1, per_hour: 1 }, ..Limits::default() });
        let t = Timestamp::from_unix(1_000);
        assert!(limiter.hit(Scope::LoginByIp, "2001:db8:1:2::1", t).is_ok());
        assert!(limiter.hit(Scope::LoginByIp, "2001:db8:1:2:ffff::9", t).is_err(), "another address of the same /64");
        assert!(limiter.hit(Scope::LoginByIp, "2001:db8:1:3::1", t).is_ok(), "the next /64 is another client");
        assert!(limiter.hit(Scope::LoginByIp, "10.0.0.1", t).is_ok());
        assert!(limiter.hit(Scope::LoginByIp, "10.0.0.2", t).is_ok());
        assert!(limiter.hit(Scope::LoginByIp, "::ffff:10.0.0.1", t).is_err(), "a mapped IPv4 address is that address");
        assert_eq!(client_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn the_sweep_forgets_refilled_buckets_by_their_own_rate() {
        // A fast-refilling scope swept with a slow one's rate (or the other way round) was
        // kept or dropped wrongly; now each bucket refills at its own scope's rate.
        let limiter = Limiter::new(Limits {
            login_by_ip: Rate { burst: 1, per_hour: 3600 },
            signup_by_ip: Rate { burst: 1, per_hour: 1 },
            ..Limits::default()
        });
        let t = Timestamp::from_unix(1_000);
        let _ = limiter.hit(Scope::SignupByIp, "1.1.1.1", t);
        let _ = limiter.hit(Scope::LoginByIp, "2.2.2.2", t);
        assert_eq!(limiter.len(), 2);
        // Ten seconds on, the login bucket has refilled and goes; the sign-up one stays.
        limiter.hit(Scope::ForgotByIp, "3.3.3.3", t.plus_secs(10)).expect("a fresh bucket");
        assert!(limiter.hit(Scope::SignupByIp, "1.1.1.1", t.plus_secs(10)).is_err(), "still empty");
        assert!(limiter.len() <= 2, "the refilled login bucket was forgotten");
        assert!(limiter.lock().map.keys().all(|(scope, _)| *scope != Scope::LoginByIp));
    }

    #[test]
    fn the_map_is_capped_and_each_use_sweeps_only_a_few() {
        let limiter = Limiter::new(Limits { login_by_ip: Rate { burst: 5, per_hour: 1 }, ..Limits::default() });
        let t = Timestamp::from_unix(1_000);
        for n in 0..(MAX_BUCKETS + 50) {
            let _ = limiter.hit(Scope::LoginByIp, &format!("client-{n}"), t);
        }
        assert_eq!(limiter.len(), MAX_BUCKETS);
        let latest = format!("client-{}", MAX_BUCKETS + 49);
        let _ = limiter.hit(Scope::LoginByIp, &latest, t);
        assert!(limiter.lock().map.contains_key(&(Scope::LoginByIp, latest)), "the newest stays");
    }

    #[test]
    fn a_poisoned_lock_does_not_fail_every_later_request() {
        let limiter = std::sync::Arc::new(Limiter::new(Limits::default()));
        let poisoner = limiter.clone();
        let _ = std::thread::spawn(move || {
            let _held = poisoner.buckets.lock();
            panic!("a bug while the lock is held");
        })
        .join();
        assert!(limiter.buckets.is_poisoned());
        assert!(limiter.hit(Scope::LoginByIp, "1.2.3.4", Timestamp::from_unix(1_000)).is_ok());
    }
}
