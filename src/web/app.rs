//! The portal's overview (`/app`) and its tenant switcher.
use askama::Template;

use super::{Layout, page, portal_visit, render};
use crate::app::App;
use crate::core::{auth, members, membership_state};
use crate::error::Error;
use crate::http::form::Form;
use crate::http::{Req, Response, auth as credentials};
use crate::types::MembershipStatus;

#[derive(Template)]
#[template(path = "web/overview.html")]
pub struct OverviewPage {
    layout: Layout,
    name: String,
    email: String,
    email_verified: bool,
    tenant: String,
    plan: String,
    tenant_status: &'static str,
    role: &'static str,
    memberships: Vec<MembershipLine>,
}

struct MembershipLine {
    tenant_id: String,
    tenant: String,
    role: &'static str,
    status: &'static str,
    current: bool,
    /// An active membership in an active tenant: the switcher offers it.
    usable: bool,
    /// A pending invitation: the page offers to accept it.
    invited: bool,
}

page!(OverviewPage);

pub fn overview(app: &App, req: &mut Req) -> Result<Response, Error> {
    let visit = portal_visit(app, req, "Overview")?;
    let accepted = req.query("done").as_deref() == Some("invitation-accepted");
    let p = &visit.profile;
    let memberships = p
        .memberships
        .iter()
        .map(|(m, t)| MembershipLine {
            tenant_id: t.id.to_string(),
            tenant: t.name.clone(),
            role: m.role.as_str(),
            status: membership_state(m, t),
            current: t.id == p.tenant.id,
            usable: auth::can_act_in(m, t),
            invited: m.status == MembershipStatus::Invited,
        })
        .collect();
    let page = OverviewPage {
        name: p.member.account.name.clone(),
        email: p.member.account.email.as_str().to_owned(),
        email_verified: p.member.account.email_verified_at.is_some(),
        tenant: p.tenant.name.clone(),
        plan: p.tenant.plan.clone(),
        tenant_status: p.tenant.status.as_str(),
        role: p.member.membership.role.as_str(),
        memberships,
        layout: visit
            .layout
            .notice(accepted.then_some("The invitation is accepted: switch to the tenant to act in it.")),
    };
    render(app, &page)
}

/// Accepts a pending invitation (an existing account's way in when no mail carried the
/// link), then back to the overview, where the tenant is now one to switch to.
pub fn accept_invitation(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_cookie(app, req)?;
    members::accept_invitation(app, &who, req.param("tenant_id").parse()?)?;
    Ok(Response::redirect("/app?done=invitation-accepted"))
}

pub fn switch_tenant(app: &App, req: &mut Req) -> Result<Response, Error> {
    let who = credentials::portal_cookie_enrolling(app, req)?;
    let f = Form::parse(req)?;
    auth::switch_tenant(app, &who, f.text("tenant_id").parse()?)?;
    Ok(Response::redirect("/app"))
}
