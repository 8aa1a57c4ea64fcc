//! Tenants as operators run them: list, create (with its owner's invitation), look at,
//! change, the lifecycle (suspend, delete, restore) with its effects on sessions and
//! memberships, revoking all sessions, and inviting members.
//! Every operation takes a `Staff` (an operator or the command line): both doors call these.
use serde_json::json;

use super::audit::{Action, Event};
use super::members::{self, Invite, Invited};
use super::principal::Staff;
use super::sessions;
use super::tenants::{self as founding, FirstOwner, TenantSpec};
use super::{Member, clean_name, clean_tenant_name};
use crate::app::App;
use crate::error::Error;
use crate::store::cache::Affects;
use crate::store::memberships;
use crate::store::page::Page;
use crate::store::tenants::{self, TenantCounts, TenantRow};
use crate::types::{Email, Reason, Role, TenantId, TenantStatus};

/// Largest `max_seats` an operator may set; more is a typo rather than a plan.
const MAX_SEATS: i64 = 1_000_000;

/// `max_seats` is unlimited (None) or a positive number of seats.
fn check_max_seats(max_seats: Option<i64>) -> Result<(), Error> {
    match max_seats {
        Some(n) if !(1..=MAX_SEATS).contains(&n) => {
            Err(Error::field("max_seats", format!("must be null or between 1 and {MAX_SEATS}")))
        }
        _ => Ok(()),
    }
}

/// Tenants newest first; `q` matches anywhere in the name or slug, case-insensitively.
pub fn list_tenants(
    app: &App,
    _who: &Staff,
    status: Option<TenantStatus>,
    q: Option<&str>,
    page: &Page,
) -> Result<(Vec<TenantRow>, Option<String>), Error> {
    let q = q.map(str::to_lowercase);
    let rows = app.db.read(|c| tenants::list(c, status, q.as_deref(), page))?;
    Ok(page.finish(rows, TenantRow::cursor))
}

/// `POST /v1/admin/tenants`: a tenant and the person invited as its owner.
pub struct NewTenant {
    pub name: String,
    /// None: derived from the name, as at sign-up.
    pub slug: Option<String>,
    pub owner_email: String,
    pub owner_name: Option<String>,
    /// None: the default plan.
    pub plan: Option<String>,
    /// None: unlimited.
    pub max_seats: Option<i64>,
}

pub struct CreatedTenant {
    pub tenant: TenantRow,
    pub owner: Invited,
}

/// Creates a tenant and invites its owner, in one transaction: the owner activates
/// through the invitation (an address that has an account only accepts, keeping its
/// password). Unlike sign-up, no API key is made: its raw value would go to the operator,
/// not to the owner, who makes keys once signed in.
pub fn create_tenant(app: &App, who: &Staff, input: NewTenant) -> Result<CreatedTenant, Error> {
    let name = clean_tenant_name("name", &input.name)?;
    let slug = input.slug.as_deref().map(founding::check_slug).transpose()?;
    let plan =
        input.plan.as_deref().map_or_else(|| Ok(founding::DEFAULT_PLAN.to_owned()), |p| clean_name("plan", p, true))?;
    check_max_seats(input.max_seats)?;
    // Checked here too so that a 400 names the fields of this route, not the invitation's.
    let email = Email::parse("owner_email", &input.owner_email)?;
    let owner_name = clean_name("owner_name", input.owner_name.as_deref().unwrap_or_default(), false)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let spec = TenantSpec { name: &name, slug, plan: &plan, max_seats: input.max_seats };
        let tenant = founding::insert_tenant(tx, &spec, now)?;
        founding::record_created(tx, &tenant, FirstOwner::Invited(&email), who.actor(), who.origin(), now)?;
        let invite = Invite { email: email.as_str().to_owned(), role: Role::Owner, name: Some(owner_name) };
        let owner = members::invite_in(tx, app, &who.in_tenant(tenant.id), &invite, now)?;
        Ok(CreatedTenant { tenant, owner })
    })
}

pub struct TenantOverview {
    pub tenant: TenantRow,
    pub counts: TenantCounts,
}

pub fn get_tenant(app: &App, _who: &Staff, id: TenantId) -> Result<TenantOverview, Error> {
    let now = app.clock.now();
    app.db.read(|c| {
        let tenant = tenants::get(c, id)?.ok_or(Error::NotFound)?;
        Ok(TenantOverview { counts: tenants::counts(c, id, now)?, tenant })
    })
}

/// `PATCH /v1/admin/tenants/{id}`: each field absent is left as it is; `max_seats: null`
/// means unlimited.
#[derive(Debug, Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub plan: Option<String>,
    pub max_seats: Option<Option<i64>>,
}

fn snapshot(t: &TenantRow) -> serde_json::Value {
    json!({ "name": t.name, "plan": t.plan, "max_seats": t.max_seats, "status": t.status })
}

