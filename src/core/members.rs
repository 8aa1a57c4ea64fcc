//! The people of a tenant: list, invite, resend an invitation, change a role, remove, and
//! accepting an invitation (through its link, or signed in).
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
//!
//! Links (API.md, DESIGN.md "Security rules"): a link never opens an existing account by
//! itself. Accepting an invitation into an account that has a password needs that
//! password; `hand_over` is the one rule for when the inviter is given the link; and an
//! address is verified only when the invitation reached it by mail.
use rusqlite::{Connection, Transaction};

use super::audit::{Action, Event};
use super::mfa;
use super::principal::{Actor, Origin, PortalUser, TenantActor};
use super::sessions::{self, Opened};
use super::tokens::{self, Grant};
use super::{Member, clean_name};
use crate::app::App;
use crate::crypto::password::check_policy;
use crate::crypto::secret::{Secret, TokenHash};
use crate::error::Error;
use crate::mail::{self, Letter, Queued};
use crate::store::accounts::{self, AccountRow, NewAccount};
use crate::store::cache::Affects;
use crate::store::memberships::{self, MembershipRow};
use crate::store::page::Page;
use crate::store::tenants::{self, TenantRow};
use crate::store::{audit, tokens as token_store};
use crate::types::{
    AccountStatus, Email, MembershipStatus, Person, Role, TenantId, TenantStatus, Timestamp, TokenKind, UserId,
};

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
    /// The invitation mail is queued for the configured SMTP server (`invite_email.sent`).
    pub sent: bool,
    /// The link for the inviter to hand over (`activation_url`), set by `hand_over` alone:
    /// every door (API, pages, command line) shows this and decides nothing itself.
    pub activation_url: Option<Secret>,
}

/// THE hand-over rule: the inviter gets the activation link only when no mail carries it
/// AND the account has no password yet. A link handed to an inviter must never open an
/// account that exists already; such an account accepts when it signs in.
fn hand_over(queued: Queued, has_password: bool) -> Option<Secret> {
    if queued.sent || has_password { None } else { queued.link }
}

/// Resends of one invitation allowed in an hour (API.md: a fourth is 429).
pub const RESENDS_PER_HOUR: i64 = 3;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// 429 when `count` events in a window of `window` seconds reach `allowed`; Retry-After is
/// when the oldest of them leaves the window.
fn over(count: (i64, Option<Timestamp>), allowed: i64, window: i64, now: Timestamp) -> Result<(), Error> {
    match count {
        (n, Some(oldest)) if n >= allowed => {
            let left = oldest.unix() + window - now.unix();
            Err(Error::RateLimited { retry_after: u64::try_from(left).unwrap_or(1).max(1) })
        }
        _ => Ok(()),
    }
}

/// Invitation mail is throttled so that no tenant can make Keystead send unbounded mail:
/// at most `RESENDS_PER_HOUR` resends of one invitation (when `resend_of` names it), and
/// `--invites-per-day` invitation mails (invitations and resends) per tenant. Counted from
/// the audit log, so a restart forgets nothing.
fn throttle_invitations(
    conn: &Connection,
    app: &App,
    tenant: TenantId,
    resend_of: Option<UserId>,
    now: Timestamp,
) -> Result<(), Error> {
    let resent = Action::MemberInviteResent.as_str();
    if let Some(user) = resend_of {
        let n = audit::count_since(conn, tenant, resent, Some(&user.to_string()), now.plus_secs(-HOUR))?;
        over(n, RESENDS_PER_HOUR, HOUR, now)?;
    }
    let since = now.plus_secs(-DAY);
    let (invited, first) = audit::count_since(conn, tenant, Action::MemberInvited.as_str(), None, since)?;
    let (resends, first_resend) = audit::count_since(conn, tenant, resent, None, since)?;
    let oldest = first.into_iter().chain(first_resend).min_by_key(|t| t.unix());
    over((invited + resends, oldest), i64::from(app.config.invites_per_day), DAY, now)
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
    throttle_invitations(tx, app, by.tenant, None, now)?;
    let typed_name = (!name.is_empty()).then_some(name.as_str());
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
        memberships::reinvite(tx, by.tenant, user, input.role, typed_name, now)?;
    } else {
        let m = MembershipRow {
            tenant_id: by.tenant,
            user_id: user,
            role: input.role,
            status: MembershipStatus::Invited,
            created_at: now,
            invited_name: typed_name.map(str::to_owned),
        };
        memberships::insert(tx, &m)?;
    }
    let member = load_member(tx, by, user)?;
    let (sent, activation_url) = send_invitation(tx, app, &tenant, &member.account, now)?;
    event(by, Action::MemberInvited, user)
        .after(serde_json::json!({ "email": email, "role": input.role, "status": "invited", "revived": existing.is_some() }))
        .append(tx, now)?;
    Ok(Invited { member, sent, activation_url })
}

