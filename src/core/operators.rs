//! Operator accounts (the admin realm): creation, listing, disabling, login, logout.
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::auth::{failed_login, verify_guarded};
use super::clean_name;
use super::mfa;
use super::principal::{Actor, Operator, Origin, Staff};
use super::sessions::{self, Holder, Opened};
use crate::app::App;
use crate::crypto::password::check_policy;
use crate::crypto::secret::Secret;
use crate::error::{Error, is_unique_violation};
use crate::limit::Scope;
use crate::store::admins::{self, AdminRow};
use crate::store::page::Page;
use crate::store::sessions as session_store;
use crate::types::{AdminId, AdminStatus, Email, Person, Realm, Reason, Timestamp};

pub struct NewAdmin {
    pub email: String,
    pub name: Option<String>,
    pub password: Secret,
}

/// Creates an operator. `actor` is the operator doing it, or the system (command line).
pub fn create_admin(app: &App, actor: Actor, origin: Option<&Origin>, input: NewAdmin) -> Result<AdminRow, Error> {
    let email = Email::parse("email", &input.email)?;
    let name = clean_name("name", input.name.as_deref().unwrap_or_default(), false)?;
    check_policy("password", &input.password, app.config.password_min_length, &[email.as_str(), &name])?;
    let hash = app.hasher.hash(&input.password)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let admin = AdminRow {
            id: AdminId::random(),
            email,
            name,
            password_hash: hash,
            status: AdminStatus::Active,
            created_at: now,
            last_login_at: None,
        };
        admins::insert(tx, &admin).map_err(|e| if is_unique_violation(&e) { Error::EmailTaken } else { e.into() })?;
        Event::new(actor, origin, Action::AdminCreated)
            .target("admin", admin.id)
            .after(serde_json::json!({ "email": admin.email, "name": admin.name }))
            .append(tx, now)?;
        Ok(admin)
    })
}

pub struct AdminLoggedIn {
    pub session: Opened,
    pub admin: AdminRow,
}

/// An operator's login, as a portal login (`auth::login`).
pub fn admin_login(app: &App, origin: &Origin, email: &str, password: &Secret) -> Result<AdminLoggedIn, Error> {
    let outcome = admin_password_step(app, origin, email, password);
    app.metrics.login(Realm::Admin, &outcome);
    outcome
}

fn admin_password_step(app: &App, origin: &Origin, email: &str, password: &Secret) -> Result<AdminLoggedIn, Error> {
    let now = app.clock.now();
    app.limits.hit(Scope::LoginByIp, &origin.ip, now)?;
    let email = Email::parse("email", email)?;
    let found = app.db.read(|c| admins::find_by_email(c, &email))?;
    // Security: unknown emails verify against a dummy hash, as portal logins do.
    let stored = found.as_ref().map(|a| a.password_hash.as_str());
    let verified = verify_guarded(app, &format!("admin:{email}"), origin, stored, password, now)?;
    let admin = match found {
        Some(a) if verified.ok => a,
        other => {
            let target = other.map(|a| ("admin", a.id.to_string()));
            return Err(failed_login(app, origin, Action::AdminLoginFailed, &email, target, now));
        }
    };
    if admin.status != AdminStatus::Active {
        return Err(Error::AccountDisabled);
    }
    let rehash = if verified.needs_rehash { Some(app.hasher.hash(password)?) } else { None };
    // As a portal login: the second step is owed, or the session opens.
    app.db.write(|tx| {
        if let Some(hash) = &rehash {
            admins::replace_password_hash(tx, admin.id, &admin.password_hash, hash, now)?;
        }
        match mfa::challenge::demand(tx, app, Person::Admin(admin.id), None, None, now)? {
            Some(mfa_required) => Ok(Err(mfa_required)),
            None => open_admin_login(tx, app, origin, admin.id, now).map(Ok),
        }
    })?
}

/// Opens an operator's session: the one place both steps of an operator login end.
pub(crate) fn open_admin_login(
    tx: &Transaction<'_>,
    app: &App,
    origin: &Origin,
    id: AdminId,
    now: Timestamp,
) -> Result<AdminLoggedIn, Error> {
    let admin = admins::get(tx, id)?.ok_or(Error::Unauthorized)?;
    if admin.status != AdminStatus::Active {
        return Err(Error::AccountDisabled);
    }
    admins::record_login(tx, admin.id, now)?;
    let session = sessions::open(tx, app, Holder::Admin(admin.id), origin, now)?;
    Event::new(Actor::Admin(admin.id), Some(origin), Action::AdminLoginSucceeded)
        .target("session", session.id)
        .append(tx, now)?;
    let admin = admins::get(tx, admin.id)?.ok_or_else(|| Error::internal("admin vanished"))?;
    Ok(AdminLoggedIn { session, admin })
}

/// The operator behind a session, as the admin pages show it.
pub fn current_admin(app: &App, who: &Operator) -> Result<AdminRow, Error> {
    app.db.read(|c| admins::get(c, who.admin_id))?.ok_or(Error::Unauthorized)
}

pub fn admin_logout(app: &App, who: &Operator) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        session_store::revoke(tx, who.session_id, now)?;
        Event::new(Actor::Admin(who.admin_id), Some(&who.origin), Action::AdminLogout)
            .target("session", who.session_id)
            .append(tx, now)
    })
}

pub fn list_admins(app: &App, _who: &Staff, page: &Page) -> Result<(Vec<AdminRow>, Option<String>), Error> {
    let rows = app.db.read(|c| admins::list(c, page))?;
    Ok(page.finish(rows, AdminRow::cursor))
}

/// Disables an operator and ends its sessions at once. The last active operator can never
/// be disabled (409 last_admin): the count and the update share one `BEGIN IMMEDIATE`
/// transaction, so two operators disabling each other at the same moment cannot both win.
pub fn disable_admin(app: &App, who: &Staff, id: AdminId, reason: &Reason) -> Result<AdminRow, Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        let admin = admins::get(tx, id)?.ok_or(Error::NotFound)?;
        if admin.status != AdminStatus::Active {
            return Err(Error::InvalidTransition);
        }
        if admins::count_active(tx)? <= 1 {
            return Err(Error::LastAdmin);
        }
        admins::set_status(tx, id, AdminStatus::Disabled, now)?;
        let revoked = session_store::revoke_for_admin(tx, id, now)?;
        Event::new(who.actor(), who.origin(), Action::AdminDisabled)
            .target("admin", id)
            .reason(reason.as_str())
            .before(serde_json::json!({ "status": admin.status }))
            .after(serde_json::json!({ "status": AdminStatus::Disabled, "sessions_revoked": revoked }))
            .append(tx, now)?;
        admins::get(tx, id)?.ok_or_else(|| Error::internal("admin vanished during a change"))
    })
}
