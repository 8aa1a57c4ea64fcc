//! `oauth_consents`: the scopes an account allowed a client that is not trusted.
use rusqlite::{Connection, OptionalExtension as _, Transaction, named_params};

use crate::error::Error;
use crate::types::{ClientId, Timestamp, UserId};

/// The scope set (space-separated) the account last allowed this client.
pub fn get(conn: &Connection, user: UserId, client: ClientId) -> Result<Option<String>, Error> {
    Ok(conn
        .prepare_cached("SELECT scope FROM oauth_consents WHERE user_id = ?1 AND client_id = ?2")?
        .query_row(rusqlite::params![user, client], |r| r.get(0))
        .optional()?)
}

/// Records consent to `scope`, replacing what was allowed before.
pub fn put(tx: &Transaction<'_>, user: UserId, client: ClientId, scope: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES (:user, :client, :scope, :now)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
    )?
    .execute(named_params! { ":user": user, ":client": client, ":scope": scope, ":now": now })?;
    Ok(())
}

/// A consent as `/app/apps` lists it.
pub struct ConsentLine {
    pub client_id: ClientId,
    pub client_name: String,
    pub scope: String,
    pub granted_at: Timestamp,
}

/// The most consents `/app/apps` lists: a person allows few applications.
pub const LISTED: i64 = 200;

/// An account's consents, newest first (at most `LISTED`).
pub fn list_for_account(conn: &Connection, user: UserId) -> Result<Vec<ConsentLine>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.client_id, c.name, o.scope, o.granted_at FROM oauth_consents o
         JOIN oauth_clients c ON c.id = o.client_id
         WHERE o.user_id = ?1 ORDER BY o.granted_at DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![user, LISTED], |r| {
        Ok(ConsentLine { client_id: r.get(0)?, client_name: r.get(1)?, scope: r.get(2)?, granted_at: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Takes a consent back; whether there was one.
pub fn delete(tx: &Transaction<'_>, user: UserId, client: ClientId) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("DELETE FROM oauth_consents WHERE user_id = ?1 AND client_id = ?2")?
        .execute(rusqlite::params![user, client])?
        == 1)
}
