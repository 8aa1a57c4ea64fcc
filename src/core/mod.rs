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
pub mod notices;
pub mod oidc;
pub mod operators;
pub mod oversight;
pub mod principal;
pub mod recovery;
pub mod sessions;
pub mod signing;
pub mod tenants;
pub mod tokens;
pub mod usage;
pub mod verify;
pub mod webauthn;

use crate::error::Error;
use crate::store::accounts::AccountRow;
use crate::store::memberships::MembershipRow;
use crate::store::tenants::TenantRow;
use crate::types::{AccountStatus, MembershipStatus, TenantStatus, Timestamp};

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

    /// What the tenant sees of the account. While the membership is invited the account is
    /// not the tenant's yet (it may be someone's account elsewhere): the tenant sees the
    /// name its inviter typed and nothing of the account's life (API.md).
    pub fn seen(&self) -> Seen<'_> {
        if self.membership.status == MembershipStatus::Invited {
            Seen { name: self.membership.invited_name.as_deref(), email_verified: None, last_login_at: None }
        } else {
            Seen {
                name: Some(&self.account.name),
                email_verified: Some(self.account.email_verified_at.is_some()),
                last_login_at: self.account.last_login_at,
            }
        }
    }
}

/// A member's account as its tenant sees it (`Member::seen`).
pub struct Seen<'a> {
    pub name: Option<&'a str>,
    pub email_verified: Option<bool>,
    pub last_login_at: Option<Timestamp>,
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

/// Trims a display name and checks its length and characters; `field` names the field.
pub fn clean_name(field: &'static str, raw: &str, required: bool) -> Result<String, Error> {
    let name = raw.trim();
    if required && name.is_empty() {
        return Err(Error::field(field, "must not be empty"));
    }
    if name.chars().count() > 100 || name.chars().any(crate::types::is_invisible) {
        return Err(Error::field(field, "must be at most 100 visible characters"));
    }
    Ok(name.to_owned())
}

/// A tenant's name: a name (`clean_name`) that cannot pass for a link or an address in the
/// invitation mail that quotes it. Refused: `://`, `@`, `www.`, and any run like a domain
/// (`word.tld`: letters or digits, a dot, then two or more letters), e.g. "acme.com" or
/// "pay.example.org"; "Acme Inc." or "v2.0" stay fine.
pub fn clean_tenant_name(field: &'static str, raw: &str) -> Result<String, Error> {
    let name = clean_name(field, raw, true)?;
    let lower = name.to_lowercase();
    if lower.contains("://") || lower.contains('@') || lower.contains("www.") || looks_like_domain(&lower) {
        return Err(Error::field(field, "must not look like a link, a domain or an email address"));
    }
    Ok(name)
}

/// Whether some dot has a letter or digit before it and two or more letters right after
/// it (ending the word): a `word.tld` run.
fn looks_like_domain(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        if c != '.' || i == 0 || !chars[i - 1].is_alphanumeric() {
            return false;
        }
        let tld = chars[i + 1..].iter().take_while(|c| c.is_alphabetic()).count();
        let ends = chars.get(i + 1 + tld).is_none_or(|c| !c.is_alphanumeric());
        tld >= 2 && ends
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_that_pass_for_links_are_refused() {
        for bad in ["acme.com", "Pay at evil.example.org", "https://x", "help@acme", "www.acme", "ACME.IO now"] {
            assert!(clean_tenant_name("name", bad).is_err(), "{bad} passed");
        }
        for good in ["Acme Inc.", "Acme v2.0", "A. B. Smith & Co", "Büro 3.5x", "Acme"] {
            assert!(clean_tenant_name("name", good).is_ok(), "{good} refused");
        }
    }

    #[test]
    fn names_with_invisible_characters_are_refused() {
        for bad in ["Ann\u{202E}ecila", "zero\u{200B}width", "private\u{E000}", "unassigned\u{0378}", "bell\u{7}"] {
            assert!(clean_name("name", bad, false).is_err(), "{bad:?} passed");
        }
        assert!(clean_name("name", "Zoë Ångström 李", false).is_ok());
    }
}
