//! Keystead: a single-binary portal and authentication server for small multi-tenant
//! products. A request travels server → http → api (JSON) or web (HTML) → core → store;
//! see DESIGN.md.
pub mod api;
pub mod app;
pub mod background;
pub mod brand;
pub mod cli;
pub mod config;
pub mod core;
pub mod crypto;
pub mod error;
pub mod html;
pub mod http;
pub mod limit;
pub mod logging;
pub mod mail;
pub mod maintenance;
pub mod metrics;
pub mod server;
pub mod store;
pub mod tls;
pub mod types;
pub mod web;

/// What `keystead --version` prints after the name: the release and the commit built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("BUILT_FROM_COMMIT"), ")");
