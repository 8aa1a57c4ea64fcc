//! The web UI: one small handler per page, beside its `#[derive(Template)]` struct. As in
//! `api`, a handler authenticates (by cookie), parses its form, calls one core operation
//! and renders the result; the router has already checked the CSRF token of every POST.
//!
//! Every page struct has a `layout: Layout` field (what `templates/web/base.html` shows:
//! title, header, notice, error, the CSRF token for forms, and the brand's name, logo,
//! accent stylesheet and footer) and is listed in `page!`, so
//! `render` can find it.
pub mod admin;
pub mod admin_admins;
pub mod admin_clients;
pub mod admin_oversight;
pub mod admin_tenants;
pub mod admin_users;
pub mod app;
pub mod app_apps;
pub mod app_audit;
pub mod app_keys;
pub mod app_sessions;
pub mod app_settings;
pub mod app_team;
pub mod chart;
pub mod error;
pub mod links;
pub mod listing;
pub mod login_mfa;
pub mod oauth_authorize;
pub mod oauth_logout;
pub mod oauth_refused;
pub mod security;
pub mod session;

use std::sync::Arc;

use askama::Template;

use crate::app::App;
use crate::brand::Brand;
use crate::core::principal::{Operator, PortalUser};
use crate::core::{Profile, account, operators};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::csrf::Token;
use crate::http::{self, Req, Response, assets, auth, cookies};
use crate::store::admins::AdminRow;

/// What the base template shows around a page.
pub struct Layout {
    pub title: String,
    /// The product's name, logo, accent stylesheet and support link (header and footer).
    pub brand: Arc<Brand>,
    pub css: String,
    pub icon: String,
    pub icon_type: &'static str,
    /// Scripts of `assets/` the page needs (none by default), loaded deferred.
    pub scripts: Vec<String>,
    /// The value of every form's hidden `csrf` field (`{% include "web/csrf.html" %}`).
    pub csrf: String,
    token: Option<Token>,
    /// The signed-in portal account's header.
    pub account: Option<AccountNav>,
    /// The signed-in operator's email, for the operator header.
    pub operator: Option<String>,
    /// A one-line confirmation above the page ("You are signed out.").
    pub notice: Option<&'static str>,
    status: u16,
    /// Another origin the page's forms may end at (`Response::with_form_target`).
    form_target: Option<String>,
    /// Why a form came back: its status, message and headers are the error's.
    failure: Option<Error>,
}

pub struct AccountNav {
    pub email: String,
    pub tenant: String,
    pub role: &'static str,
}

impl Layout {
    /// A page with forms: it carries the browser's CSRF token (and sets its cookie if new).
    pub fn new(app: &App, req: &Req, title: &str) -> Self {
        let token = Token::of(app, req);
        Self { csrf: token.value.clone(), token: Some(token), ..Self::bare(app, title) }
    }

    /// A page without forms or header (the error page).
    fn bare(app: &App, title: &str) -> Self {
        // The logo is the tab's icon too, when the operator gave one.
        let (icon, icon_type) = match &app.brand.logo {
            Some(logo) => (logo.url.clone(), logo.content_type),
            None => (assets::url("icon.svg"), "image/svg+xml"),
        };
        Self {
            title: title.to_owned(),
            brand: app.brand.clone(),
            css: assets::url("app.css"),
            icon,
            icon_type,
            scripts: Vec::new(),
            csrf: String::new(),
            token: None,
            account: None,
            operator: None,
            notice: None,
            status: 200,
            form_target: None,
            failure: None,
        }
    }

    /// The portal header: account, current tenant and role, logout.
    pub fn portal(mut self, profile: &Profile) -> Self {
        self.account = Some(AccountNav {
            email: profile.member.account.email.as_str().to_owned(),
            tenant: profile.tenant.name.clone(),
            role: profile.member.membership.role.as_str(),
        });
        self
    }

    /// The operator header: who is signed in, logout.
    pub fn operator(mut self, admin: &AdminRow) -> Self {
        self.operator = Some(admin.email.as_str().to_owned());
        self
    }

    /// Loads `assets/{name}` with the page.
    pub fn script(mut self, name: &str) -> Self {
        self.scripts.push(assets::url(name));
        self
    }

