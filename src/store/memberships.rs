//! `memberships`: an account's role and status in one tenant.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

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
}

pub(crate) const COLUMNS: &str = "m.tenant_id, m.user_id, m.role, m.status, m.created_at";

impl MembershipRow {
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            tenant_id: r.get(at)?,
            user_id: r.get(at + 1)?,
            role: r.get(at + 2)?,
            status: r.get(at + 3)?,
            created_at: r.get(at + 4)?,
        })
    }
}

pub fn insert(tx: &Transaction<'_>, m: &MembershipRow) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at)
         VALUES (:tenant, :user, :role, :status, :now, :now)",
    )?
    .execute(named_params! {
        ":tenant": m.tenant_id, ":user": m.user_id, ":role": m.role, ":status": m.status, ":now": m.created_at,
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
    let rows = stmt.query_map([user], |r| Ok((MembershipRow::from_row_at(r, 0)?, TenantRow::from_row_at(r, 5)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
