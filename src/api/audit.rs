//! `GET /v1/admin/audit` (every event) and `GET /v1/tenant/audit` (the caller's tenant).
use super::json::{AuditEvent, List};
use crate::app::App;
use crate::core::audit;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::store::audit::AuditFilter;

/// `?tenant_id ?actor_id ?action ?since ?until` (RFC 3339), shared by both routes.
fn filter(req: &Req) -> Result<AuditFilter, Error> {
    Ok(AuditFilter {
        tenant_id: body::text(req, "tenant_id")?,
        actor_id: body::text(req, "actor_id")?,
        action: body::text(req, "action")?,
        since: body::time(req, "since")?,
        until: body::time(req, "until")?,
        ..AuditFilter::default()
    })
}

pub fn admin_list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let (rows, next) = audit::list_events(app, &who, &filter(req)?, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, AuditEvent::of)))
}

pub fn tenant_list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal(app, req)?;
    let (rows, next) = audit::list_tenant_events(app, &who, filter(req)?, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&rows, next, AuditEvent::of)))
}
