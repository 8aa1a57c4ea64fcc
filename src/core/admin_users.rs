//! Accounts as operators run them, across all their tenants: list and search, and the
//! account lifecycle (disable, enable, delete, restore). Taking access away ends the
//! account's sessions and may not leave any tenant without an active owner.
use serde_json::json;

use super::audit::{Action, Event};
use super::principal::Staff;
use super::sessions;
use crate::app::App;
use crate::error::Error;
use crate::store::accounts::{self, AccountRow};
use crate::store::cache::Affects;
use crate::store::memberships::{self, MembershipRow};
use crate::store::page::Page;
use crate::store::tenants::TenantRow;
use crate::types::{AccountStatus, Reason, TenantId, UserId};

/// An account with its memberships (removed ones left out): what `/v1/admin/users` lists.
pub struct AccountView {
    pub account: AccountRow,
    pub memberships: Vec<(MembershipRow, TenantRow)>,
}

#[derive(Debug, Default)]
pub struct AccountFilter {
    pub status: Option<AccountStatus>,
    /// Matched anywhere in the email or the name, case-insensitively.
    pub q: Option<String>,
    /// Accounts with a membership (in any status) in this tenant.
    pub tenant: Option<TenantId>,
}

pub fn list_accounts(
    app: &App,
    _who: &Staff,
    filter: &AccountFilter,
    page: &Page,
) -> Result<(Vec<AccountView>, Option<String>), Error> {
    let q = filter.q.as_deref().map(str::to_lowercase);
    let views = app.db.read(|c| {
        let rows = accounts::list(c, filter.status, q.as_deref(), filter.tenant, page)?;
        // At most one page (≤ 201 accounts), each one indexed lookup of its memberships.
        rows.into_iter()
            .map(|account| Ok(AccountView { memberships: memberships::list_for_account(c, account.id)?, account }))
            .collect::<Result<Vec<_>, Error>>()
    })?;
    Ok(page.finish(views, |v| v.account.cursor()))
}

/// One account with its memberships (the operator's account page); unknown is 404.
pub fn get_account(app: &App, _who: &Staff, id: UserId) -> Result<AccountView, Error> {
    app.db.read(|c| view(c, id))
}

/// An account as operators see it, read on `conn` (also inside a change's transaction).
pub(crate) fn view(conn: &rusqlite::Connection, id: UserId) -> Result<AccountView, Error> {
    let account = accounts::get(conn, id)?.ok_or(Error::NotFound)?;
    Ok(AccountView { memberships: memberships::list_for_account(conn, id)?, account })
}

/// The lifecycle of an account, in every tenant at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
    Delete,
    Restore,
}

impl AccountChange {
    /// The status this change leads to from `from`, or None when it is not allowed.
    pub fn next(self, from: AccountStatus) -> Option<AccountStatus> {
        use AccountStatus::{Active, Deleted, Disabled};
        match (self, from) {
            (AccountChange::Disable, Active) => Some(Disabled),
            (AccountChange::Enable, Disabled) => Some(Active),
            (AccountChange::Delete, Active | Disabled) => Some(Deleted),
            (AccountChange::Restore, Deleted) => Some(Active),
            _ => None,
        }
    }

    fn action(self) -> Action {
        match self {
            AccountChange::Disable => Action::AccountDisabled,
            AccountChange::Enable => Action::AccountEnabled,
            AccountChange::Delete => Action::AccountDeleted,
            AccountChange::Restore => Action::AccountRestored,
        }
    }
}

/// Disables, enables, (soft-)deletes or restores an account, in one transaction with its
/// audit event. When access goes away, every session of the account ends, and the change
/// is refused (409 last_owner) if some tenant would be left with no active owner.
pub fn change_account(
    app: &App,
    who: &Staff,
    id: UserId,
    change: AccountChange,
    reason: &Reason,
) -> Result<AccountView, Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Account(id)], |tx| {
        let before = accounts::get(tx, id)?.ok_or(Error::NotFound)?;
        let to = change.next(before.status).ok_or(Error::InvalidTransition)?;
        let takes_access = before.status == AccountStatus::Active && to != AccountStatus::Active;
        let mut sessions_revoked = 0;
        if takes_access {
            if !memberships::tenants_only_owned_by(tx, id)?.is_empty() {
                return Err(Error::LastOwner);
            }
            sessions_revoked = sessions::end_account_access(tx, id, None, now)?;
        }
        accounts::set_status(tx, id, to, now)?;
        Event::new(who.actor(), who.origin(), change.action())
            .target("account", id)
            .reason(reason.as_str())
            .before(json!({ "status": before.status }))
            .after(json!({ "status": to, "sessions_revoked": sessions_revoked }))
            .append(tx, now)?;
        let account = accounts::get(tx, id)?.ok_or_else(|| Error::internal("account vanished during a change"))?;
        Ok(AccountView { memberships: memberships::list_for_account(tx, id)?, account })
    })
}

#[cfg(test)]
mod tests {
    use super::AccountChange::{self, Delete, Disable, Enable, Restore};
    use crate::types::AccountStatus::{self, Active, Deleted, Disabled};

    #[test]
    fn only_sensible_account_transitions_are_allowed() {
        let allowed: &[(AccountChange, AccountStatus, AccountStatus)] = &[
            (Disable, Active, Disabled),
            (Enable, Disabled, Active),
            (Delete, Active, Deleted),
            (Delete, Disabled, Deleted),
            (Restore, Deleted, Active),
        ];
        for change in [Disable, Enable, Delete, Restore] {
            for &from in AccountStatus::ALL {
                let expected = allowed.iter().find(|(c, f, _)| *c == change && *f == from).map(|(_, _, to)| *to);
                assert_eq!(change.next(from), expected, "{change:?} from {from}");
            }
        }
    }
}
