//! An operator's way out for a person who lost their authenticator and recovery codes:
//! every factor of the account goes, and so does every session (whoever holds one may be
//! the one who took the phone). The account then signs in with its password alone, and
//! enrols again (a policy sends it there).
use crate::app::App;
use crate::core::admin_users::{self, AccountView};
use crate::core::audit::{Action, Event};
use crate::core::notices::{self, FactorChange};
use crate::core::principal::Staff;
use crate::error::Error;
use crate::store::{accounts, mfa_challenges, recovery_codes, sessions, totp_factors};
use crate::types::{Person, Reason, UserId};

pub fn reset_factors(app: &App, who: &Staff, id: UserId, reason: &Reason) -> Result<AccountView, Error> {
    let now = app.clock.now();
    let person = Person::User(id);
    app.db.write(|tx| {
        accounts::get(tx, id)?.ok_or(Error::NotFound)?;
        let totp = totp_factors::delete(tx, person)?;
        let codes = recovery_codes::delete_all(tx, person)?;
        mfa_challenges::delete_for(tx, person)?;
        let sessions_revoked = sessions::revoke_for_account(tx, id, None, now)?;
        Event::new(who.actor(), who.origin(), Action::MfaReset)
            .target("account", id)
            .reason(reason.as_str())
            .after(serde_json::json!({
                "totp_removed": totp, "recovery_codes_removed": codes, "sessions_revoked": sessions_revoked,
            }))
            .append(tx, now)?;
        notices::factor_changed(tx, app, person, FactorChange::ResetByOperator, now)?;
        admin_users::view(tx, id)
    })
}
