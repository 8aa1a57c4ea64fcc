//! `tenants`.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use crate::error::Error;
use crate::types::{TenantId, TenantStatus, Timestamp};

pub struct TenantRow {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    pub max_seats: Option<i64>,
    pub has_provider_key: bool,
    pub provider_key_hint: Option<String>,
    pub created_at: Timestamp,
}

pub(crate) const COLUMNS: &str = "t.id, t.slug, t.name, t.status, t.plan, t.max_seats, \
    t.provider_key IS NOT NULL, t.provider_key_hint, t.created_at";

impl TenantRow {
    /// Reads the columns of `COLUMNS` starting at `at`.
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            slug: r.get(at + 1)?,
            name: r.get(at + 2)?,
            status: r.get(at + 3)?,
            plan: r.get(at + 4)?,
            max_seats: r.get(at + 5)?,
            has_provider_key: r.get(at + 6)?,
            provider_key_hint: r.get(at + 7)?,
            created_at: r.get(at + 8)?,
        })
    }
}

pub struct NewTenant<'a> {
    pub id: TenantId,
    pub slug: &'a str,
    pub name: &'a str,
    pub plan: &'a str,
    pub max_seats: Option<i64>,
}

/// Fails with a UNIQUE violation when the slug is taken; callers decide what that means.
pub fn insert(tx: &Transaction<'_>, t: &NewTenant<'_>, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tenants (id, slug, name, status, plan, max_seats, created_at, updated_at)
         VALUES (:id, :slug, :name, 'active', :plan, :max_seats, :now, :now)",
    )?
    .execute(named_params! {
        ":id": t.id, ":slug": t.slug, ":name": t.name, ":plan": t.plan, ":max_seats": t.max_seats, ":now": now,
    })?;
    Ok(())
}

pub fn get(conn: &Connection, id: TenantId) -> Result<Option<TenantRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM tenants t WHERE t.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| TenantRow::from_row_at(r, 0)).optional()?)
}

pub fn set_name(tx: &Transaction<'_>, id: TenantId, name: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE tenants SET name = :name, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":name": name, ":now": now })?;
    Ok(())
}

/// Stores (or, with None, clears) the sealed provider key and its hint.
pub fn set_provider_key(
    tx: &Transaction<'_>,
    id: TenantId,
    sealed: Option<&[u8]>,
    hint: Option<&str>,
    now: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE tenants SET provider_key = :sealed, provider_key_hint = :hint, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":sealed": sealed, ":hint": hint, ":now": now })?;
    Ok(())
}
