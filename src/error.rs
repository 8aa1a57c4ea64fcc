//! The one error type: a variant per error code of API.md. `http::error` turns it into a
//! response; internal causes are logged there, never sent.
use std::fmt;

use crate::crypto::secret::Secret;
use crate::types::Timestamp;

#[derive(Debug)]
pub enum Error {
    /// 400: malformed JSON, wrong types, values out of range. `fields` names the culprits.
    InvalidRequest {
        message: String,
        fields: Vec<(&'static str, String)>,
    },
    WeakPassword(String),
    InvalidToken,
    ReasonRequired,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    /// 403 on a page: a form without our CSRF token, or posted from another origin.
    CsrfFailed,
    SignupDisabled,
    AccountDisabled,
    TenantSuspended,
    NoActiveMembership,
    SeatLimitReached,
    NotFound,
    MethodNotAllowed {
        allow: String,
    },
    EmailTaken,
    SlugTaken,
    AlreadyMember,
    NotInvited,
    AlreadyVerified,
    LastOwner,
    LastAdmin,
    InvalidTransition,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited {
        retry_after: u64,
    },
    /// 400: a second-factor code that is wrong, already used, or a spent recovery code.
    InvalidCode,
    /// 403 after a correct password: the second step is owed (the answer carries its token).
    MfaRequired(Box<MfaChallenge>),
    /// 403: a policy needs a second factor that this person has not enrolled (or would remove).
    MfaEnrolmentRequired,
    AlreadyEnrolled,
    NotPending,
    /// 400: a passkey registration refused (an unknown, spent or expired ceremony, or an
    /// answer that does not verify).
    InvalidCredential,
    /// 503: a dependency (the database, the hashing pool) cannot serve right now.
    Unavailable(String),
    /// 500: a bug or an I/O failure. The text is logged, never sent.
    Internal(String),
}

/// What `mfa_required` hands the client for the second step.
#[derive(Debug)]
pub struct MfaChallenge {
    pub token: Secret,
    /// The enrolled methods: "totp", "recovery_code", "passkey".
    pub methods: Vec<&'static str>,
    /// What `navigator.credentials.get()` takes, when the person has a passkey.
    pub passkey_options: Option<serde_json::Value>,
    pub expires_at: Timestamp,
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest { message: message.into(), fields: Vec::new() }
    }

    /// A 400 naming the one field at fault.
    pub fn field(name: &'static str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        Error::InvalidRequest { message: format!("{name} {problem}"), fields: vec![(name, problem)] }
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }

    /// Status and API.md code. Exhaustive on purpose: a new variant must be given both.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Error::InvalidRequest { .. } => (400, "invalid_request"),
            Error::WeakPassword(_) => (400, "weak_password"),
            Error::InvalidToken => (400, "invalid_token"),
            Error::ReasonRequired => (400, "reason_required"),
            Error::Unauthorized => (401, "unauthorized"),
            Error::InvalidCredentials => (401, "invalid_credentials"),
            Error::Forbidden => (403, "forbidden"),
            Error::CsrfFailed => (403, "csrf_failed"),
            Error::SignupDisabled => (403, "signup_disabled"),
            Error::AccountDisabled => (403, "account_disabled"),
            Error::TenantSuspended => (403, "tenant_suspended"),
            Error::NoActiveMembership => (403, "no_active_membership"),
            Error::SeatLimitReached => (403, "seat_limit_reached"),
            Error::NotFound => (404, "not_found"),
            Error::MethodNotAllowed { .. } => (405, "method_not_allowed"),
            Error::EmailTaken => (409, "email_taken"),
            Error::SlugTaken => (409, "slug_taken"),
            Error::AlreadyMember => (409, "already_member"),
            Error::NotInvited => (409, "not_invited"),
            Error::AlreadyVerified => (409, "already_verified"),
            Error::LastOwner => (409, "last_owner"),
            Error::LastAdmin => (409, "last_admin"),
            Error::InvalidTransition => (409, "invalid_transition"),
            Error::PayloadTooLarge => (413, "payload_too_large"),
            Error::UnsupportedMediaType => (415, "unsupported_media_type"),
            Error::RateLimited { .. } => (429, "rate_limited"),
            Error::InvalidCode => (400, "invalid_code"),
            Error::MfaRequired(_) => (403, "mfa_required"),
            Error::MfaEnrolmentRequired => (403, "mfa_enrolment_required"),
            Error::AlreadyEnrolled => (409, "already_enrolled"),
            Error::NotPending => (409, "not_pending"),
            Error::InvalidCredential => (400, "invalid_credential"),
            Error::Internal(_) => (500, "internal_error"),
            Error::Unavailable(_) => (503, "unavailable"),
        }
    }

    /// The human sentence sent to the client.
    pub fn message(&self) -> String {
        let text = match self {
            Error::InvalidRequest { message, .. } => return message.clone(),
            Error::WeakPassword(why) => return format!("The password is too weak: {why}."),
            Error::InvalidToken => "The link is invalid, used or expired.",
            Error::ReasonRequired => "A reason is required.",
            Error::Unauthorized => "Missing, invalid or expired credentials.",
            Error::InvalidCredentials => "The email or password is incorrect.",
            Error::Forbidden => "You are not allowed to do this.",
            Error::CsrfFailed => "The form expired or came from another site. Go back, reload the page and try again.",
            Error::SignupDisabled => "Sign-up is disabled on this server.",
            Error::AccountDisabled => "This account is disabled.",
            Error::TenantSuspended => "This tenant is suspended.",
            Error::NoActiveMembership => "This account has no active membership.",
            Error::SeatLimitReached => "The tenant has no free seat.",
            Error::NotFound => "Not found.",
            Error::MethodNotAllowed { .. } => "This method is not allowed on this path.",
            Error::EmailTaken => "This email address already has an account.",
            Error::SlugTaken => "This slug is already taken.",
            Error::AlreadyMember => "This person is already a member or invited.",
            Error::NotInvited => "This member has no pending invitation.",
            Error::AlreadyVerified => "The email address is already verified.",
            Error::LastOwner => "A tenant must keep at least one active owner.",
            Error::LastAdmin => "The last active operator cannot be disabled.",
            Error::InvalidTransition => "The object is not in a state that allows this.",
            Error::PayloadTooLarge => "The request body is larger than 64 KiB.",
            Error::UnsupportedMediaType => "Send the body as Content-Type: application/json.",
            Error::RateLimited { .. } => "Too many requests; try again later.",
            Error::InvalidCode => "The code is wrong or was already used.",
            Error::MfaRequired(_) => "The password is correct; now enter a code of your second factor.",
            Error::MfaEnrolmentRequired => "A second factor is required: enrol one first.",
            Error::AlreadyEnrolled => "An authenticator is already enrolled.",
            Error::NotPending => "There is no pending authenticator enrolment to confirm.",
            Error::InvalidCredential => "The passkey was not registered: start again, and answer within five minutes.",
            Error::Unavailable(_) => "The server is busy or its database is unavailable.",
            Error::Internal(_) => "Internal error.",
        };
        text.to_owned()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (status, code) = self.status_and_code();
        match self {
            Error::Internal(cause) | Error::Unavailable(cause) => write!(f, "{status} {code}: {cause}"),
            _ => write!(f, "{status} {code}: {}", self.message()),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Error::Unavailable(e.to_string())
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Unavailable(e.to_string())
    }
}

/// True when a write failed on a UNIQUE constraint: callers map it to their 409.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}