/// Issues a fresh activation token (the older ones die), queues the invitation, and says
/// whether it is sent and what link, if any, goes to the inviter (`hand_over`); a link
/// handed over is marked so on its token (activating through it verifies no address).
fn send_invitation(
    tx: &Transaction<'_>,
    app: &App,
    tenant: &TenantRow,
    account: &AccountRow,
    now: Timestamp,
) -> Result<(bool, Option<Secret>), Error> {
    let grant = Grant { kind: TokenKind::Activation, user: account.id, tenant: Some(tenant.id), new_email: None };
    let token = tokens::issue(tx, &grant, now)?;
    let has_password = account.password_hash.is_some();
    let letter = Letter::Invitation { tenant: &tenant.name, new_account: !has_password, token: &token };
    let queued = mail::queue(tx, app, &account.email, &letter, now)?;
    let sent = queued.sent;
    let link = hand_over(queued, has_password);
    if link.is_some() {
        token_store::mark_handed_over(tx, &token.digest())?;
    }
    Ok((sent, link))
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
        throttle_invitations(tx, app, by.tenant, Some(user), now)?;
        let tenant = tenants::get(tx, by.tenant)?.ok_or(Error::NotFound)?;
        let (sent, activation_url) = send_invitation(tx, app, &tenant, &member.account, now)?;
        event(by, Action::MemberInviteResent, user).append(tx, now)?;
        Ok(Invited { member, sent, activation_url })
    })
}

/// Who changes members' roles.
pub const CHANGE_ROLES: Role = Role::Owner;

/// Changes a member's role (owners only); the last active owner cannot step down.
pub fn change_role(app: &App, by: &TenantActor<'_>, user: UserId, role: Role) -> Result<Member, Error> {
    by.require(CHANGE_ROLES)?;
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Account(user)], |tx| {
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
    app.db.write_affecting(&[Affects::Account(user)], |tx| {
        let member = load_member(tx, by, user)?;
        may_remove(by, &member)?;
        memberships::set_status(tx, by.tenant, user, MembershipStatus::Removed, now)?;
        let revoked = sessions::end_member_access(tx, by.tenant, user, now)?;
        tokens::revoke(tx, TokenKind::Activation, user, Some(by.tenant), now)?;
        event(by, Action::MemberRemoved, user)
            .before(serde_json::json!({ "role": member.membership.role, "status": member.membership.status }))
            .after(serde_json::json!({ "status": "removed", "sessions_revoked": revoked }))
            .append(tx, now)
    })
}

pub struct Activate {
    pub token: String,
    /// Always required: a new account chooses it, an existing account gives its own.
    pub password: Option<Secret>,
    pub name: Option<String>,
}

pub struct Activated {
    pub session: Opened,
    pub member: Member,
    pub tenant: TenantRow,
}

/// Who an invitation link is for, without using it: what the `/activate` page asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invitation {
    /// The account has no password yet: the person chooses one.
    NewAccount,
    /// The account has a password: the person gives it.
    ExistingAccount,
}

/// Peeks at an invitation link (counted as a token use, so it is no oracle for guessing).
pub fn peek_invitation(app: &App, origin: &Origin, token: &str) -> Result<Invitation, Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    app.db.read(|c| {
        let t = tokens::peek(c, TokenKind::Activation, token, now)?;
        let account = accounts::get(c, t.user_id)?.ok_or(Error::InvalidToken)?;
        Ok(if account.password_hash.is_none() { Invitation::NewAccount } else { Invitation::ExistingAccount })
    })
}

/// Accepts an invitation through its link: the membership becomes active and the person is
/// signed in to that tenant. A new account sets its password; an existing one must give its
/// own (401 `invalid_credentials`, and the invitation still stands). The address counts as
/// verified only when the link came by mail; after a handed-over link a verification mail
/// is queued instead.
pub fn activate(app: &App, origin: &Origin, input: Activate) -> Result<Activated, Error> {
    tokens::throttle(app, &origin.ip)?;
    let now = app.clock.now();
    let password = input.password.as_ref().ok_or_else(|| {
        Error::field("password", "is required: a new account chooses one, an existing account gives its own")
    })?;
    let account = app.db.read(|c| {
        let token = tokens::peek(c, TokenKind::Activation, &input.token, now)?;
        accounts::get(c, token.user_id)?.ok_or(Error::InvalidToken)
    })?;
    let name = input.name.as_deref().map(|n| clean_name("name", n, false)).transpose()?;
    // The argon2 work happens before the write transaction, which then only stores it.
    let hash = match account.password_hash.as_deref() {
        None => {
            let context = [account.email.as_str(), name.as_deref().unwrap_or(&account.name)];
            check_policy("password", password, app.config.password_min_length, &context)?;
            Some(app.hasher.hash(password)?)
        }
        Some(stored) => {
            // Security: the link alone never opens an existing account; its password does.
            if !super::auth::verify_guarded(app, account.email.as_str(), origin, Some(stored), password, now)?.ok {
                let target = Some(("account", account.id.to_string()));
                return Err(super::auth::failed_login(app, origin, Action::LoginFailed, &account.email, target, now));
            }
            None
        }
    };
    let invitation = TokenHash::of(&input.token);
    let acceptance = Acceptance { hash, name, checked: account.password_hash.clone() };
    // One transaction: an account with a second factor owes it first (the invitation
    // waits on the challenge, unspent); otherwise the membership becomes active.
    app.db.write(|tx| {
        if acceptance.checked.is_some() {
            let person = Person::User(account.id);
            if let Some(mfa_required) = mfa::challenge::demand(tx, app, person, None, Some(invitation), now)? {
                return Ok(Err(mfa_required));
            }
        }
        accept_in(tx, app, origin, &invitation, &acceptance, now).map(Ok)
    })?
}

