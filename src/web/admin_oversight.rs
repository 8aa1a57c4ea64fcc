//! What operators watch: `/admin/audit` (the filters of `GET /v1/admin/audit`, keyset
//! pages) and `/admin/outbox` (messages without their bodies, so no live link shows).
use askama::Template;

use super::listing::{When, maybe, next_link, when};
use super::{AdminVisit, Layout, admin_visit, page, render};
use crate::app::App;
use crate::core::principal::Staff;
use crate::core::{audit, oversight};
use crate::error::Error;
use crate::http::{Req, Response, body};
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::outbox::OutboxRow;

pub struct EventLine {
    pub at: When,
    pub actor: String,
    pub actor_id: String,
    pub tenant_id: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub reason: String,
    pub before: String,
    pub after: String,
}

impl EventLine {
    pub(super) fn of(e: &AuditRow) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let json =
            |v: &Option<Box<serde_json::value::RawValue>>| v.as_ref().map(|r| r.get().to_owned()).unwrap_or_default();
        Self {
            at: when(e.at),
            actor: e.actor_type.clone(),
            actor_id: text(&e.actor_id),
            tenant_id: text(&e.tenant_id),
            action: e.action.clone(),
            target: match (&e.target_type, &e.target_id) {
                (Some(kind), Some(id)) => format!("{kind} {id}"),
                (Some(kind), None) => kind.clone(),
                _ => String::new(),
            },
            ip: text(&e.ip),
            reason: text(&e.reason),
            before: json(&e.before),
            after: json(&e.after),
        }
    }
}

#[derive(Template)]
#[template(path = "web/admin_audit.html")]
pub struct AuditPage {
    layout: Layout,
    tenant_id: String,
    actor_id: String,
    action: String,
    since: String,
    until: String,
    events: Vec<EventLine>,
    next: Option<String>,
}

pub struct MessageLine {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub kind: String,
    pub created_at: When,
    pub sent_at: When,
    pub attempts: i64,
    pub last_error: String,
}

impl MessageLine {
    fn of(m: &OutboxRow) -> Self {
        Self {
            id: m.id.clone(),
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            kind: m.kind.clone(),
            created_at: when(m.created_at),
            sent_at: maybe(m.sent_at, "–"),
            attempts: m.attempts,
            last_error: m.last_error.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "web/admin_outbox.html")]
pub struct OutboxPage {
    layout: Layout,
    messages: Vec<MessageLine>,
    next: Option<String>,
}

page!(AuditPage, OutboxPage);

/// `?tenant_id ?actor_id ?action ?since ?until`, as the API reads them (bad times are 400).
pub fn audit(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Audit log")?;
    let filter = AuditFilter {
        tenant_id: body::text(req, "tenant_id")?,
        actor_id: body::text(req, "actor_id")?,
        action: body::text(req, "action")?,
        since: body::time(req, "since")?,
        until: body::time(req, "until")?,
        ..AuditFilter::default()
    };
    let paging = body::page(req)?;
    let (rows, next) = audit::list_events(app, &Staff::Operator(who), &filter, &paging)?;
    let shown = |t: Option<crate::types::Timestamp>| t.map(|t| t.rfc3339()).unwrap_or_default();
    let page = AuditPage {
        layout,
        tenant_id: filter.tenant_id.unwrap_or_default(),
        actor_id: filter.actor_id.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        since: shown(filter.since),
        until: shown(filter.until),
        events: rows.iter().map(EventLine::of).collect(),
        next: None,
    };
    let next = next_link(
        "/admin/audit",
        &paging,
        next,
        &[
            ("tenant_id", &page.tenant_id),
            ("actor_id", &page.actor_id),
            ("action", &page.action),
            ("since", &page.since),
            ("until", &page.until),
        ],
    );
    render(app, &AuditPage { next, ..page })
}

pub fn outbox(app: &App, req: &mut Req) -> Result<Response, Error> {
    let AdminVisit { who, layout, .. } = admin_visit(app, req, "Outbox")?;
    let paging = body::page(req)?;
    let (rows, next) = oversight::list_outbox(app, &Staff::Operator(who), &paging)?;
    let page = OutboxPage {
        layout,
        messages: rows.iter().map(MessageLine::of).collect(),
        next: next_link("/admin/outbox", &paging, next, &[]),
    };
    render(app, &page)
}
