//! `portal_users`: one account per person (email), across tenants.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use super::search;
use crate::error::Error;
use crate::types::{AccountStatus, Email, TenantId, Timestamp, UserId};

/// No `Debug`: the row carries the password hash.
pub struct AccountRow {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<Timestamp>,
    pub status: AccountStatus,
    pub last_tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
    /// Whether a sign-in from a new device or network sends a notice.
    pub new_device_notices: bool,
}

pub(crate) const COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.email_verified_at, u.status, \
    u.last_tenant_id, u.created_at, u.last_login_at, u.new_device_notices";

impl AccountRow {
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            email: r.get(at + 1)?,
            name: r.get(at + 2)?,
            password_hash: r.get(at + 3)?,
            email_verified_at: r.get(at + 4)?,
            status: r.get(at + 5)?,
            last_tenant_id: r.get(at + 6)?,
            created_at: r.get(at + 7)?,
            last_login_at: r.get(at + 8)?,
            new_device_notices: r.get(at + 9)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

pub struct NewAccount<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
}

/// Fails with a UNIQUE violation when the email has an account.
pub fn insert(tx: &Transaction<'_>, a: &NewAccount<'_>, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO portal_users (id, email, name, password_hash, status, created_at, updated_at)
         VALUES (:id, :email, :name, :hash, 'active', :now, :now)",
    )?
    .execute(
        named_params! { ":id": a.id, ":email": a.email, ":name": a.name, ":hash": a.password_hash, ":now": now },
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: UserId) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM portal_users u WHERE u.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| AccountRow::from_row_at(r, 0)).optional()?)
}

pub fn find_by_email(conn: &Connection, email: &Email) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM portal_users u WHERE u.email = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([email], |r| AccountRow::from_row_at(r, 0)).optional()?)
}

pub fn record_login(tx: &Transaction<'_>, id: UserId, tenant: TenantId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET last_login_at = :now, last_tenant_id = :tenant WHERE id = :id")?
        .execute(named_params! { ":id": id, ":tenant": tenant, ":now": now })?;
    Ok(())
}

pub fn set_last_tenant(tx: &Transaction<'_>, id: UserId, tenant: TenantId) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET last_tenant_id = ?2 WHERE id = ?1")?
        .execute(rusqlite::params![id, tenant])?;
    Ok(())
}

pub fn set_password_hash(tx: &Transaction<'_>, id: UserId, hash: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET password_hash = :hash, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":hash": hash, ":now": now })?;
    Ok(())
}

/// Replaces the hash only if it is still `old` (a rehash on login must not undo a password
/// change that committed meanwhile); whether it did.
pub fn replace_password_hash(
    tx: &Transaction<'_>,
    id: UserId,
    old: &str,
    hash: &str,
    now: Timestamp,
) -> Result<bool, Error> {
    let n = tx
        .prepare_cached(
            "UPDATE portal_users SET password_hash = :hash, updated_at = :now WHERE id = :id AND password_hash = :old",
        )?
        .execute(named_params! { ":id": id, ":old": old, ":hash": hash, ":now": now })?;
    Ok(n == 1)
}

pub fn set_name(tx: &Transaction<'_>, id: UserId, name: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET name = :name, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":name": name, ":now": now })?;
    Ok(())
}

pub fn set_new_device_notices(tx: &Transaction<'_>, id: UserId, on: bool, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET new_device_notices = :on, updated_at = :now WHERE id = :id")?
        .execute(named_params! { ":id": id, ":on": on, ":now": now })?;
    Ok(())
}

/// Marks the address verified (keeping the first time it was).
pub fn mark_email_verified(tx: &Transaction<'_>, id: UserId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE portal_users SET email_verified_at = COALESCE(email_verified_at, :now), updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":now": now })?;
    Ok(())
}

/// Switches the address, verified as of now. Fails with a UNIQUE violation when it is taken.
pub fn set_email(tx: &Transaction<'_>, id: UserId, email: &Email, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE portal_users SET email = :email, email_verified_at = :now, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":email": email, ":now": now })?;
    Ok(())
}

pub fn set_status(tx: &Transaction<'_>, id: UserId, status: AccountStatus, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE portal_users SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, status, now])?;
    Ok(())
}

