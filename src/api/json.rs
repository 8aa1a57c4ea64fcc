//! The objects of API.md, as they go out. Built from store rows; nothing secret is a field
//! here except `ApiKey::key`, set only by `ApiKey::created`, and a client's secret, only in
//! `with_secret`.
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::core::Member;
use crate::core::admin_tenants::CreatedTenant;
use crate::core::admin_users::AccountView;
use crate::core::keys::CreatedKey;
use crate::core::members::Invited;
use crate::core::oidc::clients::WithSecret;
use crate::store::admins::AdminRow;
use crate::store::audit::AuditRow;
use crate::store::keys::KeyRow;
use crate::store::memberships::MembershipRow;
use crate::store::oauth_clients::ClientRow;
use crate::store::outbox::OutboxRow;
use crate::store::passkeys::Listed;
use crate::store::sessions::SessionRow;
use crate::store::tenants::TenantRow;
use crate::types::{
    AccountStatus, AdminId, AdminStatus, ClientId, ClientStatus, Email, EventId, KeyId, MembershipStatus, PasskeyId,
    Role, SessionId, SigningAlg, TenantId, TenantStatus, Timestamp, UserId,
};

#[derive(Serialize)]
pub struct User<'a> {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: &'a Email,
    /// Null while invited and the inviter typed no name (`Member::seen`).
    pub name: Option<&'a str>,
    pub email_verified: Option<bool>,
    pub role: Role,
    pub status: &'static str,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl<'a> User<'a> {
    pub fn of(m: &'a Member) -> Self {
        let seen = m.seen();
        Self {
            id: m.account.id,
            tenant_id: m.membership.tenant_id,
            email: &m.account.email,
            name: seen.name,
            email_verified: seen.email_verified,
            role: m.membership.role,
            status: m.status(),
            created_at: m.membership.created_at,
            last_login_at: seen.last_login_at,
        }
    }
}

#[derive(Serialize)]
pub struct Tenant<'a> {
    pub id: TenantId,
    pub slug: &'a str,
    pub name: &'a str,
    pub status: TenantStatus,
    pub plan: &'a str,
    pub max_seats: Option<i64>,
    pub has_provider_key: bool,
    pub provider_key_hint: Option<&'a str>,
    pub created_at: Timestamp,
    pub require_mfa: bool,
}

impl<'a> Tenant<'a> {
    pub fn of(t: &'a TenantRow) -> Self {
        Self {
            id: t.id,
            slug: &t.slug,
            name: &t.name,
            status: t.status,
            plan: &t.plan,
            max_seats: t.max_seats,
            has_provider_key: t.has_provider_key,
            provider_key_hint: t.provider_key_hint.as_deref(),
            created_at: t.created_at,
            require_mfa: t.require_mfa,
        }
    }
}

#[derive(Serialize)]
pub struct TenantBrief<'a> {
    pub id: TenantId,
    pub slug: &'a str,
    pub name: &'a str,
    pub status: TenantStatus,
}

#[derive(Serialize)]
pub struct Membership<'a> {
    pub tenant: TenantBrief<'a>,
    pub role: Role,
    pub status: MembershipStatus,
    pub created_at: Timestamp,
}

/// A passkey in its owner's list (`GET /v1/me/mfa`, `/v1/me/mfa/passkeys`).
#[derive(Serialize)]
pub struct Passkey<'a> {
    pub id: PasskeyId,
    pub name: &'a str,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl<'a> Passkey<'a> {
    pub fn of(p: &'a Listed) -> Self {
        Self { id: p.id, name: &p.name, created_at: p.created_at, last_used_at: p.last_used_at }
    }

    pub fn list(all: &'a [Listed]) -> Vec<Self> {
        all.iter().map(Self::of).collect()
    }
}

pub fn memberships(list: &[(MembershipRow, TenantRow)]) -> Vec<Membership<'_>> {
    list.iter()
        .map(|(m, t)| Membership {
            tenant: TenantBrief { id: t.id, slug: &t.slug, name: &t.name, status: t.status },
            role: m.role,
            status: m.status,
            created_at: m.created_at,
        })
        .collect()
}

#[derive(Serialize)]
pub struct ApiKey<'a> {
    pub id: KeyId,
    pub tenant_id: TenantId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a RawValue,
    pub meta: Option<&'a RawValue>,
    pub created_at: Timestamp,
    pub created_by: Option<UserId>,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
}

impl<'a> ApiKey<'a> {
    pub fn of(k: &'a KeyRow) -> Self {
        Self {
            id: k.id,
            tenant_id: k.tenant_id,
            name: &k.name,
            prefix: &k.prefix,
            scopes: &k.scopes,
            meta: k.meta.as_deref(),
            created_at: k.created_at,
            created_by: k.created_by,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            key: None,
        }
    }

    /// The one place the raw key goes out: in the response that created it.
    pub fn created(c: &'a CreatedKey) -> Self {
        Self { key: Some(c.key.expose()), ..Self::of(&c.row) }
    }
}

#[derive(Serialize)]
pub struct Session<'a> {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub current: bool,
}

impl<'a> Session<'a> {
    pub fn of(s: &'a SessionRow, current: SessionId) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: &s.ip,
            user_agent: &s.user_agent,
            current: s.id == current,
        }
    }
}

#[derive(Serialize)]
pub struct Admin<'a> {
    pub id: AdminId,
    pub email: &'a Email,
    pub name: &'a str,
    pub status: AdminStatus,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl<'a> Admin<'a> {
    pub fn of(a: &'a AdminRow) -> Self {
        Self {
            id: a.id,
            email: &a.email,
            name: &a.name,
            status: a.status,
            created_at: a.created_at,
            last_login_at: a.last_login_at,
        }
    }
}

