//! Tenants: creating one (the steps sign-up, `POST /v1/tenants` and the operator's
//! `POST /v1/admin/tenants` share) and an owner changing its own.
use rusqlite::Transaction;

use super::audit::{Action, Event};
use super::keys::{self, CreatedKey, NewKey};
use super::mfa;
use super::principal::{Actor, Origin, PortalUser};
use super::sessions;
use super::{Member, clean_tenant_name};
use crate::app::App;
use crate::crypto::secret::Secret;
use crate::error::{Error, is_unique_violation};
use crate::store::accounts;
use crate::store::cache::Affects;
use crate::store::memberships::{self, MembershipRow};
use crate::store::tenants::{self, NewTenant, TenantRow};
use crate::types::{Email, MembershipStatus, Person, Role, TenantId, Timestamp, UserId};

/// A tenant made with its owner's membership and its first API key.
pub struct Founded {
    pub tenant: TenantRow,
    pub owner: MembershipRow,
    pub key: CreatedKey,
}

/// A URL-friendly slug from a tenant name: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "tenant".into() } else { slug.into() }
}

/// The plan of a tenant nobody chose one for.
pub const DEFAULT_PLAN: &str = "free";

/// Checks a slug chosen by hand: 1 to 40 lower-case ASCII letters, digits and dashes.
pub fn check_slug(raw: &str) -> Result<&str, Error> {
    let ok =
        (1..=40).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(raw) } else { Err(Error::field("slug", "must be 1 to 40 lower-case letters, digits or dashes")) }
}

/// A tenant about to be created, its values already checked. `slug: None` derives one
/// from the name.
pub(crate) struct TenantSpec<'a> {
    pub name: &'a str,
    pub slug: Option<&'a str>,
    pub plan: &'a str,
    pub max_seats: Option<i64>,
}

/// Inserts a tenant in the caller's transaction. A slug derived from the name that is
/// taken gets a random suffix (names are not unique, slugs are); a slug given by hand that
/// is taken is 409 slug_taken.
pub(crate) fn insert_tenant(tx: &Transaction<'_>, spec: &TenantSpec<'_>, now: Timestamp) -> Result<TenantRow, Error> {
    let base = spec.slug.map_or_else(|| slugify(spec.name), str::to_owned);
    let id = TenantId::random();
    let mut slug = base.clone();
    for attempt in 0.. {
        let new = NewTenant { id, slug: &slug, name: spec.name, plan: spec.plan, max_seats: spec.max_seats };
        match tenants::insert(tx, &new, now) {
            Ok(()) => break,
            Err(e) if is_unique_violation(&e) && spec.slug.is_some() => return Err(Error::SlugTaken),
            Err(e) if is_unique_violation(&e) && attempt < 8 => {
                slug = format!("{base}-{}", &crate::crypto::secret::random_token().expose()[..6].to_lowercase());
            }
            Err(e) => return Err(e.into()),
        }
    }
    tenants::get(tx, id)?.ok_or_else(|| Error::internal("tenant vanished after insert"))
}

/// Who a new tenant's first owner is, as its `tenant.created` event names it.
pub(crate) enum FirstOwner<'a> {
    /// The account that created it (sign-up, `POST /v1/tenants`).
    Account(UserId),
    /// The address an operator invited as its owner.
    Invited(&'a Email),
}

/// The `tenant.created` event of a tenant made in the caller's transaction.
pub(crate) fn record_created(
    tx: &Transaction<'_>,
    tenant: &TenantRow,
    owner: FirstOwner<'_>,
    actor: Actor,
    origin: Option<&Origin>,
    now: Timestamp,
) -> Result<(), Error> {
    let mut after = serde_json::json!({
        "slug": tenant.slug, "name": tenant.name, "plan": tenant.plan, "max_seats": tenant.max_seats,
    });
    match owner {
        FirstOwner::Account(user) => after["owner"] = serde_json::json!(user),
        FirstOwner::Invited(email) => after["owner_email"] = serde_json::json!(email),
    }
    Event::new(actor, origin, Action::TenantCreated)
        .tenant(tenant.id)
        .target("tenant", tenant.id)
        .after(after)
        .append(tx, now)
}

/// Creates the tenant, the owner membership and the first key in the caller's transaction.
pub(crate) fn found(
    tx: &Transaction<'_>,
    app: &App,
    name: &str,
    owner: UserId,
    actor: Actor,
    origin: Option<&Origin>,
    now: Timestamp,
) -> Result<Founded, Error> {
    let name = clean_tenant_name("tenant_name", name)?;
    let spec = TenantSpec { name: &name, slug: None, plan: DEFAULT_PLAN, max_seats: None };
    let tenant = insert_tenant(tx, &spec, now)?;
    let owner = MembershipRow {
        tenant_id: tenant.id,
        user_id: owner,
        role: Role::Owner,
        status: MembershipStatus::Active,
        created_at: now,
        invited_name: None,
    };
    memberships::insert(tx, &owner)?;
    let key = keys::issue(tx, app, tenant.id, Some(owner.user_id), NewKey::first(), now)?;
    record_created(tx, &tenant, FirstOwner::Account(owner.user_id), actor, origin, now)?;
    keys::audit_created(tx, actor, origin, &key, now)?;
    Ok(Founded { tenant, owner, key })
}

