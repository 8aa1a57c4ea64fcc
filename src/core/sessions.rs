//! Sessions: opening them at login, turning a bearer token into a principal (the hot
//! path: one SHA-256 and one indexed lookup), listing and revoking them.
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::principal::{Operator, Origin, PortalUser};
use super::usage::{self, Used};
use crate::app::App;
use crate::config::SessionLifetime;
use crate::crypto::secret::{Secret, TokenHash, random_token};
use crate::error::Error;
use crate::store::cache::{Affects, Bounded, DependsOn};
use crate::store::page::Page;
use crate::store::sessions::{self, NewSession, PortalSessionRow, SessionRow};
use crate::store::{memberships, oauth_grants};
use crate::types::{AdminId, Realm, Role, SessionId, TenantId, Timestamp, UserId};

/// A session just opened: the raw token is shown to its owner once and never stored.
pub struct Opened {
    pub id: SessionId,
    pub token: Secret,
    pub expires_at: Timestamp,
}

/// Who a new session belongs to.
pub enum Holder {
    Portal { user: UserId, tenant: TenantId },
    Admin(AdminId),
}

/// How long a portal session lives while it acts with `role`. Owners and admins create
/// keys, change roles and the provider key, so a stolen session of theirs is worth more:
/// theirs idle out and end sooner. It is applied when a session opens, when it switches
/// tenant and when its holder's role changes, always counted from the session's start.
pub fn lifetime(app: &App, role: Role) -> SessionLifetime {
    match role {
        Role::Owner | Role::Admin => app.config.sessions.manager,
        Role::Member => app.config.sessions.member,
    }
}

fn role_in(tx: &Transaction<'_>, tenant: TenantId, user: UserId) -> Result<Role, Error> {
    let membership = memberships::get(tx, tenant, user)?;
    Ok(membership.ok_or_else(|| Error::internal("a session opens on a membership that is not there"))?.role)
}

pub(crate) fn open(
    tx: &Transaction<'_>,
    app: &App,
    holder: Holder,
    origin: &Origin,
    now: Timestamp,
) -> Result<Opened, Error> {
    let token = random_token();
    let (realm, user_id, admin_id, tenant_id, SessionLifetime { idle, absolute }) = match holder {
        Holder::Portal { user, tenant } => {
            super::notices::signed_in(tx, app, user, origin, now)?;
            (Realm::Portal, Some(user), None, Some(tenant), lifetime(app, role_in(tx, tenant, user)?))
        }
        Holder::Admin(admin) => (Realm::Admin, None, Some(admin), None, app.config.sessions.admin),
    };
    let id = SessionId::random();
    let new = NewSession {
        id,
        hash: token.digest(),
        realm,
        user_id,
        admin_id,
        tenant_id,
        expires_at: now.plus_secs(absolute),
        idle_timeout: idle,
        ip: &origin.ip,
        user_agent: &origin.user_agent,
    };
    sessions::insert(tx, &new, now)?;
    Ok(Opened { id, token, expires_at: now.plus_secs(idle.min(absolute)) })
}

/// Live portal sessions by token hash, cached per thread (see `store::cache`).
type PortalSessions = Bounded<TokenHash, PortalSessionRow, 2048>;

impl DependsOn<TokenHash> for PortalSessionRow {
    fn depends_on(&self, _: &TokenHash, what: &Affects) -> bool {
        match *what {
            Affects::Session(id) => id == self.id,
            Affects::Account(id) => id == self.user_id,
            Affects::Tenant(id) => id == self.tenant_id,
            Affects::Key(_) => false,
        }
    }
}

/// The live portal session behind a token hash (the hot path of every portal request),
/// its use recorded (see `usage`).
pub(crate) fn find_portal(app: &App, hash: TokenHash, now: Timestamp) -> Result<Option<PortalSessionRow>, Error> {
    let row = app.db.read_cached(|c, cache: &mut PortalSessions| {
        let load = || sessions::find_portal(c, &hash, now);
        let mut row = cache.get_or_load(hash, load)?;
        // A copy that lapsed here may have been kept alive through another worker: the
        // database says.
        if row.as_ref().is_some_and(|r| now >= r.expires_at) {
            cache.forget(&hash);
            row = cache.get_or_load(hash, load)?;
        }
        if let Some(r) = row.as_mut().filter(|r| usage::due(Some(r.last_seen_at), now)) {
            r.seen(now);
            cache.update(&hash, |cached| cached.seen(now));
            app.usage.note(app, Used::Session(r.id), now);
        }
        Ok(row)
    })?;
    // The query's conditions on time, again for a row it found earlier.
    Ok(row.filter(|r| now < r.expires_at))
}

/// The portal user behind a bearer token, or 401.
pub fn authenticate_portal(app: &App, token: &str, origin: Origin) -> Result<PortalUser, Error> {
    let now = app.clock.now();
    let row = find_portal(app, TokenHash::of(token), now)?.ok_or(Error::Unauthorized)?;
    Ok(PortalUser { session_id: row.id, user_id: row.user_id, tenant_id: row.tenant_id, role: row.role, origin })
}

