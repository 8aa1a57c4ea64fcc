//! `tenants`.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use super::search;
use super::sessions::LIVE;
use crate::error::Error;
use crate::types::{TenantId, TenantStatus, Timestamp, UserId};

pub struct TenantRow {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    pub max_seats: Option<i64>,
    pub has_provider_key: bool,
    pub provider_key_hint: Option<String>,
    pub created_at: Timestamp,
    /// The owner's policy: every member needs a second factor.
    pub require_mfa: bool,
}

pub(crate) const COLUMNS: &str = "t.id, t.slug, t.name, t.status, t.plan, t.max_seats, \
    t.provider_key IS NOT NULL, t.provider_key_hint, t.created_at, t.require_mfa";

impl TenantRow {
    /// Reads the columns of `COLUMNS` starting at `at`.
    pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            slug: r.get(at + 1)?,
            name: r.get(at + 2)?,
            status: r.get(at + 3)?,
            plan: r.get(at + 4)?,
            max_seats: r.get(at + 5)?,
            has_provider_key: r.get(at + 6)?,
            provider_key_hint: r.get(at + 7)?,
            created_at: r.get(at + 8)?,
            require_mfa: r.get(at + 9)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

pub struct NewTenant<'a> {
    pub id: TenantId,
    pub slug: &'a str,
    pub name: &'a str,
    pub plan: &'a str,
    pub max_seats: Option<i64>,
}

/// Fails with a UNIQUE violation when the slug is taken; callers decide what that means.
pub fn insert(tx: &Transaction<'_>, t: &NewTenant<'_>, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tenants (id, slug, name, status, plan, max_seats, created_at, updated_at)
         VALUES (:id, :slug, :name, 'active', :plan, :max_seats, :now, :now)",
    )?
    .execute(named_params! {
        ":id": t.id, ":slug": t.slug, ":name": t.name, ":plan": t.plan, ":max_seats": t.max_seats, ":now": now,
    })?;
    Ok(())
}

pub fn get(conn: &Connection, id: TenantId) -> Result<Option<TenantRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM tenants t WHERE t.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| TenantRow::from_row_at(r, 0)).optional()?)
}

/// Whether the tenant's owner requires every member to hold a second factor.
pub fn requires_mfa(conn: &Connection, id: TenantId) -> Result<bool, Error> {
    let found = conn.prepare_cached("SELECT require_mfa FROM tenants WHERE id = ?1")?.query_row([id], |r| r.get(0));
    Ok(found.optional()?.unwrap_or(false))
}

/// Whether any tenant the account is an active member of requires a second factor.
pub fn any_requires_mfa(conn: &Connection, user: UserId) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id
             WHERE m.user_id = ?1 AND m.status = 'active' AND t.require_mfa = 1)",
        )?
        .query_row([user], |r| r.get(0))?)
}

pub fn set_requires_mfa(tx: &rusqlite::Transaction<'_>, id: TenantId, on: bool, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE tenants SET require_mfa = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, on, now])?;
    Ok(())
}

/// Stores (or, with None, clears) the sealed provider key and its hint.
pub fn set_provider_key(
    tx: &Transaction<'_>,
    id: TenantId,
    sealed: Option<&[u8]>,
    hint: Option<&str>,
    now: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE tenants SET provider_key = :sealed, provider_key_hint = :hint, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":sealed": sealed, ":hint": hint, ":now": now })?;
    Ok(())
}

