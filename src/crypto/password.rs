//! Passwords: the policy, and argon2id hashing on a bounded number of permits so that a
//! login flood queues instead of exhausting memory (each hash holds 19 MiB).
//!
//! Memory: each permit carries one argon2 block buffer, kept while hashes keep coming and
//! given back to the OS when none runs and none waits. Letting argon2 allocate its 19 MiB
//! per call instead left that memory in glibc's per-thread arenas: a server that had
//! served a few hundred logins on 4 workers stayed at about 300 MiB RSS.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::guessable;
use super::secret::{Secret, random_bytes, random_token};
use crate::error::Error;
use crate::http::client;

/// Longest password accepted; longer is `invalid_request`, not `weak_password`.
pub const MAX_LEN: usize = 256;

/// Capacity of a block buffer, in 1 KiB blocks: above glibc's largest dynamic mmap
/// threshold (32 MiB), so a buffer is always a mapping of its own and freeing it returns
/// the memory at once. Only the blocks a hash uses are touched (19 MiB of RSS).
const BUFFER_CAPACITY_BLOCKS: usize = 33 * 1024;

/// Checks length and guessability. `field` names the password's field in a 400; `context`
/// holds words the password must not lean on (the email, the name).
pub fn check_policy(field: &'static str, password: &Secret, min_len: usize, context: &[&str]) -> Result<(), Error> {
    let pw = password.expose();
    let len = pw.chars().count();
    if len > MAX_LEN {
        return Err(Error::field(field, format!("must be at most {MAX_LEN} characters")));
    }
    if len < min_len {
        return Err(Error::WeakPassword(format!("use at least {min_len} characters")));
    }
    if let Some(why) = guessable::weakness(pw, context) {
        return Err(Error::WeakPassword(why.into()));
    }
    Ok(())
}

/// The outcome of checking a password against a stored hash.
pub struct Verified {
    pub ok: bool,
    /// The stored hash used other parameters than today's: store a fresh one.
    pub needs_rehash: bool,
}

/// How often a caller waiting for a permit looks whether its client is still there.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

fn busy() -> Error {
    Error::Unavailable("every password hashing permit is busy".into())
}

fn gone() -> Error {
    Error::Unavailable("the client has gone".into())
}

/// Permits not in use, callers waiting for one, and the block buffers kept for reuse.
struct Slots {
    free: usize,
    waiting: usize,
    buffers: Vec<Vec<Block>>,
}

pub struct Hasher {
    params: Params,
    permits: usize,
    slots: Mutex<Slots>,
    freed: Condvar,
    max_wait: Duration,
    /// Hashes computed since start (what a flood cost).
    computed: AtomicU64,
    /// Hashes refused before they ran since start: every permit busy too long, or the
    /// client gone (the metrics' `keystead_argon2_refusals_total`).
    refused_busy: AtomicU64,
    refused_gone: AtomicU64,
    /// A real hash of a random password, made at start so that the first unknown-email
    /// login costs one verification like every other.
    dummy: String,
}

impl Hasher {
    /// OWASP's argon2id parameters: m = 19 MiB, t = 2, p = 1.
    pub fn new(permits: usize) -> Result<Self, Error> {
        let permits = permits.max(1);
        let mut hasher = Self {
            params: Params::new(19 * 1024, 2, 1, None).map_err(Error::internal)?,
            permits,
            slots: Mutex::new(Slots { free: permits, waiting: 0, buffers: Vec::new() }),
            freed: Condvar::new(),
            max_wait: Duration::from_secs(3),
            computed: AtomicU64::new(0),
            refused_busy: AtomicU64::new(0),
            refused_gone: AtomicU64::new(0),
            dummy: String::new(),
        };
        hasher.dummy = hasher.hash(&random_token())?;
        Ok(hasher)
    }

