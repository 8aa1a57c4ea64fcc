//! Who must hold a second factor: operators under `--operator-mfa required`, members of a
//! tenant whose owner turned `require_mfa` on.
use rusqlite::Connection;

use crate::app::App;
use crate::error::Error;
use crate::store::tenants;
use crate::types::{MfaPolicy, Person, TenantId};

/// Whether a policy needs this person (acting in `tenant`) to hold a factor.
pub fn required(app: &App, conn: &Connection, person: Person, tenant: Option<TenantId>) -> Result<bool, Error> {
    match (person, tenant) {
        (Person::Admin(_), _) => Ok(app.config.operator_mfa == MfaPolicy::Required),
        (Person::User(_), Some(t)) => tenants::requires_mfa(conn, t),
        (Person::User(_), None) => Ok(false),
    }
}
