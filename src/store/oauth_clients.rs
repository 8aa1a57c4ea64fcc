//! `oauth_clients`: the applications that sign people in through Keystead and the gateways
//! that introspect its credentials. A confidential client's secret is kept as its SHA-256
//! only, and never read into `ClientRow`: what leaves this module with a row cannot leak it.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{ClientId, ClientStatus, SigningAlg, TenantId, Timestamp};

pub struct ClientRow {
    pub id: ClientId,
    pub name: String,
    pub public: bool,
    pub trusted: bool,
    pub introspect: bool,
    pub tenant_id: Option<TenantId>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_alg: SigningAlg,
    pub status: ClientStatus,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub secret_rotated_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, name, public, trusted, introspect, tenant_id, redirect_uris, post_logout_redirect_uris, \
    id_token_alg, status, disabled_reason, created_at, updated_at, secret_rotated_at";

/// A JSON array of URIs as the column keeps it.
fn uris(r: &Row<'_>, at: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = r.get(at)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, Box::new(e)))
}

fn json_text(list: &[String]) -> Result<String, Error> {
    serde_json::to_string(list).map_err(Error::internal)
}

impl ClientRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            name: r.get(1)?,
            public: r.get(2)?,
            trusted: r.get(3)?,
            introspect: r.get(4)?,
            tenant_id: r.get(5)?,
            redirect_uris: uris(r, 6)?,
            post_logout_redirect_uris: uris(r, 7)?,
            id_token_alg: r.get(8)?,
            status: r.get(9)?,
            disabled_reason: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            secret_rotated_at: r.get(13)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

/// `secret` is None exactly for a public client (the table's CHECK holds it to that).
pub fn insert(tx: &Transaction<'_>, c: &ClientRow, secret: Option<&TokenHash>) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO oauth_clients (id, name, secret_hash, public, trusted, introspect, tenant_id, redirect_uris,
             post_logout_redirect_uris, id_token_alg, status, created_at, updated_at)
         VALUES (:id, :name, :secret, :public, :trusted, :introspect, :tenant, :redirect, :logout, :alg, :status,
             :created, :created)",
    )?
    .execute(named_params! {
        ":id": c.id, ":name": c.name, ":secret": secret, ":public": c.public, ":trusted": c.trusted,
        ":introspect": c.introspect, ":tenant": c.tenant_id, ":redirect": json_text(&c.redirect_uris)?,
        ":logout": json_text(&c.post_logout_redirect_uris)?, ":alg": c.id_token_alg, ":status": c.status,
        ":created": c.created_at,
    })?;
    Ok(())
}

pub fn get(conn: &Connection, id: ClientId) -> Result<Option<ClientRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM oauth_clients WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], ClientRow::from_row).optional()?)
}

/// A client and the digest of its secret (None for a public client), for client
/// authentication only.
pub fn get_with_secret(conn: &Connection, id: ClientId) -> Result<Option<(ClientRow, Option<TokenHash>)>, Error> {
    let sql = format!("SELECT {COLUMNS}, secret_hash FROM oauth_clients WHERE id = ?1");
    let row = conn.prepare_cached(&sql)?.query_row([id], |r| Ok((ClientRow::from_row(r)?, r.get(14)?))).optional()?;
    Ok(row)
}

fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM oauth_clients WHERE (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"
    )
}

/// Every client, newest first.
pub fn list(conn: &Connection, page: &Page) -> Result<Vec<ClientRow>, Error> {
    let sql = list_sql();
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![before_at, before_id, page.fetch()], ClientRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes every field an operator may change (and the status), as `c` holds them.
pub fn update(tx: &Transaction<'_>, c: &ClientRow, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE oauth_clients SET name = :name, trusted = :trusted, introspect = :introspect, tenant_id = :tenant,
             redirect_uris = :redirect, post_logout_redirect_uris = :logout, id_token_alg = :alg, status = :status,
             disabled_reason = :reason, updated_at = :now
         WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": c.id, ":name": c.name, ":trusted": c.trusted, ":introspect": c.introspect, ":tenant": c.tenant_id,
        ":redirect": json_text(&c.redirect_uris)?, ":logout": json_text(&c.post_logout_redirect_uris)?,
        ":alg": c.id_token_alg, ":status": c.status, ":reason": c.disabled_reason, ":now": now,
    })?;
    Ok(())
}

/// Replaces a confidential client's secret; false when there is no such confidential client.
pub fn set_secret(tx: &Transaction<'_>, id: ClientId, secret: &TokenHash, now: Timestamp) -> Result<bool, Error> {
    let changed = tx
        .prepare_cached(
            "UPDATE oauth_clients SET secret_hash = ?2, secret_rotated_at = ?3, updated_at = ?3
             WHERE id = ?1 AND public = 0",
        )?
        .execute(rusqlite::params![id, secret, now])?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_walks_its_index() -> Result<(), Error> {
        let conn = crate::store::migrated_in_memory()?;
        let plan = crate::store::query_plan(&conn, &list_sql())?;
        assert!(plan.iter().any(|step| step.contains("oauth_clients_by_created")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{plan:?}");
        Ok(())
    }
}
