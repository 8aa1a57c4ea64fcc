//! HTML escaping for markup made outside a template (the dashboard's SVG charts, the
//! operator's mail texts): askama's own escaper, the one every template goes through.
use askama::filters::{Escaper as _, Html};

/// `text` safe inside an HTML or SVG text node or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing into a String cannot fail.
    let _ = Html.write_escaped_str(&mut out, text);
    out
}