/// An account across its tenants, as operators see it (`/v1/admin/users`).
#[derive(Serialize)]
pub struct Account<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub name: &'a str,
    pub status: AccountStatus,
    pub email_verified: bool,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
    pub memberships: Vec<Membership<'a>>,
}

impl<'a> Account<'a> {
    pub fn of(v: &'a AccountView) -> Self {
        let a = &v.account;
        Self {
            id: a.id,
            email: &a.email,
            name: &a.name,
            status: a.status,
            email_verified: a.email_verified_at.is_some(),
            created_at: a.created_at,
            last_login_at: a.last_login_at,
            memberships: memberships(&v.memberships),
        }
    }
}

/// `audit_event`: `before`/`after` go out as stored (JSON objects built without secrets).
#[derive(Serialize)]
pub struct AuditEvent<'a> {
    pub id: EventId,
    pub at: Timestamp,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub before: Option<&'a RawValue>,
    pub after: Option<&'a RawValue>,
}

impl<'a> AuditEvent<'a> {
    pub fn of(e: &'a AuditRow) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor_type: &e.actor_type,
            actor_id: e.actor_id.as_deref(),
            tenant_id: e.tenant_id.as_deref(),
            action: &e.action,
            target_type: e.target_type.as_deref(),
            target_id: e.target_id.as_deref(),
            ip: e.ip.as_deref(),
            user_agent: e.user_agent.as_deref(),
            reason: e.reason.as_deref(),
            before: e.before.as_deref(),
            after: e.after.as_deref(),
        }
    }
}

/// A message of the outbox, without its body.
#[derive(Serialize)]
pub struct OutboxMessage<'a> {
    pub id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub kind: &'a str,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub attempts: i64,
    pub last_error: Option<&'a str>,
}

impl<'a> OutboxMessage<'a> {
    pub fn of(m: &'a OutboxRow) -> Self {
        Self {
            id: &m.id,
            to: &m.to_addr,
            subject: &m.subject,
            kind: &m.kind,
            created_at: m.created_at,
            sent_at: m.sent_at,
            attempts: m.attempts,
            last_error: m.last_error.as_deref(),
        }
    }
}

/// An OpenID Connect client; `id` is its `client_id`. Its secret is never a field here:
/// it goes out once, beside the client, in `with_secret`.
#[derive(Serialize)]
pub struct Client<'a> {
    pub id: ClientId,
    pub name: &'a str,
    pub public: bool,
    pub trusted: bool,
    pub introspect: bool,
    pub tenant_id: Option<TenantId>,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub id_token_alg: SigningAlg,
    pub status: ClientStatus,
    pub disabled_reason: Option<&'a str>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub secret_rotated_at: Option<Timestamp>,
}

impl<'a> Client<'a> {
    pub fn of(c: &'a ClientRow) -> Self {
        Self {
            id: c.id,
            name: &c.name,
            public: c.public,
            trusted: c.trusted,
            introspect: c.introspect,
            tenant_id: c.tenant_id,
            redirect_uris: &c.redirect_uris,
            post_logout_redirect_uris: &c.post_logout_redirect_uris,
            id_token_alg: c.id_token_alg,
            status: c.status,
            disabled_reason: c.disabled_reason.as_deref(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            secret_rotated_at: c.secret_rotated_at,
        }
    }
}

/// `{client, client_secret?}`: the one place a client's secret goes out, in the answer
/// that made it (registration, rotation); a public client has none.
pub fn with_secret(out: &WithSecret) -> serde_json::Value {
    let mut v = json!({ "client": Client::of(&out.client) });
    if let Some(secret) = &out.secret {
        v["client_secret"] = json!(secret.expose());
    }
    v
}

/// A page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `invite_email` and `activation_url` of an invitation response: the link is the one core
/// decided to hand over (`core::members::Invited::activation_url`).
#[derive(Serialize)]
pub struct InviteEmail {
    pub sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

pub fn invite_email(out: &Invited) -> (InviteEmail, Option<&str>) {
    let reason = (!out.sent).then_some("smtp_not_configured");
    (InviteEmail { sent: out.sent, reason }, out.activation_url.as_ref().map(|l| l.expose()))
}

/// The body of an invitation answer: `{user?, invite_email, activation_url?}` (the
/// portal's and the operator's invitations answer alike; a resent one has no `user`).
pub fn invited(out: &Invited, with_user: bool) -> serde_json::Value {
    let (invite_email, activation_url) = invite_email(out);
    let mut v = json!({ "invite_email": invite_email });
    if with_user {
        v["user"] = json!(User::of(&out.member));
    }
    if let Some(url) = activation_url {
        v["activation_url"] = json!(url);
    }
    v
}

/// `POST /v1/admin/tenants` (and `keystead tenants create --json`):
/// `{tenant, owner, invite_email, activation_url?}`.
pub fn created_tenant(out: &CreatedTenant) -> serde_json::Value {
    let mut v = invited(&out.owner, false);
    v["tenant"] = json!(Tenant::of(&out.tenant));
    v["owner"] = json!(User::of(&out.owner.member));
    v
}

impl<T> List<T> {
    /// A page of rows rendered with `f` (one of the `of` constructors above).
    pub fn of<'a, R>(rows: &'a [R], next_cursor: Option<String>, f: impl Fn(&'a R) -> T) -> Self {
        Self { items: rows.iter().map(f).collect(), next_cursor }
    }
}
