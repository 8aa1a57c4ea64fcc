//! Signing with the published keys (placeholder until the RS256/ES256 keys land: every
//! algorithm signs with the EdDSA access-token key for now).
use serde::Serialize;

use super::access_tokens;
use crate::app::App;
use crate::error::Error;
use crate::store::signing_keys;
use crate::types::{SigningAlg, Timestamp};

pub fn sign(app: &App, _alg: SigningAlg, claims: &impl Serialize) -> Result<String, Error> {
    access_tokens::current_signer(&app.db, &app.master_key, &app.signers, app.clock.now())?.sign(claims)
}

pub fn verify(app: &App, token: &str, now: Timestamp) -> Option<serde_json::Value> {
    let keys = app.db.read(|c| signing_keys::published(c, now)).ok()?;
    keys.iter().find_map(|k| crate::crypto::jwt::verify(token, &k.public_key))
}
