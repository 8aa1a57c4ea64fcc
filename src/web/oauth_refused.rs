//! The page of an application's request that is refused without sending the browser back
//! to it (an unknown client, an unregistered redirect URI, a bad logout hint): the person
//! sees why, and the application's administrator gets the RFC's error code.
use askama::Template;

use super::{Layout, page, render};
use crate::app::App;
use crate::core::oidc::OAuthError;
use crate::error::Error;
use crate::http::{Req, Response};

/// What the refused request was for.
#[derive(Clone, Copy)]
pub enum Asked {
    SignIn,
    SignOut,
}

#[derive(Template)]
#[template(path = "web/oauth_refused.html")]
struct RefusedPage {
    layout: Layout,
    sign_out: bool,
    code: &'static str,
    description: String,
}

page!(RefusedPage);

pub fn refused(app: &App, req: &Req, asked: Asked, e: &OAuthError) -> Result<Response, Error> {
    let title = match asked {
        Asked::SignIn => "Sign-in refused",
        Asked::SignOut => "Sign-out refused",
    };
    let layout = Layout::new(app, req, title).status(400);
    let sign_out = matches!(asked, Asked::SignOut);
    render(app, &RefusedPage { layout, sign_out, code: e.code, description: e.description.clone() })
}
