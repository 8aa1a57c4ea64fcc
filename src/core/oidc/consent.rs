//! Consent: a client that is not `trusted` must be allowed by the person once per scope
//! set (API.md). What was allowed is remembered per account and client, and revocable
//! from `/app/apps`.
use rusqlite::Transaction;

use super::Scope;
use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::principal::Actor;
use crate::error::Error;
use crate::store::oauth_clients::ClientRow;
use crate::store::oauth_consents;
use crate::types::{Timestamp, UserId};

/// Whether the consent page must be shown: asked for (`prompt=consent`), or a client that
/// is not trusted and was never allowed every scope it asks for now.
pub fn owed(app: &App, client: &ClientRow, user: UserId, scope: &Scope, asked: bool) -> Result<bool, Error> {
    if asked {
        return Ok(true);
    }
    if client.trusted {
        return Ok(false);
    }
    let given = app.db.read(|c| oauth_consents::get(c, user, client.id))?;
    Ok(!given.is_some_and(|given| Scope::parse(&given).covers(scope)))
}

/// Remembers that `user` allowed `client` the scopes of `scope`.
pub fn give(
    tx: &Transaction<'_>,
    client: &ClientRow,
    user: UserId,
    scope: &Scope,
    now: Timestamp,
) -> Result<(), Error> {
    oauth_consents::put(tx, user, client.id, &scope.to_string(), now)?;
    Event::new(Actor::User(user), None, Action::OAuthConsentGiven)
        .target("oauth_client", client.id)
        .after(serde_json::json!({ "scope": scope.to_string() }))
        .append(tx, now)
}
