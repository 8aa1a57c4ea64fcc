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

    /// Keyset position: the write order `seq` (the id only makes the cursor self-describing).
    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.seq, id: self.id.to_string() }
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
}

/// The SQL for a filter: only the given conditions are written, so that SQLite can pick
/// the index of the most selective one (`audit_by_tenant`, `_by_actor`, `_by_action`,
/// `_by_at`, or the rowid for a page of everything). See the query-plan test below.
fn list_sql(f: &AuditFilter) -> String {
    let mut clauses = vec!["seq < :before"];
    let given = [
        (f.tenant_id.is_some(), "tenant_id = :tenant"),
        (f.actor_id.is_some(), "actor_id = :actor"),
        (f.action.is_some(), "action = :action"),
        (f.since.is_some(), "at >= :since"),
        (f.until.is_some(), "at <= :until"),
    ];
    clauses.extend(given.iter().filter(|(on, _)| *on).map(|(_, c)| *c));
    format!(
        "SELECT seq, id, at, actor_type, actor_id, tenant_id, action, target_type, target_id, ip, user_agent,
                reason, before, after
         FROM audit_log WHERE {} ORDER BY seq DESC LIMIT :limit",
        clauses.join(" AND ")
    )
}

/// Events newest first (by `seq`, the order of writing).
pub fn list(conn: &Connection, f: &AuditFilter, page: &Page) -> Result<Vec<AuditRow>, Error> {
    let before = page.after.as_ref().map_or(i64::MAX, |c| c.at);
    let limit = page.fetch();
    let mut params: Vec<(&str, &dyn ToSql)> = vec![(":before", &before), (":limit", &limit)];
    let optional: [(&str, Option<&dyn ToSql>); 5] = [
        (":tenant", f.tenant_id.as_ref().map(|v| v as &dyn ToSql)),
        (":actor", f.actor_id.as_ref().map(|v| v as &dyn ToSql)),
        (":action", f.action.as_ref().map(|v| v as &dyn ToSql)),
        (":since", f.since.as_ref().map(|v| v as &dyn ToSql)),
        (":until", f.until.as_ref().map(|v| v as &dyn ToSql)),
    ];
    params.extend(optional.into_iter().filter_map(|(name, v)| v.map(|v| (name, v))));
    let mut stmt = conn.prepare_cached(&list_sql(f))?;
    let rows = stmt.query_map(params.as_slice(), AuditRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of filters is answered through an index: no plan step is a full
    /// `SCAN audit_log` (a SEARCH on an index or on the rowid range is what we want).
    #[test]
    fn every_filter_combination_uses_an_index() -> Result<(), Error> {
        let mut conn = Connection::open_in_memory()?;
        crate::store::migrate::run(&mut conn, Timestamp::from_unix(0))?;
        for mask in 0u8..32 {
            let on = |bit: u8| mask & (1 << bit) != 0;
            let f = AuditFilter {
                tenant_id: on(0).then(|| "t".to_owned()),
                actor_id: on(1).then(|| "a".to_owned()),
                action: on(2).then(|| "tenant.suspended".to_owned()),
                since: on(3).then_some(Timestamp::from_unix(10)),
                until: on(4).then_some(Timestamp::from_unix(20)),
            };
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", list_sql(&f)))?;
            let names: Vec<String> =
                (1..=stmt.parameter_count()).filter_map(|i| stmt.parameter_name(i).map(str::to_owned)).collect();
            for (i, _) in names.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, 1)?;
            }
            let mut rows = stmt.raw_query();
            let mut plan = Vec::new();
            while let Some(row) = rows.next()? {
                plan.push(row.get::<_, String>(3)?);
            }
            assert!(!plan.iter().any(|step| step.starts_with("SCAN audit_log")), "filter {f:?}: plan {plan:?}");
            assert!(plan.iter().any(|step| step.starts_with("SEARCH audit_log")), "filter {f:?}: plan {plan:?}");
        }
        Ok(())
    }
}
