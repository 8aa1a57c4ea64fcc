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

/// A live grant whose client, account, membership and tenant are all active, with the
/// member's role now (a role changed since the grant shows in its next tokens).
pub fn find_live(conn: &Connection, id: GrantId, now: Timestamp) -> Result<Option<(GrantRow, Role)>, Error> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM oauth_grants g
         JOIN oauth_clients c ON c.id = g.client_id
         JOIN memberships m ON m.tenant_id = g.tenant_id AND m.user_id = g.user_id
         JOIN tenants t ON t.id = g.tenant_id
         JOIN portal_users u ON u.id = g.user_id
         WHERE g.id = :id AND g.revoked_at IS NULL AND g.expires_at > :now AND c.status = 'active'
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
