//! `totp_factors`: one TOTP authenticator per person, its secret sealed under the master
//! key. Pending until confirmed; `last_step` makes every code single-use.
use rusqlite::{Connection, OptionalExtension as _, Transaction, named_params};

use crate::error::Error;
use crate::types::{Person, Timestamp};

pub struct TotpRow {
    pub sealed_secret: Vec<u8>,
    pub confirmed: bool,
}

pub fn get(conn: &Connection, who: Person) -> Result<Option<TotpRow>, Error> {
    Ok(conn
        .prepare_cached("SELECT secret, confirmed_at IS NOT NULL FROM totp_factors WHERE realm = ?1 AND owner_id = ?2")?
        .query_row(rusqlite::params![who.realm(), who.id()], |r| {
            Ok(TotpRow { sealed_secret: r.get(0)?, confirmed: r.get(1)? })
        })
        .optional()?)
}

/// Starts (or restarts) a pending enrolment; refuses to replace a confirmed one (false).
pub fn put_pending(tx: &Transaction<'_>, who: Person, sealed: &[u8], now: Timestamp) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "INSERT INTO totp_factors (realm, owner_id, secret, created_at) VALUES (:realm, :owner, :secret, :now)
             ON CONFLICT (realm, owner_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at,
                 last_step = -1
             WHERE totp_factors.confirmed_at IS NULL",
        )?
        .execute(named_params! { ":realm": who.realm(), ":owner": who.id(), ":secret": sealed, ":now": now })?;
    Ok(n == 1)
}

/// Marks a code's step as used, if it is later than the last one used: one statement, so
/// of two uses of one code exactly one changes the row. `confirm` also activates a
/// pending enrolment (and only a pending one); otherwise only a confirmed factor counts.
pub fn accept_step(tx: &Transaction<'_>, who: Person, step: i64, confirm: Option<Timestamp>) -> Result<bool, Error> {
    let n = match confirm {
        Some(now) => tx
            .prepare_cached(
                "UPDATE totp_factors SET last_step = :step, confirmed_at = :now
                 WHERE realm = :realm AND owner_id = :owner AND confirmed_at IS NULL AND last_step < :step",
            )?
            .execute(named_params! { ":realm": who.realm(), ":owner": who.id(), ":step": step, ":now": now })?,
        None => tx
            .prepare_cached(
                "UPDATE totp_factors SET last_step = :step
                 WHERE realm = :realm AND owner_id = :owner AND confirmed_at IS NOT NULL AND last_step < :step",
            )?
            .execute(named_params! { ":realm": who.realm(), ":owner": who.id(), ":step": step })?,
    };
    Ok(n == 1)
}

/// Removes the person's authenticator, pending or confirmed; whether there was one.
pub fn delete(tx: &Transaction<'_>, who: Person) -> Result<bool, Error> {
    let n = tx
        .prepare_cached("DELETE FROM totp_factors WHERE realm = ?1 AND owner_id = ?2")?
        .execute(rusqlite::params![who.realm(), who.id()])?;
    Ok(n == 1)
}
