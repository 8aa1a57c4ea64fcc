//! Forward authentication for the reverse proxies in front of a team's other applications
//! (Caddy `forward_auth`, nginx `auth_request`, Traefik `ForwardAuth`): who holds this
//! session cookie or bearer credential, and may they pass what the proxy demands. Also the
//! rule for where a browser may be sent back after signing in (`return_to`), which the
//! login page applies to its `next`.
use super::principal::{Origin, PortalUser};
use super::verify::{self, KeyVerdict};
use super::{Profile, access_tokens, account, auth, mfa, sessions};
use crate::app::App;
use crate::crypto::api_key;
use crate::error::Error;
use crate::types::{Email, KeyId, Person, Role, TenantId, UserId};

/// What the proxy's request carries.
pub enum Credential<'a> {
    /// The portal session cookie of a browser.
    Cookie(&'a str),
    /// `Authorization: Bearer`: a session token, an access token or an API key.
    Bearer(&'a str),
}

/// What the proxy demands (`?tenant=&role=&scope=`).
#[derive(Default)]
pub struct Demand {
    /// A tenant's slug or id: an active membership there (or a key of that tenant).
    pub tenant: Option<String>,
    /// At least this role in that tenant (the session's current one without `tenant`).
    pub role: Option<Role>,
    /// An API key carrying this scope; people have no scopes, so they do not pass.
    pub scope: Option<String>,
}

/// Who passes.
pub enum Identity {
    Person { user: UserId, email: Email, tenant: TenantId, role: Role },
    Key { key: KeyId, tenant: TenantId, scopes: Vec<String> },
}

pub enum Verdict {
    Pass(Identity),
    /// No live credential: the proxy sends the browser to sign in (401 or 302).
    SignIn,
    /// Signed in, but not what the proxy demands (403).
    Refused,
}

pub fn check(
    app: &App,
    origin: &Origin,
    credential: Option<Credential<'_>>,
    demand: &Demand,
) -> Result<Verdict, Error> {
    let now = app.clock.now();
    let person = match credential {
        None => return Ok(Verdict::SignIn),
        Some(Credential::Bearer(raw)) if api_key::is_well_formed(&app.config.key_prefix, raw) => {
            return key(app, origin, raw, demand);
        }
        Some(Credential::Bearer(raw)) if raw.split('.').count() == 3 => match access_tokens::verify(app, raw, now)? {
            Some(b) => signed_in(
                app,
                PortalUser {
                    session_id: b.session,
                    user_id: b.user,
                    tenant_id: b.tenant,
                    role: Role::Member,
                    origin: origin.clone(),
                },
            )?,
            None => None,
        },
        Some(Credential::Cookie(token) | Credential::Bearer(token)) => {
            match sessions::authenticate_portal(app, token, origin.clone()) {
                Ok(who) => signed_in(app, who)?,
                Err(Error::Unauthorized) => None,
                Err(e) => return Err(e),
            }
        }
    };
    let Some(profile) = person else { return Ok(Verdict::SignIn) };
    let Some((tenant, role)) = admitted(&profile, demand) else { return Ok(Verdict::Refused) };
    let user = profile.member.account.id;
    // The tenant's second-factor policy holds here as on its portal routes: a member
    // without a factor does not pass for a tenant that requires one.
    match mfa::policy::gate(app, Person::User(user), Some(tenant)) {
        Ok(()) => {}
        Err(Error::MfaEnrolmentRequired) => return Ok(Verdict::Refused),
        Err(e) => return Err(e),
    }
    Ok(Verdict::Pass(Identity::Person { user, email: profile.member.account.email.clone(), tenant, role }))
}

/// The profile of a person still allowed in the tenant the credential acts in (an access
/// token outlives a removal by minutes at most: it is not taken at its word).
pub(crate) fn signed_in(app: &App, who: PortalUser) -> Result<Option<std::sync::Arc<Profile>>, Error> {
    match account::profile(app, &who) {
        Ok(p) if p.member.is_active() && auth::can_act_in(&p.member.membership, &p.tenant) => Ok(Some(p)),
        Ok(_) | Err(Error::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The tenant and role a person passes with, if they meet the demand.
fn admitted(profile: &Profile, demand: &Demand) -> Option<(TenantId, Role)> {
    if demand.scope.is_some() {
        return None;
    }
    let (tenant, role) = match &demand.tenant {
        None => (profile.tenant.id, profile.member.membership.role),
        Some(wanted) => profile
            .memberships
            .iter()
            .find(|(m, t)| (t.slug == *wanted || t.id.to_string() == *wanted) && auth::can_act_in(m, t))
            .map(|(m, t)| (t.id, m.role))?,
    };
    demand.role.is_none_or(|r| role.at_least(r)).then_some((tenant, role))
}

fn key(app: &App, origin: &Origin, raw: &str, demand: &Demand) -> Result<Verdict, Error> {
    let KeyVerdict::Valid(k) = verify::verify_key(app, &origin.ip, raw)? else { return Ok(Verdict::SignIn) };
    let scopes: Vec<String> = serde_json::from_str(k.scopes.get()).map_err(Error::internal)?;
    let tenant_ok = demand.tenant.as_ref().is_none_or(|t| *t == k.tenant_slug || *t == k.tenant_id.to_string());
    let scope_ok = demand.scope.as_ref().is_none_or(|s| scopes.contains(s));
    // A key acts for its tenant, not as a member: it has no role to meet a role demand.
    Ok(if tenant_ok && scope_ok && demand.role.is_none() {
        Verdict::Pass(Identity::Key { key: k.id, tenant: k.tenant_id, scopes })
    } else {
        Verdict::Refused
    })
}

/// Where a browser goes after signing in: `next` when it is a path on this server or an
/// http(s) URL whose host is the base URL's or one of `--allowed-redirect-hosts`, else
/// `/app`. Nothing else is followed: no open redirect.
pub fn return_to(app: &App, next: Option<&str>) -> String {
    const HOME: &str = "/app";
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else { return HOME.to_owned() };
    // A path of ours; "//host" and "/\host" are other hosts to a browser.
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        return next.to_owned();
    }
    let Ok(url) = url::Url::parse(next) else { return HOME.to_owned() };
    let allowed = matches!(url.scheme(), "https" | "http")
        && url.username().is_empty()
        && url.password().is_none()
        && url.host_str().is_some_and(|host| {
            let ours = url::Url::parse(&app.config.base_url).ok();
            ours.as_ref().and_then(url::Url::host_str) == Some(host)
                || app.config.allowed_redirect_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
        });
    if allowed { url.into() } else { HOME.to_owned() }
}
