//! Mail texts the operator writes (`--mail-templates DIR`): one file per kind of mail,
//! named as the outbox's `kind` (`invitation.txt`, `notice_new_device.txt` …), whose first
//! line is `Subject: …` and whose rest is the plain-text body. The HTML part is made from
//! the same text (escaped, paragraphs at blank lines, the URL placeholders as links), and
//! the signature block of the built-in mails follows the body, so every mail still ends
//! with the product, its address and the support link.
//!
//! Placeholders are `{name}` from a fixed list per kind (`{{` and `}}` are literal braces),
//! checked when the server starts (and by `keystead check`): an unknown name, a missing
//! `{link}` in a mail that carries one, or `{link}` in a subject (subjects are stored
//! unsealed, and a link holds a live token) stops the start.
use std::collections::HashMap;
use std::path::Path;

use crate::html::escape;

/// The most a template file may hold.
const MAX_BYTES: u64 = 64 * 1024;

/// A value a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Product,
    BaseUrl,
    SupportUrl,
    Link,
    ValidFor,
    Tenant,
    NewEmail,
    What,
    When,
    PageUrl,
}

impl Slot {
    const ALL: [Slot; 10] = [
        Slot::Product,
        Slot::BaseUrl,
        Slot::SupportUrl,
        Slot::Link,
        Slot::ValidFor,
        Slot::Tenant,
        Slot::NewEmail,
        Slot::What,
        Slot::When,
        Slot::PageUrl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Product => "product",
            Slot::BaseUrl => "base_url",
            Slot::SupportUrl => "support_url",
            Slot::Link => "link",
            Slot::ValidFor => "valid_for",
            Slot::Tenant => "tenant",
            Slot::NewEmail => "new_email",
            Slot::What => "what",
            Slot::When => "when",
            Slot::PageUrl => "page_url",
        }
    }

    /// Shown as a link in the HTML part.
    fn is_url(self) -> bool {
        matches!(self, Slot::BaseUrl | Slot::SupportUrl | Slot::Link | Slot::PageUrl)
    }
}

/// Every placeholder a kind may use beyond {product}, {base_url} and {support_url}, and
/// the one its body must use.
struct Kind {
    name: &'static str,
    slots: &'static [Slot],
    required: Slot,
}

const LINK: &[Slot] = &[Slot::Link, Slot::ValidFor];
const NOTICE: &[Slot] = &[Slot::What, Slot::When, Slot::PageUrl];

const KINDS: &[Kind] = &[
    Kind { name: "invitation", slots: &[Slot::Link, Slot::ValidFor, Slot::Tenant], required: Slot::Link },
    Kind { name: "verify_email", slots: LINK, required: Slot::Link },
    Kind { name: "password_reset", slots: LINK, required: Slot::Link },
    Kind { name: "email_change", slots: &[Slot::Link, Slot::ValidFor, Slot::NewEmail], required: Slot::Link },
    Kind { name: "email_changed", slots: &[Slot::NewEmail], required: Slot::NewEmail },
    Kind { name: "notice_new_device", slots: NOTICE, required: Slot::What },
    Kind { name: "notice_password_changed", slots: NOTICE, required: Slot::What },
    Kind { name: "notice_password_reset", slots: NOTICE, required: Slot::What },
    Kind { name: "notice_factor_changed", slots: NOTICE, required: Slot::What },
    Kind { name: "notice_api_key_created", slots: NOTICE, required: Slot::What },
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// One operator-written mail, parsed and checked.
#[derive(Debug, Clone)]
pub struct MailText {
    subject: Vec<Piece>,
    body: Vec<Piece>,
}

/// The texts of a directory, by kind.
#[derive(Debug, Default)]
pub struct MailTexts(HashMap<&'static str, MailText>);

impl MailTexts {
    /// Reads every file of `dir`. Each must be a known `<kind>.txt` (a misspelt name would
    /// otherwise be ignored without a word); files starting with a dot are skipped.
    pub fn load(dir: &Path, has_support_url: bool) -> Result<Self, String> {
        let shown = dir.display();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("--mail-templates {shown}: {e}"))?;
        let mut texts = HashMap::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("--mail-templates {shown}: {e}"))?;
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let at = path.display();
            let kind = name
                .strip_suffix(".txt")
                .and_then(|stem| KINDS.iter().find(|k| k.name == stem))
                .ok_or_else(|| format!("{at}: not a mail template: the files are named {}", known_files()))?;
            let meta = entry.metadata().map_err(|e| format!("{at}: {e}"))?;
            if !meta.is_file() || meta.len() > MAX_BYTES {
                return Err(format!("{at}: must be a file of at most {} KiB", MAX_BYTES / 1024));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{at}: {e} (it must be UTF-8 text)"))?;
            let parsed = MailText::parse(kind, &text, has_support_url).map_err(|e| format!("{at}: {e}"))?;
            texts.insert(kind.name, parsed);
        }
        Ok(Self(texts))
    }

    pub fn get(&self, kind: &str) -> Option<&MailText> {
        self.0.get(kind)
    }

    /// The kinds the operator wrote, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.0.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }
}

fn known_files() -> String {
    KINDS.iter().map(|k| format!("{}.txt", k.name)).collect::<Vec<_>>().join(", ")
}

