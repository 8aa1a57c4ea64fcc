//! `/oauth/logout`: the end-session endpoint's pages. A client sends the browser here
//! (GET, or a POST from its own page); a confirmation form posts to
//! `/oauth/logout/confirm`. Core decides what is asked (`core::oidc::logout`); this
//! module renders it and ends the session.
use askama::Template;

use super::oauth_refused::{Asked, refused};
use super::{Layout, optional, page, render};
use crate::app::App;
use crate::core::oidc::authorize;
use crate::core::oidc::logout::{self, Request};
use crate::core::principal::PortalUser;
use crate::core::sessions;
use crate::error::Error;
use crate::http::cookies::Cookie;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials, cookies};

#[derive(Template)]
#[template(path = "web/oauth_logout.html")]
struct ConfirmPage {
    layout: Layout,
    client: Option<String>,
    params: Vec<(String, String)>,
}

page!(ConfirmPage);

/// `GET /oauth/logout`.
pub fn request(app: &App, req: &mut Req) -> Result<Response, Error> {
    step(app, req, req.query_pairs(), false)
}

/// `POST /oauth/logout`: the same request posted by the client's page. The router takes it
/// without a CSRF token (it comes from another site by design); it ends nothing that a GET
/// would not.
pub fn posted(app: &App, req: &mut Req) -> Result<Response, Error> {
    let params = Form::parse(req)?.pairs().to_vec();
    step(app, req, params, false)
}

/// `POST /oauth/logout/confirm`: the person's answer on the confirmation form.
pub fn confirm(app: &App, req: &mut Req) -> Result<Response, Error> {
    let params = Form::parse(req)?.pairs().iter().filter(|(n, _)| n != "csrf").cloned().collect();
    step(app, req, params, true)
}

fn step(app: &App, req: &Req, params: Vec<(String, String)>, confirmed: bool) -> Result<Response, Error> {
    let request = match logout::check(app, params) {
        Ok(request) => request,
        Err(e) => return refused(app, req, Asked::SignOut, &e),
    };
    let session = optional(credentials::portal_cookie_enrolling(app, req))?;
    if !confirmed && request.needs_confirmation(session.as_ref()) {
        // The form's POST ends with a redirect to the client: the page's `form-action`
        // must allow that origin too.
        let target = request.redirect.as_deref().and_then(authorize::origin);
        let layout = Layout::new(app, req, "Sign out").form_target(target);
        let client = request.client.as_ref().map(|c| c.name.clone());
        return render(app, &ConfirmPage { layout, client, params: request.params });
    }
    sign_out(app, session.as_ref(), &request)
}

fn sign_out(app: &App, session: Option<&PortalUser>, request: &Request) -> Result<Response, Error> {
    if let Some(who) = session {
        sessions::logout(app, who)?;
    }
    let to = request.redirect.as_deref().unwrap_or("/login?done=signed-out");
    Ok(Response::redirect(to).with_cookie(cookies::clear(app, Cookie::Portal)))
}
