//! Sign-up, login and tenant switching for portal accounts.
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::keys::CreatedKey;
use super::mfa;
use super::principal::{Actor, Origin, PortalUser};
use super::sessions::{self, Holder, Opened};
use super::tenants::{self, Founded};
use super::{Member, Profile, clean_name};
use crate::app::App;
use crate::crypto::password::{Verified, check_policy};
use crate::crypto::secret::Secret;
use crate::error::{Error, is_unique_violation};
use crate::limit::Scope;
use crate::store::accounts::{self, NewAccount};
use crate::store::activity::{self, Metric};
use crate::store::cache::Affects;
use crate::store::memberships::{self, MembershipRow};
use crate::store::tenants::TenantRow;
use crate::types::{
    AccountStatus, Email, MembershipStatus, Person, Realm, SignupMode, TenantId, TenantStatus, Timestamp, UserId,
};

pub struct Signup {
    pub tenant_name: String,
    pub email: String,
    pub password: Secret,
    pub name: Option<String>,
}

pub struct SignedUp {
    pub session: Opened,
    pub member: Member,
    pub tenant: TenantRow,
    pub key: CreatedKey,
}

/// Whether anyone may sign up (`--signup open`); `signup_disabled` otherwise.
pub fn signup_open(app: &App) -> Result<(), Error> {
    if app.config.signup == SignupMode::Open { Ok(()) } else { Err(Error::SignupDisabled) }
}

/// A new account owning a new tenant with its first API key, signed in: one transaction.
pub fn signup(app: &App, origin: &Origin, input: Signup) -> Result<SignedUp, Error> {
    signup_open(app)?;
    let now = app.clock.now();
    app.limits.hit(Scope::SignupByIp, &origin.ip, now)?;
    let email = Email::parse("email", &input.email)?;
    let name = clean_name("name", input.name.as_deref().unwrap_or_default(), false)?;
    super::clean_tenant_name("tenant_name", &input.tenant_name)?;
    check_policy("password", &input.password, app.config.password_min_length, &[email.as_str(), &name])?;
    // Spares an argon2 hash for a taken address; the UNIQUE index below still decides.
    if app.db.read(|c| accounts::find_by_email(c, &email))?.is_some() {
        return Err(Error::EmailTaken);
    }
    let hash = app.hasher.hash(&input.password)?;
    // Every row is new: nothing cached is stale.
    app.db.write_affecting(&[], |tx| {
        let user = UserId::random();
        let new = NewAccount { id: user, email: &email, name: &name, password_hash: Some(&hash) };
        accounts::insert(tx, &new, now)
            .map_err(|e| if is_unique_violation(&e) { Error::EmailTaken } else { e.into() })?;
        let actor = Actor::User(user);
        Event::new(actor, Some(origin), Action::AccountCreated)
            .target("account", user)
            .after(serde_json::json!({ "email": email, "name": name }))
            .append(tx, now)?;
        super::email::queue_verification(tx, app, user, &email, now)?;
        let Founded { tenant, owner, key } =
            tenants::found(tx, app, &input.tenant_name, user, actor, Some(origin), now)?;
        accounts::record_login(tx, user, tenant.id, now)?;
        activity::count(tx, now, Some(tenant.id), Metric::Signups)?;
        let session = sessions::open(tx, app, Holder::Portal { user, tenant: tenant.id }, origin, now)?;
        let account = accounts::get(tx, user)?.ok_or_else(|| Error::internal("account vanished after insert"))?;
        Ok(SignedUp { session, member: Member { account, membership: owner }, tenant, key })
    })
}

pub struct Login {
    pub email: String,
    pub password: Secret,
    pub tenant_id: Option<String>,
}

pub struct LoggedIn {
    pub session: Opened,
    pub profile: Profile,
}

/// Checks the password (in constant time with respect to whether the account exists),
/// then picks the tenant the new session acts in. An account with a second factor gets
/// `mfa_required` instead, and the session opens at `POST /v1/auth/mfa`.
pub fn login(app: &App, origin: &Origin, input: Login) -> Result<LoggedIn, Error> {
    let outcome = password_step(app, origin, input);
    app.metrics.login(Realm::Portal, &outcome);
    outcome
}

