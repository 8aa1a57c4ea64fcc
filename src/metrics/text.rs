//! The Prometheus text exposition format (version 0.0.4), written by hand: HELP and TYPE
//! once per family, label values escaped, histograms as cumulative `_bucket{le=…}` lines
//! ending in `+Inf`, then `_sum` and `_count`. Nothing here knows what Keystead counts.
use std::fmt::Write as _;

/// The Content-Type of a scrape's answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Text {
    out: String,
}

pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Text {
    /// Starts a family: its HELP and TYPE lines. `help` is ours, never user input.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the family last started (a counter's name ends in `_total`).
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", number(value));
    }

    /// A family of one unlabelled gauge.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, Kind::Gauge, help);
        self.sample(name, &[], value);
    }

    /// A histogram's samples: `counts[i]` observations fell in `(bounds[i-1], bounds[i]]`,
    /// and `counts[bounds.len()]` above the last bound (so `counts` is one longer).
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], bounds: &[f64], counts: &[u64], sum: f64) {
        let mut cumulative = 0u64;
        for (i, count) in counts.iter().enumerate() {
            cumulative += count;
            let le = bounds.get(i).map_or_else(|| "+Inf".to_owned(), |b| number(*b));
            let _ = write!(self.out, "{name}_bucket");
            self.labels(labels, Some(&le));
            let _ = writeln!(self.out, " {cumulative}");
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, cumulative as f64);
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let all = labels.iter().copied().chain(le.map(|le| ("le", le)));
        for (n, (name, value)) in all.enumerate() {
            if n > 0 {
                self.out.push(',');
            }
            let _ = write!(self.out, "{name}=\"{}\"", escape(value));
        }
        self.out.push('}');
    }
}

/// A label value as the format wants it: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, infinities as the format spells them.
fn number(v: f64) -> String {
    if v.is_infinite() {
        (if v > 0.0 { "+Inf" } else { "-Inf" }).to_owned()
    } else if v.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut t = Text::default();
        t.family("x_total", Kind::Counter, "An example.");
        t.sample("x_total", &[("route", "a\"b\\c\nd")], 3.0);
        assert_eq!(
            t.finish(),
            "# HELP x_total An example.\n# TYPE x_total counter\nx_total{route=\"a\\\"b\\\\c\\nd\"} 3\n"
        );
    }

    #[test]
    fn a_histogram_is_cumulative_and_ends_in_inf() {
        let mut t = Text::default();
        t.histogram("h", &[("r", "/")], &[0.1, 1.0], &[2, 0, 1], 2.5);
        assert_eq!(
            t.finish(),
            "h_bucket{r=\"/\",le=\"0.1\"} 2\nh_bucket{r=\"/\",le=\"1\"} 2\nh_bucket{r=\"/\",le=\"+Inf\"} 3\n\
             h_sum{r=\"/\"} 2.5\nh_count{r=\"/\"} 3\n"
        );
    }
}
