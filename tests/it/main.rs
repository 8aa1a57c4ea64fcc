//! Integration tests: the real server over real HTTP, one test binary.
// A failed expectation in a test should panic with its message: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

mod admin_admins;
mod admin_tenants;
mod admin_users;
mod audit;
mod cli;
mod smoke;
