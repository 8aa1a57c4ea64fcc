//! OpenID Connect clients as operators run them: register, list, look at, edit, rotate the
//! secret, disable and enable. Every door (`/v1/admin/clients*`, `/admin/clients*`,
//! `keystead clients …`) calls these with a `Staff`. A confidential client's secret is a
//! random 256-bit token, shown once (at registration and at each rotation) and stored as
//! its SHA-256 only.
use serde_json::json;

use crate::app::App;
use crate::core::audit::{Action, Event};
use crate::core::clean_name;
use crate::core::principal::Staff;
use crate::crypto::secret::{Secret, random_token};
use crate::error::Error;
use crate::store::oauth_clients::{self, ClientRow};
use crate::store::page::Page;
use crate::store::tenants;
use crate::types::{ClientId, ClientStatus, Reason, SigningAlg, TenantId};

/// More redirect URIs than this is a misconfiguration rather than an application.
pub const MAX_URIS: usize = 10;
/// Longest redirect URI accepted; longer ones are not links anyone types.
pub const MAX_URI_CHARS: usize = 2000;

/// `POST /v1/admin/clients`.
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (a single-page or native app) has no secret and must use PKCE.
    pub public: bool,
    /// A trusted client gets no consent page.
    pub trusted: bool,
    /// May call the introspection endpoint (a gateway's client).
    pub introspect: bool,
    /// Only members of this tenant sign in through it, and it introspects only this
    /// tenant's credentials.
    pub tenant_id: Option<TenantId>,
    /// None: RS256, what every client library supports.
    pub id_token_alg: Option<SigningAlg>,
}

/// A client just registered or given a new secret: `secret` is shown this once (None for
/// a public client).
pub struct WithSecret {
    pub client: ClientRow,
    pub secret: Option<Secret>,
}

/// `PATCH /v1/admin/clients/{id}`: each field absent is left as it is; `tenant_id:
/// Some(None)` lifts the limit to a tenant. Whether a client is public is fixed when it
/// is registered (its secret, or its lack of one, goes with it).
#[derive(Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub trusted: Option<bool>,
    pub introspect: Option<bool>,
    pub tenant_id: Option<Option<TenantId>>,
    pub id_token_alg: Option<SigningAlg>,
}

/// Disabling and enabling a client: the rule the pages ask for their buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientChange {
    Disable,
    Enable,
}

impl ClientChange {
    /// The status this change leads to from `from`, or None when it is not allowed.
    pub fn next(self, from: ClientStatus) -> Option<ClientStatus> {
        match (self, from) {
            (ClientChange::Disable, ClientStatus::Active) => Some(ClientStatus::Disabled),
            (ClientChange::Enable, ClientStatus::Disabled) => Some(ClientStatus::Active),
            _ => None,
        }
    }

    fn action(self) -> Action {
        match self {
            ClientChange::Disable => Action::ClientDisabled,
            ClientChange::Enable => Action::ClientEnabled,
        }
    }
}

/// A `tenant_id` as a request spells it; one that does not parse names no tenant, as an
/// unknown one (a 400 naming the field, not a 404: the client is what the path names).
pub fn tenant_ref(raw: &str) -> Result<TenantId, Error> {
    raw.trim().parse().map_err(|_| no_such_tenant())
}

fn no_such_tenant() -> Error {
    Error::field("tenant_id", "must name an existing tenant")
}

/// `id_token_alg` as a request spells it.
pub fn signing_alg(raw: &str) -> Result<SigningAlg, Error> {
    raw.parse().map_err(|_| Error::field("id_token_alg", "must be RS256, ES256 or EdDSA"))
}

/// Why a redirect URI is refused, or None when it may be registered: absolute, https (or
/// http on a loopback host, for native apps and development), without a fragment (RFC
/// 6749 §3.1.2), and as given (authorization compares it exactly, so no surrounding space).
fn uri_problem(raw: &str) -> Option<&'static str> {
    if raw.chars().count() > MAX_URI_CHARS {
        return Some("must be at most 2000 characters");
    }
    if raw.trim() != raw || raw.is_empty() {
        return Some("must not be blank or padded with spaces");
    }
    let Ok(url) = url::Url::parse(raw) else { return Some("must be an absolute URL") };
    if url.fragment().is_some() || raw.contains('#') {
        return Some("must not have a fragment");
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if loopback => None,
        _ => Some("must be https (http only on 127.0.0.1, [::1] or localhost)"),
    }
}

