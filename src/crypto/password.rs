//! Passwords: the policy, and argon2id hashing on a bounded number of permits so that a
//! login flood queues instead of exhausting memory (each hash holds 19 MiB).
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::secret::{Secret, random_bytes, random_token};
use crate::error::Error;

/// Longest password accepted; longer is `invalid_request`, not `weak_password`.
pub const MAX_LEN: usize = 256;

/// Checks length and guessability. `field` names the password's field in a 400; `context`
/// holds words the password must not lean on (the email, the name), which zxcvbn penalises.
pub fn check_policy(field: &'static str, password: &Secret, min_len: usize, context: &[&str]) -> Result<(), Error> {
    let pw = password.expose();
    let len = pw.chars().count();
    if len > MAX_LEN {
        return Err(Error::field(field, format!("must be at most {MAX_LEN} characters")));
    }
    if len < min_len {
        return Err(Error::WeakPassword(format!("use at least {min_len} characters")));
    }
    if u8::from(zxcvbn::zxcvbn(pw, context).score()) < 3 {
        return Err(Error::WeakPassword("it is too common or easy to guess".into()));
    }
    Ok(())
}

/// The outcome of checking a password against a stored hash.
pub struct Verified {
    pub ok: bool,
    /// The stored hash used other parameters than today's: store a fresh one.
    pub needs_rehash: bool,
}

pub struct Hasher {
    params: Params,
    free: Mutex<usize>,
    freed: Condvar,
    max_wait: Duration,
    /// A real hash of a random password, made at start so that the first unknown-email
    /// login costs one verification like every other.
    dummy: String,
}

impl Hasher {
    /// OWASP's argon2id parameters: m = 19 MiB, t = 2, p = 1.
    pub fn new(permits: usize) -> Result<Self, Error> {
        let mut hasher = Self {
            params: Params::new(19 * 1024, 2, 1, None).map_err(Error::internal)?,
            free: Mutex::new(permits.max(1)),
            freed: Condvar::new(),
            max_wait: Duration::from_secs(3),
            dummy: String::new(),
        };
        hasher.dummy = hasher.hash_now(&random_token())?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash(&self, password: &Secret) -> Result<String, Error> {
        let _permit = self.acquire()?;
        self.hash_now(password)
    }

    fn hash_now(&self, password: &Secret) -> Result<String, Error> {
        let salt = SaltString::encode_b64(&random_bytes()[..16]).map_err(Error::internal)?;
        let hash = self.argon2().hash_password(password.expose().as_bytes(), &salt).map_err(Error::internal)?;
        Ok(hash.to_string())
    }

    /// Verifies against `stored`, or, when there is no stored hash (unknown email, account
    /// never activated), against a dummy so that the answer takes the same time.
    pub fn verify(&self, stored: Option<&str>, password: &Secret) -> Result<Verified, Error> {
        let _permit = self.acquire()?;
        let Some(stored) = stored else {
            self.check(&self.dummy, password)?;
            return Ok(Verified { ok: false, needs_rehash: false });
        };
        self.check(stored, password)
    }

    fn check(&self, stored: &str, password: &Secret) -> Result<Verified, Error> {
        let parsed = PasswordHash::new(stored).map_err(Error::internal)?;
        let ok = self.argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok();
        let current = parsed.algorithm == Algorithm::Argon2id.ident()
            && Params::try_from(&parsed).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    == (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
            });
        Ok(Verified { ok, needs_rehash: ok && !current })
    }

    fn acquire(&self) -> Result<Permit<'_>, Error> {
        let deadline = Instant::now() + self.max_wait;
        let mut free = self.free.lock().map_err(Error::internal)?;
        while *free == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unavailable("every password hashing permit is busy".into()));
            }
            free = self.freed.wait_timeout(free, left).map_err(Error::internal)?.0;
        }
        *free -= 1;
        Ok(Permit(self))
    }
}

struct Permit<'a>(&'a Hasher);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Ok(mut free) = self.0.free.lock() {
            *free += 1;
            self.0.freed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Secret {
        Secret::new(s.into())
    }

    #[test]
    fn policy_rejects_short_common_and_overlong() {
        assert!(matches!(check_policy("password", &pw("short"), 10, &[]), Err(Error::WeakPassword(_))));
        assert!(matches!(check_policy("password", &pw("password123"), 10, &[]), Err(Error::WeakPassword(_))));
        assert!(matches!(check_policy("password", &pw(&"x".repeat(257)), 10, &[]), Err(Error::InvalidRequest { .. })));
        assert!(check_policy("password", &pw("correct horse battery staple"), 10, &[]).is_ok());
    }

    #[test]
    fn hashes_verify_and_old_parameters_ask_for_a_rehash() -> Result<(), Error> {
        let hasher = Hasher::new(1)?;
        let stored = hasher.hash(&pw("a long passphrase"))?;
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(Some(&stored), &pw("a long passphrase"))?.ok);
        assert!(!hasher.verify(Some(&stored), &pw("another one"))?.ok);
        assert!(!hasher.verify(None, &pw("a long passphrase"))?.ok);

        let weaker =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).map_err(Error::internal)?);
        let salt = SaltString::encode_b64(&[7u8; 16]).map_err(Error::internal)?;
        let old = weaker.hash_password(b"a long passphrase", &salt).map_err(Error::internal)?.to_string();
        let v = hasher.verify(Some(&old), &pw("a long passphrase"))?;
        assert!(v.ok && v.needs_rehash);
        Ok(())
    }
}
