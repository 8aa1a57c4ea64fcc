//! The people of a tenant: list, invite, resend an invitation, change a role, remove, and
//! activation (accepting an invitation through its emailed link).
//!
//! Every operation but `activate` takes a `TenantActor`: the portal passes
//! `who.in_tenant()` (a member acting in its session's tenant, with its role there), and
//! the operator API and the command line pass `staff.in_tenant(tenant_id)` (owner powers
//! in that tenant; a tenant that does not exist is 404). There is no second copy of these
//! rules; an operation that must invite inside its own transaction (the operator's tenant
//! creation) calls `invite_in`.
//!
//! Role matrix (API.md): owners manage everyone; admins manage members whose role is
//! `member`; only owners change roles; nobody removes themself or an owner; a tenant keeps
//! at least one active owner; active + invited memberships never exceed `max_seats`.
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::mfa;
use super::principal::{Actor, Origin, TenantActor};
use super::sessions::{self, Opened};
use super::tokens::{self, Grant};
use super::{Member, clean_name};
use crate::app::App;
use crate::crypto::password::check_policy;
use crate::crypto::secret::{Secret, TokenHash};
use crate::error::Error;
use crate::mail::{self, Letter, Queued};
use crate::store::accounts::{self, NewAccount};
use crate::store::memberships::{self, MembershipRow};
use crate::store::page::Page;
use crate::store::sessions as session_store;
use crate::store::tenants::{self, TenantRow};
use crate::types::{AccountStatus, Email, MembershipStatus, Person, Role, TenantStatus, Timestamp, TokenKind, UserId};

/// Whether `by` may manage a member whose role is (or would become) `target`.
fn may_manage(by: &TenantActor<'_>, target: Role) -> Result<(), Error> {
    by.require(Role::Admin)?;
    if by.role == Role::Owner || target == Role::Member { Ok(()) } else { Err(Error::Forbidden) }
}

fn event<'a>(by: &TenantActor<'a>, action: Action, user: UserId) -> Event<'a> {
    Event::new(by.actor, by.origin, action).tenant(by.tenant).target("account", user)
}

fn load_member(conn: &rusqlite::Connection, by: &TenantActor<'_>, user: UserId) -> Result<Member, Error> {
    let (membership, account) = memberships::get_member(conn, by.tenant, user)?.ok_or(Error::NotFound)?;
    Ok(Member { account, membership })
}

/// The tenant's members (removed ones included unless `status` filters), newest first.
pub fn list_members(
    app: &App,
    by: &TenantActor<'_>,
    status: Option<MembershipStatus>,
    page: &Page,
) -> Result<(Vec<Member>, Option<String>), Error> {
    by.require(Role::Admin)?;
    let rows = app.db.read(|c| {
        tenants::get(c, by.tenant)?.ok_or(Error::NotFound)?;
        memberships::list_members(c, by.tenant, status, page)
    })?;
    let (rows, next) = page.finish(rows, |(m, _)| m.cursor());
    Ok((rows.into_iter().map(|(membership, account)| Member { account, membership }).collect(), next))
}

pub struct Invite {
    pub email: String,
    pub role: Role,
    pub name: Option<String>,
}

/// A member invited (or re-invited), and what became of the invitation email.
pub struct Invited {
    pub member: Member,
    pub mail: Queued,
}

/// Invites a person by email. An address without an account gets one (no password until
/// activation); an account that is a member elsewhere, or was removed here, gets a new or
/// revived membership, and its invitation only asks it to accept.
pub fn invite_member(app: &App, by: &TenantActor<'_>, input: Invite) -> Result<Invited, Error> {
    let now = app.clock.now();
    app.db.write(|tx| invite_in(tx, app, by, &input, now))
}