/// Checks a list of redirect URIs (`field` names it in the 400) and drops repeats.
fn check_uris(field: &'static str, uris: Vec<String>) -> Result<Vec<String>, Error> {
    if uris.len() > MAX_URIS {
        return Err(Error::field(field, format!("must hold at most {MAX_URIS} URIs")));
    }
    if let Some((i, why)) = uris.iter().enumerate().find_map(|(i, u)| uri_problem(u).map(|why| (i, why))) {
        return Err(Error::field(field, format!("entry {} {why}", i + 1)));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(uris.into_iter().filter(|u| seen.insert(u.clone())).collect())
}

/// The rules that tie fields together, on the client as it would be stored.
fn check_client(c: &ClientRow) -> Result<(), Error> {
    // Introspection answers what a credential is worth; a client without a secret could
    // be anyone, so only a confidential client may ask.
    if c.public && c.introspect {
        return Err(Error::field("introspect", "is only for confidential clients (a public client has no secret)"));
    }
    // A client that signs nobody in (a gateway that only introspects) needs no redirect URI.
    if c.redirect_uris.is_empty() && !c.introspect {
        return Err(Error::field("redirect_uris", "must hold at least one URI"));
    }
    Ok(())
}

fn check_tenant(conn: &rusqlite::Connection, tenant: Option<TenantId>) -> Result<(), Error> {
    match tenant {
        Some(id) if tenants::get(conn, id)?.is_none() => Err(no_such_tenant()),
        _ => Ok(()),
    }
}

/// What the audit log keeps of a client: every setting, never the secret.
fn snapshot(c: &ClientRow) -> serde_json::Value {
    json!({
        "name": c.name, "public": c.public, "trusted": c.trusted, "introspect": c.introspect,
        "tenant_id": c.tenant_id, "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris, "id_token_alg": c.id_token_alg, "status": c.status,
    })
}

fn event<'a>(who: &'a Staff, action: Action, c: &ClientRow) -> Event<'a> {
    Event::new(who.actor(), who.origin(), action).target("oauth_client", c.id)
}

pub fn register(app: &App, who: &Staff, input: NewClient) -> Result<WithSecret, Error> {
    let now = app.clock.now();
    let client = ClientRow {
        id: ClientId::random(),
        name: clean_name("name", &input.name, true)?,
        public: input.public,
        trusted: input.trusted,
        introspect: input.introspect,
        tenant_id: input.tenant_id,
        redirect_uris: check_uris("redirect_uris", input.redirect_uris)?,
        post_logout_redirect_uris: check_uris("post_logout_redirect_uris", input.post_logout_redirect_uris)?,
        id_token_alg: input.id_token_alg.unwrap_or(SigningAlg::Rs256),
        status: ClientStatus::Active,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        secret_rotated_at: None,
    };
    check_client(&client)?;
    let secret = (!client.public).then(random_token);
    // No cache holds clients: client authentication reads the row every time.
    app.db.write_affecting(&[], |tx| {
        check_tenant(tx, client.tenant_id)?;
        oauth_clients::insert(tx, &client, secret.as_ref().map(Secret::digest).as_ref())?;
        event(who, Action::ClientRegistered, &client).after(snapshot(&client)).append(tx, now)?;
        Ok(())
    })?;
    Ok(WithSecret { client, secret })
}

/// Every client, newest first.
pub fn list_clients(app: &App, _who: &Staff, page: &Page) -> Result<(Vec<ClientRow>, Option<String>), Error> {
    let rows = app.db.read(|c| oauth_clients::list(c, page))?;
    Ok(page.finish(rows, ClientRow::cursor))
}

pub fn get_client(app: &App, _who: &Staff, id: ClientId) -> Result<ClientRow, Error> {
    app.db.read(|c| oauth_clients::get(c, id))?.ok_or(Error::NotFound)
}

