//! `tenants`.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use super::sessions::LIVE;
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

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
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

/// Tenants newest first, optionally in one status and matching `q` (lower-case) anywhere
/// in the name or slug. The status filter is only written when given, so that it can use
/// `tenants_by_status`; numbered parameters let the other variant leave ?1 unused.
pub fn list(
    conn: &Connection,
    status: Option<TenantStatus>,
    q: Option<&str>,
    page: &Page,
) -> Result<Vec<TenantRow>, Error> {
    let status_clause = if status.is_some() { "t.status = ?1" } else { "1" };
    let sql = format!(
        "SELECT {COLUMNS} FROM tenants t
         WHERE {status_clause} AND (?2 IS NULL OR instr(lower(t.name), ?2) > 0 OR instr(t.slug, ?2) > 0)
           AND (t.created_at, t.id) < (?3, ?4)
         ORDER BY t.created_at DESC, t.id DESC LIMIT ?5"
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![status, q, before_at, before_id, page.fetch()], |r| {
        TenantRow::from_row_at(r, 0)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn update(tx: &Transaction<'_>, t: &TenantRow, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE tenants SET name = :name, plan = :plan, max_seats = :max_seats, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": t.id, ":name": t.name, ":plan": t.plan, ":max_seats": t.max_seats, ":now": now })?;
    Ok(())
}

pub fn set_status(tx: &Transaction<'_>, id: TenantId, status: TenantStatus, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE tenants SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, status, now])?;
    Ok(())
}

/// What an operator sees at a glance: members (active or invited), live keys, live sessions.
pub struct TenantCounts {
    pub users: i64,
    pub keys: i64,
    pub sessions: i64,
}

pub fn counts(conn: &Connection, id: TenantId, now: Timestamp) -> Result<TenantCounts, Error> {
    let sql = format!(
        "SELECT
           (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = :id AND m.status IN ('active', 'invited')),
           (SELECT COUNT(*) FROM keys k WHERE k.tenant_id = :id AND k.revoked_at IS NULL
                                          AND (k.expires_at IS NULL OR k.expires_at > :now)),
           (SELECT COUNT(*) FROM sessions s WHERE s.tenant_id = :id AND {LIVE})"
    );
    let counts = conn.prepare_cached(&sql)?.query_row(named_params! { ":id": id, ":now": now }, |r| {
        Ok(TenantCounts { users: r.get(0)?, keys: r.get(1)?, sessions: r.get(2)? })
    })?;
    Ok(counts)
}
