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
