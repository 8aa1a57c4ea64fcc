//! Operator search (`?q=` of the account and tenant lists): which rows can hold a term,
//! found in the trigram indexes of `migrations/0002_search.sql`.
//!
//! A list keeps its exact rule (`instr` over its lower-cased columns) and applies it either
//! to the rows found here, when the term is rare, or to every row while walking its time
//! index newest first, as before the indexes: a common term fills a page after a few rows,
//! and a term under 3 characters has no trigram to look up.
use rusqlite::Connection;

use crate::error::Error;

/// Below this many rows that can hold the term, a list reads just those (by rowid) and
/// sorts them; at this many or more, it walks newest first, which meets a page of evenly
/// spread matches after about `rows × page ÷ matches` rows. At a million accounts, on this
/// project's machines: reading and sorting 5,000 found rows takes about 25 ms, and asking
/// for them costs a common term a few ms before its walk; walking to 50 of 5,000 evenly
/// spread matches takes about 6 ms. The index costs a little more there, but never reads
/// more than this many rows, while a walk past matches that are all old reads every row
/// (about 0.5 s), as it did before the index: this bound keeps that to common terms.
pub const RARE: u32 = 5_000;

#[derive(Debug, Clone, Copy)]
pub enum Index {
    /// `portal_users_search`: email and name.
    Accounts,
    /// `tenants_search`: name and slug.
    Tenants,
}

impl Index {
    fn table(self) -> &'static str {
        match self {
            Index::Accounts => "portal_users_search",
            Index::Tenants => "tenants_search",
        }
    }

    /// At most `RARE` rowids (?2) of rows holding every trigram of the query (?1).
    fn candidates_sql(self) -> String {
        format!("SELECT rowid FROM {0} WHERE {0} MATCH ?1 LIMIT ?2", self.table())
    }
}

