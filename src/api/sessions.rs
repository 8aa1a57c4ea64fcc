//! `/v1/sessions`: the caller's own sessions.
use super::json::{List, Session};
use crate::app::App;
use crate::core::sessions;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let (rows, next_cursor) = sessions::list_own(app, &who, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next_cursor, |s| Session::of(s, who.session_id))))
}

pub fn revoke(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    sessions::revoke_own(app, &who, req.param("id").parse()?)?;
    Ok(Response::no_content())
}

pub fn revoke_others(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    sessions::revoke_others(app, &who)?;
    Ok(Response::no_content())
}
