//! Integration tests: the real server over real HTTP, one test binary.
// A failed expectation in a test is a panic with a message, which is what tests want.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

mod mail;
mod members;
mod smoke;
mod tokens;
