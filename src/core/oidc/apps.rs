//! `/app/apps`: what a person gave other applications — the consents remembered for
//! clients that are not trusted, and the live grants (with their refresh chains) — and
//! taking them back. Taking a consent back revokes that client's grants too: what the
//! person said no more to should not go on working until it expires.
use super::Scope;
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::PortalUser;
use crate::error::Error;
use crate::store::oauth_consents::{self, ConsentLine};
use crate::store::oauth_grants::{self, GrantLine};
use crate::types::{ClientId, GrantId};

pub struct Apps {
    pub consents: Vec<ConsentLine>,
    pub grants: Vec<GrantLine>,
}

/// The account's consents and live grants, in every tenant, newest first.
pub fn list(app: &App, who: &PortalUser) -> Result<Apps, Error> {
    let now = app.clock.now();
    app.db.read(|c| {
        Ok(Apps {
            consents: oauth_consents::list_for_account(c, who.user_id)?,
            grants: oauth_grants::list_live_for_account(c, who.user_id, now)?,
        })
    })
}

/// Revokes one of the account's live grants; another's, or one already ended, is 404.
pub fn revoke_grant(app: &App, who: &PortalUser, id: GrantId) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[], |tx| {
        if !oauth_grants::revoke_own(tx, who.user_id, id, now)? {
            return Err(Error::NotFound);
        }
        Event::new(who.actor(), Some(&who.origin), Action::OAuthGrantRevoked)
            .target("oauth_grant", id)
            .after(serde_json::json!({ "by": "user" }))
            .append(tx, now)
    })
}

/// Takes back the consent given to `client`, and revokes the grants the account gave it;
/// 404 when there is no such consent.
pub fn revoke_consent(app: &App, who: &PortalUser, client: ClientId) -> Result<(), Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[], |tx| {
        if !oauth_consents::delete(tx, who.user_id, client)? {
            return Err(Error::NotFound);
        }
        let grants_revoked = oauth_grants::revoke_for_client(tx, who.user_id, client, now)?;
        Event::new(who.actor(), Some(&who.origin), Action::OAuthConsentRevoked)
            .target("oauth_client", client)
            .after(serde_json::json!({ "grants_revoked": grants_revoked }))
            .append(tx, now)
    })
}

/// The scopes of a consent or grant as the page lists them (`openid` goes without saying).
pub fn shown_scopes(scope: &str) -> String {
    Scope::parse(scope).iter().filter(|s| *s != "openid").collect::<Vec<_>>().join(", ")
}
