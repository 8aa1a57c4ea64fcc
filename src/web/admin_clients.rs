//! The operator's client pages: `/admin/clients` (the list and the registration form; after
//! registering, a page that shows the secret this once) and `/admin/clients/{id}` (the
//! settings, their form, a new secret, disabling and enabling with a reason). Each calls
//! the core operation of the matching `/v1/admin/clients*` route.
use askama::Template;

use super::listing::{When, maybe, next_link, when};
use super::{AdminVisit, Layout, admin_visit, page, render};
use crate::app::App;
use crate::core::oidc::clients::{self, ClientChange, ClientPatch, NewClient, WithSecret};
use crate::core::principal::Staff;
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, body};
use crate::store::oauth_clients::ClientRow;
use crate::types::{ClientId, Reason, SigningAlg, TenantId};

pub struct ClientLine {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub trusted: bool,
    pub introspect: bool,
    pub tenant_id: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_alg: &'static str,
    pub status: &'static str,
    pub disabled_reason: String,
    pub created_at: When,
    pub secret_rotated_at: When,
}

impl ClientLine {
    fn of(c: &ClientRow) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            kind: if c.public { "public" } else { "confidential" },
            trusted: c.trusted,
            introspect: c.introspect,
            tenant_id: c.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            id_token_alg: c.id_token_alg.as_str(),
            status: c.status.as_str(),
            disabled_reason: c.disabled_reason.clone().unwrap_or_default(),
            created_at: when(c.created_at),
            secret_rotated_at: maybe(c.secret_rotated_at, "never"),
        }
    }
}

/// The values of the settings form (`client_fields.html`): what a client holds, or what
/// the operator typed when the form comes back with an error.
pub struct ClientFields {
    pub name: String,
    /// One URI a line.
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub public: bool,
    pub trusted: bool,
    pub introspect: bool,
    pub tenant_id: String,
    /// Each algorithm, and whether it is the one chosen.
    pub algs: Vec<(&'static str, bool)>,
}

fn algs(chosen: &str) -> Vec<(&'static str, bool)> {
    SigningAlg::ALL.iter().map(|a| (a.as_str(), a.as_str() == chosen)).collect()
}

impl ClientFields {
    fn empty() -> Self {
        Self {
            name: String::new(),
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            public: false,
            trusted: false,
            introspect: false,
            tenant_id: String::new(),
            algs: algs(SigningAlg::Rs256.as_str()),
        }
    }

    fn of(c: &ClientRow) -> Self {
        Self {
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            public: c.public,
            trusted: c.trusted,
            introspect: c.introspect,
            tenant_id: c.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            algs: algs(c.id_token_alg.as_str()),
        }
    }

    fn typed(f: &Form) -> Self {
        Self {
            name: f.text("name").to_owned(),
            redirect_uris: f.text("redirect_uris").to_owned(),
            post_logout_redirect_uris: f.text("post_logout_redirect_uris").to_owned(),
            public: checked(f, "public"),
            trusted: checked(f, "trusted"),
            introspect: checked(f, "introspect"),
            tenant_id: f.text("tenant_id").to_owned(),
            algs: algs(f.text("id_token_alg")),
        }
    }
}

fn checked(f: &Form, name: &str) -> bool {
    f.optional(name).is_some()
}

/// A textarea of URIs, one a line; blank lines are nothing.
fn lines(f: &Form, name: &str) -> Vec<String> {
    f.text(name).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn tenant(f: &Form) -> Result<Option<TenantId>, Error> {
    f.optional("tenant_id").map(clients::tenant_ref).transpose()
}

fn alg(f: &Form) -> Result<SigningAlg, Error> {
    clients::signing_alg(f.text("id_token_alg"))
}

#[derive(Template)]
#[template(path = "web/admin_clients.html")]
pub struct ClientsPage {
    layout: Layout,
    clients: Vec<ClientLine>,
    next: Option<String>,
    form: ClientFields,
}

#[derive(Template)]
#[template(path = "web/admin_client.html")]
pub struct ClientPage {
    layout: Layout,
    c: ClientLine,
    form: ClientFields,
    /// What the client's status allows (core's `ClientChange::next`), and whether it has a
    /// secret to rotate.
    can_disable: bool,
    can_enable: bool,
    can_rotate: bool,
}

#[derive(Template)]
#[template(path = "web/admin_client_secret.html")]
pub struct SecretPage {
    layout: Layout,
    id: String,
    name: String,
    /// Shown this once; None for a public client.
    secret: Option<String>,
}

page!(ClientsPage, ClientPage, SecretPage);

fn list_page(app: &App, req: &Req, who: &Staff, layout: Layout, form: ClientFields) -> Result<Response, Error> {
    let paging = body::page(req)?;
    let (rows, next) = clients::list_clients(app, who, &paging)?;
    let page = ClientsPage {
        layout,
        clients: rows.iter().map(ClientLine::of).collect(),
        next: next_link("/admin/clients", &paging, next, &[]),
        form,
    };
    render(app, &page)
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Clients")?;
    list_page(app, req, &Staff::Operator(who), layout, ClientFields::empty())
}

/// The secret of a client just registered or rotated, shown this once.
fn secret_page(app: &App, mut layout: Layout, out: &WithSecret, title: &str, status: u16) -> Result<Response, Error> {
    layout.title = title.to_owned();
    let page = SecretPage {
        layout: layout.status(status),
        id: out.client.id.to_string(),
        name: out.client.name.clone(),
        secret: out.secret.as_ref().map(|s| s.expose().to_owned()),
    };
    render(app, &page)
}

/// As `POST /v1/admin/clients`.
pub fn create(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Clients")?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    let registered = tenant(&f).and_then(|tenant_id| {
        let input = NewClient {
            name: f.text("name").to_owned(),
            redirect_uris: lines(&f, "redirect_uris"),
            post_logout_redirect_uris: lines(&f, "post_logout_redirect_uris"),
            public: checked(&f, "public"),
            trusted: checked(&f, "trusted"),
            introspect: checked(&f, "introspect"),
            tenant_id,
            id_token_alg: Some(alg(&f)?),
        };
        clients::register(app, &who, input)
    });
    match registered {
        Ok(out) => secret_page(app, layout, &out, "Client registered", 201),
        Err(e) => list_page(app, req, &who, layout.failed(e)?, ClientFields::typed(&f)),
    }
}