    pub fn hash(&self, password: &Secret) -> Result<String, Error> {
        let mut permit = self.acquire()?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        let salt = SaltString::encode_b64(&random_bytes()[..16]).map_err(Error::internal)?;
        let mut salt_bytes = [0u8; 16];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(Error::internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let len = self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = compute(&argon2, password, salt_bytes, len, &mut permit.blocks).map_err(Error::internal)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(Error::internal)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// Verifies against `stored`, or, when there is no stored hash (unknown email, account
    /// never activated), against a dummy so that the answer takes the same time.
    pub fn verify(&self, stored: Option<&str>, password: &Secret) -> Result<Verified, Error> {
        let mut permit = self.acquire()?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        let Some(stored) = stored else {
            self.check(&self.dummy, password, &mut permit.blocks)?;
            return Ok(Verified { ok: false, needs_rehash: false });
        };
        self.check(stored, password, &mut permit.blocks)
    }

    /// How many hashes were computed (or verified) since start.
    pub fn hashes(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Callers waiting for a permit, and permits in use (for a scrape: takes the lock).
    pub fn queue(&self) -> (usize, usize) {
        let slots = self.slots();
        (slots.waiting, self.permits - slots.free)
    }

    /// Hashes refused since start: (every permit busy too long, the client gone).
    pub fn refusals(&self) -> (u64, u64) {
        (self.refused_busy.load(Ordering::Relaxed), self.refused_gone.load(Ordering::Relaxed))
    }

    fn check(&self, stored: &str, password: &Secret, blocks: &mut Vec<Block>) -> Result<Verified, Error> {
        let parsed = PasswordHash::new(stored).map_err(Error::internal)?;
        // As argon2's `verify_password`: the stored algorithm, version and parameters, and a
        // constant-time comparison (`Output`'s equality); an unusable field is a mismatch.
        let ok = matches_stored(&parsed, password, blocks).unwrap_or(false);
        let current = parsed.algorithm == Algorithm::Argon2id.ident()
            && Params::try_from(&parsed).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    == (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
            });
        Ok(Verified { ok, needs_rehash: ok && !current })
    }

    /// A permit, within `max_wait` of the request's arrival (its wait for a worker counts),
    /// and only while its client is there: a request whose client has gone, or that waited
    /// too long to be worth an answer, is dropped before its hash.
    fn acquire(&self) -> Result<Permit<'_>, Error> {
        let deadline = client::arrived().unwrap_or_else(Instant::now) + self.max_wait;
        let mut slots = self.slots();
        slots.waiting += 1;
        loop {
            let refused = if client::gone() {
                self.refused_gone.fetch_add(1, Ordering::Relaxed);
                Some(gone())
            } else if Instant::now() >= deadline {
                self.refused_busy.fetch_add(1, Ordering::Relaxed);
                Some(busy())
            } else {
                None
            };
            if let Some(e) = refused {
                slots.waiting -= 1;
                // A permit this caller was woken for goes to the next in line.
                self.freed.notify_one();
                return Err(e);
            }
            if slots.free > 0 {
                break;
            }
            // Woken by a permit coming back, or to look at the client again.
            let nap = deadline.saturating_duration_since(Instant::now()).min(LOOK_AGAIN);
            slots = self.freed.wait_timeout(slots, nap).unwrap_or_else(PoisonError::into_inner).0;
        }
        slots.waiting -= 1;
        slots.free -= 1;
        let kept = slots.buffers.pop();
        drop(slots);
        let blocks = kept.unwrap_or_else(|| {
            let mut blocks = Vec::with_capacity(BUFFER_CAPACITY_BLOCKS.max(self.params.block_count()));
            blocks.resize(self.params.block_count(), Block::default());
            blocks
        });
        Ok(Permit { hasher: self, blocks })
    }

    /// The slots, even after a thread panicked holding them: every change under this lock
    /// is a counter step or a buffer push/pop that cannot stop half-way, so the counts stay
    /// true, and refusing them would fail every later login and password change.
    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs argon2 into an output of `len` bytes, in `blocks` (grown when a stored hash asks
/// for more memory than today's parameters).
fn compute(
    argon2: &Argon2<'_>,
    password: &Secret,
    salt: &[u8],
    len: usize,
    blocks: &mut Vec<Block>,
) -> argon2::password_hash::Result<Output> {
    let need = argon2.params().block_count();
    if blocks.len() < need {
        blocks.resize(need, Block::default());
    }
    let pwd = password.expose().as_bytes();
    Output::init_with(len, |out| Ok(argon2.hash_password_into_with_memory(pwd, salt, out, &mut blocks[..need])?))
}

fn matches_stored(
    stored: &PasswordHash<'_>,
    password: &Secret,
    blocks: &mut Vec<Block>,
) -> argon2::password_hash::Result<bool> {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let argon2 = Argon2::new(algorithm, version, Params::try_from(stored)?);
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    Ok(compute(&argon2, password, salt, expected.len(), blocks)? == *expected)
}

struct Permit<'a> {
    hasher: &'a Hasher,
    blocks: Vec<Block>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let blocks = std::mem::take(&mut self.blocks);
        let mut slots = self.hasher.slots();
        slots.free += 1;
        // Nobody hashing and nobody waiting: every buffer goes back to the OS.
        let released = if slots.free == self.hasher.permits && slots.waiting == 0 {
            std::mem::take(&mut slots.buffers)
        } else {
            slots.buffers.push(blocks);
            Vec::new()
        };
        self.hasher.freed.notify_one();
        drop(slots);
        drop(released);
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[test]
    fn a_full_pool_answers_unavailable_after_its_wait_and_frees_on_drop() -> Result<(), Error> {
        let mut hasher = Hasher::new(1)?;
        hasher.max_wait = Duration::from_millis(20);
        let held = hasher.acquire()?;
        assert_eq!(hasher.queue(), (0, 1), "one permit in use, nobody waiting");
        assert!(matches!(hasher.verify(None, &Secret::new("x".into())), Err(Error::Unavailable(_))));
        assert_eq!(hasher.refusals(), (1, 0), "refused as busy");
        drop(held);
        assert_eq!(hasher.queue(), (0, 0));
        assert!(!hasher.verify(None, &Secret::new("x".into()))?.ok, "the permit came back");
        Ok(())
    }

    #[test]
    fn a_request_whose_client_has_gone_or_that_waited_too_long_gets_no_hash() -> Result<(), Error> {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;

        use crate::http::client::{Client, serving};
        let hasher = Hasher::new(1)?;
        let before = hasher.hashes();
        let gone = Client { arrived: Instant::now(), gone: Arc::new(AtomicBool::new(true)) };
        let refused = serving(gone, || hasher.verify(None, &pw("x")));
        assert!(matches!(refused, Err(Error::Unavailable(m)) if m.contains("gone")));
        let stale = Instant::now().checked_sub(Duration::from_secs(4)).ok_or_else(|| Error::internal("clock"))?;
        let late = Client { arrived: stale, gone: Arc::new(AtomicBool::new(false)) };
        assert!(matches!(serving(late, || hasher.hash(&pw("x"))), Err(Error::Unavailable(_))));
        assert_eq!(hasher.hashes(), before, "neither was hashed");
        assert_eq!(hasher.refusals(), (1, 1), "one refused as busy, one as gone");
        let fresh = Client { arrived: Instant::now(), gone: Arc::new(AtomicBool::new(false)) };
        assert!(!serving(fresh, || hasher.verify(None, &pw("x")))?.ok);
        assert_eq!(hasher.hashes(), before + 1, "a client that waits is served");
        Ok(())
    }

    #[test]
    fn a_poisoned_pool_still_hashes_and_keeps_its_permits() -> Result<(), Error> {
        let mut hasher = Hasher::new(1)?;
        hasher.max_wait = Duration::from_millis(20);
        let poison = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _slots = hasher.slots.lock();
            panic!("a panic while holding the slots");
        }));
        assert!(poison.is_err() && hasher.slots.is_poisoned());
        for _ in 0..2 {
            assert!(!hasher.verify(None, &pw("x"))?.ok, "the only permit came back after each use");
        }
        Ok(())
    }

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
    fn hashes_agree_with_the_argon2_crate() -> Result<(), Error> {
        let hasher = Hasher::new(1)?;
        let ours = hasher.hash(&pw("a long passphrase"))?;
        let parsed = PasswordHash::new(&ours).map_err(Error::internal)?;
        assert!(Argon2::default().verify_password(b"a long passphrase", &parsed).is_ok());
        let salt = SaltString::encode_b64(&[9u8; 16]).map_err(Error::internal)?;
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, hasher.params.clone())
            .hash_password(b"a long passphrase", &salt)
            .map_err(Error::internal)?
            .to_string();
        let v = hasher.verify(Some(&theirs), &pw("a long passphrase"))?;
        assert!(v.ok && !v.needs_rehash);
        assert!(!hasher.verify(Some(&theirs), &pw("a long passphrasE"))?.ok);
        Ok(())
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
