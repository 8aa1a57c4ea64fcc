//! `oauth_grants`: what a client holds after a code was redeemed. A grant is live while
//! it is not revoked and younger than `expires_at`; its account must still be active in
//! its tenant for any token of it to count (`find_live` joins them).
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use crate::error::Error;
use crate::types::{ClientId, GrantId, Role, SessionId, TenantId, Timestamp, UserId};

pub struct GrantRow {
    pub id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub scope: String,
    pub auth_time: Timestamp,
    pub amr: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

const COLUMNS: &str = "g.id, g.client_id, g.user_id, g.tenant_id, g.session_id, g.scope, g.auth_time, g.amr,
                       g.created_at, g.expires_at";

impl GrantRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            client_id: r.get(1)?,
            user_id: r.get(2)?,
            tenant_id: r.get(3)?,
            session_id: r.get(4)?,
            scope: r.get(5)?,
            auth_time: r.get(6)?,
            amr: r.get(7)?,
            created_at: r.get(8)?,
            expires_at: r.get(9)?,
        })
    }
}

pub fn insert(tx: &Transaction<'_>, g: &GrantRow) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO oauth_grants (id, client_id, user_id, tenant_id, session_id, scope, auth_time, amr,
                                   created_at, last_used_at, expires_at)
         VALUES (:id, :client, :user, :tenant, :session, :scope, :auth_time, :amr, :at, :at, :expires)",
    )?
    .execute(named_params! {
        ":id": g.id, ":client": g.client_id, ":user": g.user_id, ":tenant": g.tenant_id,
        ":session": g.session_id, ":scope": g.scope, ":auth_time": g.auth_time, ":amr": g.amr,
        ":at": g.created_at, ":expires": g.expires_at,
    })?;
    Ok(())
}

/// A live grant whose client, account, membership and tenant are all active, and whose
/// tenant the client still admits (an operator may have limited it to one tenant since),
/// with the member's role now (a role changed since the grant shows in its next tokens).
pub fn find_live(conn: &Connection, id: GrantId, now: Timestamp) -> Result<Option<(GrantRow, Role)>, Error> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM oauth_grants g
         JOIN oauth_clients c ON c.id = g.client_id
         JOIN memberships m ON m.tenant_id = g.tenant_id AND m.user_id = g.user_id
         JOIN tenants t ON t.id = g.tenant_id
         JOIN portal_users u ON u.id = g.user_id
         WHERE g.id = :id AND g.revoked_at IS NULL AND g.expires_at > :now AND c.status = 'active'
           AND (c.tenant_id IS NULL OR c.tenant_id = g.tenant_id)
           AND m.status = 'active' AND t.status = 'active' AND u.status = 'active'"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":id": id, ":now": now }, |r| Ok((GrantRow::from_row(r)?, r.get(10)?)))
        .optional()?)
}

/// Revokes one grant (and with it every token it issued); whether it was live.
pub fn revoke(tx: &Transaction<'_>, id: GrantId, now: Timestamp) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("UPDATE oauth_grants SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")?
        .execute(rusqlite::params![now, id])?
        == 1)
}

/// Records that the grant's client used it now (a refresh), for `/app/apps`.
pub fn touch(tx: &Transaction<'_>, id: GrantId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE oauth_grants SET last_used_at = ?1 WHERE id = ?2")?
        .execute(rusqlite::params![now, id])?;
    Ok(())
}

/// Revokes one of an account's grants; whether it was live (and the account's).
pub fn revoke_own(tx: &Transaction<'_>, user: UserId, id: GrantId, now: Timestamp) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE oauth_grants SET revoked_at = ?1 WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL",
        )?
        .execute(rusqlite::params![now, id, user])?
        == 1)
}

/// Revokes every grant of an account (with its sessions: a reset password, a disabled or
/// deleted account); returns how many.
pub fn revoke_for_account(tx: &Transaction<'_>, user: UserId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("UPDATE oauth_grants SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL")?
        .execute(rusqlite::params![now, user])?)
}

/// Revokes every grant of an account acting in one tenant (a removed member).
pub fn revoke_for_member(tx: &Transaction<'_>, tenant: TenantId, user: UserId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE oauth_grants SET revoked_at = ?1 WHERE tenant_id = ?2 AND user_id = ?3 AND revoked_at IS NULL",
        )?
        .execute(rusqlite::params![now, tenant, user])?)
}

/// Revokes every grant acting in a tenant (suspended, deleted, its sessions revoked).
pub fn revoke_for_tenant(tx: &Transaction<'_>, tenant: TenantId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached("UPDATE oauth_grants SET revoked_at = ?1 WHERE tenant_id = ?2 AND revoked_at IS NULL")?
        .execute(rusqlite::params![now, tenant])?)
}

/// Revokes every grant an account gave one client (its consent taken back).
pub fn revoke_for_client(tx: &Transaction<'_>, user: UserId, client: ClientId, now: Timestamp) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "UPDATE oauth_grants SET revoked_at = ?1 WHERE user_id = ?2 AND client_id = ?3 AND revoked_at IS NULL",
        )?
        .execute(rusqlite::params![now, user, client])?)
}

/// A live grant as `/app/apps` lists it.
pub struct GrantLine {
    pub id: GrantId,
    pub client_name: String,
    pub tenant_name: String,
    pub scope: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// The most grants `/app/apps` lists: a person gives few applications access.
pub const LISTED: i64 = 200;

/// An account's live grants, newest first (at most `LISTED`).
pub fn list_live_for_account(conn: &Connection, user: UserId, now: Timestamp) -> Result<Vec<GrantLine>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.id, c.name, t.name, g.scope, g.created_at, g.last_used_at FROM oauth_grants g
         JOIN oauth_clients c ON c.id = g.client_id
         JOIN tenants t ON t.id = g.tenant_id
         WHERE g.user_id = ?1 AND g.revoked_at IS NULL AND g.expires_at > ?2
         ORDER BY g.created_at DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(rusqlite::params![user, now, LISTED], |r| {
        Ok(GrantLine {
            id: r.get(0)?,
            client_name: r.get(1)?,
            tenant_name: r.get(2)?,
            scope: r.get(3)?,
            created_at: r.get(4)?,
            last_used_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When a grant is pruned: a day after its revocation, and at its expiry at the latest.
/// Word for word the expression of the `oauth_grants_by_end` index (migration 0015).
const PRUNED_AT: &str = "min(expires_at, coalesce(revoked_at + 86400, expires_at))";

/// At most `limit` grants whose pruning time is before `now`.
pub fn ended(conn: &Connection, now: Timestamp, limit: i64) -> Result<Vec<GrantId>, Error> {
    let sql = format!("SELECT id FROM oauth_grants WHERE {PRUNED_AT} < ?1 LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![now, limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a grant (its refresh tokens must be gone first).
pub fn delete(tx: &Transaction<'_>, id: GrantId) -> Result<(), Error> {
    tx.prepare_cached("DELETE FROM oauth_grants WHERE id = ?1")?.execute([id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_walks_its_index() -> Result<(), Error> {
        let conn = crate::store::migrated_in_memory()?;
        let plan =
            crate::store::query_plan(&conn, &format!("SELECT id FROM oauth_grants WHERE {PRUNED_AT} < 1 LIMIT 5"))?;
        assert!(plan.iter().any(|step| step.contains("oauth_grants_by_end")), "{plan:?}");
        Ok(())
    }
}
