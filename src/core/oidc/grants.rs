//! Grants: what a client holds once it redeemed a code. A grant mints the tokens of the
//! token endpoint (an access token, an ID token and, with `offline_access`, a refresh
//! token) and revoking it ends all of them: the access tokens at userinfo and
//! introspection, the refresh chain at once.
use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::{Scope, id_token};
use crate::app::App;
use crate::core::mfa::policy;
use crate::core::signing;
use crate::crypto::secret::{Secret, random_token};
use crate::error::Error;
use crate::store::accounts::AccountRow;
use crate::store::oauth_clients::ClientRow;
use crate::store::oauth_codes::CodeRow;
use crate::store::oauth_grants::GrantRow;
use crate::store::{accounts, oauth_grants, oauth_refresh_tokens};
use crate::types::{ClientId, GrantId, Person, Role, SigningAlg, TenantId, Timestamp, UserId};

/// How long an access token of a client lives: as the portal's, since neither can be
/// recalled from a service that checks it offline.
pub const ACCESS_LIFETIME_SECS: i64 = crate::core::access_tokens::LIFETIME_SECS;
// A retired signing key stays published this long after it stops signing.
const _: () = assert!(ACCESS_LIFETIME_SECS <= signing::MAX_TOKEN_LIFETIME_SECS);
/// How long a grant's refresh chain lasts from its sign-in, however often it is used:
/// after that the person signs in again.
pub const GRANT_LIFETIME_SECS: i64 = 30 * 86_400;

/// The token endpoint's answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: Option<Secret>,
    pub scope: String,
}

/// The live grant `id` and its member's role now (`store::oauth_grants::find_live`), unless
/// the tenant's second-factor policy shuts the member out: a grant goes no further than
/// the person's own session would (`/v1/verify/session`, forward authentication).
pub fn find_live(app: &App, conn: &Connection, id: GrantId, now: Timestamp) -> Result<Option<(GrantRow, Role)>, Error> {
    let Some((grant, role)) = oauth_grants::find_live(conn, id, now)? else { return Ok(None) };
    match policy::gate(app, Person::User(grant.user_id), Some(grant.tenant_id)) {
        Ok(()) => Ok(Some((grant, role))),
        Err(Error::MfaEnrolmentRequired) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Opens the grant of a code's first redemption.
pub fn open(tx: &Transaction<'_>, id: GrantId, code: &CodeRow, now: Timestamp) -> Result<GrantRow, Error> {
    let grant = GrantRow {
        id,
        client_id: code.client_id,
        user_id: code.user_id,
        tenant_id: code.tenant_id,
        session_id: code.session_id,
        scope: code.scope.clone(),
        auth_time: code.auth_time,
        amr: code.amr.clone(),
        created_at: now,
        expires_at: code.auth_time.plus_secs(GRANT_LIFETIME_SECS),
    };
    oauth_grants::insert(tx, &grant)?;
    Ok(grant)
}

/// The access token of a client: a JWT for us (userinfo, introspection) naming its grant,
/// so that revoking the grant ends it. Its `aud` is the client, so the product's services,
/// which take `aud` = the token audience, do not accept it as a portal access token.
#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    aud: ClientId,
    sub: UserId,
    client_id: ClientId,
    scope: &'a str,
    tid: TenantId,
    role: Role,
    gid: GrantId,
    jti: String,
    iat: i64,
    exp: i64,
}

/// What the tokens of a live grant will say, gathered in the transaction that issues
/// them (the refresh token is stored there); `sign` turns it into `Tokens` after that
/// transaction commits, since signing may make a missing key in a write of its own.
pub struct Issued {
    pub grant: GrantRow,
    /// What the tokens are for: the grant's scope, or less when a refresh narrows it.
    scope: Scope,
    /// The member's role now.
    pub role: Role,
    account: AccountRow,
    refresh_token: Option<Secret>,
    nonce: Option<String>,
}

/// Issues the tokens of a live grant for `scope`: a refresh token only when the grant has
/// `offline_access` (OIDC Core §11), whatever a refresh narrowed, since the refresh token
/// keeps the grant's scope (RFC 6749 §6); `nonce` only for the ID token of a code.
pub fn issue(
    tx: &Transaction<'_>,
    grant: GrantRow,
    scope: Scope,
    role: Role,
    nonce: Option<String>,
    now: Timestamp,
) -> Result<Issued, Error> {
    let account = accounts::get(tx, grant.user_id)?.ok_or_else(|| Error::internal("a live grant has no account"))?;
    let offline = Scope::parse(&grant.scope).has("offline_access");
    let refresh_token = if offline { Some(new_refresh_token(tx, grant.id, now)?) } else { None };
    Ok(Issued { grant, scope, role, account, refresh_token, nonce })
}

/// Signs what `issue` gathered: the access token (EdDSA, for us) and the ID token (the
/// client's algorithm).
pub fn sign(app: &App, client: &ClientRow, issued: Issued, now: Timestamp) -> Result<Tokens, Error> {
    let Issued { grant, scope, role, account, refresh_token, nonce } = issued;
    let scope_text = scope.to_string();
    let access = AccessClaims {
        iss: &app.config.base_url,
        aud: client.id,
        sub: grant.user_id,
        client_id: client.id,
        scope: &scope_text,
        tid: grant.tenant_id,
        role,
        gid: grant.id,
        jti: random_token().expose()[..22].to_owned(),
        iat: now.unix(),
        exp: now.unix() + ACCESS_LIFETIME_SECS,
    };
    let id_token = id_token::sign(app, client, &grant, &account, role, &scope, nonce.as_deref(), now)?;
    Ok(Tokens {
        access_token: signing::sign(app, SigningAlg::EdDsa, &access)?,
        expires_in: ACCESS_LIFETIME_SECS,
        id_token,
        refresh_token,
        scope: scope_text,
    })
}

/// A new refresh token of the grant, stored as its hash.
pub fn new_refresh_token(tx: &Transaction<'_>, grant: GrantId, now: Timestamp) -> Result<Secret, Error> {
    let token = random_token();
    oauth_refresh_tokens::insert(tx, &token.digest(), grant, now)?;
    Ok(token)
}

/// A client's live access token, as userinfo and introspection read it.
pub struct ClientAccess {
    pub grant: GrantRow,
    /// The member's role now.
    pub role: Role,
    /// The token's own scope: a refresh may have narrowed it below the grant's.
    pub scope: Scope,
    pub iat: i64,
    pub exp: i64,
}

/// The live grant behind a client's access token (a JWT of ours with `gid`); None for
/// anything else, or once the grant is revoked.
pub fn by_access_token(app: &App, token: &str) -> Result<Option<ClientAccess>, Error> {
    #[derive(serde::Deserialize)]
    struct Checked {
        iss: String,
        gid: String,
        scope: String,
        iat: i64,
        exp: i64,
    }
    let now = app.clock.now();
    let Some(claims) = signing::verify(app, token, now)? else { return Ok(None) };
    let Ok(c) = serde_json::from_value::<Checked>(claims) else { return Ok(None) };
    if c.iss != app.config.base_url || now.unix() >= c.exp {
        return Ok(None);
    }
    let Ok(gid) = c.gid.parse() else { return Ok(None) };
    let live = app.db.read(|conn| find_live(app, conn, gid, now))?;
    Ok(live.map(|(grant, role)| ClientAccess { grant, role, scope: Scope::parse(&c.scope), iat: c.iat, exp: c.exp }))
}
