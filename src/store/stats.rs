//! Counts across tables for the operator's overview (`GET /v1/admin/stats`). Each count
//! is answered from an index alone (`tenants_by_status`, `portal_users_by_status`,
//! `portal_users_invited`, `sessions_unrevoked`, `keys_unrevoked`): about 50 ms with a
//! million accounts, most of it counting the active ones.
use rusqlite::{Connection, named_params};

use super::sessions::LIVE;
use crate::error::Error;
use crate::types::Timestamp;

pub struct Stats {
    pub tenants_active: i64,
    pub tenants_suspended: i64,
    pub tenants_deleted: i64,
    /// Accounts that can sign in (active, with a password).
    pub users_active: i64,
    /// Accounts invited and not yet activated (active, no password yet).
    pub users_invited: i64,
    pub users_disabled: i64,
    pub users_deleted: i64,
    pub sessions_active: i64,
    pub keys_active: i64,
}

pub fn overview(conn: &Connection, now: Timestamp) -> Result<Stats, Error> {
    let sql = format!(
        "SELECT
           (SELECT COUNT(*) FROM tenants WHERE status = 'active'),
           (SELECT COUNT(*) FROM tenants WHERE status = 'suspended'),
           (SELECT COUNT(*) FROM tenants WHERE status = 'deleted'),
           (SELECT COUNT(*) FROM portal_users WHERE status = 'active'),
           -- The planner would rather walk portal_users_by_status and read every row.
           (SELECT COUNT(*) FROM portal_users INDEXED BY portal_users_invited
             WHERE status = 'active' AND password_hash IS NULL),
           (SELECT COUNT(*) FROM portal_users WHERE status = 'disabled'),
           (SELECT COUNT(*) FROM portal_users WHERE status = 'deleted'),
           (SELECT COUNT(*) FROM sessions s WHERE s.realm = 'portal' AND {LIVE}),
           (SELECT COUNT(*) FROM keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now))"
    );
    let stats = conn.prepare_cached(&sql)?.query_row(named_params! { ":now": now }, |r| {
        let (active_or_invited, invited): (i64, i64) = (r.get(3)?, r.get(4)?);
        Ok(Stats {
            tenants_active: r.get(0)?,
            tenants_suspended: r.get(1)?,
            tenants_deleted: r.get(2)?,
            users_active: active_or_invited - invited,
            users_invited: invited,
            users_disabled: r.get(5)?,
            users_deleted: r.get(6)?,
            sessions_active: r.get(7)?,
            keys_active: r.get(8)?,
        })
    })?;
    Ok(stats)
}

/// The gauges a metrics scrape reads from the database.
pub struct Gauges {
    /// Mails not yet delivered and still to be tried.
    pub outbox_pending: i64,
    /// Mails given up on after `max_attempts` failures (until their link is scrubbed).
    pub outbox_failed: i64,
    pub sessions_portal: i64,
    pub sessions_admin: i64,
}

/// One statement: the outbox counts walk the partial index `outbox_pending` (the mail not
/// yet done with: few, however large the outbox), the sessions `sessions_unrevoked`.
pub fn gauges(conn: &Connection, now: Timestamp, max_attempts: i64) -> Result<Gauges, Error> {
    let gauges =
        conn.prepare_cached(&gauges_sql())?.query_row(named_params! { ":now": now, ":max": max_attempts }, |r| {
            Ok(Gauges {
                outbox_pending: r.get(0)?,
                outbox_failed: r.get(1)?,
                sessions_portal: r.get(2)?,
                sessions_admin: r.get(3)?,
            })
        })?;
    Ok(gauges)
}

fn gauges_sql() -> String {
    format!(
        "SELECT
           (SELECT COUNT(*) FROM outbox INDEXED BY outbox_pending
             WHERE sent_at IS NULL AND scrubbed_at IS NULL AND attempts < :max),
           (SELECT COUNT(*) FROM outbox INDEXED BY outbox_pending
             WHERE sent_at IS NULL AND scrubbed_at IS NULL AND attempts >= :max),
           (SELECT COUNT(*) FROM sessions s WHERE s.realm = 'portal' AND {LIVE}),
           (SELECT COUNT(*) FROM sessions s WHERE s.realm = 'admin' AND {LIVE})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrated_in_memory;

    /// The scrape's statement reads indexes only: no table scan of the outbox or sessions,
    /// which grow without end on a busy server.
    #[test]
    fn the_gauges_are_answered_from_partial_indexes() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", gauges_sql()))?;
        let plan: Vec<String> = stmt
            .query_map(named_params! { ":now": 0, ":max": 10 }, |r| r.get::<_, String>(3))?
            .collect::<Result<_, _>>()?;
        let outbox = plan.iter().filter(|l| l.contains("outbox USING INDEX outbox_pending")).count();
        let sessions =
            plan.iter().filter(|l| l.starts_with("SEARCH s USING INDEX sessions_unrevoked (realm=?")).count();
        assert_eq!((outbox, sessions), (2, 2), "{plan:#?}");
        let gauges = gauges(&conn, Timestamp::from_unix(0), 10)?;
        assert_eq!((gauges.outbox_pending, gauges.sessions_portal, gauges.sessions_admin), (0, 0, 0));
        Ok(())
    }
}
