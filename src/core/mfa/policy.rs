//! Who must hold a second factor: operators under `--operator-mfa required`, members of a
//! tenant whose owner turned `require_mfa` on.
use rusqlite::Connection;

use super::methods;
use crate::app::App;
use crate::error::Error;
use crate::store::cache::{Affects, Bounded, DependsOn};
use crate::store::tenants;
use crate::types::{MfaPolicy, Person, TenantId};

/// Whether a person (in a tenant) is shut out until it enrols, cached per thread (see
/// `store::cache`): this runs on every authenticated request.
type ShutOut = Bounded<(Person, Option<TenantId>), bool, 4096>;

impl DependsOn<(Person, Option<TenantId>)> for bool {
    fn depends_on(&self, &(person, tenant): &(Person, Option<TenantId>), what: &Affects) -> bool {
        match (*what, person) {
            (Affects::Account(id), Person::User(user)) => id == user,
            // Without a tenant, the policy of any tenant the account belongs to applies.
            (Affects::Tenant(id), Person::User(_)) => tenant.is_none_or(|t| t == id),
            _ => false,
        }
    }
}

/// `403 mfa_enrolment_required` when a policy needs a factor this person lacks: the one
/// check behind every route but the enrolment ones (`http::auth`).
pub fn gate(app: &App, person: Person, tenant: Option<TenantId>) -> Result<(), Error> {
    if matches!(person, Person::Admin(_)) && app.config.operator_mfa == MfaPolicy::Optional {
        return Ok(());
    }
    let shut_out = app.db.read_cached(|c, cache: &mut ShutOut| {
        cache.get_or_load((person, tenant), || {
            Ok(Some(applies(app, c, person, tenant)? && methods(c, person)?.is_empty()))
        })
    })?;
    if shut_out == Some(true) { Err(Error::MfaEnrolmentRequired) } else { Ok(()) }
}

/// Whether a policy needs this person to hold a factor: for an account, the policy of any
/// tenant it is an active member of (so removing the last factor in one tenant cannot shut
/// it out of another).
pub fn required(app: &App, conn: &Connection, person: Person) -> Result<bool, Error> {
    match person {
        Person::Admin(_) => Ok(app.config.operator_mfa == MfaPolicy::Required),
        Person::User(id) => tenants::any_requires_mfa(conn, id),
    }
}

/// Whether a policy closes the routes this person uses (acting in `tenant`).
fn applies(app: &App, conn: &Connection, person: Person, tenant: Option<TenantId>) -> Result<bool, Error> {
    match (person, tenant) {
        (Person::User(_), Some(t)) => tenants::requires_mfa(conn, t),
        _ => required(app, conn, person),
    }
}
