//! `portal_users`: one account per person (email), across tenants.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use crate::error::Error;
use crate::types::{AccountStatus, Email, TenantId, Timestamp, UserId};

/// No `Debug`: the row carries the password hash.
pub struct AccountRow {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<Timestamp>,
    pub status: AccountStatus,
    pub last_tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

pub(crate) const COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.email_verified_at, u.status, \
    u.last_tenant_id, u.created_at, u.last_login_at";

impl AccountRow {
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            email: r.get(at + 1)?,
            name: r.get(at + 2)?,
            password_hash: r.get(at + 3)?,
            email_verified_at: r.get(at + 4)?,
            status: r.get(at + 5)?,
            last_tenant_id: r.get(at + 6)?,
            created_at: r.get(at + 7)?,
            last_login_at: r.get(at + 8)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

pub struct NewAccount<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
}

/// Fails with a UNIQUE violation when the email has an account.
pub fn insert(tx: &Transaction<'_>, a: &NewAccount<'_>, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO portal_users (id, email, name, password_hash, status, created_at, updated_at)
         VALUES (:id, :email, :name, :hash, 'active', :now, :now)",
    )?
    .execute(
        named_params! { ":id": a.id, ":email": a.email, ":name": a.name, ":hash": a.password_hash, ":now": now },
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: UserId) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM portal_users u WHERE u.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| AccountRow::from_row_at(r, 0)).optional()?)
}

pub fn find_by_email(conn: &Connection, email: &Email) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM portal_users u WHERE u.email = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([email], |r| AccountRow::from_row_at(r, 0)).optional()?)
}

pub fn record_login(tx: &Transaction<'_>, id: UserId, tenant: TenantId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET last_login_at = :now, last_tenant_id = :tenant WHERE id = :id")?
        .execute(named_params! { ":id": id, ":tenant": tenant, ":now": now })?;
    Ok(())
}

pub fn set_last_tenant(tx: &Transaction<'_>, id: UserId, tenant: TenantId) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET last_tenant_id = ?2 WHERE id = ?1")?
        .execute(rusqlite::params![id, tenant])?;
    Ok(())
}

pub fn set_password_hash(tx: &Transaction<'_>, id: UserId, hash: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET password_hash = :hash, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":hash": hash, ":now": now })?;
    Ok(())
}

pub fn set_name(tx: &Transaction<'_>, id: UserId, name: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET name = :name, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":name": name, ":now": now })?;
    Ok(())
}

/// Marks the address verified (keeping the first time it was).
pub fn mark_email_verified(tx: &Transaction<'_>, id: UserId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE portal_users SET email_verified_at = COALESCE(email_verified_at, :now), updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":now": now })?;
    Ok(())
}

/// Switches the address, verified as of now. Fails with a UNIQUE violation when it is taken.
pub fn set_email(tx: &Transaction<'_>, id: UserId, email: &Email, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE portal_users SET email = :email, email_verified_at = :now, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":email": email, ":now": now })?;
    Ok(())
}

pub fn set_status(tx: &Transaction<'_>, id: UserId, status: AccountStatus, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, status, now])?;
    Ok(())
}

/// Accounts newest first, optionally in one status, matching `q` (lower-case) in the email
/// or name, and with a membership (of any status) in one tenant. Filters are written only
/// when given: the status one can then use `portal_users_by_status`, and the tenant one
/// starts from that tenant's memberships instead of walking every account.
pub fn list(
    conn: &Connection,
    status: Option<AccountStatus>,
    q: Option<&str>,
    tenant: Option<TenantId>,
    page: &Page,
) -> Result<Vec<AccountRow>, Error> {
    let status_clause = if status.is_some() { "u.status = ?1" } else { "1" };
    let from = if tenant.is_some() {
        "memberships m JOIN portal_users u ON u.id = m.user_id AND m.tenant_id = ?3"
    } else {
        "portal_users u"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {from}
         WHERE {status_clause} AND (?2 IS NULL OR instr(u.email, ?2) > 0 OR instr(lower(u.name), ?2) > 0)
           AND (u.created_at, u.id) < (?4, ?5)
         ORDER BY u.created_at DESC, u.id DESC LIMIT ?6"
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![status, q, tenant, before_at, before_id, page.fetch()], |r| {
        AccountRow::from_row_at(r, 0)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
