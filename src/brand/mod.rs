//! The product as its customers see it: its name, logo, accent colour, support address,
//! the From name of its mail and the operator's mail texts. Built once from the `Config`
//! when the app opens (`Brand::load`, which reads the logo and the mail templates and
//! refuses bad ones), then handed to the layout of every page (`web::Layout`) and to the
//! mailer (`mail`): the one place a reader finds all of it.
//!
//! Keystead's own name shows only in the small "Runs on Keystead" footer of the pages.
pub mod mail_texts;
pub mod theme;

use std::path::Path;

use lettre::message::Mailbox;

use crate::config::Config;
use crate::error::Error;
use crate::http::assets;
use mail_texts::MailTexts;

/// The most a logo file may hold: a header logo, not a photograph.
pub const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// A file the brand adds to `/assets/` (the logo, the accent's stylesheet), served like
/// the built-in ones: content-hashed URL, strong ETag, a year of caching.
#[derive(Debug)]
pub struct BrandAsset {
    /// Its path under `/assets/`.
    pub path: &'static str,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Quoted, as the header carries it.
    pub etag: String,
    /// What pages link it by: `/assets/{path}?v=…`.
    pub url: String,
}

impl BrandAsset {
    fn new(path: &'static str, body: Vec<u8>, content_type: &'static str) -> Self {
        let etag = assets::etag(&body);
        let url = format!("/assets/{path}?v={}", &etag[1..17]);
        Self { path, body, content_type, etag, url }
    }
}

#[derive(Debug)]
pub struct Brand {
    /// The name every page title and header, and every mail subject and signature, says.
    pub product: String,
    /// Where the pages' footer and every mail send a person who needs help.
    pub support_url: Option<String>,
    /// The From of outgoing mail: the address of `--mail-from`, named by
    /// `--mail-from-name`, else by `--mail-from`'s own name, else by the product.
    pub mail_from: Mailbox,
    pub logo: Option<BrandAsset>,
    /// The stylesheet of `--accent-color` (`theme`), loaded after app.css.
    pub theme: Option<BrandAsset>,
    pub mail_texts: MailTexts,
}

impl Brand {
    /// The brand of a validated config: reads `--logo` and `--mail-templates`, and refuses
    /// either when it is not fit to use, saying why.
    pub fn load(config: &Config) -> Result<Self, Error> {
        let given: Mailbox = config.mail_from.parse().map_err(|_| Error::invalid("--mail-from is not an address"))?;
        let name = config.mail_from_name.clone().or(given.name).unwrap_or_else(|| config.product_name.clone());
        let logo = config.logo.as_deref().map(read_logo).transpose()?;
        let theme = match &config.accent_color {
            Some(c) => {
                let rgb = theme::Rgb::parse(c).map_err(Error::invalid)?;
                Some(BrandAsset::new("brand.css", theme::stylesheet(rgb).into_bytes(), "text/css; charset=utf-8"))
            }
            None => None,
        };
        let mail_texts = match &config.mail_templates {
            Some(dir) => MailTexts::load(dir, config.support_url.is_some()).map_err(Error::invalid)?,
            None => MailTexts::default(),
        };
        Ok(Self {
            product: config.product_name.clone(),
            support_url: config.support_url.clone(),
            mail_from: Mailbox::new(Some(name), given.email),
            logo,
            theme,
            mail_texts,
        })
    }

    /// The brand's file at this path under `/assets/`, if it has one.
    pub fn asset(&self, path: &str) -> Option<&BrandAsset> {
        [&self.logo, &self.theme].into_iter().flatten().find(|a| a.path == path)
    }

    /// One line for `keystead check`.
    pub fn summary(&self) -> String {
        let logo = self.logo.as_ref().map_or("no logo".to_owned(), |l| format!("logo {} bytes", l.body.len()));
        let texts = match self.mail_texts.kinds() {
            kinds if kinds.is_empty() => "built-in mail texts".to_owned(),
            kinds => format!("operator mail texts: {}", kinds.join(", ")),
        };
        format!("product \"{}\", from {}, {logo}, {texts}", self.product, self.mail_from)
    }
}

/// A PNG (by its signature) or an SVG (UTF-8 text with an `<svg` element), by extension.
fn read_logo(path: &Path) -> Result<BrandAsset, Error> {
    let shown = path.display();
    let bad = |why: String| Error::invalid(format!("--logo {shown}: {why}"));
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_LOGO_BYTES {
        return Err(bad(format!("must be a file of at most {} KiB", MAX_LOGO_BYTES / 1024)));
    }
    let body = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") if body.starts_with(b"\x89PNG\r\n\x1a\n") => {
            Ok(BrandAsset::new("brand-logo.png", body, "image/png"))
        }
        Some("svg") if std::str::from_utf8(&body).is_ok_and(|s| s.contains("<svg")) => {
            Ok(BrandAsset::new("brand-logo.svg", body, "image/svg+xml"))
        }
        Some("png" | "svg") => Err(bad("its content is not the image its extension names".into())),
        _ => Err(bad("must be an .svg or .png file".into())),
    }
}

/// Whether a product or sender name is fit for a page title and a mail header.
pub fn check_name(flag: &str, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.trim() != name || name.chars().count() > 60 || name.chars().any(char::is_control)
    {
        return Err(Error::invalid(format!(
            "{flag} must be 1 to 60 characters, without control characters or surrounding spaces"
        )));
    }
    Ok(())
}

/// `--support-url`: an absolute http(s) URL (a `javascript:` or `data:` one is refused).
pub fn check_support_url(url: &str) -> Result<(), Error> {
    let bad = || Error::invalid("--support-url must be an http:// or https:// URL, e.g. https://acme.example/help");
    let parsed = url::Url::parse(url).map_err(|_| bad())?;
    let plain = url.len() <= 2000 && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) || !plain {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_urls_are_http_or_https_only() {
        for good in ["https://acme.example/help", "http://localhost:8080/support?x=1"] {
            assert!(check_support_url(good).is_ok(), "{good}");
        }
        for bad in ["javascript:alert(1)", "data:text/html,x", "ftp://acme.example", "/help", "https://", "https://a b"]
        {
            assert!(check_support_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_short_single_lines() {
        assert!(check_name("--product-name", "Acme Cloud").is_ok());
        for bad in ["", " ", " Acme", "Acme\r\nBcc: x", &"a".repeat(61)] {
            assert!(check_name("--product-name", bad).is_err(), "{bad:?}");
        }
    }
}
