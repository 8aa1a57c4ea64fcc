//! Audit events: one per state change, written in the change's own transaction.
//! Snapshots are built from plain fields here, so no secret can slip into them.
use rusqlite::Transaction;
use serde_json::Value;

use super::principal::{Actor, Origin, PortalUser, Staff};
use crate::app::App;
use crate::error::Error;
use crate::store::audit::{self, AuditEntry, AuditFilter, AuditRow};
use crate::store::page::Page;
use crate::types::{Role, TenantId, Timestamp};

/// What happened, as the `action` column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    TenantCreated,
    TenantUpdated,
    AccountCreated,
    MemberAdded,
    LoginSucceeded,
    LoginFailed,
    Logout,
    TenantSwitched,
    ProfileUpdated,
    PasswordChanged,
    PasswordRehashed,
    SessionRevoked,
    SessionsRevoked,
    KeyCreated,
    KeyRevoked,
    AdminCreated,
    AdminLoginSucceeded,
    AdminLoginFailed,
    AdminLogout,
    MemberInvited,
    MemberInviteResent,
    MemberRoleChanged,
    MemberRemoved,
    MemberActivated,
    PasswordResetRequested,
    PasswordReset,
    EmailVerificationRequested,
    EmailVerified,
    EmailChangeRequested,
    EmailChanged,
    AdminDisabled,
    TenantSuspended,
    TenantDeleted,
    TenantRestored,
    TenantSessionsRevoked,
    AccountDisabled,
    AccountEnabled,
    AccountDeleted,
    AccountRestored,
    SigningKeyRotated,
    MfaTotpEnrolmentStarted,
    MfaTotpEnabled,
    MfaTotpDisabled,
    MfaRecoveryCodesRegenerated,
    MfaPasskeyRegistrationStarted,
    MfaPasskeyAdded,
    MfaPasskeyRemoved,
    MfaPassed,
    MfaFailed,
    MfaThrottled,
    MfaReset,
    OAuthAuthorized,
    OAuthConsentGiven,
    OAuthCodeReplayed,
    OAuthRefreshReused,
    OAuthGrantRevoked,
    OAuthConsentRevoked,
    ClientRegistered,
    ClientUpdated,
    ClientSecretRotated,
    ClientDisabled,
    ClientEnabled,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::TenantCreated => "tenant.created",
            Action::TenantUpdated => "tenant.updated",
            Action::AccountCreated => "account.created",
            Action::MemberAdded => "member.added",
            Action::LoginSucceeded => "auth.login",
            Action::LoginFailed => "auth.login_failed",
            Action::Logout => "auth.logout",
            Action::TenantSwitched => "auth.tenant_switched",
            Action::ProfileUpdated => "account.profile_updated",
            Action::PasswordChanged => "account.password_changed",
            Action::PasswordRehashed => "account.password_rehashed",
            Action::SessionRevoked => "session.revoked",
            Action::SessionsRevoked => "session.revoked_others",
            Action::KeyCreated => "api_key.created",
            Action::KeyRevoked => "api_key.revoked",
            Action::AdminCreated => "admin.created",
            Action::AdminLoginSucceeded => "admin.login",
            Action::AdminLoginFailed => "admin.login_failed",
            Action::AdminLogout => "admin.logout",
            Action::MemberInvited => "member.invited",
            Action::MemberInviteResent => "member.invite_resent",
            Action::MemberRoleChanged => "member.role_changed",
            Action::MemberRemoved => "member.removed",
            Action::MemberActivated => "member.activated",
            Action::PasswordResetRequested => "password.reset_requested",
            Action::PasswordReset => "password.reset",
            Action::EmailVerificationRequested => "email.verification_requested",
            Action::EmailVerified => "email.verified",
            Action::EmailChangeRequested => "email.change_requested",
            Action::EmailChanged => "email.changed",
            Action::AdminDisabled => "admin.disabled",
            Action::TenantSuspended => "tenant.suspended",
            Action::TenantDeleted => "tenant.deleted",
            Action::TenantRestored => "tenant.restored",
            Action::TenantSessionsRevoked => "tenant.sessions_revoked",
            Action::AccountDisabled => "account.disabled",
            Action::AccountEnabled => "account.enabled",
            Action::AccountDeleted => "account.deleted",
            Action::AccountRestored => "account.restored",
            Action::SigningKeyRotated => "signing_key.rotated",
            Action::MfaTotpEnrolmentStarted => "mfa.totp_enrolment_started",
            Action::MfaTotpEnabled => "mfa.totp_enabled",
            Action::MfaTotpDisabled => "mfa.totp_disabled",
            Action::MfaRecoveryCodesRegenerated => "mfa.recovery_codes_regenerated",
            Action::MfaPasskeyRegistrationStarted => "mfa.passkey_registration_started",
            Action::MfaPasskeyAdded => "mfa.passkey_added",
            Action::MfaPasskeyRemoved => "mfa.passkey_removed",
            Action::MfaPassed => "auth.mfa_passed",
            Action::MfaFailed => "auth.mfa_failed",
            Action::MfaThrottled => "auth.mfa_throttled",
            Action::MfaReset => "mfa.reset",
            Action::OAuthAuthorized => "oauth.authorized",
            Action::OAuthConsentGiven => "oauth.consent_given",
            Action::OAuthCodeReplayed => "oauth.code_replayed",
            Action::OAuthRefreshReused => "oauth.refresh_reused",
            Action::OAuthGrantRevoked => "oauth.grant_revoked",
            Action::OAuthConsentRevoked => "oauth.consent_revoked",
            Action::ClientRegistered => "oauth_client.registered",
            Action::ClientUpdated => "oauth_client.updated",
            Action::ClientSecretRotated => "oauth_client.secret_rotated",
            Action::ClientDisabled => "oauth_client.disabled",
            Action::ClientEnabled => "oauth_client.enabled",
        }
    }
}

