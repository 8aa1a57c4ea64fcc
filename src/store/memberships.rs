//! `memberships`: an account's role and status in one tenant.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::accounts::{self, AccountRow};
use super::page::{Cursor, Page};
use super::tenants::{self, TenantRow};
use crate::error::Error;
use crate::types::{MembershipStatus, Role, TenantId, Timestamp, UserId};

#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
    pub status: MembershipStatus,
    pub created_at: Timestamp,
    /// The name the inviter typed (what the tenant sees while the membership is invited).
    pub invited_name: Option<String>,
}

pub(crate) const COLUMNS: &str = "m.tenant_id, m.user_id, m.role, m.status, m.created_at, m.invited_name";
/// How many columns `COLUMNS` reads: where a joined row's next part starts.
const WIDTH: usize = 6;

impl MembershipRow {
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            tenant_id: r.get(at)?,
            user_id: r.get(at + 1)?,
            role: r.get(at + 2)?,
            status: r.get(at + 3)?,
            created_at: r.get(at + 4)?,
            invited_name: r.get(at + 5)?,
        })
    }

    /// The sort key of a tenant's member list.
    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.user_id.to_string() }
    }
}

pub fn insert(tx: &Transaction<'_>, m: &MembershipRow) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at, invited_name)
         VALUES (:tenant, :user, :role, :status, :now, :now, :invited_name)",
    )?
    .execute(named_params! {
        ":tenant": m.tenant_id, ":user": m.user_id, ":role": m.role, ":status": m.status, ":now": m.created_at,
        ":invited_name": m.invited_name,
    })?;
    Ok(())
}

pub fn get(conn: &Connection, tenant: TenantId, user: UserId) -> Result<Option<MembershipRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM memberships m WHERE m.tenant_id = ?1 AND m.user_id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params![tenant, user], |r| MembershipRow::from_row_at(r, 0))
        .optional()?)
}

/// Every membership of an account with its tenant, but removed ones, oldest first.
pub fn list_for_account(conn: &Connection, user: UserId) -> Result<Vec<(MembershipRow, TenantRow)>, Error> {
    let sql = format!(
        "SELECT {COLUMNS}, {} FROM memberships m JOIN tenants t ON t.id = m.tenant_id
         WHERE m.user_id = ?1 AND m.status != 'removed' ORDER BY m.created_at, m.tenant_id",
        tenants::COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows =
        stmt.query_map([user], |r| Ok((MembershipRow::from_row_at(r, 0)?, TenantRow::from_row_at(r, WIDTH)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One member of a tenant: the membership with its account.
pub fn get_member(
    conn: &Connection,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<(MembershipRow, AccountRow)>, Error> {
    let sql = format!(
        "SELECT {COLUMNS}, {} FROM memberships m JOIN portal_users u ON u.id = m.user_id
         WHERE m.tenant_id = ?1 AND m.user_id = ?2",
        accounts::COLUMNS
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params![tenant, user], |r| {
            Ok((MembershipRow::from_row_at(r, 0)?, AccountRow::from_row_at(r, WIDTH)?))
        })
        .optional()?)
}

/// A tenant's members with their accounts, newest membership first, optionally in one status.
pub fn list_members(
    conn: &Connection,
    tenant: TenantId,
    status: Option<MembershipStatus>,
    page: &Page,
) -> Result<Vec<(MembershipRow, AccountRow)>, Error> {
    let sql = format!(
        "SELECT {COLUMNS}, {} FROM memberships m JOIN portal_users u ON u.id = m.user_id
         WHERE m.tenant_id = :tenant AND (:status IS NULL OR m.status = :status)
           AND (m.created_at, m.user_id) < (:before_at, :before_id)
         ORDER BY m.created_at DESC, m.user_id DESC LIMIT :limit",
        accounts::COLUMNS
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! {
            ":tenant": tenant, ":status": status, ":before_at": before_at, ":before_id": before_id, ":limit": page.fetch(),
        },
        |r| Ok((MembershipRow::from_row_at(r, 0)?, AccountRow::from_row_at(r, WIDTH)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Seats taken: active and invited memberships.
pub fn count_seats(conn: &Connection, tenant: TenantId) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM memberships WHERE tenant_id = ?1 AND status IN ('active', 'invited')")?
        .query_row([tenant], |r| r.get(0))?)
}

/// Owners that can act: an active membership of an active account.
pub fn count_active_owners(conn: &Connection, tenant: TenantId) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM memberships m JOIN portal_users u ON u.id = m.user_id
             WHERE m.tenant_id = ?1 AND m.role = 'owner' AND m.status = 'active' AND u.status = 'active'",
        )?
        .query_row([tenant], |r| r.get(0))?)
}

pub fn set_role(tx: &Transaction<'_>, tenant: TenantId, user: UserId, role: Role, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE memberships SET role = :role, updated_at = :now WHERE tenant_id = :tenant AND user_id = :user",
    )?
    .execute(named_params! { ":tenant": tenant, ":user": user, ":role": role, ":now": now })?;
    Ok(())
}

/// A removed membership invited again: its new role, status "invited", the name typed now.
pub fn reinvite(
    tx: &Transaction<'_>,
    tenant: TenantId,
    user: UserId,
    role: Role,
    invited_name: Option<&str>,
    now: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE memberships SET role = :role, status = 'invited', invited_name = :name, updated_at = :now
         WHERE tenant_id = :tenant AND user_id = :user",
    )?
    .execute(named_params! { ":tenant": tenant, ":user": user, ":role": role, ":name": invited_name, ":now": now })?;
    Ok(())
}

pub fn set_status(
    tx: &Transaction<'_>,
    tenant: TenantId,
    user: UserId,
    status: MembershipStatus,
    now: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE memberships SET status = :status, updated_at = :now WHERE tenant_id = :tenant AND user_id = :user",
    )?
    .execute(named_params! { ":tenant": tenant, ":user": user, ":status": status, ":now": now })?;
    Ok(())
}

/// A tenant's deletion: its active and invited memberships become disabled "by tenant",
/// remembering what they were. Returns how many.
pub fn disable_for_tenant(tx: &Transaction<'_>, tenant: TenantId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE memberships SET status_before_tenant_deletion = status, status = 'disabled',
                    disabled_by_tenant = 1, updated_at = ?2
             WHERE tenant_id = ?1 AND status IN ('active', 'invited')",
        )?
        .execute(rusqlite::params![tenant, now])?)
}

/// A deleted tenant's restore: exactly the memberships its deletion disabled get their
/// status back. Returns how many.
pub fn restore_for_tenant(tx: &Transaction<'_>, tenant: TenantId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE memberships SET status = status_before_tenant_deletion, status_before_tenant_deletion = NULL,
                    disabled_by_tenant = 0, updated_at = ?2
             WHERE tenant_id = ?1 AND disabled_by_tenant = 1",
        )?
        .execute(rusqlite::params![tenant, now])?)
}

/// The tenants in which this account is the only active owner (whose account is active):
/// taking its access away would leave them with none.
pub fn tenants_only_owned_by(conn: &Connection, user: UserId) -> Result<Vec<TenantId>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.tenant_id FROM memberships m
         WHERE m.user_id = ?1 AND m.role = 'owner' AND m.status = 'active'
           AND NOT EXISTS (SELECT 1 FROM memberships o JOIN portal_users ou ON ou.id = o.user_id
                           WHERE o.tenant_id = m.tenant_id AND o.user_id != m.user_id AND o.role = 'owner'
                             AND o.status = 'active' AND ou.status = 'active')",
    )?;
    let rows = stmt.query_map([user], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
