//! `/v1/admin/users*`: operators run accounts across tenants.
use serde_json::json;

use super::json::{Account, List};
use crate::app::App;
use crate::core::admin_users::{self, AccountChange, AccountFilter};
use crate::core::mfa;
use crate::error::Error;
use crate::http::{Req, Response, auth as credentials, body};
use crate::types::{AccountStatus, TenantId};

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let tenant = body::text(req, "tenant_id")?
        .map(|t| t.parse::<TenantId>().map_err(|_| Error::field("tenant_id", "is not a tenant id")))
        .transpose()?;
    let filter =
        AccountFilter { status: body::filter::<AccountStatus>(req, "status")?, q: body::text(req, "q")?, tenant };
    let (views, next) = admin_users::list_accounts(app, &who, &filter, &body::page(req)?)?;
    Ok(Response::json(200, &List::of(&views, next, Account::of)))
}

/// The four lifecycle routes differ only in the change they ask for.
fn change(app: &App, req: &Req, change: AccountChange) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let view = admin_users::change_account(app, &who, id, change, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "account": Account::of(&view) })))
}

pub fn disable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Disable)
}

pub fn enable(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Enable)
}

pub fn delete(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Delete)
}

pub fn restore(app: &App, req: &mut Req) -> Result<Response, Error> {
    change(app, req, AccountChange::Restore)
}

/// `POST /v1/admin/users/{id}/reset-mfa`: a locked-out person's factors removed.
pub fn reset_mfa(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::staff(app, req)?;
    let id = req.param("id").parse()?;
    let view = mfa::reset::reset_factors(app, &who, id, &body::reason(req)?)?;
    Ok(Response::json(200, &json!({ "account": Account::of(&view) })))
}
