//! `/app/audit`: the tenant's audit log, as `GET /v1/tenant/audit` gives it (owners and
//! admins), with its filters (`actor_id`, `action`, `since`, `until`) and keyset paging.
use askama::Template;

use super::listing::{When, next_link, when};
use super::{Layout, page, portal_visit, render};
use crate::app::App;
use crate::core::audit;
use crate::error::Error;
use crate::http::{Req, Response, body};
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::page::Page;

#[derive(Template)]
#[template(path = "web/audit.html")]
pub struct AuditPage {
    layout: Layout,
    /// False for plain members: the log is for owners and admins.
    allowed: bool,
    events: Vec<EventLine>,
    next: Option<String>,
    actor_id: String,
    action: String,
    since: String,
    until: String,
}

struct EventLine {
    at: When,
    actor: String,
    action: String,
    target: String,
    ip: String,
    reason: String,
    before: String,
    after: String,
}

page!(AuditPage);

fn line(e: &AuditRow) -> EventLine {
    let join = |kind: &str, id: &Option<String>| match id {
        Some(id) => format!("{kind} {id}"),
        None => kind.to_owned(),
    };
    EventLine {
        at: when(e.at),
        actor: join(&e.actor_type, &e.actor_id),
        action: e.action.clone(),
        target: e.target_type.as_ref().map_or_else(String::new, |t| join(t, &e.target_id)),
        ip: e.ip.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        before: e.before.as_ref().map_or_else(String::new, |v| v.get().to_owned()),
        after: e.after.as_ref().map_or_else(String::new, |v| v.get().to_owned()),
    }
}

fn filter(req: &Req) -> Result<AuditFilter, Error> {
    Ok(AuditFilter {
        tenant_id: None,
        actor_id: body::text(req, "actor_id")?,
        action: body::text(req, "action")?,
        since: body::time(req, "since")?,
        until: body::time(req, "until")?,
        ..AuditFilter::default()
    })
}

pub fn list(app: &App, req: &mut Req) -> Result<Response, Error> {
    let v = portal_visit(app, req, "Audit log")?;
    let field = |name: &str| req.query(name).unwrap_or_default();
    let (actor_id, action, since, until) = (field("actor_id"), field("action"), field("since"), field("until"));
    let (page, listed) = match body::page(req) {
        Ok(page) => {
            let listed = filter(req).and_then(|f| audit::list_tenant_events(app, &v.who, f, &page));
            (page, listed)
        }
        Err(e) => (Page::default(), Err(e)),
    };
    let (layout, allowed, rows, next) = match listed {
        Ok((rows, next)) => (v.layout, true, rows, next),
        Err(Error::Forbidden) => (v.layout, false, Vec::new(), None),
        // A filter that does not parse: the form again, with the message.
        Err(e) => (v.layout.failed(e)?, true, Vec::new(), None),
    };
    let fields = [("actor_id", actor_id.as_str()), ("action", &action), ("since", &since), ("until", &until)];
    let next = next_link("/app/audit", &page, next, &fields);
    let events = rows.iter().map(line).collect();
    render(app, &AuditPage { layout, allowed, events, next, actor_id, action, since, until })
}
