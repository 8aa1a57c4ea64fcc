//! `/v1/verify/*`: what the product's backend asks about a key or a session token.
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::app::App;
use crate::core::verify::{self, KeyVerdict};
use crate::error::Error;
use crate::http::{Req, Response, body};
use crate::types::{KeyId, Role, SessionId, TenantId, Timestamp, UserId};

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

#[derive(Serialize)]
struct ValidKey<'a> {
    valid: bool,
    key_id: KeyId,
    tenant_id: TenantId,
    tenant_slug: &'a str,
    scopes: &'a RawValue,
    meta: Option<&'a RawValue>,
    expires_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct Invalid {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

pub fn key(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: KeyBody = body::json(req)?;
    Ok(match verify::verify_key(app, &req.ip, &b.key)? {
        KeyVerdict::Valid(k) => Response::json(
            200,
            &ValidKey {
                valid: true,
                key_id: k.id,
                tenant_id: k.tenant_id,
                tenant_slug: &k.tenant_slug,
                scopes: &k.scopes,
                meta: k.meta.as_deref(),
                expires_at: k.expires_at,
            },
        ),
        KeyVerdict::Invalid(code) => Response::json(200, &Invalid { valid: false, code: Some(code) }),
    })
}

#[derive(Deserialize)]
struct SessionBody {
    token: String,
}

#[derive(Serialize)]
struct ValidSession {
    valid: bool,
    session_id: SessionId,
    user_id: UserId,
    tenant_id: TenantId,
    role: Role,
    expires_at: Timestamp,
}

pub fn session(app: &App, req: &mut Req) -> Result<Response, Error> {
    let b: SessionBody = body::json(req)?;
    Ok(match verify::verify_session(app, &req.ip, &b.token)? {
        Some(s) => Response::json(
            200,
            &ValidSession {
                valid: true,
                session_id: s.id,
                user_id: s.user_id,
                tenant_id: s.tenant_id,
                role: s.role,
                expires_at: s.expires_at,
            },
        ),
        None => Response::json(200, &Invalid { valid: false, code: None }),
    })
}
