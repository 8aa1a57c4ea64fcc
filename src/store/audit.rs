//! `audit_log`: append-only (triggers refuse UPDATE and DELETE).
use rusqlite::types::{ToSql, Type};
use rusqlite::{Connection, Error::FromSqlConversionFailure, Row, Transaction, named_params};
use serde_json::value::RawValue;

use super::page::{Cursor, Page};
use crate::error::Error;
use crate::types::{EventId, TenantId, Timestamp};

pub struct AuditEntry<'a> {
    pub at: Timestamp,
    pub actor_type: &'static str,
    pub actor_id: Option<String>,
    pub tenant_id: Option<TenantId>,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub fn append(tx: &Transaction<'_>, e: &AuditEntry<'_>) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO audit_log (id, at, actor_type, actor_id, tenant_id, action, target_type, target_id,
                                ip, user_agent, reason, before, after)
         VALUES (:id, :at, :actor_type, :actor_id, :tenant, :action, :target_type, :target_id,
                 :ip, :ua, :reason, :before, :after)",
    )?
    .execute(named_params! {
        ":id": EventId::random(), ":at": e.at, ":actor_type": e.actor_type, ":actor_id": e.actor_id,
        ":tenant": e.tenant_id, ":action": e.action, ":target_type": e.target_type, ":target_id": e.target_id,
        ":ip": e.ip, ":ua": e.user_agent, ":reason": e.reason,
        ":before": e.before.as_ref().map(|v| v.to_string()), ":after": e.after.as_ref().map(|v| v.to_string()),
    })?;
    Ok(())
}

/// An event as it is read back. `before` and `after` stay JSON text: they go out as stored.
pub struct AuditRow {
    pub seq: i64,
    pub id: EventId,
    pub at: Timestamp,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub tenant_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub reason: Option<String>,
    pub before: Option<Box<RawValue>>,
    pub after: Option<Box<RawValue>>,
}

impl AuditRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let json = |i: usize| -> rusqlite::Result<Option<Box<RawValue>>> {
            r.get::<_, Option<String>>(i)?
                .map(|t| RawValue::from_string(t).map_err(|e| FromSqlConversionFailure(i, Type::Text, Box::new(e))))
                .transpose()
        };
        Ok(Self {
            seq: r.get(0)?,
            id: r.get(1)?,
            at: r.get(2)?,
            actor_type: r.get(3)?,
            actor_id: r.get(4)?,
            tenant_id: r.get(5)?,
            action: r.get(6)?,
            target_type: r.get(7)?,
            target_id: r.get(8)?,
            ip: r.get(9)?,
            user_agent: r.get(10)?,
            reason: r.get(11)?,
            before: json(12)?,
            after: json(13)?,
        })
    }

    /// Keyset position: `(at, seq)`, newest first; `seq` (the order of writing) breaks ties.
    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.at.unix(), id: self.seq.to_string() }
    }
}

/// Which events to list; every given filter is ANDed.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub tenant_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Actions left out (a tenant's view leaves out account-level events).
    pub hidden_actions: &'static [&'static str],
}

/// The SQL for a filter: only the given conditions are written, so that SQLite can pick
/// the index of the most selective one (`audit_by_tenant`, `_by_actor`, `_by_action`, all
/// ending in `(at, seq)`, or `audit_by_at`), which also yields the order. `until` is not a
/// condition of its own: it is folded into the keyset bound (see `list`), because SQLite
/// uses only one upper bound of a range. See the query-plan test below.
fn list_sql(f: &AuditFilter) -> String {
    let mut clauses = vec!["(at, seq) < (:before_at, :before_seq)"];
    let given = [
        (f.tenant_id.is_some(), "tenant_id = :tenant"),
        (f.actor_id.is_some(), "actor_id = :actor"),
        (f.action.is_some(), "action = :action"),
        (f.since.is_some(), "at >= :since"),
        (!f.hidden_actions.is_empty(), "action NOT IN (SELECT value FROM json_each(:hidden))"),
    ];
    clauses.extend(given.iter().filter(|(on, _)| *on).map(|(_, c)| *c));
    format!(
        "SELECT seq, id, at, actor_type, actor_id, tenant_id, action, target_type, target_id, ip, user_agent,
                reason, before, after
         FROM audit_log WHERE {} ORDER BY at DESC, seq DESC LIMIT :limit",
        clauses.join(" AND ")
    )
}

