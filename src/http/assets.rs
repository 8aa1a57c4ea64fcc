//! Static files: `assets/` compiled into the binary, served at `/assets/{path}` with a
//! strong ETag (SHA-256 of the content) and a year of immutable caching. Pages link them
//! through `url`, whose `?v=` changes with the content, so a new build is fetched at once.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest as _, Sha256};

use super::{Req, Response};
use crate::app::App;
use crate::error::Error;

static DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets");

struct Asset {
    body: &'static [u8],
    /// Quoted, as the header carries it.
    etag: String,
    content_type: &'static str,
}

/// Every file by its path under `assets/`, hashed once, on first use.
static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    let mut out = HashMap::new();
    collect(&DIR, &mut out);
    out
});

fn collect(dir: &'static Dir<'static>, out: &mut HashMap<String, Asset>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, out),
            DirEntry::File(f) => {
                let path = f.path().to_string_lossy().replace('\\', "/");
                let etag = etag(f.contents());
                out.insert(path.clone(), Asset { body: f.contents(), etag, content_type: content_type(&path) });
            }
        }
    }
}

/// The strong ETag of a body: its SHA-256 in hex, quoted.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    digest.iter().fold(String::from("\""), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }) + "\""
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The URL a page links an asset by: versioned by its content.
pub fn url(path: &str) -> String {
    match ASSETS.get(path) {
        Some(a) => format!("/assets/{path}?v={}", &a.etag[1..17]),
        None => format!("/assets/{path}"),
    }
}

/// What an operator's file (`--logo`) may do when opened by itself: nothing. An SVG is a
/// document that can hold script; this policy runs none, loads nothing and sandboxes it
/// (inline styles only, which SVG drawings use). As an `<img>` a browser runs no script anyway.
const OPERATOR_FILE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// `GET /assets/{*path}`: the built-in files, and the brand's (its logo and accent
/// stylesheet, `brand::Brand::asset`).
pub fn serve(app: &App, req: &mut Req) -> Result<Response, Error> {
    let path = req.param("path");
    if let Some(asset) = app.brand.asset(path) {
        let response = answer(req, &asset.body, &asset.etag, asset.content_type);
        return Ok(response.with_header("Content-Security-Policy", OPERATOR_FILE_CSP));
    }
    let asset = ASSETS.get(path).ok_or(Error::NotFound)?;
    Ok(answer(req, asset.body, &asset.etag, asset.content_type))
}

/// 304 when the client holds this ETag, else the body; a year of immutable caching (the
/// URLs change with the content).
fn answer(req: &Req, body: &[u8], etag: &str, content_type: &'static str) -> Response {
    let fresh = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag));
    let response = if fresh {
        Response { status: 304, headers: Vec::new(), body: Vec::new() }
    } else {
        Response { status: 200, headers: vec![("Content-Type", content_type.into())], body: body.to_vec() }
    };
    response.with_header("ETag", etag.to_owned()).with_header("Cache-Control", "public, max-age=31536000, immutable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_is_bundled_with_a_versioned_url() {
        let css = ASSETS.get("app.css").map(|a| (a.content_type, a.etag.len()));
        assert_eq!(css, Some(("text/css; charset=utf-8", 66)));
        assert!(url("app.css").starts_with("/assets/app.css?v="));
        assert_eq!(url("app.css").len(), "/assets/app.css?v=".len() + 16);
    }
}
