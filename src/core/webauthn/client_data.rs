//! `clientDataJSON` (§5.8.1): what the browser says the ceremony was, for which challenge,
//! from which origin. The checks of §7.1 steps 7–10 and §7.2 steps 11–14.
use serde::Deserialize;

use super::{Refused, RelyingParty, decode};

/// The ceremony the client data must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// Checks the client data of a response to our `challenge`. A response made in a frame of
/// another site (`crossOrigin: true`) is refused: Keystead's pages never embed it.
pub fn check(json: &[u8], ceremony: Ceremony, challenge: &[u8], rp: &RelyingParty) -> Result<(), Refused> {
    let data: ClientData = serde_json::from_slice(json).map_err(|_| Refused("clientDataJSON is not client data"))?;
    if data.kind != ceremony.type_name() {
        return Err(Refused("wrong ceremony type"));
    }
    // The challenge is no secret (the options carried it): a plain comparison will do.
    if decode(&data.challenge)? != challenge {
        return Err(Refused("wrong challenge"));
    }
    if data.origin != rp.origin {
        return Err(Refused("wrong origin"));
    }
    if data.cross_origin == Some(true) {
        return Err(Refused("cross-origin"));
    }
    Ok(())
}
