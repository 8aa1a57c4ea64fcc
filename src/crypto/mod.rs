//! Secrets, their digests, API key format and password hashing.
pub mod aead;
pub mod api_key;
pub mod guessable;
pub mod jwt;
pub mod password;
pub mod secret;
pub mod totp;
