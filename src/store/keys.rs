//! `keys`: API keys, stored as SHA-256 with a recognisable prefix.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};
use serde_json::value::RawValue;

use super::page::{Cursor, Page};
use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{KeyId, KeyStatus, TenantId, TenantStatus, Timestamp, UserId};

pub struct KeyRow {
    pub id: KeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub prefix: String,
    /// JSON array of strings, kept as text: it goes out as it came in.
    pub scopes: Box<RawValue>,
    pub meta: Option<Box<RawValue>>,
    pub created_at: Timestamp,
    pub created_by: Option<UserId>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, tenant_id, name, prefix, scopes, meta, created_at, created_by, expires_at, revoked_at, last_used_at";

fn raw_json(text: String) -> rusqlite::Result<Box<RawValue>> {
    RawValue::from_string(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

impl KeyRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            tenant_id: r.get(1)?,
            name: r.get(2)?,
            prefix: r.get(3)?,
            scopes: raw_json(r.get(4)?)?,
            meta: r.get::<_, Option<String>>(5)?.map(raw_json).transpose()?,
            created_at: r.get(6)?,
            created_by: r.get(7)?,
            expires_at: r.get(8)?,
            revoked_at: r.get(9)?,
            last_used_at: r.get(10)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

pub fn insert(tx: &Transaction<'_>, k: &KeyRow, hash: &TokenHash) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO keys (id, tenant_id, hash, prefix, name, scopes, meta, created_at, created_by, expires_at)
         VALUES (:id, :tenant, :hash, :prefix, :name, :scopes, :meta, :created_at, :created_by, :expires_at)",
    )?
    .execute(named_params! {
        ":id": k.id, ":tenant": k.tenant_id, ":hash": hash, ":prefix": k.prefix, ":name": k.name,
        ":scopes": k.scopes.get(), ":meta": k.meta.as_ref().map(|m| m.get()), ":created_at": k.created_at,
        ":created_by": k.created_by, ":expires_at": k.expires_at,
    })?;
    Ok(())
}

/// A tenant's keys, newest first, optionally only those in one status at `now`.
pub fn list(
    conn: &Connection,
    tenant: TenantId,
    status: Option<KeyStatus>,
    now: Timestamp,
    page: &Page,
) -> Result<Vec<KeyRow>, Error> {
    let filter = match status {
        None => "1",
        Some(KeyStatus::Active) => "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
        Some(KeyStatus::Revoked) => "revoked_at IS NOT NULL",
        Some(KeyStatus::Expired) => "revoked_at IS NULL AND expires_at <= ?2",
    };
    // Numbered parameters: a filter may leave ?2 unused, which SQLite allows.
    let sql = format!(
        "SELECT {COLUMNS} FROM keys WHERE tenant_id = ?1 AND ({filter}) AND (created_at, id) < (?3, ?4)
         ORDER BY created_at DESC, id DESC LIMIT ?5"
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![tenant, now, before_at, before_id, page.fetch()], KeyRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks a live key of this tenant revoked and returns it; None when there is no such
/// key or it was revoked already.
pub fn revoke(tx: &Transaction<'_>, tenant: TenantId, id: KeyId, now: Timestamp) -> Result<Option<KeyRow>, Error> {
    let sql = format!(
        "UPDATE keys SET revoked_at = :now WHERE tenant_id = :tenant AND id = :id AND revoked_at IS NULL RETURNING {COLUMNS}"
    );
    let row = tx
        .prepare_cached(&sql)?
        .query_row(named_params! { ":tenant": tenant, ":id": id, ":now": now }, KeyRow::from_row)
        .optional()?;
    Ok(row)
}

pub fn exists(conn: &Connection, tenant: TenantId, id: KeyId) -> Result<bool, Error> {
    let found = conn
        .prepare_cached("SELECT 1 FROM keys WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(rusqlite::params![tenant, id], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// What `/v1/verify/key` needs, in one indexed lookup.
#[derive(Clone)]
pub struct KeyForVerify {
    pub id: KeyId,
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub tenant_status: TenantStatus,
    pub scopes: Box<RawValue>,
    pub meta: Option<Box<RawValue>>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// When it was issued (introspection's `iat`).
    pub created_at: Timestamp,
}

pub fn find_for_verify(conn: &Connection, hash: &TokenHash) -> Result<Option<KeyForVerify>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT k.id, k.tenant_id, t.slug, t.status, k.scopes, k.meta, k.expires_at, k.revoked_at, k.last_used_at, k.created_at
             FROM keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?1",
        )?
        .query_row([hash], |r| {
            Ok(KeyForVerify {
                id: r.get(0)?,
                tenant_id: r.get(1)?,
                tenant_slug: r.get(2)?,
                tenant_status: r.get(3)?,
                scopes: raw_json(r.get(4)?)?,
                meta: r.get::<_, Option<String>>(5)?.map(raw_json).transpose()?,
                expires_at: r.get(6)?,
                revoked_at: r.get(7)?,
                last_used_at: r.get(8)?,
                created_at: r.get(9)?,
            })
        })
        .optional()?;
    Ok(row)
}

pub fn touch(tx: &Transaction<'_>, id: KeyId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?
    .execute(rusqlite::params![id, now])?;
    Ok(())
}
