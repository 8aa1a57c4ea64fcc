//! `sessions` of both realms. A session is live while it is not revoked, younger than
//! its absolute lifetime and used within its idle timeout: that rule is `LIVE`, here only.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::{AdminId, Realm, Role, SessionId, TenantId, Timestamp, UserId};

pub(crate) const LIVE: &str = "s.revoked_at IS NULL AND s.expires_at > :now AND s.last_seen_at + s.idle_timeout > :now";

pub struct NewSession<'a> {
    pub id: SessionId,
    pub hash: TokenHash,
    pub realm: Realm,
    pub user_id: Option<UserId>,
    pub admin_id: Option<AdminId>,
    pub tenant_id: Option<TenantId>,
    pub expires_at: Timestamp,
    pub idle_timeout: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub fn insert(tx: &Transaction<'_>, s: &NewSession<'_>, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO sessions (id, hash, realm, user_id, admin_id, tenant_id, created_at, last_seen_at,
                               expires_at, idle_timeout, ip, user_agent)
         VALUES (:id, :hash, :realm, :user, :admin, :tenant, :now, :now, :expires, :idle, :ip, :ua)",
    )?
    .execute(named_params! {
        ":id": s.id, ":hash": s.hash, ":realm": s.realm, ":user": s.user_id, ":admin": s.admin_id,
        ":tenant": s.tenant_id, ":now": now, ":expires": s.expires_at, ":idle": s.idle_timeout,
        ":ip": s.ip, ":ua": s.user_agent,
    })?;
    Ok(())
}

/// Records how a session was authenticated (`amr`), once its second step is passed.
pub fn set_amr(tx: &Transaction<'_>, id: SessionId, amr: &str) -> Result<(), Error> {
    tx.prepare_cached("UPDATE sessions SET amr = ?1 WHERE id = ?2")?.execute(rusqlite::params![amr, id])?;
    Ok(())
}

/// When and how a session was authenticated: its `created_at` and `amr`.
pub fn authentication(conn: &Connection, id: SessionId) -> Result<Option<(Timestamp, String)>, Error> {
    Ok(conn
        .prepare_cached("SELECT created_at, amr FROM sessions WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A live portal session whose account, membership and tenant are all active.
#[derive(Clone)]
pub struct PortalSessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub role: Role,
    pub last_seen_at: Timestamp,
    /// When it lapses if not used again: the earlier of the absolute and the idle limit.
    pub expires_at: Timestamp,
    /// The absolute limit, and how long it may stay unused.
    pub ends_at: Timestamp,
    pub idle_timeout: i64,
    /// When it was opened (introspection's `iat`).
    pub created_at: Timestamp,
}

impl PortalSessionRow {
    /// The row as it reads once a use at `now` is recorded (a cached copy kept current).
    pub fn seen(&mut self, now: Timestamp) {
        self.last_seen_at = now;
        self.expires_at = self.ends_at.min(now.plus_secs(self.idle_timeout));
    }
}

pub fn find_portal(conn: &Connection, hash: &TokenHash, now: Timestamp) -> Result<Option<PortalSessionRow>, Error> {
    let sql = format!(
        "SELECT s.id, s.user_id, s.tenant_id, m.role, s.last_seen_at, MIN(s.expires_at, s.last_seen_at + s.idle_timeout),
                s.expires_at, s.idle_timeout, s.created_at
         FROM sessions s
         JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
         JOIN tenants t ON t.id = s.tenant_id
         JOIN portal_users u ON u.id = s.user_id
         WHERE s.hash = :hash AND s.realm = 'portal' AND {LIVE}
           AND m.status = 'active' AND t.status = 'active' AND u.status = 'active'"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":hash": hash, ":now": now }, |r| {
            Ok(PortalSessionRow {
                id: r.get(0)?,
                user_id: r.get(1)?,
                tenant_id: r.get(2)?,
                role: r.get(3)?,
                last_seen_at: r.get(4)?,
                expires_at: r.get(5)?,
                ends_at: r.get(6)?,
                idle_timeout: r.get(7)?,
                created_at: r.get(8)?,
            })
        })
        .optional()?;
    Ok(row)
}

pub struct AdminSessionRow {
    pub id: SessionId,
    pub admin_id: AdminId,
    pub last_seen_at: Timestamp,
}

pub fn find_admin(conn: &Connection, hash: &TokenHash, now: Timestamp) -> Result<Option<AdminSessionRow>, Error> {
    let sql = format!(
        "SELECT s.id, s.admin_id, s.last_seen_at FROM sessions s JOIN admins a ON a.id = s.admin_id
         WHERE s.hash = :hash AND s.realm = 'admin' AND {LIVE} AND a.status = 'active'"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":hash": hash, ":now": now }, |r| {
            Ok(AdminSessionRow { id: r.get(0)?, admin_id: r.get(1)?, last_seen_at: r.get(2)? })
        })
        .optional()?;
    Ok(row)
}

/// A session as its owner lists it.
pub struct SessionRow {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
}

impl SessionRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            tenant_id: r.get(1)?,
            created_at: r.get(2)?,
            last_seen_at: r.get(3)?,
            expires_at: r.get(4)?,
            ip: r.get(5)?,
            user_agent: r.get(6)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