/// Tenants newest first, optionally in one status and matching `q` (lower-case) anywhere
/// in the name or slug. The status filter is only written when given, so that it can use
/// `tenants_by_status`; a rare `q` reads only the rows its index found (see `search`).
pub fn list(
    conn: &Connection,
    status: Option<TenantStatus>,
    q: Option<&str>,
    page: &Page,
) -> Result<Vec<TenantRow>, Error> {
    let rare = search::rare_rows(conn, search::Index::Tenants, q)?;
    let sql = list_sql(status.is_some(), rare.is_some());
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = rusqlite::params![status, q, rare, before_at, before_id, page.fetch()];
    let rows = stmt.query_map(params, |r| TenantRow::from_row_at(r, 0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Numbered parameters let a variant leave ?1 or ?3 unused.
fn list_sql(status: bool, rare: bool) -> String {
    let status_clause = if status { "t.status = ?1" } else { "1" };
    // A rare q starts from the rows its index found: CROSS JOIN keeps that order, where
    // SQLite would rather walk `tenants_by_status` and look each up in the list.
    let from = if rare { "json_each(?3) f CROSS JOIN tenants t ON t.rowid = f.value" } else { "tenants t" };
    format!(
        "SELECT {COLUMNS} FROM {from}
         WHERE {status_clause}
           AND (?2 IS NULL OR instr(lower(t.name), ?2) > 0 OR instr(t.slug, ?2) > 0)
           AND (t.created_at, t.id) < (?4, ?5)
         ORDER BY t.created_at DESC, t.id DESC LIMIT ?6"
    )
}

pub fn update(tx: &Transaction<'_>, t: &TenantRow, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE tenants SET name = :name, plan = :plan, max_seats = :max_seats, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! { ":id": t.id, ":name": t.name, ":plan": t.plan, ":max_seats": t.max_seats, ":now": now })?;
    Ok(())
}

pub fn set_status(tx: &Transaction<'_>, id: TenantId, status: TenantStatus, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE tenants SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, status, now])?;
    Ok(())
}

/// What an operator sees at a glance: members (active or invited), live keys, live sessions.
pub struct TenantCounts {
    pub users: i64,
    pub keys: i64,
    pub sessions: i64,
}

pub fn counts(conn: &Connection, id: TenantId, now: Timestamp) -> Result<TenantCounts, Error> {
    let sql = format!(
        "SELECT
           (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = :id AND m.status IN ('active', 'invited')),
           (SELECT COUNT(*) FROM keys k WHERE k.tenant_id = :id AND k.revoked_at IS NULL
                                          AND (k.expires_at IS NULL OR k.expires_at > :now)),
           (SELECT COUNT(*) FROM sessions s WHERE s.tenant_id = :id AND {LIVE})"
    );
    let counts = conn.prepare_cached(&sql)?.query_row(named_params! { ":id": id, ":now": now }, |r| {
        Ok(TenantCounts { users: r.get(0)?, keys: r.get(1)?, sessions: r.get(2)? })
    })?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrated_in_memory;
    use crate::store::search::{Index, testing};

    /// `testing::ROWS` tenants `tenant-{i}`, one in five suspended.
    fn seeded() -> Result<Connection, Error> {
        let conn = migrated_in_memory()?;
        conn.execute_batch(&format!(
            "{} INSERT INTO tenants (id, slug, name, status, created_at, updated_at)
                SELECT id, 'tenant-' || i, name, CASE i % 5 WHEN 0 THEN 'suspended' ELSE 'active' END, at, at FROM rows;",
            testing::rows_cte()
        ))?;
        Ok(conn)
    }

    /// The rule as it was before the index: `instr` on every tenant.
    fn scan(conn: &Connection, status: Option<TenantStatus>, q: &str) -> Result<Vec<Cursor>, Error> {
        let mut stmt = conn.prepare(
            "SELECT created_at, id FROM tenants WHERE (instr(lower(name), ?1) > 0 OR instr(slug, ?1) > 0)
               AND (?2 IS NULL OR status = ?2) ORDER BY created_at DESC, id DESC",
        )?;
        let rows = stmt.query_map(rusqlite::params![q, status], |r| Ok(Cursor { at: r.get(0)?, id: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    #[test]
    fn a_search_finds_what_a_scan_finds_on_every_page() -> Result<(), Error> {
        let conn = seeded()?;
        // "tenant-" is in every slug, "tenant-1" in 1,111.
        let terms = testing::terms(&conn, Index::Tenants, "tenant-", "tenant-1", &["tenant-4242", "nt-55"])?;
        for status in [None, Some(TenantStatus::Active), Some(TenantStatus::Suspended)] {
            testing::assert_pages_match_scan(
                &format!("status {status:?}"),
                &terms,
                &|q, page| Ok(list(&conn, status, Some(q), page)?.iter().map(TenantRow::cursor).collect()),
                &|q| scan(&conn, status, q),
            )?;
        }
        Ok(())
    }

    #[test]
    fn a_renamed_tenant_is_found_by_its_new_name_only() -> Result<(), Error> {
        let mut conn = seeded()?;
        let names = |conn: &Connection, q: &str| -> Result<Vec<String>, Error> {
            Ok(list(conn, None, Some(q), &Page::default())?.into_iter().map(|t| t.slug).collect())
        };
        let id: TenantId = conn.query_row("SELECT id FROM tenants WHERE slug = 'tenant-4241'", [], |r| r.get(0))?;
        let mut tenant = get(&conn, id)?.ok_or(Error::NotFound)?;
        tenant.name = "Quuxcorp Holdings".into();
        let tx = conn.transaction()?;
        update(&tx, &tenant, Timestamp::from_unix(9))?;
        tx.execute("DELETE FROM tenants WHERE slug = 'tenant-4242'", [])?;
        tx.commit()?;

        assert_eq!(names(&conn, "quuxcorp")?, ["tenant-4241"]);
        assert!(names(&conn, "tenant-4242")?.is_empty(), "deleted");
        testing::assert_in_step(&conn, Index::Tenants)
    }

    /// A rare term reads the rows the index found, with or without a status.
    #[test]
    fn a_rare_term_reads_only_the_rows_found() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        for status in [false, true] {
            testing::assert_reads_found_rows(&conn, &list_sql(status, true), "t")?;
        }
        Ok(())
    }
}
