//! The JSON API: one small handler per route of API.md. Each authenticates, parses its
//! input, calls one core operation and renders the result with `json`.
pub mod access_tokens;
pub mod admin_admins;
pub mod admin_auth;
pub mod admin_clients;
pub mod admin_tenants;
pub mod admin_users;
pub mod audit;
pub mod auth;
pub mod email;
pub mod forward_auth;
pub mod health;
pub mod introspect;
pub mod json;
pub mod keys;
pub mod me;
pub mod members;
pub mod mfa;
pub mod oidc;
pub mod oversight;
pub mod recovery;
pub mod sessions;
pub mod tenants;
pub mod verify;
