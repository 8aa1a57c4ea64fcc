//! How the pages' lists show: the "next page" link (keyset cursor, filters and page size
//! kept), the options of a filter, and timestamps. No rule of the product: statuses and
//! allowed actions come from core.
use crate::store::page::Page;
use crate::types::Timestamp;

/// A `<select>`'s options: each value, and whether it is the one chosen.
pub fn options(all: &[&'static str], chosen: Option<&str>) -> Vec<(&'static str, bool)> {
    all.iter().map(|v| (*v, Some(*v) == chosen)).collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_the_filters_and_escapes_them() {
        let filters = [("q", "a b&c"), ("status", "")];
        assert_eq!(next_link("/admin/x", &Page::default(), None, &filters), None);
        assert_eq!(
            next_link("/admin/x", &Page::default(), Some("k/1".into()), &filters).as_deref(),
            Some("/admin/x?q=a+b%26c&cursor=k%2F1")
        );
    }
}
