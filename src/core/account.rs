//! A signed-in person's own account: profile, name, password.
use std::sync::Arc;

use rusqlite::Connection;

use super::audit::{Action, Event};
use super::auth::verify_guarded;
use super::principal::PortalUser;
use super::sessions;
use super::{Member, Profile, clean_name};
use crate::app::App;
use crate::crypto::password::check_policy;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::store::cache::{Affects, Bounded, DependsOn};
use crate::store::{accounts, memberships, tenants};
use crate::types::{TenantId, UserId};

/// The account as a member of `tenant`, with the tenant and every membership.
pub(crate) fn load_profile(conn: &Connection, user: UserId, tenant: TenantId) -> Result<Profile, Error> {
    let account = accounts::get(conn, user)?.ok_or(Error::Unauthorized)?;
    let membership = memberships::get(conn, tenant, user)?.ok_or(Error::Unauthorized)?;
    let tenant = tenants::get(conn, tenant)?.ok_or(Error::Unauthorized)?;
    let memberships = memberships::list_for_account(conn, user)?;
    Ok(Profile { member: Member { account, membership }, tenant, memberships, rendered: Default::default() })
}

/// Profiles by member, cached per thread (see `store::cache`).
type Profiles = Bounded<(UserId, TenantId), Arc<Profile>, 512>;

impl DependsOn<(UserId, TenantId)> for Arc<Profile> {
    fn depends_on(&self, &(user, _): &(UserId, TenantId), what: &Affects) -> bool {
        match *what {
            Affects::Account(id) => id == user,
            // The profile lists every tenant the account belongs to.
            Affects::Tenant(id) => self.memberships.iter().any(|(_, t)| t.id == id) || self.tenant.id == id,
            Affects::Key(_) | Affects::Session(_) => false,
        }
    }
}

pub fn profile(app: &App, who: &PortalUser) -> Result<Arc<Profile>, Error> {
    let key = (who.user_id, who.tenant_id);
    let found = app.db.read_cached(|c, cache: &mut Profiles| {
        cache.get_or_load(key, || load_profile(c, key.0, key.1).map(|p| Some(Arc::new(p))))
    })?;
    found.ok_or(Error::Unauthorized)
}

/// What `PATCH /v1/me` changes: the display name, whether a sign-in from a new device
/// sends a notice (`core::notices`), or both.
#[derive(Default)]
pub struct ProfileChange<'a> {
    pub name: Option<&'a str>,
    pub new_device_notices: Option<bool>,
}

pub fn update_profile(app: &App, who: &PortalUser, change: ProfileChange<'_>) -> Result<Member, Error> {
    let name = change.name.map(|n| clean_name("name", n, false)).transpose()?;
    if name.is_none() && change.new_device_notices.is_none() {
        return Err(Error::field("name", "is required"));
    }
    let now = app.clock.now();
    app.db.write(|tx| {
        let account = accounts::get(tx, who.user_id)?.ok_or(Error::Unauthorized)?;
        let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
        if let Some(name) = &name {
            accounts::set_name(tx, who.user_id, name, now)?;
            before.insert("name".into(), account.name.into());
            after.insert("name".into(), name.as_str().into());
        }
        if let Some(on) = change.new_device_notices {
            accounts::set_new_device_notices(tx, who.user_id, on, now)?;
            before.insert("new_device_notices".into(), account.new_device_notices.into());
            after.insert("new_device_notices".into(), on.into());
        }
        // Account-level events carry no tenant: no tenant's audit log shows them.
        Event::new(who.actor(), Some(&who.origin), Action::ProfileUpdated)
            .target("account", who.user_id)
            .before(before.into())
            .after(after.into())
            .append(tx, now)?;
        Ok(load_profile(tx, who.user_id, who.tenant_id)?.member)
    })
}

/// Changes the password after checking the current one; every other session ends, and so
/// does every live reset, verification or email-change link of the account.
pub fn change_password(app: &App, who: &PortalUser, current: &Secret, new: &Secret) -> Result<(), Error> {
    let account = app.db.read(|c| accounts::get(c, who.user_id))?.ok_or(Error::Unauthorized)?;
    // A stolen session must not become a way to guess the password: guesses here spend the
    // same allowance as logins.
    let now = app.clock.now();
    let stored = account.password_hash.as_deref();
    if !verify_guarded(app, account.email.as_str(), &who.origin, stored, current, now)?.ok {
        return Err(Error::InvalidCredentials);
    }
    check_policy("new_password", new, app.config.password_min_length, &[account.email.as_str(), &account.name])?;
    let hash = app.hasher.hash(new)?;
    app.db.write(|tx| {
        accounts::set_password_hash(tx, who.user_id, &hash, now)?;
        let revoked = sessions::end_account_access(tx, who.user_id, Some(who.session_id), now)?;
        super::tokens::spend_account_links(tx, who.user_id, now)?;
        Event::new(who.actor(), Some(&who.origin), Action::PasswordChanged)
            .target("account", who.user_id)
            .after(serde_json::json!({ "other_sessions_revoked": revoked }))
            .append(tx, now)?;
        super::notices::password_changed(tx, app, who.user_id, false, now)
    })
}
