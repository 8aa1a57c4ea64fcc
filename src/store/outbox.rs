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
    /// Without its link when `sealed_body` holds it.
    pub body_text: &'a str,
    pub body_html: &'a str,
    /// The bodies as sent, sealed under the master key (letters carrying a link).
    pub sealed_body: Option<Vec<u8>>,
    pub token_hash: Option<TokenHash>,
}

pub fn insert(tx: &Transaction<'_>, m: &NewMessage<'_>, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO outbox (id, seq, to_addr, subject, kind, body_text, body_html, sealed_body, token_hash,
                             created_at, next_attempt_at)
         VALUES (:id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), :to, :subject, :kind, :text, :html, :sealed,
                 :token, :now, :now)",
    )?
    .execute(named_params! {
        ":id": m.id, ":to": m.to, ":subject": m.subject, ":kind": m.kind, ":text": m.body_text,
        ":html": m.body_html, ":sealed": m.sealed_body, ":token": m.token_hash, ":now": now,
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
    pub sealed_body: Option<Vec<u8>>,
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
            sealed_body: r.get(5)?,
            attempts: r.get(6)?,
        })
    }
}

/// Messages due for a (first or further) delivery attempt, oldest first.
pub fn due(conn: &Connection, now: Timestamp, max_attempts: i64, limit: i64) -> Result<Vec<PendingRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, to_addr, subject, body_text, body_html, sealed_body, attempts FROM outbox
         WHERE sent_at IS NULL AND scrubbed_at IS NULL AND next_attempt_at <= :now AND attempts < :max
         ORDER BY next_attempt_at, seq LIMIT :limit",
    )?;
    let rows =
        stmt.query_map(named_params! { ":now": now, ":max": max_attempts, ":limit": limit }, PendingRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records a delivery and drops the sealed bodies: the stored ones carry no link.
pub fn mark_sent(tx: &Transaction<'_>, id: &str, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE outbox SET sent_at = :now, scrubbed_at = :now, attempts = attempts + 1, last_error = NULL,
                           sealed_body = NULL
         WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":now": now })?;
    Ok(())
}

pub fn mark_failed(tx: &Transaction<'_>, id: &str, error: &str, next_attempt_at: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = :error, next_attempt_at = :next WHERE id = :id",
    )?
    .execute(named_params! { ":id": id, ":error": error, ":next": next_attempt_at })?;
    Ok(())
}

/// A message stored before bodies were sealed (migration 4) whose link is still live.
pub struct Unsealed {
    pub id: String,
    pub body_text: String,
    pub body_html: String,
}

pub fn unsealed_links(conn: &Connection, limit: i64) -> Result<Vec<Unsealed>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body_text, body_html FROM outbox
         WHERE token_hash IS NOT NULL AND scrubbed_at IS NULL AND sealed_body IS NULL LIMIT ?1",
    )?;
    let rows =
        stmt.query_map([limit], |r| Ok(Unsealed { id: r.get(0)?, body_text: r.get(1)?, body_html: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores a message's bodies as `mail::queue` does today: without the link, and sealed.
pub fn set_sealed(tx: &Transaction<'_>, id: &str, text: &str, html: &str, sealed: &[u8]) -> Result<(), Error> {
    tx.prepare_cached("UPDATE outbox SET body_text = :text, body_html = :html, sealed_body = :sealed WHERE id = :id")?
        .execute(named_params! { ":id": id, ":text": text, ":html": html, ":sealed": sealed })?;
    Ok(())
}

// Scrubbing drops the sealed bodies; a message not yet delivered then never will be, and
// says why.
const SCRUB: &str = "sealed_body = NULL, scrubbed_at = :now,
    last_error = CASE WHEN sent_at IS NULL THEN 'not sent: its link was used or expired first' ELSE last_error END";

/// Scrubs the unscrubbed messages carrying the link of this token.
pub fn scrub_for_token(tx: &Transaction<'_>, hash: &TokenHash, now: Timestamp) -> Result<(), Error> {
    tx.prepare_cached(&format!("UPDATE outbox SET {SCRUB} WHERE token_hash = :hash AND scrubbed_at IS NULL"))?
        .execute(named_params! { ":hash": hash, ":now": now })?;
    Ok(())
}

/// Scrubs up to `limit` unscrubbed messages whose token is used or expired by `now`;
/// returns how many.
pub fn scrub_dead(tx: &Transaction<'_>, now: Timestamp, limit: i64) -> Result<usize, Error> {
    let sql = format!(
        "UPDATE outbox SET {SCRUB} WHERE id IN (
             SELECT o.id FROM outbox o JOIN tokens t ON t.hash = o.token_hash
             WHERE o.scrubbed_at IS NULL AND o.token_hash IS NOT NULL AND (t.used_at IS NOT NULL OR t.expires_at <= :now)
             LIMIT :limit)"
    );
    Ok(tx.prepare_cached(&sql)?.execute(named_params! { ":now": now, ":limit": limit })?)
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
