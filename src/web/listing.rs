//! How the pages' lists show: the "next page" link (keyset cursor, filters and page size
//! kept), the options of a filter, and timestamps. No rule of the product: statuses and
//! allowed actions come from core.
use crate::store::page::Page;
use crate::types::Timestamp;

/// A `<select>`'s options: each value, and whether it is the one chosen.
pub fn options(all: &[&'static str], chosen: Option<&str>) -> Vec<(&'static str, bool)> {
    all.iter().map(|v| (*v, Some(*v) == chosen)).collect()
}

/// A timestamp as a page shows it: `<time datetime="2026-12-03T15:50:00Z">3 Dec 2026,
/// 15:50</time>` (UTC), or the text for its absence. Every page prints its times through
/// this one type (`{{ field }}`), so none formats a date its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    at: Option<Timestamp>,
    none: &'static str,
}

/// A timestamp shown on a page.
pub fn when(t: Timestamp) -> When {
    When { at: Some(t), none: "" }
}

/// An optional timestamp; `none` when absent ("never", "–").
pub fn maybe(t: Option<Timestamp>, none: &'static str) -> When {
    When { at: t, none }
}

/// "3 Dec 2026, 15:50": how people read a time (UTC, to the minute).
pub fn human(t: Timestamp) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(t.unix()).ok().and_then(|t| t.format(FORMAT).ok()).unwrap_or_default()
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            // Digits, month names and punctuation only: nothing to escape.
            Some(t) => write!(f, "<time datetime=\"{}\">{}</time>", t.rfc3339(), human(t)),
            None => f.write_str(
                &askama::filters::escape(self.none, askama::filters::Html).map_err(|_| std::fmt::Error)?.to_string(),
            ),
        }
    }
}

/// What `When` writes is markup of its own making, so askama must not escape it again.
impl askama::filters::HtmlSafe for When {}

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
    fn times_read_as_people_read_them_inside_a_time_element() {
        // 2026-12-03T15:50:07Z
        let t = Timestamp::from_unix(1_796_313_007);
        assert_eq!(human(t), "3 Dec 2026, 15:50");
        assert_eq!(when(t).to_string(), r#"<time datetime="2026-12-03T15:50:07Z">3 Dec 2026, 15:50</time>"#);
        assert_eq!(human(Timestamp::from_unix(0)), "1 Jan 1970, 00:00");
        assert_eq!(maybe(None, "never").to_string(), "never");
        assert_eq!(maybe(Some(t), "never").to_string(), when(t).to_string());
    }

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
