//! `GET /v1/admin/stats` and `GET /v1/admin/outbox`.
use serde_json::json;

use super::json::{List, OutboxMessage};
use crate::app::App;
use crate::core::oversight;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};

pub fn stats(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let s = oversight::stats(app, &who)?;
    Ok(Response::json(
        200,
        &json!({
            "tenants": { "active": s.tenants_active, "suspended": s.tenants_suspended, "deleted": s.tenants_deleted },
            "users": {
                "active": s.users_active, "invited": s.users_invited,
                "disabled": s.users_disabled, "deleted": s.users_deleted,
            },
            "sessions_active": s.sessions_active,
            "keys_active": s.keys_active,
        }),
    ))
}

pub fn outbox(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let (rows, next) = oversight::list_outbox(app, &who, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, OutboxMessage::of)))
}