/// The live portal sessions of an account, newest first.
pub fn list_for_account(
    conn: &Connection,
    user: UserId,
    now: Timestamp,
    page: &Page,
) -> Result<Vec<SessionRow>, Error> {
    let sql = format!(
        "SELECT s.id, s.tenant_id, s.created_at, s.last_seen_at, MIN(s.expires_at, s.last_seen_at + s.idle_timeout),
                s.ip, s.user_agent
         FROM sessions s
         WHERE s.user_id = :user AND {LIVE} AND (s.created_at, s.id) < (:before_at, :before_id)
         ORDER BY s.created_at DESC, s.id DESC LIMIT :limit"
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! { ":user": user, ":now": now, ":before_at": before_at, ":before_id": before_id, ":limit": page.fetch() },
        SessionRow::from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records use; callers call it at most once a minute per session (see `core::sessions`).
pub fn touch(tx: &Transaction<'_>, id: SessionId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2")?
        .execute(rusqlite::params![id, now])?;
    Ok(())
}

/// Moves a live session to another tenant with another lifetime (counted from its start);
/// false, and nothing changed, when it would have ended under that lifetime already.
pub fn move_to_tenant(
    tx: &Transaction<'_>,
    id: SessionId,
    tenant: TenantId,
    absolute: i64,
    idle: i64,
    now: Timestamp,
) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "UPDATE sessions SET tenant_id = :tenant, expires_at = created_at + :absolute, idle_timeout = :idle
             WHERE id = :id AND created_at + :absolute > :now AND last_seen_at + :idle > :now",
        )?
        .execute(named_params! { ":id": id, ":tenant": tenant, ":absolute": absolute, ":idle": idle, ":now": now })?;
    Ok(n == 1)
}

/// Gives an account's unrevoked sessions in a tenant another lifetime (from their start).
pub fn set_lifetime_in_tenant(
    tx: &Transaction<'_>,
    tenant: TenantId,
    user: UserId,
    absolute: i64,
    idle: i64,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE sessions SET expires_at = created_at + :absolute, idle_timeout = :idle
         WHERE tenant_id = :tenant AND user_id = :user AND revoked_at IS NULL",
    )?
    .execute(named_params! { ":tenant": tenant, ":user": user, ":absolute": absolute, ":idle": idle })?;
    Ok(())
}

/// Revokes one live session of an account; false when there is none with that id.
pub fn revoke_own(tx: &Transaction<'_>, user: UserId, id: SessionId, now: Timestamp) -> Result<bool, Error> {
    let sql = format!("UPDATE sessions AS s SET revoked_at = :now WHERE s.id = :id AND s.user_id = :user AND {LIVE}");
    let n = tx.prepare_cached(&sql)?.execute(named_params! { ":id": id, ":user": user, ":now": now })?;
    Ok(n == 1)
}

pub fn revoke(tx: &Transaction<'_>, id: SessionId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(rusqlite::params![id, now])?;
    Ok(())
}

/// Revokes every live portal session of an account but `keep`; returns how many.
pub fn revoke_for_account(
    tx: &Transaction<'_>,
    user: UserId,
    keep: Option<SessionId>,
    now: Timestamp,
) -> Result<usize, Error> {
    let sql =
        format!("UPDATE sessions AS s SET revoked_at = :now WHERE s.user_id = :user AND {LIVE} AND s.id IS NOT :keep");
    Ok(tx.prepare_cached(&sql)?.execute(named_params! { ":user": user, ":keep": keep, ":now": now })?)
}

/// Revokes every live session of an account acting in one tenant (a removed member);
/// returns how many.
pub fn revoke_for_member(tx: &Transaction<'_>, tenant: TenantId, user: UserId, now: Timestamp) -> Result<usize, Error> {
    let sql = format!(
        "UPDATE sessions AS s SET revoked_at = :now WHERE s.tenant_id = :tenant AND s.user_id = :user AND {LIVE}"
    );
    Ok(tx.prepare_cached(&sql)?.execute(named_params! { ":tenant": tenant, ":user": user, ":now": now })?)
}

/// Revokes every live portal session acting in a tenant; returns how many.
pub fn revoke_for_tenant(tx: &Transaction<'_>, tenant: TenantId, now: Timestamp) -> Result<usize, Error> {
    let sql = format!("UPDATE sessions AS s SET revoked_at = :now WHERE s.tenant_id = :tenant AND {LIVE}");
    Ok(tx.prepare_cached(&sql)?.execute(named_params! { ":tenant": tenant, ":now": now })?)
}

/// Revokes every live session of an operator; returns how many.
pub fn revoke_for_admin(tx: &Transaction<'_>, admin: AdminId, now: Timestamp) -> Result<usize, Error> {
    let sql = format!("UPDATE sessions AS s SET revoked_at = :now WHERE s.admin_id = :admin AND {LIVE}");
    Ok(tx.prepare_cached(&sql)?.execute(named_params! { ":admin": admin, ":now": now })?)
}

/// When a session ended: the first of its lifetime, its idle timeout and its revocation.
/// Word for word the expression of the `sessions_by_end` index (migration 0005).
const ENDED_AT: &str = "min(expires_at, last_seen_at + idle_timeout, coalesce(revoked_at, expires_at))";

/// Deletes at most `limit` sessions that ended before `before`; returns how many.
pub fn delete_ended(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    let sql = format!("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE {ENDED_AT} < ?1 LIMIT ?2)");
    Ok(tx.prepare_cached(&sql)?.execute(rusqlite::params![before, limit])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{migrated_in_memory, query_plan};

    #[test]
    fn pruning_reads_only_the_index_of_ended_sessions() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        let plan = query_plan(&conn, &format!("SELECT id FROM sessions WHERE {ENDED_AT} < ?1 LIMIT ?2"))?;
        assert!(plan.iter().any(|step| step.contains("USING INDEX sessions_by_end")), "{plan:?}");
        Ok(())
    }
}
