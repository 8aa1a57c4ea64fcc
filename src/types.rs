//! Ids, checked values and statuses. Parsed at the edge, stored as text or integers.
use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Serialize, Serializer};

use crate::error::Error;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        // An id that does not parse names no object: 404, as an unknown one would.
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                uuid::Uuid::try_parse(s).map(Self).map_err(|_| Error::NotFound)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.to_string()))
            }
        }

        impl FromSql for $name {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                uuid::Uuid::try_parse(v.as_str()?).map(Self).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

id_type!(TenantId);
id_type!(
    /// An account (`portal_users`): the same id in every tenant it belongs to.
    UserId
);
id_type!(KeyId);
id_type!(SessionId);
id_type!(AdminId);
id_type!(EventId);
id_type!(PasskeyId);
id_type!(
    /// An OpenID Connect client: its public `client_id`.
    ClientId
);
id_type!(
    /// What one redeemed authorization code gave a client (`oauth_grants`).
    GrantId
);
id_type!(
    /// A passkey registration between its options and the browser's answer.
    CeremonyId
);

/// Unix seconds, UTC. Shown as RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    }

    /// Parses an RFC 3339 timestamp from a request field.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, Error> {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(|t| Self(t.unix_timestamp()))
            .map_err(|_| Error::field(field, "must be an RFC 3339 timestamp"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for Timestamp {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        v.as_i64().map(Self)
    }
}

/// A trimmed, lower-cased, plausibly deliverable email address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Email(String);

/// A character a reader cannot see or that reorders what they see (API.md: Unicode
/// categories Cc control, Cf format (bidi controls such as U+202E, zero-width), Co private
/// use, Cn unassigned): names and emails holding one are refused.
pub fn is_invisible(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    matches!(get_general_category(c), G::Control | G::Format | G::PrivateUse | G::Unassigned)
}

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let email = raw.trim().to_lowercase();
        let bad = || Error::field(field, "must be a valid address");
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let plausible = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || is_invisible(c) || "<>()[],;:\\\"".contains(c));
        if plausible { Ok(Self(email)) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl ToSql for Email {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for Email {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(Self(v.as_str()?.to_owned()))
    }
}

/// Why an operator (or the command line) changed something: required on every lifecycle
/// change, trimmed, at most 500 characters. Missing or blank is `reason_required`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: Option<&str>) -> Result<Self, Error> {
        let text = raw.map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return Err(Error::ReasonRequired);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(Error::field("reason", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A string enum stored and shown as its snake_case text.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(format!(
                        "unknown value {s:?}; expected one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                v.as_str()?.parse().map_err(|e: Error| FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

text_enum!(
    /// A member's role in one tenant.
    Role { Owner => "owner", Admin => "admin", Member => "member" }
);

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
        }
    }

    /// Whether this role has at least the powers of `other`.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }
}

text_enum!(TenantStatus { Active => "active", Suspended => "suspended", Deleted => "deleted" });
text_enum!(
    /// The status of one membership (account × tenant).
    MembershipStatus { Invited => "invited", Active => "active", Removed => "removed", Disabled => "disabled" }
);
text_enum!(
    /// The status of an account, across all its tenants.
    AccountStatus { Active => "active", Disabled => "disabled", Deleted => "deleted" }
);
text_enum!(AdminStatus { Active => "active", Disabled => "disabled" });
text_enum!(Realm { Portal => "portal", Admin => "admin" });
text_enum!(
    /// Whether operators must enrol a second factor (`--operator-mfa`).
    MfaPolicy { Required => "required", Optional => "optional" }
);
text_enum!(
    /// Who may create a tenant by signing up (`--signup`).
    SignupMode { Open => "open", Invite => "invite", Closed => "closed" }
);
text_enum!(ClientStatus { Active => "active", Disabled => "disabled" });
text_enum!(
    /// How an ID token is signed: RS256 unless the client asks for another.
    SigningAlg { Rs256 => "RS256", Es256 => "ES256", EdDsa => "EdDSA" }
);
text_enum!(KeyStatus { Active => "active", Revoked => "revoked", Expired => "expired" });
text_enum!(
    /// What a single-use token (an emailed link) is for.
    TokenKind { Activation => "activation", Reset => "reset", VerifyEmail => "verify_email", ChangeEmail => "change_email" }
);

/// Whose second factors: a portal account or an operator (`realm` and `owner_id` columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Person {
    User(UserId),
    Admin(AdminId),
}

impl Person {
    pub fn realm(self) -> Realm {
        match self {
            Person::User(_) => Realm::Portal,
            Person::Admin(_) => Realm::Admin,
        }
    }

    pub fn id(self) -> String {
        match self {
            Person::User(id) => id.to_string(),
            Person::Admin(id) => id.to_string(),
        }
    }

    /// The person from its columns.
    pub fn from_columns(realm: Realm, id: &str) -> Result<Self, Error> {
        let bad = |_| Error::internal("a stored owner id is not an id");
        Ok(match realm {
            Realm::Portal => Person::User(id.parse().map_err(bad)?),
            Realm::Admin => Person::Admin(id.parse().map_err(bad)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(Email::parse("email", "  Ann@Example.TEST ").map(|e| e.0).ok(), Some("ann@example.test".into()));
        for bad in ["", "ann", "ann@", "@example.test", "ann@example", "a b@example.test", "ann@@example.test"] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ids_that_do_not_parse_are_not_found() {
        assert!(matches!("nope".parse::<TenantId>(), Err(Error::NotFound)));
        let id = TenantId::random();
        assert_eq!(id.to_string().parse::<TenantId>().ok(), Some(id));
    }

    #[test]
    fn roles_rank() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(!Role::Member.at_least(Role::Admin));
        assert!("bogus".parse::<Role>().is_err());
    }

    #[test]
    fn reasons_are_required_and_trimmed() {
        assert!(matches!(Reason::parse(None), Err(Error::ReasonRequired)));
        assert!(matches!(Reason::parse(Some(" \t ")), Err(Error::ReasonRequired)));
        assert!(matches!(Reason::parse(Some(&"x".repeat(501))), Err(Error::InvalidRequest { .. })));
        assert_eq!(Reason::parse(Some(" unpaid ")).ok().map(|r| r.as_str().to_owned()), Some("unpaid".into()));
    }

    #[test]
    fn timestamps_round_trip_rfc3339() {
        let t = Timestamp::parse("at", "2026-11-22T10:00:00Z").ok();
        assert_eq!(t.map(Timestamp::rfc3339), Some("2026-11-22T10:00:00Z".into()));
        assert!(Timestamp::parse("at", "yesterday").is_err());
    }
}
