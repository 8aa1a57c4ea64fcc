//! `audit_log`: append-only (triggers refuse UPDATE and DELETE).
use rusqlite::{Transaction, named_params};

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