/// `?done=` after a change: what the details page confirms.
fn done(req: &Req) -> Option<&'static str> {
    match req.query("done")?.as_str() {
        "updated" => Some("The client is updated."),
        "disabled" => Some("The client is disabled: it can no longer authenticate."),
        "enabled" => Some("The client is enabled."),
        _ => None,
    }
}

/// The details page of client `id` with `layout` (a notice, or the error a form came back with).
fn details(app: &App, who: &Staff, id: ClientId, mut layout: Layout) -> Result<Response, Error> {
    let client = clients::get_client(app, who, id)?;
    layout.title = format!("Client {}", client.name);
    let page = ClientPage {
        layout,
        can_disable: ClientChange::Disable.next(client.status).is_some(),
        can_enable: ClientChange::Enable.next(client.status).is_some(),
        can_rotate: !client.public,
        form: ClientFields::of(&client),
        c: ClientLine::of(&client),
    };
    render(app, &page)
}

pub fn show(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Client")?;
    let id = req.param("id").parse()?;
    details(app, &Staff::Operator(who), id, layout.notice(done(req)))
}

/// A form of the details page: on success back to it with `?done=`, else the page again
/// with the error.
fn act(
    app: &App,
    req: &mut Req,
    op: impl FnOnce(&Staff, ClientId, &Form) -> Result<&'static str, Error>,
) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Client")?;
    let id: ClientId = req.param("id").parse()?;
    let f = Form::parse(req)?;
    let who = Staff::Operator(who);
    match op(&who, id, &f) {
        Ok(done) => Ok(Response::redirect(&format!("/admin/clients/{id}?done={done}"))),
        Err(e) => details(app, &who, id, layout.failed(e)?),
    }
}

/// Every setting, as `PATCH /v1/admin/clients/{id}` (an unchecked box is false).
pub fn update(app: &App, req: &mut Req) -> Result<Response, Error> {
    act(app, req, |who, id, f| {
        let patch = ClientPatch {
            name: Some(f.text("name").to_owned()),
            redirect_uris: Some(lines(f, "redirect_uris")),
            post_logout_redirect_uris: Some(lines(f, "post_logout_redirect_uris")),
            trusted: Some(checked(f, "trusted")),
            introspect: Some(checked(f, "introspect")),
            tenant_id: Some(tenant(f)?),
            id_token_alg: Some(alg(f)?),
        };
        clients::update_client(app, who, id, patch).map(|_| "updated")
    })
}

pub fn rotate_secret(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Client")?;
    let id: ClientId = req.param("id").parse()?;
    let who = Staff::Operator(who);
    match clients::rotate_secret(app, &who, id) {
        Ok(out) => secret_page(app, layout, &out, "New client secret", 200),
        Err(e) => details(app, &who, id, layout.failed(e)?),
    }
}

fn change(app: &App, req: &mut Req, change: ClientChange, done: &'static str) -> Result<Response, Error> {
    act(app, req, |who, id, f| {
        let reason = Reason::parse(Some(f.text("reason")))?;
        clients::change_client(app, who, id, change, &reason).map(|_| done)
    })
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, ClientChange::Disable, "disabled")
}

pub fn enable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, ClientChange::Enable, "enabled")
}
