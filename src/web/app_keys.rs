//! `/app/keys`: the tenant's API keys. Everyone lists them; owners and admins create and
//! revoke (the core enforces the role). A new key is shown once, on the response to its
//! creation (never through a redirect, a URL or a cookie).
use askama::Template;

use super::listing::{When, maybe, next_link, when};
use super::{Layout, page, portal_visit, render};
use crate::app::App;
use crate::core::keys::{self, NewKey};
use crate::core::principal::PortalUser;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::store::keys::KeyRow;
use crate::store::page::Page;
use crate::types::Timestamp;

#[derive(Template)]
#[template(path = "web/keys.html")]
pub struct KeysPage {
    layout: Layout,
    keys: Vec<KeyLine>,
    next: Option<String>,
    /// Owners and admins see the create form and the revoke buttons.
    manage: bool,
    /// The key just created, shown this once.
    created: Option<NewKeyShown>,
    /// The scopes the tenant's listed keys use, offered as checkboxes (any other scope
    /// is typed in; the API accepts any scope of 1-64 of `A-Z a-z 0-9 : . _ - / *`).
    known_scopes: Vec<ScopeBox>,
    /// The create form's values when it comes back with an error.
    name: String,
    scopes: String,
    expires: String,
}

struct KeyLine {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: When,
    last_used_at: When,
    expires_at: When,
    /// `active`, `revoked` or `expired` (core's `keys::status`).
    status: &'static str,
    revoked_at: Option<When>,
    revocable: bool,
}

struct ScopeBox {
    scope: String,
    checked: bool,
}

struct NewKeyShown {
    name: String,
    key: String,
}

page!(KeysPage);

fn line(k: &KeyRow, now: Timestamp) -> KeyLine {
    let scopes: Vec<String> = serde_json::from_str(k.scopes.get()).unwrap_or_default();
    KeyLine {
        id: k.id.to_string(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: scopes.join(" "),
        created_at: when(k.created_at),
        last_used_at: maybe(k.last_used_at, "never"),
        expires_at: maybe(k.expires_at, "never"),
        status: keys::status(k, now).as_str(),
        revoked_at: k.revoked_at.map(when),
        revocable: keys::revocable(k),
    }
}

fn keys_page(app: &App, who: &PortalUser, layout: Layout, page: &Page) -> Result<KeysPage, Error> {
    let (rows, next) = keys::list_keys(app, who, None, page)?;
    let now = app.clock.now();
    let mut known: Vec<String> =
        rows.iter().flat_map(|k| serde_json::from_str::<Vec<String>>(k.scopes.get()).unwrap_or_default()).collect();
    known.sort();
    known.dedup();
    Ok(KeysPage {
        known_scopes: known.into_iter().map(|scope| ScopeBox { scope, checked: false }).collect(),
        layout,
        keys: rows.iter().map(|k| line(k, now)).collect(),
        next: next_link("/app/keys", page, next, &[]),
        manage: who.role.at_least(keys::MANAGE_KEYS),
        created: None,
        name: String::new(),
        scopes: String::new(),
        expires: String::new(),
    })
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "API keys")?;
    let page = keys_page(app, &v.who, v.layout, &body::page(req)?)?;
    render(app, &page)
}

/// The ticked scope boxes, then the scopes typed (separated by spaces or commas).
fn scopes(f: &Form) -> Vec<String> {
    let typed = f.text("scopes").split(|c: char| c == ',' || c.is_whitespace());
    f.all("scope").into_iter().chain(typed).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The expiry field: a date (`2027-01-31`, the start of that day UTC) or an RFC 3339
/// timestamp; blank is no expiry.
fn expiry(raw: Option<&str>) -> Result<Option<Timestamp>, Error> {
    let Some(raw) = raw.map(str::trim) else { return Ok(None) };
    let full = if raw.len() == 10 { format!("{raw}T00:00:00Z") } else { raw.to_owned() };
    Timestamp::parse("expires_at", &full).map(Some)
}

pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "API keys")?;
    let f = Form::parse(req)?;
    let created = expiry(f.optional("expires_at")).and_then(|expires_at| {
        let input = NewKey { name: f.text("name").to_owned(), scopes: scopes(&f), expires_at, meta: None };
        keys::create_key(app, &v.who, input)
    });
    match created {
        Ok(c) => {
            let layout = v.layout.status(201);
            let mut page = keys_page(app, &v.who, layout, &Page::default())?;
            page.created = Some(NewKeyShown { name: c.row.name.clone(), key: c.key.expose().to_owned() });
            // The only response holding the key: no cache may keep it.
            Ok(render(app, &page)?.with_header("Cache-Control", "no-store"))
        }
        Err(e) => {
            let layout = v.layout.failed(e)?;
            let mut page = keys_page(app, &v.who, layout, &Page::default())?;
            page.name = f.text("name").to_owned();
            page.scopes = f.text("scopes").to_owned();
            page.expires = f.text("expires_at").to_owned();
            let ticked = f.all("scope");
            for b in &mut page.known_scopes {
                b.checked = ticked.contains(&b.scope.as_str());
            }
            render(app, &page)
        }
    }
}

pub fn revoke(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "API keys")?;
    match keys::revoke_key(app, &v.who, req.param("id").parse()?) {
        Ok(()) => Ok(Response::redirect("/app/keys")),
        Err(e) => {
            let layout = v.layout.failed(e)?;
            render(app, &keys_page(app, &v.who, layout, &Page::default())?)
        }
    }
}