/// The rowids of every row that can hold `q` when there are fewer than `RARE`, as a JSON
/// array for `json_each` (so the index is asked once, not again inside the list's query);
/// None when the list should walk: no `q`, a common term, or one trigrams cannot answer.
/// The list reads the rows in a statement of its own: a row that comes to hold the term
/// in between is left out, as if the list had been asked a moment earlier.
pub fn rare_rows(conn: &Connection, index: Index, q: Option<&str>) -> Result<Option<String>, Error> {
    let Some(query) = q.and_then(trigram_query) else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(&index.candidates_sql())?;
    let rowids: Vec<i64> = stmt.query_map(rusqlite::params![query, RARE], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if rowids.len() >= RARE as usize {
        return Ok(None);
    }
    let rowids: Vec<String> = rowids.iter().map(i64::to_string).collect();
    Ok(Some(format!("[{}]", rowids.join(","))))
}

/// `q` as an FTS5 query: each of its trigrams, all required. Each is quoted, so FTS5 reads
/// `"`, `*`, `:`, `(`, `-`, `OR`, `NEAR`… in it as text, never as syntax. The rows found
/// hold every trigram somewhere, a superset of those holding `q` itself, which is all an
/// index needs to be (`detail = 'none'` keeps no positions to say more). The tokenizer
/// folds case in full Unicode, `lower` in ASCII only: that too can only find more.
/// None when trigrams cannot answer: under 3 characters, or a NUL, which the tokenizer
/// skips (in the text too, so it would miss a row where `instr` meets the NUL).
fn trigram_query(q: &str) -> Option<String> {
    let chars: Vec<char> = q.chars().collect();
    if chars.len() < 3 || chars.contains(&'\0') {
        return None;
    }
    let mut trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    trigrams.sort_unstable();
    trigrams.dedup();
    let quoted: Vec<String> = trigrams.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect();
    Some(quoted.join(" AND "))
}

/// What the tests of both lists share: rows on both sides of `RARE`, awkward terms, and
/// the comparison of every page with a plain scan.
#[cfg(test)]
pub(crate) mod testing {
    use rusqlite::Connection;

    use super::Index;
    use crate::error::Error;
    use crate::store::page::{Cursor, Page};

    type Keys = Result<Vec<Cursor>, Error>;

    /// More rows than `RARE`, so a term every row holds takes the walk.
    pub const ROWS: u32 = super::RARE + 500;

    /// Names given to the rows in turn: FTS5 syntax, quotes, LIKE wildcards, non-ASCII.
    const NAMES: &[&str] = &[
        "Ann Smith",
        "O\"Brien Star*Gazer",
        "Col:On (Paren) Dash-Ed",
        "This OR That NEAR ^Caret",
        "100%_Pure",
        "ÉCOLE Zoë",
        "O'Brien",
        "Bob",
    ];

    /// Terms (lower-case, as core passes them) that meet those names: syntax characters
    /// taken literally, under 3 characters, `ÉCOLE` (which `lower` leaves upper-case, so
    /// `école` finds nothing, as before the index), misses and a NUL.
    pub const TERMS: &[&str] = &[
        "smith",
        "o\"brien",
        "\"",
        "\"\"",
        "star*",
        "*gazer",
        "col:on",
        "(paren)",
        "dash-ed",
        " or ",
        "near ^",
        "100%_",
        "%_p",
        "o'brien",
        "école",
        "zoë",
        "ë",
        "zo",
        "sm",
        "a",
        "-",
        "nobody here",
        "a\0b",
        "\0",
    ];

    /// `TERMS`, `common` (which must take the walk), `rare` (which must be read through the
    /// index) and `more`: the terms a list's test compares, on both paths.
    pub fn terms<'a>(
        conn: &Connection,
        index: Index,
        common: &'a str,
        rare: &'a str,
        more: &[&'a str],
    ) -> Result<Vec<&'a str>, Error> {
        assert!(super::rare_rows(conn, index, Some(common))?.is_none(), "{common:?} takes the walk");
        assert!(super::rare_rows(conn, index, Some(rare))?.is_some(), "{rare:?} is read through the index");
        Ok(TERMS.iter().chain([common, rare].iter()).chain(more).copied().collect())
    }

    /// `WITH rows(i, id, name, at)`: `ROWS` rows named from `NAMES` in turn, three a
    /// second (so pages split ties on the id), with ids in no order of `i`.
    pub fn rows_cte() -> String {
        let names: Vec<String> =
            NAMES.iter().enumerate().map(|(k, n)| format!("({k}, '{}')", n.replace('\'', "''"))).collect();
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}),
                  names(k, name) AS (VALUES {}),
                  rows(i, id, name, at) AS (
                    SELECT i, printf('%08x-0000-4000-8000-000000000000', (i * 2654435761) % 4294967296), name,
                           1000 + i / 3
                    FROM n JOIN names ON k = i % {})",
            names.join(", "),
            NAMES.len()
        )
    }

    /// The index holds exactly the trigrams of its table's rows (FTS5's own check).
    pub fn assert_in_step(conn: &Connection, index: Index) -> Result<(), Error> {
        let table = index.table();
        conn.execute(&format!("INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"), [])?;
        Ok(())
    }

    /// A list's query for a rare term starts from the rows found (`f`) and looks each up
    /// by rowid in the table (`alias`), never walking the table or one of its indexes.
    pub fn assert_reads_found_rows(conn: &Connection, sql: &str, alias: &str) -> Result<(), Error> {
        let plan = crate::store::query_plan(conn, sql)?;
        assert!(plan[0].starts_with("SCAN f VIRTUAL TABLE"), "{plan:?}");
        assert_eq!(plan[1], format!("SEARCH {alias} USING INTEGER PRIMARY KEY (rowid=?)"), "{plan:?}");
        assert!(!plan.iter().any(|step| step.starts_with(&format!("SCAN {alias}"))), "{plan:?}");
        Ok(())
    }

    /// The keys of every page of `list`, `limit` rows a page, cursor to cursor.
    fn every_page(limit: usize, list: &dyn Fn(&Page) -> Keys) -> Keys {
        let mut page = Page { limit, after: None };
        let mut keys = Vec::new();
        loop {
            let (rows, next) = page.finish(list(&page)?, Cursor::clone);
            keys.extend(rows);
            match next {
                Some(next) => page.after = Some(Cursor::decode(&next)?),
                None => return Ok(keys),
            }
        }
    }

    /// For every term, all pages of `list` hold exactly what `scan` finds, in its order.
    /// Small pages where there are few matches, so that those cross many cursors too.
    pub fn assert_pages_match_scan(
        filters: &str,
        terms: &[&str],
        list: &dyn Fn(&str, &Page) -> Keys,
        scan: &dyn Fn(&str) -> Keys,
    ) -> Result<(), Error> {
        for term in terms {
            let expected = scan(term)?;
            let limit = if expected.len() > 300 { 200 } else { 3 };
            let found = every_page(limit, &|page| list(term, page))?;
            assert!(found == expected, "{filters}, {term:?}: {} found, {} expected", found.len(), expected.len());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::OptionalExtension as _;

    use super::*;
    use crate::store::{migrated_in_memory, query_plan};

    #[test]
    fn terms_become_quoted_trigrams_and_short_ones_none() {
        assert_eq!(trigram_query("abcd").as_deref(), Some("\"abc\" AND \"bcd\""));
        assert_eq!(trigram_query("a\"b OR").as_deref(), Some("\" OR\" AND \"\"\"b \" AND \"a\"\"b\" AND \"b O\""));
        assert_eq!(trigram_query("aaaaa").as_deref(), Some("\"aaa\""), "each trigram once");
        assert_eq!(trigram_query("zoë").as_deref(), Some("\"zoë\""), "characters, not bytes");
        for short in ["", "ab", "ë!", "a\0bc"] {
            assert_eq!(trigram_query(short), None, "{short:?}");
        }
    }

    /// FTS5 syntax in a term is text: every query the terms make parses and runs.
    #[test]
    fn syntax_in_terms_never_fails_the_query() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        for term in testing::TERMS.iter().chain(&["NEAR(a b)", "a:b*", "^-+", "\"x\" OR \"y\"", "(((", "AND"]) {
            rare_rows(&conn, Index::Accounts, Some(term))?;
            rare_rows(&conn, Index::Tenants, Some(term))?;
        }
        Ok(())
    }

    /// The candidates come from the index: a MATCH constraint handed to FTS5 (`M` in its
    /// plan), not a scan of the index's rows.
    #[test]
    fn candidates_are_an_index_lookup() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        for index in [Index::Accounts, Index::Tenants] {
            let plan = query_plan(&conn, &index.candidates_sql())?;
            assert!(plan.len() == 1 && plan[0].contains("VIRTUAL TABLE INDEX 0:M"), "{index:?}: {plan:?}");
        }
        Ok(())
    }

    /// The index names rows by rowid; `keystead backup` (VACUUM INTO) must keep them, even
    /// with gaps left by deleted rows, or a restored backup would find the wrong rows.
    #[test]
    fn a_backup_keeps_the_index_in_step_with_its_rows() -> Result<(), Error> {
        let conn = migrated_in_memory()?;
        conn.execute_batch(&format!(
            "{} INSERT INTO tenants (id, slug, name, created_at, updated_at)
                SELECT id, 'tenant-' || i, name, at, at FROM rows;
             DELETE FROM tenants WHERE slug GLOB '*0';",
            testing::rows_cte()
        ))?;
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let copy = dir.path().join("copy.db");
        conn.execute("VACUUM INTO ?1", [copy.to_str()])?;
        let copy = Connection::open(copy)?;
        testing::assert_in_step(&copy, Index::Tenants)?;
        let find = |slug: &str| -> Result<Option<String>, Error> {
            let rows = rare_rows(&copy, Index::Tenants, Some(slug))?.unwrap_or_default();
            let sql = "SELECT t.slug FROM tenants t WHERE t.rowid IN (SELECT value FROM json_each(?1)) AND t.slug = ?2";
            Ok(copy.query_row(sql, [rows.as_str(), slug], |r| r.get(0)).optional()?)
        };
        assert_eq!(find("tenant-4001")?.as_deref(), Some("tenant-4001"));
        assert_eq!(find("tenant-4000")?, None, "deleted");
        Ok(())
    }
}