pub fn update_client(app: &App, who: &Staff, id: ClientId, patch: ClientPatch) -> Result<ClientRow, Error> {
    let name = patch.name.map(|n| clean_name("name", &n, true)).transpose()?;
    let redirect_uris = patch.redirect_uris.map(|u| check_uris("redirect_uris", u)).transpose()?;
    let logout_uris =
        patch.post_logout_redirect_uris.map(|u| check_uris("post_logout_redirect_uris", u)).transpose()?;
    let now = app.clock.now();
    app.db.write_affecting(&[], |tx| {
        let mut client = oauth_clients::get(tx, id)?.ok_or(Error::NotFound)?;
        let before = snapshot(&client);
        client.name = name.unwrap_or(client.name);
        client.redirect_uris = redirect_uris.unwrap_or(client.redirect_uris);
        client.post_logout_redirect_uris = logout_uris.unwrap_or(client.post_logout_redirect_uris);
        client.trusted = patch.trusted.unwrap_or(client.trusted);
        client.introspect = patch.introspect.unwrap_or(client.introspect);
        client.tenant_id = patch.tenant_id.unwrap_or(client.tenant_id);
        client.id_token_alg = patch.id_token_alg.unwrap_or(client.id_token_alg);
        check_client(&client)?;
        let after = snapshot(&client);
        if before == after {
            return Ok(client); // nothing changes, so nothing is audited
        }
        check_tenant(tx, client.tenant_id)?;
        oauth_clients::update(tx, &client, now)?;
        client.updated_at = now;
        event(who, Action::ClientUpdated, &client).before(before).after(after).append(tx, now)?;
        Ok(client)
    })
}

/// Gives a confidential client a new secret: the old one fails from the next request on.
/// A public client has none to rotate (400).
pub fn rotate_secret(app: &App, who: &Staff, id: ClientId) -> Result<WithSecret, Error> {
    let now = app.clock.now();
    let secret = random_token();
    app.db.write_affecting(&[], move |tx| {
        let mut client = oauth_clients::get(tx, id)?.ok_or(Error::NotFound)?;
        if client.public || !oauth_clients::set_secret(tx, id, &secret.digest(), now)? {
            return Err(Error::invalid("A public client has no secret to rotate."));
        }
        client.secret_rotated_at = Some(now);
        client.updated_at = now;
        event(who, Action::ClientSecretRotated, &client).append(tx, now)?;
        Ok(WithSecret { client, secret: Some(secret) })
    })
}

/// Disables or enables a client. A disabled client fails client authentication, so it
/// can neither redeem codes, refresh, nor introspect; the reason is kept on the client
/// (shown to operators) and in the audit log.
pub fn change_client(
    app: &App,
    who: &Staff,
    id: ClientId,
    change: ClientChange,
    reason: &Reason,
) -> Result<ClientRow, Error> {
    let now = app.clock.now();
    app.db.write_affecting(&[], |tx| {
        let mut client = oauth_clients::get(tx, id)?.ok_or(Error::NotFound)?;
        let from = client.status;
        client.status = change.next(from).ok_or(Error::InvalidTransition)?;
        client.disabled_reason = (client.status == ClientStatus::Disabled).then(|| reason.as_str().to_owned());
        oauth_clients::update(tx, &client, now)?;
        client.updated_at = now;
        event(who, change.action(), &client)
            .reason(reason.as_str())
            .before(json!({ "status": from }))
            .after(json!({ "status": client.status }))
            .append(tx, now)?;
        Ok(client)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragments() {
        for good in [
            "https://app.example.test/callback",
            "https://app.example.test:8443/cb?x=1",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost:3000/auth",
        ] {
            assert_eq!(uri_problem(good), None, "{good}");
        }
        for bad in [
            "/callback",
            "app.example.test/cb",
            "http://app.example.test/cb",
            "http://127.0.0.2/cb",
            "http://localhost.evil.test/cb",
            "https://app.example.test/cb#frag",
            "https://app.example.test/cb#",
            "ftp://app.example.test/cb",
            "javascript:alert(1)",
            " https://app.example.test/cb",
            "",
        ] {
            assert!(uri_problem(bad).is_some(), "{bad:?} passed");
        }
        assert!(uri_problem(&format!("https://a.test/{}", "x".repeat(2000))).is_some());
    }

    #[test]
    fn lists_are_capped_and_repeats_dropped() {
        let many: Vec<String> = (0..11).map(|i| format!("https://a.test/{i}")).collect();
        assert!(check_uris("redirect_uris", many).is_err());
        let twice = vec!["https://a.test/cb".to_owned(), "https://a.test/cb".to_owned()];
        assert_eq!(check_uris("redirect_uris", twice).ok().map(|v| v.len()), Some(1));
    }

    #[test]
    fn only_the_two_changes_are_allowed() {
        use ClientStatus::{Active, Disabled};
        assert_eq!(ClientChange::Disable.next(Active), Some(Disabled));
        assert_eq!(ClientChange::Disable.next(Disabled), None);
        assert_eq!(ClientChange::Enable.next(Disabled), Some(Active));
        assert_eq!(ClientChange::Enable.next(Active), None);
    }
}