/// What an activation sets and what it checked: a new account's password hash and name,
/// and the password hash the given password matched (None: the account had none).
pub(crate) struct Acceptance {
    pub hash: Option<String>,
    pub name: Option<String>,
    pub checked: Option<String>,
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
    let Acceptance { hash, name, checked } = acceptance;
    let token = tokens::consume_hashed(tx, TokenKind::Activation, invitation, now)?;
    let (user, tenant) = (token.user_id, token.tenant_id.ok_or(Error::InvalidToken)?);
    let membership = memberships::get(tx, tenant, user)?;
    if membership.is_none_or(|m| m.status != MembershipStatus::Invited) {
        return Err(Error::InvalidToken);
    }
    let current = accounts::get(tx, user)?.ok_or(Error::InvalidToken)?;
    // What was checked before (this password, or that there was none) must still hold: a
    // concurrent activation or reset may have set another. Rolling back keeps the link.
    if current.password_hash != *checked {
        return Err(Error::InvalidCredentials);
    }
    join(tx, &current, tenant, now)?;
    if let Some(hash) = &hash {
        accounts::set_password_hash(tx, user, hash, now)?;
        if let Some(name) = &name {
            accounts::set_name(tx, user, name, now)?;
        }
    }
    if !token.handed_over {
        accounts::mark_email_verified(tx, user, now)?;
    } else if current.email_verified_at.is_none() {
        super::email::queue_verification(tx, app, user, &current.email, now)?;
    }
    accounts::record_login(tx, user, tenant, now)?;
    let session = sessions::open(tx, app, sessions::Holder::Portal { user, tenant }, origin, now)?;
    Event::new(Actor::User(user), Some(origin), Action::MemberActivated)
        .tenant(tenant)
        .target("account", user)
        .after(serde_json::json!({ "status": "active", "new_account": hash.is_some(), "by": "link" }))
        .append(tx, now)?;
    let profile = super::account::load_profile(tx, user, tenant)?;
    Ok(Activated { session, member: profile.member, tenant: profile.tenant })
}

/// `POST /v1/me/invitations/{tenant_id}/accept`: a signed-in account accepts an invitation
/// it holds (how an existing account accepts when no mail carried the link). 404 when it
/// holds no invitation there. The session stays where it is; it may switch-tenant next.
pub fn accept_invitation(app: &App, who: &PortalUser, tenant: TenantId) -> Result<(Member, TenantRow), Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        let membership = memberships::get(tx, tenant, who.user_id)?;
        if membership.is_none_or(|m| m.status != MembershipStatus::Invited) {
            return Err(Error::NotFound);
        }
        let account = accounts::get(tx, who.user_id)?.ok_or(Error::Unauthorized)?;
        join(tx, &account, tenant, now)?;
        Event::new(who.actor(), Some(&who.origin), Action::MemberActivated)
            .tenant(tenant)
            .target("account", who.user_id)
            .after(serde_json::json!({ "status": "active", "new_account": false, "by": "signed_in" }))
            .append(tx, now)?;
        let profile = super::account::load_profile(tx, who.user_id, tenant)?;
        Ok((profile.member, profile.tenant))
    })
}

/// What accepting an invitation checks and does, by link or signed in (one rule): the
/// account and the tenant are active, the membership becomes active (its seat was taken
/// when it was invited), and the invitation's links stop working.
fn join(tx: &Transaction<'_>, account: &AccountRow, tenant: TenantId, now: Timestamp) -> Result<(), Error> {
    if account.status != AccountStatus::Active {
        return Err(Error::AccountDisabled);
    }
    if tenants::get(tx, tenant)?.is_none_or(|t| t.status != TenantStatus::Active) {
        return Err(Error::TenantSuspended);
    }
    memberships::set_status(tx, tenant, account.id, MembershipStatus::Active, now)?;
    tokens::revoke(tx, TokenKind::Activation, account.id, Some(tenant), now)
}
