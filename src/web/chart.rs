//! Bar charts drawn on the server as inline SVG: no script, no style attribute (the CSP's
//! `style-src 'self'` would block one), only presentation attributes and classes that
//! `app.css` colours. Each chart names itself (`<title>`, `<desc>`) for screen readers,
//! and each bar carries its day and value (`data-day`, `data-value`, its own `<title>`).
use std::fmt::Write as _;

use crate::html::escape;
use crate::store::activity::SECS_PER_DAY;
use crate::types::Timestamp;

const WIDTH: i64 = 600;
const HEIGHT: i64 = 160;
/// Room for the labels: the top value on the left, the first and last day below.
const LEFT: i64 = 40;
const BOTTOM: i64 = 20;
const TOP: i64 = 8;

/// A drawn chart; its markup is built here from numbers and escaped text only.
pub struct Chart(String);

impl std::fmt::Display for Chart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The markup is of this module's making, every text in it escaped: askama must not escape it again.
impl askama::filters::HtmlSafe for Chart {}

/// "3 Dec 2026": a unix day as a label.
pub fn day_label(day: i64) -> String {
    let human = super::listing::human(Timestamp::from_unix(day * SECS_PER_DAY));
    human.split(',').next().unwrap_or_default().to_owned()
}

/// A bar chart of `days` (unix day, value), oldest first. `id` must be unique on the page
/// (it ties the SVG to its title and description).
pub fn bars(id: &str, title: &str, days: &[(i64, i64)]) -> Chart {
    let (id, title) = (escape(id), escape(title));
    let top = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let total: i64 = days.iter().map(|d| d.1).sum();
    let (plot_w, plot_h) = (WIDTH - LEFT, HEIGHT - TOP - BOTTOM);
    let slot = plot_w / i64::try_from(days.len()).unwrap_or(1).max(1);
    let span = match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!("from {} to {}", day_label(first.0), day_label(last.0)),
        _ => "no days".to_owned(),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title><desc id="{id}-desc">{title} per day {span}: {total} in all, at most {top} in a day.</desc>"#
    );
    let baseline = TOP + plot_h;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{WIDTH}" y2="{baseline}" stroke="currentColor" stroke-width="1"/><text class="label" x="{x}" y="{y}" text-anchor="end" font-size="11" fill="currentColor">{top}</text><text class="label" x="{x}" y="{baseline}" text-anchor="end" font-size="11" fill="currentColor">0</text>"#,
        x = LEFT - 6,
        y = TOP + 10,
    );
    for (i, &(day, value)) in days.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let h = value * plot_h / top;
        let x = LEFT + i * slot + 1;
        let _ = write!(
            svg,
            r#"<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}" fill="currentColor" data-day="{day}" data-value="{value}"><title>{label}: {value}</title></rect>"#,
            y = baseline - h,
            w = (slot - 2).max(1),
            label = day_label(day),
        );
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = write!(
            svg,
            r#"<text class="label" x="{LEFT}" y="{HEIGHT}" font-size="11" fill="currentColor">{}</text><text class="label" x="{WIDTH}" y="{HEIGHT}" text-anchor="end" font-size="11" fill="currentColor">{}</text>"#,
            day_label(first.0),
            day_label(last.0),
        );
    }
    svg.push_str("</svg>");
    Chart(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03 as a unix day.
    const DAY: i64 = 20_790;

    #[test]
    fn days_are_labelled_as_people_read_them() {
        assert_eq!(day_label(DAY), "3 Dec 2026");
    }

    #[test]
    fn each_day_is_a_bar_with_its_value_and_the_tallest_fills_the_plot() {
        let svg = bars("signups", "Sign-ups", &[(DAY - 2, 0), (DAY - 1, 2), (DAY, 4)]).to_string();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect ").count(), 3);
        assert!(svg.contains(r#"data-day="20790" data-value="4""#), "{svg}");
        assert!(svg.contains("<title>3 Dec 2026: 4</title>"));
        // The tallest bar spans the plot (TOP to the baseline); a zero has no height.
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert!(svg.contains(&format!(r#"y="{TOP}" width="{}" height="{plot_h}""#, (WIDTH - LEFT) / 3 - 2)));
        assert!(svg.contains(r#"height="0" fill="currentColor" data-day="20788""#));
        assert!(svg.contains("<desc id=\"signups-desc\">Sign-ups per day from 1 Dec 2026 to 3 Dec 2026: 6 in all"));
        assert!(svg.contains(r#"aria-labelledby="signups-title signups-desc""#));
        assert!(!svg.contains("style="), "the CSP would block an inline style");
    }

    #[test]
    fn titles_are_escaped_and_an_empty_series_still_draws() {
        let svg = bars("x", "<b>&\"", &[]).to_string();
        assert!(svg.contains("<title id=\"x-title\">&#60;b&#62;&#38;&#34;</title>"), "{svg}");
        assert!(!svg.contains("<rect"));
        assert!(svg.contains("no days: 0 in all"));
    }
}
