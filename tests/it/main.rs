//! Integration tests: the real server over real HTTP, one test binary.
mod support;

mod smoke;