/// Accounts newest first, optionally in one status, matching `q` (lower-case) in the email
/// or name, and with a membership (of any status) in one tenant. Filters are written only
/// when given: the status one can then use `portal_users_by_status`, the tenant one starts
/// from that tenant's memberships instead of walking every account, and a rare `q` reads
/// only the rows its index found (see `search`).
pub fn list(
    conn: &Connection,
    status: Option<AccountStatus>,
    q: Option<&str>,
    tenant: Option<TenantId>,
    page: &Page,
) -> Result<Vec<AccountRow>, Error> {
    let rare = search::rare_rows(conn, search::Index::Accounts, q)?;
    let sql = list_sql(status.is_some(), tenant.is_some(), rare.is_some());
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = rusqlite::params![status, q, tenant, rare, before_at, before_id, page.fetch()];
    let rows = stmt.query_map(params, |r| AccountRow::from_row_at(r, 0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Numbered parameters let a variant leave ?1, ?3 or ?4 unused.
fn list_sql(status: bool, tenant: bool, rare: bool) -> String {
    let status_clause = if status { "u.status = ?1" } else { "1" };
    // Where the query starts, held with CROSS JOIN: a rare q from the rows its index found,
    // else a tenant filter from that tenant's memberships (then sorted), else the accounts'
    // time index newest first. Left to itself, SQLite would rather walk
    // `portal_users_by_status` (every active account) and look each up in the smaller set.
    let from = match (rare, tenant) {
        (true, false) => "json_each(?4) f CROSS JOIN portal_users u ON u.rowid = f.value",
        (true, true) => {
            "json_each(?4) f CROSS JOIN portal_users u ON u.rowid = f.value
             CROSS JOIN memberships m ON m.user_id = u.id AND m.tenant_id = ?3"
        }
        (false, true) => "memberships m CROSS JOIN portal_users u ON u.id = m.user_id AND m.tenant_id = ?3",
        (false, false) => "portal_users u",
    };
    format!(
        "SELECT {COLUMNS} FROM {from}
         WHERE {status_clause} AND (?2 IS NULL OR instr(u.email, ?2) > 0 OR instr(lower(u.name), ?2) > 0)
           AND (u.created_at, u.id) < (?5, ?6)
         ORDER BY u.created_at DESC, u.id DESC LIMIT ?7"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrated_in_memory;
    use crate::store::search::{Index, testing};

    const TENANT: &str = "00000000-0000-4000-8000-00000000000a";

    /// Issue 10 item 5: a rehash on login must not overwrite a password changed since the
    /// login read the old hash.
    #[test]
    fn a_rehash_replaces_only_the_hash_it_read() -> Result<(), Error> {
        let mut conn = migrated_in_memory()?;
        let tx = conn.transaction()?;
        let (id, now) = (UserId::random(), Timestamp::from_unix(1));
        let email = Email::parse("email", "ann@example.test")?;
        insert(&tx, &NewAccount { id, email: &email, name: "Ann", password_hash: Some("read") }, now)?;
        set_password_hash(&tx, id, "changed meanwhile", now)?;
        assert!(!replace_password_hash(&tx, id, "read", "rehashed", now)?);
        assert_eq!(get(&tx, id)?.and_then(|a| a.password_hash).as_deref(), Some("changed meanwhile"));
        assert!(replace_password_hash(&tx, id, "changed meanwhile", "rehashed", now)?);
        assert_eq!(get(&tx, id)?.and_then(|a| a.password_hash).as_deref(), Some("rehashed"));
        Ok(())
    }

    /// `testing::ROWS` accounts `user{i}@example.test`, one in seven disabled and one in
    /// seven deleted; those whose number ends in 0 or 5 are members of `TENANT`.
    fn seeded() -> Result<Connection, Error> {
        let conn = migrated_in_memory()?;
        conn.execute_batch(&format!(
            "INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ('{TENANT}', 'a', 'A', 0, 0);
             {} INSERT INTO portal_users (id, email, name, status, created_at, updated_at)
                SELECT id, 'user' || i || '@example.test', name,
                       CASE i % 7 WHEN 0 THEN 'disabled' WHEN 1 THEN 'deleted' ELSE 'active' END, at, at
                FROM rows;
             INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at)
                SELECT '{TENANT}', id, 'member', 'active', 0, 0 FROM portal_users WHERE email GLOB '*[05]@*';",
            testing::rows_cte()
        ))?;
        Ok(conn)
    }

    /// The rule as it was before the index, written another way: `instr` on every account.
    fn scan(
        conn: &Connection,
        status: Option<AccountStatus>,
        tenant: Option<TenantId>,
        q: &str,
    ) -> Result<Vec<Cursor>, Error> {
        let mut stmt = conn.prepare(
            "SELECT u.created_at, u.id FROM portal_users u
             WHERE (instr(u.email, ?1) > 0 OR instr(lower(u.name), ?1) > 0) AND (?2 IS NULL OR u.status = ?2)
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = ?3))
             ORDER BY u.created_at DESC, u.id DESC",
        )?;
        let rows =
            stmt.query_map(rusqlite::params![q, status, tenant], |r| Ok(Cursor { at: r.get(0)?, id: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn emails(conn: &Connection, q: &str) -> Result<Vec<String>, Error> {
        let rows = list(conn, None, Some(q), None, &Page::default())?;
        Ok(rows.into_iter().map(|a| a.email.to_string()).collect())
    }

    #[test]
    fn a_search_finds_what_a_scan_finds_on_every_page() -> Result<(), Error> {
        let conn = seeded()?;
        // "example" is in every account, "user1" in 1,111.
        let terms =
            testing::terms(&conn, Index::Accounts, "example", "user1", &["user4242@", "@example.tesx", "user5"])?;
        for status in [None, Some(AccountStatus::Active), Some(AccountStatus::Disabled)] {
            for tenant in [None, Some(TENANT.parse()?)] {
                testing::assert_pages_match_scan(
                    &format!("status {status:?}, tenant {tenant:?}"),
                    &terms,
                    &|q, page| Ok(list(&conn, status, Some(q), tenant, page)?.iter().map(AccountRow::cursor).collect()),
                    &|q| scan(&conn, status, tenant, q),
                )?;
            }
        }
        Ok(())
    }

    #[test]
    fn renames_email_changes_and_deletions_reach_the_index() -> Result<(), Error> {
        let mut conn = seeded()?;
        let id = |conn: &Connection, email: &str| -> Result<UserId, Error> {
            Ok(conn.query_row("SELECT id FROM portal_users WHERE email = ?1", [email], |r| r.get(0))?)
        };
        let (renamed, moved) = (id(&conn, "user4241@example.test")?, id(&conn, "user4243@example.test")?);
        let tx = conn.transaction()?;
        set_name(&tx, renamed, "Zebulon Quux", Timestamp::from_unix(9))?;
        set_email(&tx, moved, &Email::parse("email", "moved@elsewhere.test")?, Timestamp::from_unix(9))?;
        tx.execute("DELETE FROM portal_users WHERE email = 'user4242@example.test'", [])?;
        tx.commit()?;

        assert_eq!(emails(&conn, "zebulon quux")?, ["user4241@example.test"]);
        assert_eq!(emails(&conn, "moved@elsewhere")?, ["moved@elsewhere.test"]);
        assert!(emails(&conn, "user4243@")?.is_empty(), "the old address is gone");
        assert!(emails(&conn, "user4242@")?.is_empty(), "deleted");
        testing::assert_in_step(&conn, Index::Accounts)
    }

    /// A rare term reads the rows the index found, whatever the filters.
    #[test]
    fn a_rare_term_reads_only_the_rows_found() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        for (status, tenant) in [(false, false), (true, false), (false, true), (true, true)] {
            testing::assert_reads_found_rows(&conn, &list_sql(status, tenant, true), "u")?;
        }
        Ok(())
    }

    /// Without a rare term, a tenant filter reads that tenant's members only, with or
    /// without a status (which SQLite would rather walk: every active account).
    #[test]
    fn a_tenant_filter_reads_only_its_members() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        for status in [false, true] {
            let plan = crate::store::query_plan(&conn, &list_sql(status, true, false))?;
            assert_eq!(
                plan[0], "SEARCH m USING COVERING INDEX memberships_by_tenant_created (tenant_id=?)",
                "{plan:?}"
            );
            assert!(!plan.iter().any(|step| step.starts_with("SCAN")), "{plan:?}");
        }
        Ok(())
    }
}
