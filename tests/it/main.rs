//! Integration tests: the real server over real HTTP, one test binary.
// A failed expectation in a test is a failed test: the no-unwrap rule is for the product.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

mod access_tokens;
mod account;
mod account_fixtures;
mod admin_admins;
mod admin_auth;
mod admin_tenants;
mod admin_users;
mod audit;
mod binary;
mod cache;
mod cli;
mod connections;
mod conventions;
mod keys;
mod login;
mod mail;
mod members;
mod prune;
mod sessions;
mod signup;
mod smoke;
mod tenant_settings;
mod tokens;
mod verify;
mod web_admin;
mod web_admin_admins;
mod web_admin_oversight;
mod web_admin_tenants;
mod web_admin_users;
mod web_app;
mod web_forms;
mod web_links;
mod web_pages;