/// `POST /v1/tenants`: a signed-in person starts another tenant and now acts in it.
pub fn create_tenant(app: &App, who: &PortalUser, tenant_name: &str) -> Result<(Founded, Member), Error> {
    super::auth::signup_open(app)?;
    let now = app.clock.now();
    app.db.write(|tx| {
        let founded = found(tx, app, tenant_name, who.user_id, who.actor(), Some(&who.origin), now)?;
        sessions::switch_tenant(tx, app, who.session_id, who.user_id, founded.tenant.id, now)?;
        let account = accounts::get(tx, who.user_id)?.ok_or(Error::Unauthorized)?;
        let member = Member { account, membership: founded.owner.clone() };
        Ok((founded, member))
    })
}

/// What an owner may change of its tenant. `provider_key`: absent leaves it, `Some(None)`
/// clears it, `Some(Some(key))` replaces it.
pub struct TenantChanges {
    pub name: Option<String>,
    pub provider_key: Option<Option<Secret>>,
    /// Every member must hold a second factor; turning it on needs one's own first.
    pub require_mfa: Option<bool>,
}

const PROVIDER_KEY_LEN: std::ops::RangeInclusive<usize> = 8..=4096;

fn provider_snapshot(t: &TenantRow) -> serde_json::Value {
    serde_json::json!({
        "name": t.name, "has_provider_key": t.has_provider_key, "provider_key_hint": t.provider_key_hint,
        "require_mfa": t.require_mfa,
    })
}

/// Who renames a tenant and sets its provider key.
pub const CHANGE_TENANT: Role = Role::Owner;

/// `PATCH /v1/tenant`: the provider key is sealed under the master key (bound to the
/// tenant's id) and only its last four characters are kept readable, as the hint.
pub fn update_tenant(app: &App, who: &PortalUser, changes: TenantChanges) -> Result<TenantRow, Error> {
    let tenant = who.require(CHANGE_TENANT)?;
    let name = changes.name.map(|n| clean_tenant_name("name", &n)).transpose()?;
    let sealed = match &changes.provider_key {
        Some(Some(key)) => {
            let raw = key.expose();
            if !PROVIDER_KEY_LEN.contains(&raw.chars().count()) || raw.chars().any(char::is_control) {
                return Err(Error::field("provider_key", "must be 8 to 4096 printable characters"));
            }
            let hint: String = raw.chars().skip(raw.chars().count() - 4).collect();
            Some(Some((app.master_key.seal(raw.as_bytes(), &tenant.to_string())?, hint)))
        }
        Some(None) => Some(None),
        None => None,
    };
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Tenant(tenant)], |tx| {
        let mut row = tenants::get(tx, tenant)?.ok_or(Error::NotFound)?;
        let old = provider_snapshot(&row);
        if let Some(name) = name {
            row.name = name;
            tenants::update(tx, &row, now)?;
        }
        if let Some(sealed) = &sealed {
            let (ciphertext, hint) = sealed.as_ref().map(|(c, h)| (c.as_slice(), h.as_str())).unzip();
            tenants::set_provider_key(tx, tenant, ciphertext, hint, now)?;
        }
        if let Some(on) = changes.require_mfa {
            // The owner who demands a factor holds one, so the policy never shuts its author out.
            if on && mfa::methods(tx, Person::User(who.user_id))?.is_empty() {
                return Err(Error::MfaEnrolmentRequired);
            }
            tenants::set_requires_mfa(tx, tenant, on, now)?;
        }
        let after = tenants::get(tx, tenant)?.ok_or(Error::NotFound)?;
        Event::new(who.actor(), Some(&who.origin), Action::TenantUpdated)
            .tenant(tenant)
            .target("tenant", tenant)
            .before(old)
            .after(provider_snapshot(&after))
            .append(tx, now)?;
        Ok(after)
    })
}

#[cfg(test)]
mod tests {
    use super::{check_slug, slugify};

    #[test]
    fn slugs_are_lowercase_ascii_with_single_dashes() {
        assert_eq!(slugify("Acme, Inc."), "acme-inc");
        assert_eq!(slugify("  --Ünïcode Team--  "), "n-code-team");
        assert_eq!(slugify("!!!"), "tenant");
        assert_eq!(slugify(&"a".repeat(80)).len(), 40);
    }

    #[test]
    fn hand_picked_slugs_are_lower_case_ascii_of_1_to_40() {
        for good in ["acme", "a", "acme-2", &"a".repeat(40)] {
            assert!(check_slug(good).is_ok(), "{good}");
        }
        for bad in ["", "Acme", "acme inc", "acme_inc", "ünï", " acme", &"a".repeat(41)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