/// `invite_member` inside the caller's transaction: for an operation that creates the
/// tenant and invites its owner at once (the operator's `POST /v1/admin/tenants`).
pub(crate) fn invite_in(
    tx: &Transaction<'_>,
    app: &App,
    by: &TenantActor<'_>,
    input: &Invite,
    now: Timestamp,
) -> Result<Invited, Error> {
    may_manage(by, input.role)?;
    let email = Email::parse("email", &input.email)?;
    let name = clean_name("name", input.name.as_deref().unwrap_or_default(), false)?;
    let tenant = tenants::get(tx, by.tenant)?.ok_or(Error::NotFound)?;
    // Only an operator reaches a suspended or deleted tenant; nobody could accept there.
    if tenant.status != TenantStatus::Active {
        return Err(Error::InvalidTransition);
    }
    let account = accounts::find_by_email(tx, &email)?;
    let existing = match &account {
        Some(a) => memberships::get(tx, by.tenant, a.id)?,
        None => None,
    };
    // Removed members may come back; any other membership (invited, active, or
    // disabled by an operator) already holds this person here.
    if existing.as_ref().is_some_and(|m| m.status != MembershipStatus::Removed) {
        return Err(Error::AlreadyMember);
    }
    if let Some(max) = tenant.max_seats {
        if memberships::count_seats(tx, by.tenant)? >= max {
            return Err(Error::SeatLimitReached);
        }
    }
    let user = match &account {
        Some(a) => a.id,
        None => {
            let id = UserId::random();
            // A UNIQUE failure here cannot happen: this transaction just saw no account.
            accounts::insert(tx, &NewAccount { id, email: &email, name: &name, password_hash: None }, now)?;
            Event::new(by.actor, by.origin, Action::AccountCreated)
                .tenant(by.tenant)
                .target("account", id)
                .after(serde_json::json!({ "email": email, "name": name }))
                .append(tx, now)?;
            id
        }
    };
    if existing.is_some() {
        memberships::set_role(tx, by.tenant, user, input.role, now)?;
        memberships::set_status(tx, by.tenant, user, MembershipStatus::Invited, now)?;
    } else {
        let m = MembershipRow {
            tenant_id: by.tenant,
            user_id: user,
            role: input.role,
            status: MembershipStatus::Invited,
            created_at: now,
        };
        memberships::insert(tx, &m)?;
    }
    let mail = send_invitation(tx, app, &tenant, user, now)?;
    event(by, Action::MemberInvited, user)
        .after(serde_json::json!({ "email": email, "role": input.role, "status": "invited", "revived": existing.is_some() }))
        .append(tx, now)?;
    Ok(Invited { member: load_member(tx, by, user)?, mail })
}

/// Issues a fresh activation token (the older ones die) and queues the invitation.
fn send_invitation(
    tx: &Transaction<'_>,
    app: &App,
    tenant: &TenantRow,
    user: UserId,
    now: Timestamp,
) -> Result<Queued, Error> {
    let account = accounts::get(tx, user)?.ok_or(Error::NotFound)?;
    let grant = Grant { kind: TokenKind::Activation, user, tenant: Some(tenant.id), new_email: None };
    let token = tokens::issue(tx, &grant, now)?;
    let letter =
        Letter::Invitation { tenant: &tenant.name, new_account: account.password_hash.is_none(), token: &token };
    mail::queue(tx, app, &account.email, &letter, now)
}

/// What `by` may do to a member: the checks the operations below run, for a page to offer
/// exactly the actions that would succeed (a role change may still meet `last_owner`).
pub struct MemberActions {
    pub change_role: bool,
    pub remove: bool,
    pub resend: bool,
}

pub fn actions(by: &TenantActor<'_>, member: &Member) -> MemberActions {
    MemberActions {
        change_role: may_change_role(by, member).is_ok(),
        remove: may_remove(by, member).is_ok(),
        resend: may_resend(by, member).is_ok(),
    }
}

fn may_resend(by: &TenantActor<'_>, member: &Member) -> Result<(), Error> {
    may_manage(by, member.membership.role)?;
    if member.membership.status == MembershipStatus::Invited { Ok(()) } else { Err(Error::NotInvited) }
}

