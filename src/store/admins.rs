//! `admins`: operator accounts, a realm apart from portal accounts.
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use crate::error::Error;
use crate::types::{AdminId, AdminStatus, Email, Timestamp};

/// No `Debug`: the row carries the password hash.
pub struct AdminRow {
    pub id: AdminId,
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub status: AdminStatus,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, email, name, password_hash, status, created_at, last_login_at";

impl AdminRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            email: r.get(1)?,
            name: r.get(2)?,
            password_hash: r.get(3)?,
            status: r.get(4)?,
            created_at: r.get(5)?,
            last_login_at: r.get(6)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.created_at.unix(), id: self.id.to_string() }
    }
}

/// Fails with a UNIQUE violation when the email is taken.
pub fn insert(tx: &Transaction<'_>, a: &AdminRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO admins (id, email, name, password_hash, status, created_at, updated_at)
         VALUES (:id, :email, :name, :hash, :status, :now, :now)",
    )?
    .execute(named_params! {
        ":id": a.id, ":email": a.email, ":name": a.name, ":hash": a.password_hash, ":status": a.status, ":now": a.created_at,
    })?;
    Ok(())
}

pub fn get(conn: &Connection, id: AdminId) -> Result<Option<AdminRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM admins WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], AdminRow::from_row).optional()?)
}

pub fn find_by_email(conn: &Connection, email: &Email) -> Result<Option<AdminRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM admins WHERE email = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([email], AdminRow::from_row).optional()?)
}

pub fn record_login(tx: &Transaction<'_>, id: AdminId, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE admins SET last_login_at = ?2 WHERE id = ?1")?.execute(rusqlite::params![id, now])?;
    Ok(())
}

/// A rehash on login: replaces the hash only if it is still `old`, the one that was checked.
pub fn replace_password_hash(
    tx: &Transaction<'_>,
    id: AdminId,
    old: &str,
    hash: &str,
    now: Timestamp,
) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE admins SET password_hash = :hash, updated_at = :now WHERE id = :id AND password_hash = :old",
    )?
    .execute(named_params! { ":id": id, ":old": old, ":hash": hash, ":now": now })?;
    Ok(())
}

/// Operators newest first.
pub fn list(conn: &Connection, page: &Page) -> Result<Vec<AdminRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM admins WHERE (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"
    );
    let (before_at, before_id) = page.before();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![before_at, before_id, page.fetch()], AdminRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn count_active(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.prepare_cached("SELECT COUNT(*) FROM admins WHERE status = 'active'")?.query_row([], |r| r.get(0))?)
}

pub fn set_status(tx: &Transaction<'_>, id: AdminId, status: AdminStatus, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached("UPDATE admins SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, status, now])?;
    Ok(())
}
