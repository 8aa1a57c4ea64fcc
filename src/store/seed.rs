//! Bulk rows for benchmarks (`keystead bench-seed`): tenants, accounts with memberships and
//! audit events made by SQLite itself from a counter, numbered `from..=to`, so that a
//! million go in within seconds. Row `i` of each table has an id made from `i` (see `id`),
//! so that other rows can refer to it. Keys and sessions, whose secrets are made in Rust,
//! go in through `store::keys` and `store::sessions`.
use rusqlite::{Transaction, named_params};

use crate::error::Error;
use crate::types::Timestamp;

/// The id of row `i` of a kind, as SQLite's `printf` makes it below: a UUID whose fourth
/// group tells the kind (8000 tenants, 9000 accounts, c000 audit events).
pub fn id(kind: u16, i: u32) -> String {
    format!("00000000-0000-4000-{kind:04x}-{i:012x}")
}

pub const TENANT: u16 = 0x8000;
pub const ACCOUNT: u16 = 0x9000;

/// Tenants `tenant-000001`…, named "Bench <i>", all active, created a second apart.
pub fn tenants(tx: &Transaction<'_>, from: i64, to: i64, now: Timestamp) -> Result<usize, Error> {
    let sql = "WITH RECURSIVE n(i) AS (SELECT :from UNION ALL SELECT i + 1 FROM n WHERE i < :to)
        INSERT INTO tenants (id, slug, name, status, created_at, updated_at)
        SELECT printf('00000000-0000-4000-8000-%012x', i), printf('tenant-%06d', i), printf('Bench %d', i),
               'active', :now - :to + i, :now - :to + i
        FROM n";
    Ok(tx.execute(sql, named_params! { ":from": from, ":to": to, ":now": now })?)
}

/// Accounts `user0000001@bench.test`…, all with `password_hash`, each an active member of
/// tenant `(i - 1) / per_tenant + 1` (the first of each tenant its owner), which is also
/// the tenant it last used.
pub fn accounts(
    tx: &Transaction<'_>,
    from: i64,
    to: i64,
    per_tenant: i64,
    password_hash: &str,
    now: Timestamp,
) -> Result<usize, Error> {
    let params = named_params! { ":from": from, ":to": to, ":per": per_tenant, ":hash": password_hash, ":now": now };
    let accounts = "WITH RECURSIVE n(i) AS (SELECT :from UNION ALL SELECT i + 1 FROM n WHERE i < :to)
        INSERT INTO portal_users (id, email, name, password_hash, email_verified_at, status, last_tenant_id,
                                  created_at, updated_at)
        SELECT printf('00000000-0000-4000-9000-%012x', i), printf('user%07d@bench.test', i), printf('Bench User %d', i),
               :hash, :now, 'active', printf('00000000-0000-4000-8000-%012x', (i - 1) / :per + 1),
               :now - :to + i, :now - :to + i
        FROM n";
    let n = tx.execute(accounts, params)?;
    let memberships = "WITH RECURSIVE n(i) AS (SELECT :from UNION ALL SELECT i + 1 FROM n WHERE i < :to)
        INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at)
        SELECT printf('00000000-0000-4000-8000-%012x', (i - 1) / :per + 1), printf('00000000-0000-4000-9000-%012x', i),
               CASE WHEN (i - 1) % :per = 0 THEN 'owner' ELSE 'member' END, 'active',
               :now - :to + i, :now - :to + i
        FROM n";
    tx.execute(memberships, named_params! { ":from": from, ":to": to, ":per": per_tenant, ":now": now })?;
    Ok(n)
}

/// Audit events: logins of account `(i - 1) % accounts + 1` in its tenant, a second apart
/// up to `now`.
pub fn audit(
    tx: &Transaction<'_>,
    from: i64,
    to: i64,
    accounts: i64,
    per_tenant: i64,
    now: Timestamp,
) -> Result<usize, Error> {
    let sql = "WITH RECURSIVE n(i) AS (SELECT :from UNION ALL SELECT i + 1 FROM n WHERE i < :to)
        INSERT INTO audit_log (id, at, actor_type, actor_id, tenant_id, action, target_type, target_id, ip, user_agent)
        SELECT printf('00000000-0000-4000-c000-%012x', i), :now - :to + i, 'user',
               printf('00000000-0000-4000-9000-%012x', (i - 1) % :accounts + 1),
               printf('00000000-0000-4000-8000-%012x', ((i - 1) % :accounts) / :per + 1),
               'auth.login', 'account', printf('00000000-0000-4000-9000-%012x', (i - 1) % :accounts + 1),
               '127.0.0.1', 'keystead bench-seed'
        FROM n";
    Ok(tx.execute(
        sql,
        named_params! { ":from": from, ":to": to, ":accounts": accounts, ":per": per_tenant, ":now": now },
    )?)
}
