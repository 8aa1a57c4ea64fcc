//! How portal pages show values: timestamps, optional ones, and the "next page" link.
use crate::store::page::Page;
use crate::types::Timestamp;

/// A timestamp as the API writes it (RFC 3339, UTC).
pub fn when(t: Timestamp) -> String {
    t.rfc3339()
}

/// An optional timestamp; `none` when absent ("never", "—").
pub fn maybe(t: Option<Timestamp>, none: &str) -> String {
    t.map_or_else(|| none.to_owned(), when)
}

/// `path?cursor=…` plus the given query fields (blank ones left out) and the page's
/// `limit` when it is not the default, for a "next" link.
pub fn next_link(path: &str, page: &Page, next_cursor: Option<String>, fields: &[(&str, &str)]) -> Option<String> {
    let cursor = next_cursor?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    if page.limit != Page::default().limit {
        q.append_pair("limit", &page.limit.to_string());
    }
    q.append_pair("cursor", &cursor);
    Some(format!("{path}?{}", q.finish()))
}