fn may_change_role(by: &TenantActor<'_>, member: &Member) -> Result<(), Error> {
    by.require(CHANGE_ROLES)?;
    if member.membership.status == MembershipStatus::Removed { Err(Error::InvalidTransition) } else { Ok(()) }
}

/// Nobody removes themself or an owner (an owner steps down first).
fn may_remove(by: &TenantActor<'_>, member: &Member) -> Result<(), Error> {
    if by.user == Some(member.account.id) || member.membership.role == Role::Owner {
        return Err(Error::Forbidden);
    }
    may_manage(by, member.membership.role)?;
    if member.membership.status == MembershipStatus::Removed { Err(Error::InvalidTransition) } else { Ok(()) }
}

/// Sends an invited member a new invitation; the previous link stops working.
pub fn resend_invite(app: &App, by: &TenantActor<'_>, user: UserId) -> Result<Invited, Error> {
    by.require(Role::Admin)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let member = load_member(tx, by, user)?;
        may_resend(by, &member)?;
        let tenant = tenants::get(tx, by.tenant)?.ok_or(Error::NotFound)?;
        let mail = send_invitation(tx, app, &tenant, user, now)?;
        event(by, Action::MemberInviteResent, user).append(tx, now)?;
        Ok(Invited { member, mail })
    })
}

/// Who changes members' roles.
pub const CHANGE_ROLES: Role = Role::Owner;

/// Changes a member's role (owners only); the last active owner cannot step down.
pub fn change_role(app: &App, by: &TenantActor<'_>, user: UserId, role: Role) -> Result<Member, Error> {
    by.require(CHANGE_ROLES)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let member = load_member(tx, by, user)?;
        let before = member.membership.role;
        may_change_role(by, &member)?;
        if before == role {
            return Ok(member);
        }
        let counts_as_owner = before == Role::Owner && member.is_active();
        if counts_as_owner && memberships::count_active_owners(tx, by.tenant)? <= 1 {
            return Err(Error::LastOwner);
        }
        memberships::set_role(tx, by.tenant, user, role, now)?;
        super::sessions::apply_role(tx, app, by.tenant, user, role)?;
        event(by, Action::MemberRoleChanged, user)
            .before(serde_json::json!({ "role": before }))
            .after(serde_json::json!({ "role": role }))
            .append(tx, now)?;
        load_member(tx, by, user)
    })
}

/// Removes a member: the membership becomes "removed", its sessions in this tenant end at
/// once, and a pending invitation link stops working. The account and its other
/// memberships stay; it can be invited again.
pub fn remove_member(app: &App, by: &TenantActor<'_>, user: UserId) -> Result<(), Error> {
    by.require(Role::Admin)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let member = load_member(tx, by, user)?;
        may_remove(by, &member)?;
        memberships::set_status(tx, by.tenant, user, MembershipStatus::Removed, now)?;
        let revoked = session_store::revoke_for_member(tx, by.tenant, user, now)?;
        tokens::revoke(tx, TokenKind::Activation, user, Some(by.tenant), now)?;
        event(by, Action::MemberRemoved, user)
            .before(serde_json::json!({ "role": member.membership.role, "status": member.membership.status }))
            .after(serde_json::json!({ "status": "removed", "sessions_revoked": revoked }))
            .append(tx, now)
    })
}

pub struct Activate {
    pub token: String,
    /// Required when the account has no password yet (a first invitation), refused otherwise.
    pub password: Option<Secret>,
    pub name: Option<String>,
}

pub struct Activated {
    pub session: Opened,
    pub member: Member,
    pub tenant: TenantRow,
}