pub fn update_tenant(app: &App, who: &Staff, id: TenantId, patch: TenantPatch) -> Result<TenantRow, Error> {
    let name = patch.name.map(|n| clean_tenant_name("name", &n)).transpose()?;
    let plan = patch.plan.map(|p| clean_name("plan", &p, true)).transpose()?;
    check_max_seats(patch.max_seats.flatten())?;
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Tenant(id)], |tx| {
        let mut tenant = tenants::get(tx, id)?.ok_or(Error::NotFound)?;
        let old = snapshot(&tenant);
        if let Some(name) = name {
            tenant.name = name;
        }
        if let Some(plan) = plan {
            tenant.plan = plan;
        }
        if let Some(max_seats) = patch.max_seats {
            tenant.max_seats = max_seats;
        }
        let new = snapshot(&tenant);
        if old == new {
            return Ok(tenant); // nothing changes, so nothing is audited
        }
        tenants::update(tx, &tenant, now)?;
        Event::new(who.actor(), who.origin(), Action::TenantUpdated)
            .tenant(id)
            .target("tenant", id)
            .before(old)
            .after(new)
            .append(tx, now)?;
        Ok(tenant)
    })
}

/// The lifecycle of a tenant (API.md: "Tenant states").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Suspend,
    Delete,
    Restore,
}

impl Lifecycle {
    /// The status this change leads to from `from`, or None when it is not allowed.
    pub fn next(self, from: TenantStatus) -> Option<TenantStatus> {
        use TenantStatus::{Active, Deleted, Suspended};
        match (self, from) {
            (Lifecycle::Suspend, Active) => Some(Suspended),
            (Lifecycle::Delete, Active | Suspended) => Some(Deleted),
            (Lifecycle::Restore, Suspended | Deleted) => Some(Active),
            _ => None,
        }
    }

    fn action(self) -> Action {
        match self {
            Lifecycle::Suspend => Action::TenantSuspended,
            Lifecycle::Delete => Action::TenantDeleted,
            Lifecycle::Restore => Action::TenantRestored,
        }
    }
}

/// Suspends, deletes or restores a tenant, in one transaction with its audit event.
/// Suspension and deletion end the sessions acting in it (its keys stop verifying and its
/// logins fail through the tenant's status). Deletion disables its active and invited
/// memberships "by tenant"; restoring a deleted tenant gives exactly those back. Nothing
/// is erased.
pub fn change_tenant(
    app: &App,
    who: &Staff,
    id: TenantId,
    change: Lifecycle,
    reason: &Reason,
) -> Result<TenantRow, Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Tenant(id)], |tx| {
        let before = tenants::get(tx, id)?.ok_or(Error::NotFound)?;
        let to = change.next(before.status).ok_or(Error::InvalidTransition)?;
        tenants::set_status(tx, id, to, now)?;
        let sessions_revoked = if to == TenantStatus::Active { 0 } else { sessions::end_tenant_access(tx, id, now)? };
        let memberships_changed = match (change, before.status) {
            (Lifecycle::Delete, _) => memberships::disable_for_tenant(tx, id, now)?,
            (Lifecycle::Restore, TenantStatus::Deleted) => memberships::restore_for_tenant(tx, id, now)?,
            _ => 0,
        };
        Event::new(who.actor(), who.origin(), change.action())
            .tenant(id)
            .target("tenant", id)
            .reason(reason.as_str())
            .before(json!({ "status": before.status }))
            .after(json!({ "status": to, "sessions_revoked": sessions_revoked, "memberships_changed": memberships_changed }))
            .append(tx, now)?;
        tenants::get(tx, id)?.ok_or_else(|| Error::internal("tenant vanished during a change"))
    })
}

/// Ends every session acting in the tenant; returns how many were live.
pub fn revoke_tenant_sessions(app: &App, who: &Staff, id: TenantId, reason: &Reason) -> Result<usize, Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Tenant(id)], |tx| {
        tenants::get(tx, id)?.ok_or(Error::NotFound)?;
        let revoked = sessions::end_tenant_access(tx, id, now)?;
        Event::new(who.actor(), who.origin(), Action::TenantSessionsRevoked)
            .tenant(id)
            .target("tenant", id)
            .reason(reason.as_str())
            .after(json!({ "sessions_revoked": revoked }))
            .append(tx, now)?;
        Ok(revoked)
    })
}

/// Invites a person into a tenant with an owner's powers (the portal's invitation rules:
/// 409 already_member, 403 seat_limit_reached); an unknown tenant is 404.
pub fn invite_member(app: &App, who: &Staff, id: TenantId, input: Invite) -> Result<Invited, Error> {
    members::invite_member(app, &who.in_tenant(id), input)
}

/// A tenant's members (removed ones included), newest first: the portal's list, with an
/// owner's view of the tenant; an unknown tenant is 404.
pub fn list_tenant_members(
    app: &App,
    who: &Staff,
    id: TenantId,
    page: &Page,
) -> Result<(Vec<Member>, Option<String>), Error> {
    members::list_members(app, &who.in_tenant(id), None, page)
}

#[cfg(test)]
mod tests {
    use super::Lifecycle::{self, Delete, Restore, Suspend};
    use crate::types::TenantStatus::{self, Active, Deleted, Suspended};

    #[test]
    fn only_the_transitions_of_api_md_are_allowed() {
        let allowed: &[(Lifecycle, TenantStatus, TenantStatus)] = &[
            (Suspend, Active, Suspended),
            (Delete, Active, Deleted),
            (Delete, Suspended, Deleted),
            (Restore, Suspended, Active),
            (Restore, Deleted, Active),
        ];
        for change in [Suspend, Delete, Restore] {
            for &from in TenantStatus::ALL {
                let expected = allowed.iter().find(|(c, f, _)| *c == change && *f == from).map(|(_, _, to)| *to);
                assert_eq!(change.next(from), expected, "{change:?} from {from}");
            }
        }
    }
}
