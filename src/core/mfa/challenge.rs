//! The second step of a sign-in. A correct password on an account with a factor earns an
//! `mfa_token` (random, SHA-256 only, 5 minutes, one use, bound to the person, the tenant
//! the login asked for, and the invitation when it came from an activation) instead of a
//! session; `complete` trades it and a code (or a passkey's assertion of the challenge
//! stored with it) for what the first step would have given.
//! Wrong codes are counted on the token (five end it) and on the person across tokens.
use rusqlite::Transaction;

use super::{Method, Proof, limit_key, methods, passkeys, spend_code, target_kind};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::{Actor, Origin};
use crate::crypto::secret::{Secret, TokenHash, random_token};
use crate::error::{Error, MfaChallenge};
use crate::limit::Scope;
use crate::store::mfa_challenges::{self, ChallengeRow, MAX_FAILURES, NewChallenge};
use crate::types::{Person, Realm, TenantId, Timestamp};

pub const LIFETIME_SECS: i64 = 5 * 60;

/// When the person has a factor: a new challenge in the caller's transaction, as the
/// `mfa_required` error to answer with. None: no factor, the sign-in goes on.
pub(crate) fn demand(
    tx: &Transaction<'_>,
    app: &App,
    person: Person,
    tenant_id: Option<TenantId>,
    invitation: Option<TokenHash>,
    now: Timestamp,
) -> Result<Option<Error>, Error> {
    let methods = methods(tx, person)?;
    if methods.is_empty() {
        return Ok(None);
    }
    let token = random_token();
    let expires_at = now.plus_secs(LIFETIME_SECS);
    let passkey_challenge =
        if methods.contains(&Method::Passkey.as_str()) { Some(crate::core::webauthn::new_challenge()?) } else { None };
    let passkey_options =
        passkey_challenge.as_deref().map(|c| passkeys::request_options(app, tx, person, c)).transpose()?;
    mfa_challenges::insert(
        tx,
        &NewChallenge { hash: token.digest(), who: person, tenant_id, invitation, passkey_challenge, expires_at },
        now,
    )?;
    Ok(Some(Error::MfaRequired(Box::new(MfaChallenge { token, methods, passkey_options, expires_at }))))
}

/// The passkey request options of a live challenge (for a page that asks again after a
/// wrong answer); None when the token is over or the person has no passkey.
pub fn passkey_options(app: &App, realm: Realm, token: &Secret) -> Result<Option<serde_json::Value>, Error> {
    let now = app.clock.now();
    app.db.read(|c| {
        let Some(row) = mfa_challenges::find_live(c, &token.digest(), realm, now)? else { return Ok(None) };
        row.passkey_challenge.as_deref().map(|ch| passkeys::request_options(app, c, row.who, ch)).transpose()
    })
}

enum Outcome<T> {
    Passed(T),
    Wrong { person: Person, failures: i64 },
}

/// Checks `proof` against the challenge behind `token` of `realm` and, when it is right,
/// spends the challenge and runs `finish` (which opens the session) in the same
/// transaction. 401 for an unknown, used, expired or ended token; `invalid_code` for a
/// wrong code or a refused assertion; 429 when it is the fifth wrong one on this token,
/// or the person's allowance across tokens is spent.
pub(crate) fn complete<T>(
    app: &App,
    origin: &Origin,
    realm: Realm,
    token: &Secret,
    proof: Proof<'_>,
    finish: impl FnOnce(&Transaction<'_>, &ChallengeRow, Method, Timestamp) -> Result<T, Error>,
) -> Result<T, Error> {
    let now = app.clock.now();
    app.limits.hit(Scope::LoginByIp, &origin.ip, now)?;
    let hash = token.digest();
    let (person, key) = app.db.read(|c| {
        let row = mfa_challenges::find_live(c, &hash, realm, now)?.ok_or(Error::Unauthorized)?;
        Ok((row.who, limit_key(c, row.who)?))
    })?;
    // Taken before the code is tried, so concurrent guesses cannot overrun the allowance;
    // a right code gives it back, so only wrong ones count.
    if let Err(e) = app.limits.hit(Scope::MfaByAccount, &key, now) {
        throttled(app, origin, person, "account", now)?;
        return Err(e);
    }
    let outcome = app.db.write(|tx| {
        let row = mfa_challenges::find_live(tx, &hash, realm, now)?.ok_or(Error::Unauthorized)?;
        let spent = match proof {
            Proof::Code(code) => spend_code(tx, app, row.who, code, now),
            Proof::Passkey(credential) => {
                passkeys::spend_assertion(tx, app, row.who, row.passkey_challenge.as_deref(), credential, now)
            }
        };
        match spent {
            Ok(method) => {
                if !mfa_challenges::spend(tx, &hash, now)? {
                    return Err(Error::Unauthorized);
                }
                finish(tx, &row, method, now).map(Outcome::Passed)
            }
            Err(Error::InvalidCode) => {
                let failures = mfa_challenges::record_failure(tx, &hash)?;
                Event::new(Actor::Anonymous, Some(origin), Action::MfaFailed)
                    .target(target_kind(row.who), row.who.id())
                    .after(serde_json::json!({ "failures": failures }))
                    .append(tx, now)?;
                Ok(Outcome::Wrong { person: row.who, failures })
            }
            Err(e) => Err(e),
        }
    })?;
    match outcome {
        Outcome::Passed(out) => {
            app.limits.refund(Scope::MfaByAccount, &key, now);
            Ok(out)
        }
        Outcome::Wrong { person, failures } => {
            if failures >= MAX_FAILURES {
                throttled(app, origin, person, "mfa_token", now)?;
                return Err(Error::RateLimited { retry_after: LIFETIME_SECS as u64 });
            }
            Err(Error::InvalidCode)
        }
    }
}

/// Audits a throttle: `scope` says whether the token ended or the person's allowance ran out.
fn throttled(app: &App, origin: &Origin, person: Person, scope: &str, now: Timestamp) -> Result<(), Error> {
    app.db.write(|tx| {
        Event::new(Actor::Anonymous, Some(origin), Action::MfaThrottled)
            .target(target_kind(person), person.id())
            .after(serde_json::json!({ "scope": scope }))
            .append(tx, now)
    })
}