/// Where a page ends, exclusive: the cursor's position, or just past `until`, whichever
/// comes first (`at <= until` is `(at, seq) < (until + 1, 0)`).
fn upper_bound(f: &AuditFilter, page: &Page) -> Result<(i64, i64), Error> {
    let cursor = match &page.after {
        Some(c) => (c.at, c.id.parse().map_err(|_| Error::field("cursor", "is not a cursor this server gave out"))?),
        None => (i64::MAX, i64::MAX),
    };
    let until = f.until.map_or((i64::MAX, i64::MAX), |t| (t.unix().saturating_add(1), 0));
    Ok(cursor.min(until))
}

/// Events newest first: by time, then by the order of writing.
pub fn list(conn: &Connection, f: &AuditFilter, page: &Page) -> Result<Vec<AuditRow>, Error> {
    let (before_at, before_seq) = upper_bound(f, page)?;
    let limit = page.fetch();
    let hidden = serde_json::to_string(f.hidden_actions).map_err(Error::internal)?;
    let mut params: Vec<(&str, &dyn ToSql)> =
        vec![(":before_at", &before_at), (":before_seq", &before_seq), (":limit", &limit)];
    let optional: [(&str, Option<&dyn ToSql>); 5] = [
        (":tenant", f.tenant_id.as_ref().map(|v| v as &dyn ToSql)),
        (":actor", f.actor_id.as_ref().map(|v| v as &dyn ToSql)),
        (":action", f.action.as_ref().map(|v| v as &dyn ToSql)),
        (":since", f.since.as_ref().map(|v| v as &dyn ToSql)),
        (":hidden", (!f.hidden_actions.is_empty()).then_some(&hidden as &dyn ToSql)),
    ];
    params.extend(optional.into_iter().filter_map(|(name, v)| v.map(|v| (name, v))));
    let mut stmt = conn.prepare_cached(&list_sql(f))?;
    let rows = stmt.query_map(params.as_slice(), AuditRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many `action` events a tenant has had since `since`, about `target_id` when given,
/// and when the oldest of them was (the invitation throttles count these: restart-proof,
/// served by `audit_by_tenant_action`).
pub fn count_since(
    conn: &Connection,
    tenant: TenantId,
    action: &str,
    target_id: Option<&str>,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>), Error> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*), MIN(at) FROM audit_log
             WHERE tenant_id = :tenant AND action = :action AND at > :since AND (:target IS NULL OR target_id = :target)",
        )?
        .query_row(
            named_params! { ":tenant": tenant, ":action": action, ":since": since, ":target": target_id },
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_and_the_cursor_bound_the_page_together() -> Result<(), Error> {
        let f = AuditFilter { until: Some(Timestamp::from_unix(100)), ..AuditFilter::default() };
        assert_eq!(upper_bound(&f, &Page::default())?, (101, 0));
        let after = |at, id: &str| Page { after: Some(Cursor { at, id: id.into() }), ..Page::default() };
        assert_eq!(upper_bound(&f, &after(50, "7"))?, (50, 7));
        assert_eq!(upper_bound(&f, &after(500, "7"))?, (101, 0));
        assert_eq!(upper_bound(&AuditFilter::default(), &Page::default())?, (i64::MAX, i64::MAX));
        assert!(upper_bound(&f, &after(50, "not-a-seq")).is_err());
        Ok(())
    }

    /// Every combination of filters is answered through an index that also gives the order:
    /// no plan step is a full `SCAN audit_log`, and none sorts in a temporary b-tree.
    #[test]
    fn every_filter_combination_uses_an_index() -> Result<(), Error> {
        let conn = crate::store::migrated_in_memory()?;
        for mask in 0u8..64 {
            let on = |bit: u8| mask & (1 << bit) != 0;
            let f = AuditFilter {
                tenant_id: on(0).then(|| "t".to_owned()),
                actor_id: on(1).then(|| "a".to_owned()),
                action: on(2).then(|| "tenant.suspended".to_owned()),
                since: on(3).then_some(Timestamp::from_unix(10)),
                until: on(4).then_some(Timestamp::from_unix(20)),
                hidden_actions: if on(5) { &["a.b", "c.d"] } else { &[] },
            };
            let plan = crate::store::query_plan(&conn, &list_sql(&f))?;
            assert!(!plan.iter().any(|step| step.starts_with("SCAN audit_log")), "filter {f:?}: plan {plan:?}");
            assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "filter {f:?}: plan {plan:?}");
            assert!(plan.iter().any(|step| step.starts_with("SEARCH audit_log")), "filter {f:?}: plan {plan:?}");
        }
        Ok(())
    }
}
