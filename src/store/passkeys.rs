//! `passkeys`: the WebAuthn credentials a person registered as second factors. Public
//! keys only: nothing here can sign.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use crate::error::Error;
use crate::types::{PasskeyId, Person, Timestamp};

/// A passkey as its owner's list shows it.
pub struct Listed {
    pub id: PasskeyId,
    pub name: String,
    pub algorithm: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What an assertion is verified against.
pub struct Credential {
    pub id: PasskeyId,
    pub cose_key: Vec<u8>,
    pub sign_count: u32,
}

pub struct NewPasskey<'a> {
    pub id: PasskeyId,
    pub credential_id: &'a [u8],
    pub cose_key: &'a [u8],
    pub algorithm: &'a str,
    pub sign_count: u32,
    pub name: &'a str,
}

const LISTED: &str = "id, name, algorithm, created_at, last_used_at";

fn listed(r: &Row<'_>) -> rusqlite::Result<Listed> {
    Ok(Listed { id: r.get(0)?, name: r.get(1)?, algorithm: r.get(2)?, created_at: r.get(3)?, last_used_at: r.get(4)? })
}

/// The person's passkeys, oldest first.
pub fn list(conn: &Connection, who: Person) -> Result<Vec<Listed>, Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LISTED} FROM passkeys WHERE realm = ?1 AND owner_id = ?2 ORDER BY created_at, rowid"
    ))?;
    let rows = stmt.query_map(rusqlite::params![who.realm(), who.id()], listed)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, who: Person, id: PasskeyId) -> Result<Option<Listed>, Error> {
    Ok(conn
        .prepare_cached(&format!("SELECT {LISTED} FROM passkeys WHERE id = ?1 AND realm = ?2 AND owner_id = ?3"))?
        .query_row(rusqlite::params![id, who.realm(), who.id()], listed)
        .optional()?)
}

pub fn count(conn: &Connection, who: Person) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM passkeys WHERE realm = ?1 AND owner_id = ?2")?
        .query_row(rusqlite::params![who.realm(), who.id()], |r| r.get(0))?)
}

/// The credential ids of the person's passkeys (for `allowCredentials` and
/// `excludeCredentials`).
pub fn credential_ids(conn: &Connection, who: Person) -> Result<Vec<Vec<u8>>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT credential_id FROM passkeys WHERE realm = ?1 AND owner_id = ?2 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map(rusqlite::params![who.realm(), who.id()], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The person's passkey with this credential id (another person's is none).
pub fn find(conn: &Connection, who: Person, credential_id: &[u8]) -> Result<Option<Credential>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT id, public_key, sign_count FROM passkeys
             WHERE credential_id = ?1 AND realm = ?2 AND owner_id = ?3",
        )?
        .query_row(rusqlite::params![credential_id, who.realm(), who.id()], |r| {
            Ok(Credential { id: r.get(0)?, cose_key: r.get(1)?, sign_count: r.get(2)? })
        })
        .optional()?)
}

/// Stores a new passkey; false when its credential id is registered already (to anyone).
pub fn insert(tx: &Transaction<'_>, who: Person, p: &NewPasskey<'_>, now: Timestamp) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "INSERT INTO passkeys (id, realm, owner_id, credential_id, public_key, algorithm, sign_count, name, created_at)
             VALUES (:id, :realm, :owner, :credential, :key, :alg, :count, :name, :now)
             ON CONFLICT (credential_id) DO NOTHING",
        )?
        .execute(named_params! {
            ":id": p.id, ":realm": who.realm(), ":owner": who.id(), ":credential": p.credential_id,
            ":key": p.cose_key, ":alg": p.algorithm, ":count": p.sign_count, ":name": p.name, ":now": now,
        })?;
    Ok(n == 1)
}

/// Records a use: the new counter, if the stored one is still the one the assertion was
/// checked against (so of two uses racing with one counter, one wins).
pub fn record_use(
    tx: &Transaction<'_>,
    id: PasskeyId,
    checked: u32,
    count: u32,
    now: Timestamp,
) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "UPDATE passkeys SET sign_count = :count, last_used_at = :now WHERE id = :id AND sign_count = :checked",
        )?
        .execute(named_params! { ":id": id, ":checked": checked, ":count": count, ":now": now })?;
    Ok(n == 1)
}

/// Removes one of the person's passkeys; whether it was there.
pub fn delete(tx: &Transaction<'_>, who: Person, id: PasskeyId) -> Result<bool, Error> {
    let n = tx
        .prepare_cached("DELETE FROM passkeys WHERE id = ?1 AND realm = ?2 AND owner_id = ?3")?
        .execute(rusqlite::params![id, who.realm(), who.id()])?;
    Ok(n == 1)
}

/// Removes every passkey of the person; how many.
pub fn delete_all(tx: &Transaction<'_>, who: Person) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("DELETE FROM passkeys WHERE realm = ?1 AND owner_id = ?2")?
        .execute(rusqlite::params![who.realm(), who.id()])?)
}
