//! `/oauth/authorize`: the authorization endpoint's pages. GET takes the client's
//! request; POST takes the answers of the tenant and consent forms, which carry the
//! request's parameters as hidden fields. Core decides every step
//! (`core::oidc::authorize`); this module renders it.
use askama::Template;

use super::oauth_refused::{Asked, refused};
use super::{Layout, optional, page, render};
use crate::app::App;
use crate::core::oidc::Scope;
use crate::core::oidc::authorize::{self, Answers, Next, Refusal, Request};
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials};
use crate::store::{accounts, tenants};

#[derive(Template)]
#[template(path = "web/oauth_tenant.html")]
struct TenantPage {
    layout: Layout,
    client: String,
    params: Vec<(String, String)>,
    /// (id, name) of each tenant the account can act in.
    tenants: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "web/oauth_consent.html")]
struct ConsentPage {
    layout: Layout,
    client: String,
    params: Vec<(String, String)>,
    email: String,
    tenant: String,
    tenant_id: String,
    scopes: Vec<&'static str>,
}

page!(TenantPage, ConsentPage);

/// The fields our own forms add to the request's parameters.
const ANSWER_FIELDS: [&str; 3] = ["csrf", "tenant", "decision"];

pub fn request(app: &App, req: &mut Req) -> Result<Response, Error> {
    step(app, req, req.query_pairs(), &Answers::default())
}

pub fn answer(app: &App, req: &mut Req) -> Result<Response, Error> {
    let f = Form::parse(req)?;
    let params = f.pairs().iter().filter(|(n, _)| !ANSWER_FIELDS.contains(&n.as_str())).cloned().collect();
    let answers = Answers {
        tenant: f.optional("tenant").map(str::parse).transpose()?,
        consent: f.optional("decision").map(|d| d == "allow"),
    };
    step(app, req, params, &answers)
}

fn step(app: &App, req: &Req, params: Vec<(String, String)>, answers: &Answers) -> Result<Response, Error> {
    let request = match authorize::check(app, params) {
        Ok(request) => request,
        Err(Refusal::Shown(e)) => return refused(app, req, Asked::SignIn, &e),
        Err(Refusal::Redirect(to)) => return Ok(Response::redirect(&to)),
    };
    let session = optional(credentials::portal_cookie_enrolling(app, req))?;
    let layout = || Layout::new(app, req, "Sign in").form_target(authorize::origin(&request.redirect_uri));
    match authorize::next(app, &request, session.as_ref(), answers)? {
        Next::Done(to) => Ok(Response::redirect(&to)),
        Next::SignIn { next, login_hint, again } => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("next", &next);
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", &hint);
            }
            if again {
                query.append_pair("again", "1");
            }
            Ok(Response::redirect(&format!("/login?{}", query.finish())))
        }
        Next::ChooseTenant(choices) => {
            let tenants = choices.into_iter().map(|t| (t.id.to_string(), t.name)).collect();
            let (client, params) = (request.client.name.clone(), request.params.clone());
            render(app, &TenantPage { layout: layout(), client, params, tenants })
        }
        Next::Consent { tenant } => {
            let Some(who) = session else { return Err(Error::Unauthorized) };
            let account = app.db.read(|c| accounts::get(c, who.user_id))?.ok_or(Error::Unauthorized)?;
            let tenant = app.db.read(|c| tenants::get(c, tenant))?.ok_or(Error::NotFound)?;
            render(app, &consent_page(layout(), &request, account.email.as_str(), &tenant))
        }
    }
}

fn consent_page(layout: Layout, request: &Request, email: &str, tenant: &tenants::TenantRow) -> ConsentPage {
    ConsentPage {
        layout,
        client: request.client.name.clone(),
        params: request.params.clone(),
        email: email.to_owned(),
        tenant: tenant.name.clone(),
        tenant_id: tenant.id.to_string(),
        scopes: scope_texts(&request.scope),
    }
}

/// What each scope lets the client do, as the consent page says it.
fn scope_texts(scope: &Scope) -> Vec<&'static str> {
    scope
        .iter()
        .map(|s| match s {
            "openid" => "know who you are, and your team and role there",
            "email" => "see your email address",
            "profile" => "see your name",
            "offline_access" => "stay signed in to it while you are away, until you take it back",
            _ => "",
        })
        .filter(|t| !t.is_empty())
        .collect()
}
