//! The provider's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414): clients learn
//! every endpoint and choice here, so this lists only what is served.
use serde_json::{Value, json};

use crate::app::App;
use crate::types::SigningAlg;

pub fn metadata(app: &App) -> Value {
    let base = app.config.base_url.trim_end_matches('/');
    let at = |path: &str| format!("{base}{path}");
    json!({
        "issuer": app.config.base_url,
        "authorization_endpoint": at("/oauth/authorize"),
        "token_endpoint": at("/v1/oauth/token"),
        "userinfo_endpoint": at("/v1/oauth/userinfo"),
        "jwks_uri": at("/.well-known/jwks.json"),
        "revocation_endpoint": at("/v1/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "end_session_endpoint": at("/oauth/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SigningAlg::ALL,
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "azp", "sid",
                             "email", "email_verified", "name", "tid", "role"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
