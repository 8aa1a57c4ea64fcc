//! `outbox`: every email, written in the transaction of the change that causes it,
//! delivered later by the sender thread (`mail`), and listed to operators.
use rusqlite::{Connection, Row, Transaction, named_params};

use super::page::{Cursor, Page};
use crate::crypto::secret::TokenHash;
use crate::error::Error;
use crate::types::Timestamp;

pub struct NewMessage<'a> {
    pub id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub kind: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub token_hash: Option<TokenHash>,
}

pub fn insert(tx: &Transaction<'_>, m: &NewMessage<'_>, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO outbox (id, seq, to_addr, subject, kind, body_text, body_html, token_hash, created_at, next_attempt_at)
         VALUES (:id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), :to, :subject, :kind, :text, :html, :token, :now, :now)",
    )?
    .execute(named_params! {
        ":id": m.id, ":to": m.to, ":subject": m.subject, ":kind": m.kind, ":text": m.body_text,
        ":html": m.body_html, ":token": m.token_hash, ":now": now,
    })?;
    Ok(())
}

/// A message as the sender needs it.
pub struct PendingRow {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
}

impl PendingRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            to: r.get(1)?,
            subject: r.get(2)?,
            body_text: r.get(3)?,
            body_html: r.get(4)?,
            attempts: r.get(5)?,
        })
    }
}

/// Messages due for a (first or further) delivery attempt, oldest first.
pub fn due(conn: &Connection, now: Timestamp, max_attempts: i64, limit: i64) -> Result<Vec<PendingRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, to_addr, subject, body_text, body_html, attempts FROM outbox
         WHERE sent_at IS NULL AND scrubbed_at IS NULL AND next_attempt_at <= :now AND attempts < :max
         ORDER BY next_attempt_at, seq LIMIT :limit",
    )?;
    let rows =
        stmt.query_map(named_params! { ":now": now, ":max": max_attempts, ":limit": limit }, PendingRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records a delivery, replacing the bodies with their scrubbed versions.
pub fn mark_sent(tx: &Transaction<'_>, id: &str, text: &str, html: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE outbox SET sent_at = :now, scrubbed_at = :now, attempts = attempts + 1, last_error = NULL,
                           body_text = :text, body_html = :html
         WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":text": text, ":html": html, ":now": now })?;
    Ok(())
}

pub fn mark_failed(tx: &Transaction<'_>, id: &str, error: &str, next_attempt_at: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = :error, next_attempt_at = :next WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":error": error, ":next": next_attempt_at })?;
    Ok(())
}

/// A body whose link must go.
pub struct ToScrub {
    pub id: String,
    pub body_text: String,
    pub body_html: String,
}

fn to_scrub(r: &Row<'_>) -> rusqlite::Result<ToScrub> {
    Ok(ToScrub { id: r.get(0)?, body_text: r.get(1)?, body_html: r.get(2)? })
}

/// Unscrubbed messages carrying the link of this token.
pub fn unscrubbed_for_token(conn: &Connection, hash: &TokenHash) -> Result<Vec<ToScrub>, Error> {
    let mut stmt = conn
        .prepare_cached("SELECT id, body_text, body_html FROM outbox WHERE token_hash = ?1 AND scrubbed_at IS NULL")?;
    let rows = stmt.query_map([hash], to_scrub)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Unscrubbed messages whose token is used, expired or superseded by `now`.
pub fn unscrubbed_with_dead_token(conn: &Connection, now: Timestamp, limit: i64) -> Result<Vec<ToScrub>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.body_text, o.body_html FROM outbox o JOIN tokens t ON t.hash = o.token_hash
         WHERE o.scrubbed_at IS NULL AND o.token_hash IS NOT NULL AND (t.used_at IS NOT NULL OR t.expires_at <= ?1)
         LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![now, limit], to_scrub)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores scrubbed bodies; a message not yet delivered then will never be, and says why.
pub fn set_scrubbed(tx: &Transaction<'_>, id: &str, text: &str, html: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE outbox SET body_text = :text, body_html = :html, scrubbed_at = :now,
                           last_error = CASE WHEN sent_at IS NULL THEN 'not sent: its link was used or expired first'
                                             ELSE last_error END
         WHERE id = :id AND scrubbed_at IS NULL",
    )?
    .execute(named_params! { ":id": id, ":text": text, ":html": html, ":now": now })?;
    Ok(())
}

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

/// Deletes at most `limit` messages done with (delivered, or scrubbed before they could
/// be) before `before`; returns how many.
pub fn delete_done(tx: &Transaction<'_>, before: Timestamp, limit: i64) -> Result<usize, Error> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox WHERE scrubbed_at IS NOT NULL AND scrubbed_at < ?1 LIMIT ?2)",
        )?
        .execute(rusqlite::params![before, limit])?)
}