fn password_step(app: &App, origin: &Origin, input: Login) -> Result<LoggedIn, Error> {
    let now = app.clock.now();
    app.limits.hit(Scope::LoginByIp, &origin.ip, now)?;
    let email = Email::parse("email", &input.email)?;
    let account = app.db.read(|c| accounts::find_by_email(c, &email))?;
    // Security: unknown emails and never-activated accounts verify against a dummy hash,
    // so neither the answer nor its timing tells them apart from a wrong password.
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let verified = verify_guarded(app, email.as_str(), origin, stored.as_deref(), &input.password, now)?;
    let account = match account {
        Some(a) if verified.ok => a,
        other => {
            let target = other.map(|a| ("account", a.id.to_string()));
            return Err(failed_login(app, origin, Action::LoginFailed, &email, target, now));
        }
    };
    if account.status != AccountStatus::Active {
        return Err(Error::AccountDisabled);
    }
    let memberships = app.db.read(|c| memberships::list_for_account(c, account.id))?;
    let requested = input.tenant_id.as_deref().map(str::parse::<TenantId>).transpose()?;
    let tenant = choose_tenant(&memberships, requested, account.last_tenant_id)?;
    let rehash = if verified.needs_rehash { Some(app.hasher.hash(&input.password)?) } else { None };
    // One transaction: either the second step is owed (the answer is `mfa_required`,
    // its challenge committed) or the session opens. It changes the account (its hash,
    // last login and tenant), else only adds rows.
    app.db.write_affecting(&[Affects::Account(account.id)], |tx| {
        if let (Some(hash), Some(old)) = (&rehash, &stored) {
            // Only the hash that was checked is replaced: a password changed meanwhile stands.
            if accounts::replace_password_hash(tx, account.id, old, hash, now)? {
                Event::new(Actor::System, None, Action::PasswordRehashed)
                    .target("account", account.id)
                    .append(tx, now)?;
            }
        }
        match mfa::challenge::demand(tx, app, Person::User(account.id), requested, None, now)? {
            Some(mfa_required) => Ok(Err(mfa_required)),
            None => open_login(tx, app, origin, account.id, tenant, now).map(Ok),
        }
    })?
}

/// A login after its second step: the account and the tenant asked for are checked again
/// (minutes may have passed), then the session opens as `login`'s does.
pub(crate) fn resume_login(
    tx: &Transaction<'_>,
    app: &App,
    origin: &Origin,
    user: UserId,
    requested: Option<TenantId>,
    now: Timestamp,
) -> Result<LoggedIn, Error> {
    let account = accounts::get(tx, user)?.ok_or(Error::Unauthorized)?;
    if account.status != AccountStatus::Active {
        return Err(Error::AccountDisabled);
    }
    let memberships = memberships::list_for_account(tx, user)?;
    let tenant = choose_tenant(&memberships, requested, account.last_tenant_id)?;
    open_login(tx, app, origin, user, tenant, now)
}

/// Opens the session of a successful login in `tenant`: the one place both steps end.
fn open_login(
    tx: &Transaction<'_>,
    app: &App,
    origin: &Origin,
    user: UserId,
    tenant: TenantId,
    now: Timestamp,
) -> Result<LoggedIn, Error> {
    accounts::record_login(tx, user, tenant, now)?;
    activity::count(tx, now, Some(tenant), Metric::LoginsSucceeded)?;
    let session = sessions::open(tx, app, Holder::Portal { user, tenant }, origin, now)?;
    Event::new(Actor::User(user), Some(origin), Action::LoginSucceeded)
        .tenant(tenant)
        .target("session", session.id)
        .append(tx, now)?;
    let profile = super::account::load_profile(tx, user, tenant)?;
    Ok(LoggedIn { session, profile })
}

/// Checks a password under the per-account allowance, keyed on the account AND the client
/// (`account` names the account: its email, or `admin:<email>`), so that a stranger's
/// wrong guesses from elsewhere cannot lock the owner out. The attempt is taken BEFORE
/// argon2 runs, so concurrent guesses cannot all pass one check and overrun the burst; a
/// correct password gives its attempt back, so only failures count.
pub(crate) fn verify_guarded(
    app: &App,
    account: &str,
    origin: &Origin,
    stored: Option<&str>,
    password: &Secret,
    now: Timestamp,
) -> Result<Verified, Error> {
    // The client as the per-IP limits count it (an IPv6 client by its /64), so that
    // hopping addresses within one network buys no more guesses.
    let key = format!("{account} from {}", crate::limit::client_key(&origin.ip));
    app.limits.hit(Scope::LoginByAccount, &key, now)?;
    // A request dropped before its hash (its client gone, or too long queued) checked no
    // guess: its attempt is given back.
    let verified =
        app.hasher.verify(stored, password).inspect_err(|_| app.limits.refund(Scope::LoginByAccount, &key, now))?;
    if verified.ok {
        app.limits.refund(Scope::LoginByAccount, &key, now);
    }
    Ok(verified)
}

