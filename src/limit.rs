//! Rate limits: token buckets in memory, keyed by what is limited and by whom (a client IP
//! or an account). A restart forgets them, which errs on the side of availability.
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Above this many buckets, full ones are dropped: memory stays bounded under a spray of IPs.
const SWEEP_ABOVE: usize = 50_000;

pub struct Limiter {
    limits: Limits,
    buckets: Mutex<HashMap<(Scope, String), Bucket>>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Self { limits, buckets: Mutex::new(HashMap::new()) }
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
    }

    /// Answers 429 when the bucket is empty, without taking from it (for limits on failures).
    pub fn check(&self, scope: Scope, who: &str, now: Timestamp) -> Result<(), Error> {
        self.with_bucket(scope, who, now, |b| b.tokens >= 1.0)
    }

    /// Takes one attempt whether or not any is left (a failure that already happened).
    pub fn charge(&self, scope: Scope, who: &str, now: Timestamp) {
        let _ = self.with_bucket(scope, who, now, |b| {
            b.tokens = (b.tokens - 1.0).max(0.0);
            true
        });
    }

    fn with_bucket(
        &self,
        scope: Scope,
        who: &str,
        now: Timestamp,
        f: impl FnOnce(&mut Bucket) -> bool,
    ) -> Result<(), Error> {
        let rate = self.limits.rate(scope);
        let refill_per_sec = f64::from(rate.per_hour) / 3600.0;
        let burst = f64::from(rate.burst);
        let now = now.unix();
        let mut buckets = self.buckets.lock().map_err(Error::internal)?;
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, b| b.tokens + (now - b.at) as f64 * refill_per_sec < burst);
        }
        let bucket = buckets.entry((scope, who.to_owned())).or_insert(Bucket { tokens: burst, at: now });
        bucket.tokens = (bucket.tokens + (now - bucket.at).max(0) as f64 * refill_per_sec).min(burst);
        bucket.at = now;
        if f(bucket) {
            Ok(())
        } else {
            let wait = if refill_per_sec > 0.0 { ((1.0 - bucket.tokens) / refill_per_sec).ceil() } else { 3600.0 };
            Err(Error::RateLimited { retry_after: (wait as u64).max(1) })
        }
    }
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
    }

    #[test]
    fn check_does_not_take_and_charge_does() {
        let limiter = Limiter::new(Limits { failed_verify_by_ip: Rate { burst: 1, per_hour: 1 }, ..Limits::default() });
        let t = Timestamp::from_unix(1_000);
        assert!(limiter.check(Scope::FailedVerifyByIp, "ip", t).is_ok());
        assert!(limiter.check(Scope::FailedVerifyByIp, "ip", t).is_ok());
        limiter.charge(Scope::FailedVerifyByIp, "ip", t);
        assert!(limiter.check(Scope::FailedVerifyByIp, "ip", t).is_err());
    }
}
