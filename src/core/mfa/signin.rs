//! `POST /v1/auth/mfa` and `POST /v1/admin/auth/mfa`: the second step ends where the
//! first would have, in the same functions (`auth::resume_login`, `members::accept_in`,
//! `operators::open_admin_login`).
use super::challenge::complete;
use super::{Method, Proof};
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::auth::{self, LoggedIn};
use crate::core::members::{self, Acceptance};
use crate::core::operators::{self, AdminLoggedIn};
use crate::core::principal::{Actor, Origin};
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::types::{Person, Realm};

/// A portal login (or an invitation's acceptance) completed with a code or a passkey.
pub fn portal(app: &App, origin: &Origin, token: &Secret, proof: Proof<'_>) -> Result<LoggedIn, Error> {
    complete(app, origin, Realm::Portal, token, proof, |tx, challenge, method, now| {
        let Person::User(user) = challenge.who else { return Err(Error::Unauthorized) };
        passed(Actor::User(user), origin, method).target("account", user).append(tx, now)?;
        let logged_in = match &challenge.invitation {
            None => auth::resume_login(tx, app, origin, user, challenge.tenant_id, now)?,
            Some(invitation) => {
                // The password was checked when the challenge was issued; a change since then
                // (a reset) spent the invitation with every other token of the account.
                let checked = crate::store::accounts::get(tx, user)?.ok_or(Error::Unauthorized)?.password_hash;
                let acceptance = Acceptance { hash: None, name: None, checked };
                let accepted = members::accept_in(tx, app, origin, invitation, &acceptance, now)?;
                let profile = crate::core::account::load_profile(tx, user, accepted.tenant.id)?;
                LoggedIn { session: accepted.session, profile }
            }
        };
        crate::store::sessions::set_amr(tx, logged_in.session.id, method.amr())?;
        Ok(logged_in)
    })
}

/// An operator login completed with a code or a passkey.
pub fn operator(app: &App, origin: &Origin, token: &Secret, proof: Proof<'_>) -> Result<AdminLoggedIn, Error> {
    complete(app, origin, Realm::Admin, token, proof, |tx, challenge, method, now| {
        let Person::Admin(admin) = challenge.who else { return Err(Error::Unauthorized) };
        passed(Actor::Admin(admin), origin, method).target("admin", admin).append(tx, now)?;
        operators::open_admin_login(tx, app, origin, admin, now)
    })
}

fn passed(actor: Actor, origin: &Origin, method: Method) -> Event<'_> {
    Event::new(actor, Some(origin), Action::MfaPassed).after(serde_json::json!({ "method": method.as_str() }))
}
