//! Who is acting: an authenticated portal user, an operator, the system (command line) or
//! an anonymous client, and where the request came from.
use crate::error::Error;
use crate::types::{AdminId, Role, SessionId, TenantId, UserId};

/// Where a request came from: recorded on sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

/// A live portal session, acting in its current tenant with its member's current role.
#[derive(Debug, Clone)]
pub struct PortalUser {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub role: Role,
    pub origin: Origin,
}

impl PortalUser {
    /// The tenant to act in, when the member's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<TenantId, Error> {
        if self.role.at_least(role) { Ok(self.tenant_id) } else { Err(Error::Forbidden) }
    }

    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }
}

/// A live operator (admin realm) session.
#[derive(Debug, Clone)]
pub struct Operator {
    pub session_id: SessionId,
    pub admin_id: AdminId,
    pub origin: Origin,
}

/// Who runs an operator-realm operation: an operator's session (the API), or the system
/// (the command line on the server's machine). Both doors call the same core operations.
#[derive(Debug, Clone)]
pub enum Staff {
    Operator(Operator),
    System,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        match self {
            Staff::Operator(o) => Actor::Admin(o.admin_id),
            Staff::System => Actor::System,
        }
    }

    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Staff::Operator(o) => Some(&o.origin),
            Staff::System => None,
        }
    }

    /// Staff acting on a tenant's people, with an owner's powers there.
    pub fn in_tenant(&self, tenant: TenantId) -> TenantActor<'_> {
        match self {
            Staff::Operator(o) => o.in_tenant(tenant),
            Staff::System => TenantActor { tenant, role: Role::Owner, actor: Actor::System, user: None, origin: None },
        }
    }
}

/// Who an audit event names as its actor.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User(UserId),
    Admin(AdminId),
    System,
    Anonymous,
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Admin(_) => "admin",
            Actor::System => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    pub fn id(self) -> Option<String> {
        match self {
            Actor::User(id) => Some(id.to_string()),
            Actor::Admin(id) => Some(id.to_string()),
            Actor::System | Actor::Anonymous => None,
        }
    }
}

/// Someone acting on the people of one tenant: a member of it, with its role there, or
/// staff (an operator, or the command line), who may do what an owner may. The member
/// operations (`core::members`) take this rather than a `PortalUser`, so every door calls
/// the same code: the portal passes `who.in_tenant()`, the operator API and the command
/// line `staff.in_tenant(tenant_id)`.
#[derive(Debug, Clone)]
pub struct TenantActor<'a> {
    pub tenant: TenantId,
    pub role: Role,
    pub actor: Actor,
    /// The acting member's own account (None for an operator): nobody removes themself.
    pub user: Option<UserId>,
    /// Where the request came from; None for the command line.
    pub origin: Option<&'a Origin>,
}

impl TenantActor<'_> {
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.role.at_least(role) { Ok(()) } else { Err(Error::Forbidden) }
    }
}

impl PortalUser {
    /// This session as an actor on its current tenant's people.
    pub fn in_tenant(&self) -> TenantActor<'_> {
        TenantActor {
            tenant: self.tenant_id,
            role: self.role,
            actor: self.actor(),
            user: Some(self.user_id),
            origin: Some(&self.origin),
        }
    }
}

impl Operator {
    /// An operator acting on a tenant's people, with an owner's powers there.
    pub fn in_tenant(&self, tenant: TenantId) -> TenantActor<'_> {
        TenantActor {
            tenant,
            role: Role::Owner,
            actor: Actor::Admin(self.admin_id),
            user: None,
            origin: Some(&self.origin),
        }
    }
}