impl MailText {
    fn parse(kind: &Kind, text: &str, has_support_url: bool) -> Result<Self, String> {
        let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("subject:"))
            .map(|_| first[8..].trim())
            .ok_or("the first line must be \"Subject: …\"")?;
        let body = rest.trim_start_matches('\n').trim_end();
        if subject.is_empty() || body.is_empty() {
            return Err("both the subject and the body must have text".into());
        }
        let allowed =
            |slot: &Slot| matches!(slot, Slot::Product | Slot::BaseUrl | Slot::SupportUrl) || kind.slots.contains(slot);
        let names = || {
            let mut all = vec![Slot::Product, Slot::BaseUrl, Slot::SupportUrl];
            all.extend(kind.slots);
            all.iter().map(|s| format!("{{{}}}", s.name())).collect::<Vec<_>>().join(", ")
        };
        let (subject, body) = (pieces(subject)?, pieces(body)?);
        for slot in subject.iter().chain(&body).filter_map(Piece::slot) {
            if !allowed(&slot) {
                return Err(format!(
                    "{{{}}} is not a placeholder of {} mails; they have {}",
                    slot.name(),
                    kind.name,
                    names()
                ));
            }
            if slot == Slot::SupportUrl && !has_support_url {
                return Err("it uses {support_url}, but no --support-url is set".into());
            }
        }
        if subject.iter().any(|p| p.slot() == Some(Slot::Link)) {
            return Err("{link} may not be in the subject (it holds a single-use token)".into());
        }
        if !body.iter().any(|p| p.slot() == Some(kind.required)) {
            return Err(format!("the body must contain {{{}}}", kind.required.name()));
        }
        Ok(Self { subject, body })
    }

    /// The subject with the values filled in, on one line.
    pub fn subject(&self, value: impl Fn(Slot) -> String) -> String {
        let line: String = self.subject.iter().map(|p| p.text(&value)).collect();
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The plain-text body with the values filled in as they are.
    pub fn text(&self, value: impl Fn(Slot) -> String) -> String {
        self.body.iter().map(|p| p.text(&value)).collect()
    }

    /// The HTML body: every text and value escaped, the URL values as links, a blank line
    /// a new paragraph and a line break a `<br>`.
    pub fn html(&self, value: impl Fn(Slot) -> String) -> String {
        let mut out = String::from("<p>");
        for piece in &self.body {
            match piece {
                Piece::Slot(slot) if slot.is_url() => {
                    let url = escape(&value(*slot));
                    out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
                }
                piece => {
                    let text = escape(&piece.text(&value));
                    let paragraphs: Vec<String> = text.split("\n\n").map(|p| p.replace('\n', "<br>\n")).collect();
                    out.push_str(&paragraphs.join("</p>\n<p>"));
                }
            }
        }
        out.push_str("</p>");
        out
    }
}

impl Piece {
    fn slot(&self) -> Option<Slot> {
        match self {
            Piece::Slot(s) => Some(*s),
            Piece::Text(_) => None,
        }
    }

    fn text(&self, value: &impl Fn(Slot) -> String) -> String {
        match self {
            Piece::Text(t) => t.clone(),
            Piece::Slot(s) => value(*s),
        }
    }
}

/// Splits a template into literal text and placeholders.
fn pieces(template: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) if ch.is_ascii_lowercase() || ch == '_' => name.push(ch),
                        _ => {
                            return Err(format!(
                                "a {{ that opens no placeholder (near \"{{{name}\"); write {{{{ for a brace"
                            ));
                        }
                    }
                }
                let slot = Slot::ALL
                    .into_iter()
                    .find(|s| s.name() == name)
                    .ok_or_else(|| format!("{{{name}}} is not a placeholder"))?;
                out.push(Piece::Text(std::mem::take(&mut text)));
                out.push(Piece::Slot(slot));
            }
            c => text.push(c),
        }
    }
    out.push(Piece::Text(text));
    out.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> &'static Kind {
        KINDS.iter().find(|k| k.name == name).unwrap_or(&KINDS[0])
    }

    fn value(slot: Slot) -> String {
        match slot {
            Slot::Link => "https://id.example/activate?token=T".into(),
            Slot::Tenant => "A <b>&co".into(),
            other => other.name().to_uppercase(),
        }
    }

    #[test]
    fn a_template_fills_its_placeholders_and_escapes_the_html() -> Result<(), String> {
        let t = MailText::parse(
            kind("invitation"),
            "Subject: Join {tenant} on {product}\r\n\r\nHello,\n\njoin {tenant} {{here}}:\n{link}\n",
            false,
        )?;
        assert_eq!(t.subject(value), "Join A <b>&co on PRODUCT");
        assert_eq!(t.text(value), "Hello,\n\njoin A <b>&co {here}:\nhttps://id.example/activate?token=T");
        let html = t.html(value);
        assert!(html.contains("join A &#60;b&#62;&#38;co {here}:<br>"), "{html}");
        assert!(html.contains("<a href=\"https://id.example/activate?token=T\">"), "{html}");
        assert!(html.starts_with("<p>Hello,</p>\n<p>"), "{html}");
        Ok(())
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        let cases = [
            ("invitation", "Subject: Hi\n\nNo link here.", "must contain {link}"),
            ("invitation", "Hi\n\n{link}", "first line"),
            ("invitation", "Subject: {link}\n\n{link}", "subject"),
            ("invitation", "Subject: Hi\n\n{link} {nope}", "not a placeholder"),
            ("invitation", "Subject: Hi\n\n{link} {what}", "not a placeholder of invitation"),
            ("invitation", "Subject: Hi\n\n{link} {support_url}", "no --support-url"),
            ("invitation", "Subject: Hi\n\n{link} {oops", "opens no placeholder"),
            ("invitation", "Subject: \n\n{link}", "must have text"),
            ("notice_new_device", "Subject: Hi\n\nSomething happened.", "must contain {what}"),
        ];
        for (name, text, why) in cases {
            match MailText::parse(kind(name), text, false) {
                Ok(_) => panic!("{text:?} was accepted"),
                Err(e) => assert!(e.contains(why), "{text:?}: {e}"),
            }
        }
        assert!(MailText::parse(kind("invitation"), "Subject: Hi\n\n{link} {support_url}", true).is_ok());
    }
}