/// An event under construction: `Event::new(..).tenant(..).target(..).append(tx, now)`.
pub struct Event<'a> {
    actor: Actor,
    origin: Option<&'a Origin>,
    action: Action,
    tenant: Option<TenantId>,
    target: Option<(&'static str, String)>,
    reason: Option<&'a str>,
    before: Option<Value>,
    after: Option<Value>,
}

impl<'a> Event<'a> {
    pub fn new(actor: Actor, origin: Option<&'a Origin>, action: Action) -> Self {
        Self { actor, origin, action, tenant: None, target: None, reason: None, before: None, after: None }
    }

    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn before(mut self, snapshot: Value) -> Self {
        self.before = Some(snapshot);
        self
    }

    pub fn after(mut self, snapshot: Value) -> Self {
        self.after = Some(snapshot);
        self
    }

    pub fn append(self, tx: &Transaction<'_>, now: Timestamp) -> Result<(), Error> {
        let (target_type, target_id) = self.target.map_or((None, None), |(k, id)| (Some(k), Some(id)));
        audit::append(
            tx,
            &AuditEntry {
                at: now,
                actor_type: self.actor.kind(),
                actor_id: self.actor.id(),
                tenant_id: self.tenant,
                action: self.action.as_str(),
                target_type,
                target_id,
                ip: self.origin.map(|o| o.ip.as_str()),
                user_agent: self.origin.map(|o| o.user_agent.as_str()),
                reason: self.reason,
                before: self.before,
                after: self.after,
            },
        )
    }
}

/// The whole server's events for an operator, newest first.
pub fn list_events(
    app: &App,
    _who: &Staff,
    filter: &AuditFilter,
    page: &Page,
) -> Result<(Vec<AuditRow>, Option<String>), Error> {
    let rows = app.db.read(|c| audit::list(c, filter, page))?;
    Ok(page.finish(rows, AuditRow::cursor))
}

/// Events about an account as a whole, not about any tenant: written without a tenant,
/// and left out of a tenant's view (rows written before they lost their tenant too).
pub const ACCOUNT_LEVEL: &[&str] = &[
    Action::TenantSwitched.as_str(),
    Action::ProfileUpdated.as_str(),
    Action::PasswordChanged.as_str(),
    Action::EmailChangeRequested.as_str(),
    Action::EmailVerificationRequested.as_str(),
];

/// A tenant's own events, for its owners and admins. Always scoped to the session's
/// tenant: a `tenant_id` filter naming another tenant matches nothing, and account-level
/// events never show.
pub fn list_tenant_events(
    app: &App,
    who: &PortalUser,
    filter: AuditFilter,
    page: &Page,
) -> Result<(Vec<AuditRow>, Option<String>), Error> {
    let tenant = who.require(Role::Admin)?.to_string();
    if filter.tenant_id.as_ref().is_some_and(|asked| *asked != tenant) {
        return Ok((Vec::new(), None));
    }
    let filter = AuditFilter { tenant_id: Some(tenant), hidden_actions: ACCOUNT_LEVEL, ..filter };
    let rows = app.db.read(|c| audit::list(c, &filter, page))?;
    Ok(page.finish(rows, AuditRow::cursor))
}
