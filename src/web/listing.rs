//! Helpers of the operator lists: the "next page" link (keyset cursor, filters kept),
//! the options of a status filter, and how timestamps show.
use crate::types::Timestamp;

/// `path?filters…&cursor=…` when there is a next page; blank filters are left out.
pub fn next_href(path: &str, filters: &[(&str, &str)], cursor: Option<&str>) -> Option<String> {
    let cursor = cursor?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(name, value);
    }
    q.append_pair("cursor", cursor);
    Some(format!("{path}?{}", q.finish()))
}

/// A `<select>`'s options: each value, and whether it is the one chosen.
pub fn options(all: &[&'static str], chosen: Option<&str>) -> Vec<(&'static str, bool)> {
    all.iter().map(|v| (*v, Some(*v) == chosen)).collect()
}

/// A timestamp as shown (RFC 3339), or a dash.
pub fn when(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "–".to_owned(), Timestamp::rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_the_filters_and_escapes_them() {
        assert_eq!(next_href("/admin/x", &[("q", "a b&c"), ("status", "")], None), None);
        assert_eq!(
            next_href("/admin/x", &[("q", "a b&c"), ("status", "")], Some("k/1")).as_deref(),
            Some("/admin/x?q=a+b%26c&cursor=k%2F1")
        );
    }
}