/// The operator behind a bearer token, or 401.
pub fn authenticate_admin(app: &App, token: &str, origin: Origin) -> Result<Operator, Error> {
    let now = app.clock.now();
    let row = app.db.read(|c| sessions::find_admin(c, &TokenHash::of(token), now))?.ok_or(Error::Unauthorized)?;
    if usage::due(Some(row.last_seen_at), now) {
        app.usage.note(app, Used::Session(row.id), now);
    }
    Ok(Operator { session_id: row.id, admin_id: row.admin_id, origin })
}

/// Points a portal session at another tenant, which becomes the account's last used, with
/// the lifetime of its role there. A session too old for that role (a member's session of
/// ten days switching to a tenant it owns) is 401: its holder signs in again.
pub(crate) fn switch_tenant(
    tx: &Transaction<'_>,
    app: &App,
    session: SessionId,
    user: UserId,
    tenant: TenantId,
    now: Timestamp,
) -> Result<(), Error> {
    let SessionLifetime { idle, absolute } = lifetime(app, role_in(tx, tenant, user)?);
    if !sessions::move_to_tenant(tx, session, tenant, absolute, idle, now)? {
        return Err(Error::Unauthorized);
    }
    crate::store::accounts::set_last_tenant(tx, user, tenant)
}

/// Gives a member's sessions in a tenant the lifetime of its new role (a promotion may end
/// those already older than an owner's or admin's may be).
pub(crate) fn apply_role(
    tx: &Transaction<'_>,
    app: &App,
    tenant: TenantId,
    user: UserId,
    role: Role,
) -> Result<(), Error> {
    let SessionLifetime { idle, absolute } = lifetime(app, role);
    sessions::set_lifetime_in_tenant(tx, tenant, user, absolute, idle)
}

/// The caller's live sessions (in every tenant), newest first.
pub fn list_own(app: &App, who: &PortalUser, page: &Page) -> Result<(Vec<SessionRow>, Option<String>), Error> {
    let now = app.clock.now();
    let rows = app.db.read(|c| sessions::list_for_account(c, who.user_id, now, page))?;
    Ok(page.finish(rows, SessionRow::cursor))
}

/// Revokes one of the caller's own sessions; another's is 404.
pub fn revoke_own(app: &App, who: &PortalUser, id: SessionId) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Session(id)], |tx| {
        if !sessions::revoke_own(tx, who.user_id, id, now)? {
            return Err(Error::NotFound);
        }
        Event::new(who.actor(), Some(&who.origin), Action::SessionRevoked)
            .tenant(who.tenant_id)
            .target("session", id)
            .append(tx, now)
    })
}

/// Revokes all the caller's sessions but the current one.
pub fn revoke_others(app: &App, who: &PortalUser) -> Result<usize, Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Account(who.user_id)], |tx| {
        let n = sessions::revoke_for_account(tx, who.user_id, Some(who.session_id), now)?;
        Event::new(who.actor(), Some(&who.origin), Action::SessionsRevoked)
            .tenant(who.tenant_id)
            .target("account", who.user_id)
            .after(serde_json::json!({ "revoked": n }))
            .append(tx, now)?;
        Ok(n)
    })
}

pub fn logout(app: &App, who: &PortalUser) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Session(who.session_id)], |tx| {
        sessions::revoke(tx, who.session_id, now)?;
        Event::new(who.actor(), Some(&who.origin), Action::Logout)
            .tenant(who.tenant_id)
            .target("session", who.session_id)
            .append(tx, now)
    })
}

/// Ends an account's access everywhere: its portal sessions (but `keep`) and every grant
/// it gave other applications, with their refresh chains and access tokens. The grants are
/// revoked rather than left to `find_live`'s joins, so that an account restored later does
/// not get them back. Returns how many sessions ended.
pub fn end_account_access(
    tx: &Transaction<'_>,
    user: UserId,
    keep: Option<SessionId>,
    now: Timestamp,
) -> Result<usize, Error> {
    oauth_grants::revoke_for_account(tx, user, now)?;
    sessions::revoke_for_account(tx, user, keep, now)
}

/// As `end_account_access`, for an account acting in one tenant (a removed member).
pub fn end_member_access(tx: &Transaction<'_>, tenant: TenantId, user: UserId, now: Timestamp) -> Result<usize, Error> {
    oauth_grants::revoke_for_member(tx, tenant, user, now)?;
    sessions::revoke_for_member(tx, tenant, user, now)
}

/// As `end_account_access`, for everyone acting in a tenant (suspended, deleted, or its
/// sessions revoked by an operator).
pub fn end_tenant_access(tx: &Transaction<'_>, tenant: TenantId, now: Timestamp) -> Result<usize, Error> {
    oauth_grants::revoke_for_tenant(tx, tenant, now)?;
    sessions::revoke_for_tenant(tx, tenant, now)
}
