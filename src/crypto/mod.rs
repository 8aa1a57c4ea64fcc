//! Secrets, their digests, API key format and password hashing.
pub mod api_key;
pub mod password;
pub mod secret;
