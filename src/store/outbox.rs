//! `outbox`: mail waiting for (or done with) delivery. Only the listing operators see is
//! here on this branch; the writer and the delivery worker live with the mail code.
use rusqlite::{Connection, Row};

use super::page::{Cursor, Page};
use crate::error::Error;
use crate::types::Timestamp;

/// A message as operators list it: never its body, which may carry a single-use link.
pub struct OutboxRow {
    pub seq: i64,
    pub id: String,
    pub to_addr: String,
    pub subject: String,
    pub kind: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl OutboxRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: r.get(0)?,
            id: r.get(1)?,
            to_addr: r.get(2)?,
            subject: r.get(3)?,
            kind: r.get(4)?,
            created_at: r.get(5)?,
            sent_at: r.get(6)?,
            attempts: r.get(7)?,
            last_error: r.get(8)?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.seq, id: self.id.clone() }
    }
}

/// Messages newest first, by `seq` (its UNIQUE index serves the keyset).
pub fn list(conn: &Connection, page: &Page) -> Result<Vec<OutboxRow>, Error> {
    let before = page.after.as_ref().map_or(i64::MAX, |c| c.at);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, to_addr, subject, kind, created_at, sent_at, attempts, last_error
         FROM outbox WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![before, page.fetch()], OutboxRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
