//! Keystead: a single-binary portal and authentication server for small multi-tenant
//! products. A request travels server → http → api (JSON) or web (HTML) → core → store;
//! see DESIGN.md.
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod crypto;
pub mod error;
pub mod http;
pub mod limit;
pub mod mail;
pub mod maintenance;
pub mod server;
pub mod store;
pub mod types;
pub mod web;
