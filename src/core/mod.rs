//! The rules. Every door (JSON API, HTML pages, command line) calls an operation here;
//! each one validates, authorizes, runs one transaction, and writes its audit event
//! inside it. No SQL here: that is `store`'s.
pub mod access_tokens;
pub mod account;
pub mod admin_tenants;
pub mod admin_users;
pub mod audit;
pub mod auth;
pub mod email;
pub mod forward_auth;
pub mod keys;
pub mod members;
pub mod mfa;
pub mod operators;
pub mod oversight;
pub mod principal;
pub mod recovery;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod verify;

use crate::store::accounts::AccountRow;
use crate::store::memberships::MembershipRow;
use crate::store::tenants::TenantRow;
use crate::types::{AccountStatus, MembershipStatus, TenantStatus};

/// An account seen from one tenant: the API's `user`.
pub struct Member {
    pub account: AccountRow,
    pub membership: MembershipRow,
}

impl Member {
    /// The membership's status, unless the account itself is disabled or deleted.
    pub fn status(&self) -> &'static str {
        match self.account.status {
            AccountStatus::Active => self.membership.status.as_str(),
            other => other.as_str(),
        }
    }

    pub fn is_active(&self) -> bool {
        self.account.status == AccountStatus::Active && self.membership.status == MembershipStatus::Active
    }
}

/// A membership's state as people see it: in a suspended or deleted tenant it is the
/// tenant's state, since that is what stops the member, whatever the membership says.
pub fn membership_state(m: &MembershipRow, t: &TenantRow) -> &'static str {
    if t.status == TenantStatus::Active { m.status.as_str() } else { t.status.as_str() }
}

/// Who a portal session is, and where: what `/v1/me` shows.
pub struct Profile {
    pub member: Member,
    pub tenant: TenantRow,
    pub memberships: Vec<(MembershipRow, TenantRow)>,
    /// The `GET /v1/me` body of this profile, rendered once by the api layer and kept as
    /// long as the cached profile (which every commit drops).
    pub rendered: std::sync::OnceLock<Vec<u8>>,
}

/// Trims a display name and checks its length; `what` names the field.
pub fn clean_name(field: &'static str, raw: &str, required: bool) -> Result<String, crate::error::Error> {
    let name = raw.trim();
    if required && name.is_empty() {
        return Err(crate::error::Error::field(field, "must not be empty"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(crate::error::Error::field(field, "must be at most 100 printable characters"));
    }
    Ok(name.to_owned())
}
