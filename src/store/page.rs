//! Keyset pagination: a page asks for rows after a cursor, newest first by (time, id).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// Where a page starts: strictly after the row with this sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.at, self.id))
    }

    pub fn decode(raw: &str) -> Result<Self, Error> {
        let bad = || Error::field("cursor", "is not a cursor this server gave out");
        let text = URL_SAFE_NO_PAD.decode(raw).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
        let (at, id) = text.split_once('.').ok_or_else(bad)?;
        let valid_id = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        match at.parse() {
            Ok(at) if valid_id => Ok(Self { at, id: id.to_owned() }),
            _ => Err(bad()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

impl Page {
    /// A page from `?limit=` / `--limit` and `?cursor=` / `--cursor`: no limit is the
    /// default, more than the maximum is the maximum, 0, negative or not a number is 400.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n > 0 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                // Digits too many for an i64 are still a number over 200: capped, not refused.
                Err(_) if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) => MAX_LIMIT,
                _ => return Err(Error::field("limit", "must be a positive whole number")),
            },
        };
        Ok(Self { limit, after: cursor.map(Cursor::decode).transpose()? })
    }

    /// The SQL LIMIT: one row more than asked, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }

    /// The sort key bound for `(at, id) < (?, ?)`; past the end of time when there is no cursor.
    pub fn before(&self) -> (i64, String) {
        self.after.as_ref().map_or((i64::MAX, String::new()), |c| (c.at, c.id.clone()))
    }

    /// Cuts the extra row and gives the cursor of the next page, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit);
        let next = rows.last().map(|r| key(r).encode());
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = Cursor { at: 1_700_000_000, id: "0b0d2a4e-1c1f-4f4e-9a9a-000000000001".into() };
        assert_eq!(Cursor::decode(&c.encode()).ok(), Some(c));
        for junk in ["", "!!", "bm9kb3Q", "YWJjLg"] {
            assert!(Cursor::decode(junk).is_err(), "{junk:?}");
        }
    }
}