/// A wrong password (or unknown address), already counted by `verify_guarded`: audited as
/// an anonymous attempt naming the account when there is one and the address tried when
/// there is none. Always answers `invalid_credentials`.
pub(crate) fn failed_login(
    app: &App,
    origin: &Origin,
    action: Action,
    email: &Email,
    target: Option<(&'static str, String)>,
    now: Timestamp,
) -> Error {
    // An audit event only.
    let recorded = app.db.write_affecting(&[], |tx| {
        let event = Event::new(Actor::Anonymous, Some(origin), action);
        let event = match &target {
            Some((kind, id)) => event.target(kind, id),
            None => event.after(serde_json::json!({ "email": email })),
        };
        event.append(tx, now)?;
        // A portal login's failure is charted (no tenant: none was entered); an operator's is not.
        if action == Action::LoginFailed {
            activity::count(tx, now, None, Metric::LoginsFailed)?;
        }
        Ok(())
    });
    match recorded {
        Ok(()) => Error::InvalidCredentials,
        Err(e) => e,
    }
}

/// Whether a session may act in this tenant: an active membership of an active tenant.
pub fn can_act_in(m: &MembershipRow, t: &TenantRow) -> bool {
    m.status == MembershipStatus::Active && t.status == TenantStatus::Active
}

/// The tenant a login acts in: the one asked for, else the one used last, else the first
/// usable one. Only an active membership in a tenant that is not deleted counts.
pub fn choose_tenant(
    memberships: &[(MembershipRow, TenantRow)],
    requested: Option<TenantId>,
    last_used: Option<TenantId>,
) -> Result<TenantId, Error> {
    let open: Vec<&(MembershipRow, TenantRow)> = memberships
        .iter()
        .filter(|(m, t)| m.status == MembershipStatus::Active && t.status != TenantStatus::Deleted)
        .collect();
    if let Some(id) = requested {
        let (m, t) = open.iter().find(|(_, t)| t.id == id).ok_or(Error::NotFound)?;
        return if can_act_in(m, t) { Ok(id) } else { Err(Error::TenantSuspended) };
    }
    let last = last_used.and_then(|id| open.iter().find(|(m, t)| t.id == id && can_act_in(m, t)));
    match last.or_else(|| open.iter().find(|(m, t)| can_act_in(m, t))) {
        Some((_, t)) => Ok(t.id),
        None if !open.is_empty() => Err(Error::TenantSuspended),
        None => Err(Error::NoActiveMembership),
    }
}

/// Moves the caller's session to another tenant it is an active member of.
pub fn switch_tenant(app: &App, who: &PortalUser, tenant: TenantId) -> Result<Profile, Error> {
    let now = app.clock.now();
    app.db.write(|tx| {
        let memberships = memberships::list_for_account(tx, who.user_id)?;
        let chosen = choose_tenant(&memberships, Some(tenant), None)?;
        sessions::switch_tenant(tx, app, who.session_id, who.user_id, chosen, now)?;
        // Account-level: the session's business, not a tenant's (no tenant_id).
        Event::new(who.actor(), Some(&who.origin), Action::TenantSwitched)
            .target("session", who.session_id)
            .before(serde_json::json!({ "tenant_id": who.tenant_id }))
            .after(serde_json::json!({ "tenant_id": chosen }))
            .append(tx, now)?;
        super::account::load_profile(tx, who.user_id, chosen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Role;

    fn membership(status: MembershipStatus, tenant_status: TenantStatus) -> (MembershipRow, TenantRow) {
        let tenant = TenantRow {
            id: TenantId::random(),
            slug: "t".into(),
            name: "T".into(),
            status: tenant_status,
            plan: "free".into(),
            max_seats: None,
            has_provider_key: false,
            provider_key_hint: None,
            created_at: Timestamp::from_unix(0),
            require_mfa: false,
        };
        let m = MembershipRow {
            tenant_id: tenant.id,
            user_id: UserId::random(),
            role: Role::Member,
            status,
            created_at: Timestamp::from_unix(0),
            invited_name: None,
        };
        (m, tenant)
    }

    #[test]
    fn last_used_tenant_wins_over_the_first() {
        let ms = vec![
            membership(MembershipStatus::Active, TenantStatus::Active),
            membership(MembershipStatus::Active, TenantStatus::Active),
        ];
        assert_eq!(choose_tenant(&ms, None, Some(ms[1].1.id)).ok(), Some(ms[1].1.id));
        assert_eq!(choose_tenant(&ms, None, None).ok(), Some(ms[0].1.id));
        assert_eq!(choose_tenant(&ms, None, Some(TenantId::random())).ok(), Some(ms[0].1.id));
    }

    #[test]
    fn suspended_and_missing_tenants_are_refused() {
        let suspended = vec![membership(MembershipStatus::Active, TenantStatus::Suspended)];
        assert!(matches!(choose_tenant(&suspended, None, None), Err(Error::TenantSuspended)));
        assert!(matches!(choose_tenant(&suspended, Some(suspended[0].1.id), None), Err(Error::TenantSuspended)));
        let gone = vec![
            membership(MembershipStatus::Removed, TenantStatus::Active),
            membership(MembershipStatus::Active, TenantStatus::Deleted),
        ];
        assert!(matches!(choose_tenant(&gone, None, None), Err(Error::NoActiveMembership)));
        assert!(matches!(choose_tenant(&gone, Some(gone[0].1.id), None), Err(Error::NotFound)));
    }
}