/// Accepts an invitation: the membership becomes active, the address counts as verified
/// (the link proved it), and the person is signed in to that tenant.
pub fn activate(app: &App, origin: &Origin, input: Activate) -> Result<Activated, Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    let account = app.db.read(|c| {
        let token = tokens::peek(c, TokenKind::Activation, &input.token, now)?;
        accounts::get(c, token.user_id)?.ok_or(Error::InvalidToken)
    })?;
    let new_account = account.password_hash.is_none();
    let name = input.name.as_deref().map(|n| clean_name("name", n, false)).transpose()?;
    // The argon2 work happens before the write transaction, which then only stores it.
    let hash = match (new_account, &input.password) {
        (true, Some(password)) => {
            let context = [account.email.as_str(), name.as_deref().unwrap_or(&account.name)];
            check_policy("password", password, app.config.password_min_length, &context)?;
            Some(app.hasher.hash(password)?)
        }
        (true, None) => return Err(Error::field("password", "is required to activate a new account")),
        (false, Some(_)) => return Err(Error::field("password", "must not be sent: this account already has one")),
        (false, None) => None,
    };
    let invitation = TokenHash::of(&input.token);
    let acceptance = Acceptance { hash, name, new_account };
    // One transaction: an account with a second factor owes it first (the invitation
    // waits on the challenge, unspent); otherwise the membership becomes active.
    app.db.write(|tx| {
        if !new_account {
            let person = Person::User(account.id);
            if let Some(mfa_required) = mfa::challenge::demand(tx, person, None, Some(invitation), now)? {
                return Ok(Err(mfa_required));
            }
        }
        accept_in(tx, app, origin, &invitation, &acceptance, now).map(Ok)
    })?
}

/// What an activation sets on the account: a new account's password hash and name.
pub(crate) struct Acceptance {
    pub hash: Option<String>,
    pub name: Option<String>,
    pub new_account: bool,
}

impl Acceptance {
    /// An account that exists already: it only accepts.
    pub(crate) const EXISTING: Acceptance = Acceptance { hash: None, name: None, new_account: false };
}

/// Uses the invitation behind `invitation` in the caller's transaction: the membership
/// becomes active and a session opens in its tenant (also the end of an activation's
/// second step).
pub(crate) fn accept_in(
    tx: &Transaction<'_>,
    app: &App,
    origin: &Origin,
    invitation: &TokenHash,
    acceptance: &Acceptance,
    now: Timestamp,
) -> Result<Activated, Error> {
    let Acceptance { hash, name, new_account } = acceptance;
    let token = tokens::consume_hashed(tx, TokenKind::Activation, invitation, now)?;
    let (user, tenant) = (token.user_id, token.tenant_id.ok_or(Error::InvalidToken)?);
    let membership = memberships::get(tx, tenant, user)?;
    if membership.is_none_or(|m| m.status != MembershipStatus::Invited) {
        return Err(Error::InvalidToken);
    }
    let account = accounts::get(tx, user)?.ok_or(Error::InvalidToken)?;
    if account.status != AccountStatus::Active {
        return Err(Error::AccountDisabled);
    }
    if tenants::get(tx, tenant)?.is_none_or(|t| t.status != TenantStatus::Active) {
        return Err(Error::TenantSuspended);
    }
    // A concurrent activation elsewhere may have set a password since the read above:
    // the first one stands.
    if let (Some(hash), None) = (&hash, &account.password_hash) {
        accounts::set_password_hash(tx, user, hash, now)?;
        if let Some(name) = &name {
            accounts::set_name(tx, user, name, now)?;
        }
    }
    accounts::mark_email_verified(tx, user, now)?;
    memberships::set_status(tx, tenant, user, MembershipStatus::Active, now)?;
    accounts::record_login(tx, user, tenant, now)?;
    let session = sessions::open(tx, app, sessions::Holder::Portal { user, tenant }, origin, now)?;
    Event::new(Actor::User(user), Some(origin), Action::MemberActivated)
        .tenant(tenant)
        .target("account", user)
        .after(serde_json::json!({ "status": "active", "new_account": new_account }))
        .append(tx, now)?;
    let profile = super::account::load_profile(tx, user, tenant)?;
    Ok(Activated { session, member: profile.member, tenant: profile.tenant })
}