    pub fn notice(mut self, notice: Option<&'static str>) -> Self {
        self.notice = notice;
        self
    }

    pub fn form_target(mut self, origin: Option<String>) -> Self {
        self.form_target = origin;
        self
    }

    /// A sign-in page whose `next` continues an authorization request: its forms end at
    /// the client.
    pub fn leading_to(self, app: &App, next: &str) -> Self {
        self.form_target(crate::core::oidc::authorize::origin_of_next(app, next))
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The layout of a form shown again after `e`, with the error's status and message,
    /// when the visitor can fix it (`error::shown`); anything else goes on to the error
    /// page (or, for 401, to the login page).
    pub fn failed(mut self, e: Error) -> Result<Self, Error> {
        if error::shown(&e) != error::Shown::Form {
            return Err(e);
        }
        self.status = e.status_and_code().0;
        self.failure = Some(e);
        Ok(self)
    }

    /// The message of the error the form came back with.
    pub fn error_message(&self) -> Option<String> {
        self.failure.as_ref().map(Error::message)
    }
}

/// A page template: it has a `Layout`.
pub trait Page: Template {
    fn layout(&self) -> &Layout;
}

/// Implements `Page` for structs whose layout is in the field `layout`.
macro_rules! page {
    ($($name:ident),+ $(,)?) => {$(
        impl $crate::web::Page for $name {
            fn layout(&self) -> &$crate::web::Layout {
                &self.layout
            }
        }
    )+};
}
pub(crate) use page;

/// The response of a page: its HTML (with the CSP), status, CSRF cookie when new, and the
/// headers of the error a form came back with (Retry-After).
pub fn render(app: &App, page: &impl Page) -> Result<Response, Error> {
    let layout = page.layout();
    let mut response = Response::html(layout.status, page.render().map_err(Error::internal)?);
    if let Some(token) = &layout.token {
        response = token.attach(app, response);
    }
    if let Some(e) = &layout.failure {
        response = http::error::with_retry_headers(e, response);
    }
    if let Some(origin) = &layout.form_target {
        response = response.with_form_target(origin);
    }
    Ok(response)
}

/// A portal page's visitor, from the `ks_session` cookie: its session (for the core
/// operation) and the layout with the account's header. No session: 401, which sends the
/// browser to `/login`.
pub struct PortalVisit {
    pub who: PortalUser,
    pub profile: Arc<Profile>,
    pub layout: Layout,
}

pub fn portal_visit(app: &App, req: &Req, title: &str) -> Result<PortalVisit, Error> {
    visit_as(app, req, title, auth::portal_cookie(app, req)?)
}

/// As `portal_visit`, on the page a second-factor policy leaves open (`/app/security`).
pub fn portal_visit_enrolling(app: &App, req: &Req, title: &str) -> Result<PortalVisit, Error> {
    visit_as(app, req, title, auth::portal_cookie_enrolling(app, req)?)
}

fn visit_as(app: &App, req: &Req, title: &str, who: PortalUser) -> Result<PortalVisit, Error> {
    let profile = account::profile(app, &who)?;
    let layout = Layout::new(app, req, title).portal(&profile);
    Ok(PortalVisit { who, profile, layout })
}

/// An operator page's visitor, from the `ks_admin` cookie; 401 sends it to `/admin/login`.
pub struct AdminVisit {
    pub who: Operator,
    pub admin: AdminRow,
    pub layout: Layout,
}

pub fn admin_visit(app: &App, req: &Req, title: &str) -> Result<AdminVisit, Error> {
    let who = auth::admin_cookie(app, req)?;
    let admin = operators::current_admin(app, &who)?;
    let layout = Layout::new(app, req, title).operator(&admin);
    Ok(AdminVisit { who, admin, layout })
}

/// After a login: the session cookie of its realm, and on to `location`.
fn enter(app: &App, cookie: Cookie, token: &Secret, location: &str) -> Response {
    Response::redirect(location).with_cookie(cookies::set(app, cookie, token.expose()))
}

/// A session that may be missing: logging out without one is not an error.
fn optional<T>(found: Result<T, Error>) -> Result<Option<T>, Error> {
    match found {
        Ok(v) => Ok(Some(v)),
        Err(Error::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}
