//! API keys: issue, list, revoke. Verification is in `core::verify`.
use rusqlite::Transaction;
use serde_json::value::RawValue;

use super::audit::{Action, Event};
use super::principal::{Actor, Origin, PortalUser};
use crate::app::App;
use crate::crypto::api_key;
use crate::crypto::secret::Secret;
use crate::error::Error;
use crate::store::cache::Affects;
use crate::store::keys::{self, KeyRow};
use crate::store::page::Page;
use crate::types::{KeyId, KeyStatus, Role, TenantId, Timestamp, UserId};

const MAX_SCOPES: usize = 50;
const MAX_META_BYTES: usize = 4096;

pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<Timestamp>,
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A key just issued: `key` is shown once, at creation, and only its digest is stored.
pub struct CreatedKey {
    pub row: KeyRow,
    pub key: Secret,
}

fn valid_scope(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b":._-/*".contains(&b))
}

impl NewKey {
    /// The key every new tenant starts with.
    pub fn first() -> Self {
        Self { name: "Default key".into(), scopes: Vec::new(), expires_at: None, meta: None }
    }

    fn validate(mut self, now: Timestamp) -> Result<Self, Error> {
        self.name = super::clean_name("name", &self.name, true)?;
        if self.scopes.len() > MAX_SCOPES {
            return Err(Error::field("scopes", format!("must hold at most {MAX_SCOPES} scopes")));
        }
        if let Some(bad) = self.scopes.iter().find(|s| !valid_scope(s)) {
            return Err(Error::field("scopes", format!("{bad:?} is not a scope (1-64 of A-Z a-z 0-9 : . _ - / *)")));
        }
        let mut seen = std::collections::HashSet::new();
        self.scopes.retain(|s| seen.insert(s.clone()));
        if expired(self.expires_at, now) {
            return Err(Error::field("expires_at", "must be in the future"));
        }
        Ok(self)
    }
}

/// Issues a key inside the caller's transaction (also used at sign-up).
pub(crate) fn issue(
    tx: &Transaction<'_>,
    app: &App,
    tenant: TenantId,
    created_by: Option<UserId>,
    input: NewKey,
    now: Timestamp,
) -> Result<CreatedKey, Error> {
    let input = input.validate(now)?;
    let meta = match input.meta {
        Some(m) => {
            let text = serde_json::Value::Object(m).to_string();
            if text.len() > MAX_META_BYTES {
                return Err(Error::field("meta", format!("must serialize to at most {MAX_META_BYTES} bytes")));
            }
            Some(RawValue::from_string(text).map_err(Error::internal)?)
        }
        None => None,
    };
    let scopes = RawValue::from_string(serde_json::to_string(&input.scopes).map_err(Error::internal)?)
        .map_err(Error::internal)?;
    let key = api_key::generate(&app.config.key_prefix);
    let row = KeyRow {
        id: KeyId::random(),
        tenant_id: tenant,
        name: input.name,
        prefix: key.expose().chars().take(12).collect(),
        scopes,
        meta,
        created_at: now,
        created_by,
        expires_at: input.expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    keys::insert(tx, &row, &key.digest())?;
    Ok(CreatedKey { row, key })
}

fn snapshot(row: &KeyRow) -> serde_json::Value {
    serde_json::json!({
        "name": row.name, "prefix": row.prefix, "scopes": row.scopes,
        "expires_at": row.expires_at, "revoked_at": row.revoked_at,
    })
}

pub(crate) fn audit_created(
    tx: &Transaction<'_>,
    actor: Actor,
    origin: Option<&Origin>,
    created: &CreatedKey,
    now: Timestamp,
) -> Result<(), Error> {
    Event::new(actor, origin, Action::KeyCreated)
        .tenant(created.row.tenant_id)
        .target("api_key", created.row.id)
        .after(snapshot(&created.row))
        .append(tx, now)
}

/// Whether a key with this expiry no longer verifies at `now` (the expiry instant included).
pub fn expired(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_some_and(|t| t <= now)
}

/// A key's state at `now`, as the list's `?status=` filter reads it: a revoked key is
/// revoked whatever its expiry.
pub fn status(key: &KeyRow, now: Timestamp) -> KeyStatus {
    if key.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if expired(key.expires_at, now) {
        KeyStatus::Expired
    } else {
        KeyStatus::Active
    }
}

/// Whether revoking the key would change anything (an expired key may still be revoked,
/// so that it stays dead if its expiry were ever read differently).
pub fn revocable(key: &KeyRow) -> bool {
    key.revoked_at.is_none()
}

/// Who creates and revokes a tenant's keys (every member lists them).
pub const MANAGE_KEYS: Role = Role::Admin;

pub fn create_key(app: &App, who: &PortalUser, input: NewKey) -> Result<CreatedKey, Error> {
    let tenant = who.require(MANAGE_KEYS)?;
    let now = app.clock.now();
    // A new key: nothing cached is stale.
    app.db.write_affecting(&[], |tx| {
        let created = issue(tx, app, tenant, Some(who.user_id), input, now)?;
        audit_created(tx, who.actor(), Some(&who.origin), &created, now)?;
        super::notices::api_key_created(tx, app, who.user_id, &created.row, now)?;
        Ok(created)
    })
}

pub fn list_keys(
    app: &App,
    who: &PortalUser,
    status: Option<KeyStatus>,
    page: &Page,
) -> Result<(Vec<KeyRow>, Option<String>), Error> {
    let tenant = who.require(Role::Member)?;
    let now = app.clock.now();
    let rows = app.db.read(|c| keys::list(c, tenant, status, now, page))?;
    Ok(page.finish(rows, KeyRow::cursor))
}

/// Revokes a key of the caller's tenant; verification fails from the next request on.
/// Revoking a revoked key changes nothing and succeeds.
pub fn revoke_key(app: &App, who: &PortalUser, id: KeyId) -> Result<(), Error> {
    let tenant = who.require(MANAGE_KEYS)?;
    let now = app.clock.now();
    app.db.write_affecting(&[Affects::Key(id)], |tx| match keys::revoke(tx, tenant, id, now)? {
        Some(key) => Event::new(who.actor(), Some(&who.origin), Action::KeyRevoked)
            .tenant(tenant)
            .target("api_key", id)
            .after(snapshot(&key))
            .append(tx, now),
        None if keys::exists(tx, tenant, id)? => Ok(()),
        None => Err(Error::NotFound),
    })
}
