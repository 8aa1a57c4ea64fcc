//! `/healthz` and the OpenAPI document.
use serde_json::json;

use crate::app::App;
use crate::error::Error;
use crate::http::{Req, Response};

/// The OpenAPI 3.1 document of every route, kept in the repository.
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn healthz(app: &App, _req: &mut Req) -> Result<Response, Error> {
    app.db.ping()?;
    Ok(Response::json(200, &json!({ "status": "ok" })))
}

pub fn openapi(_app: &App, _req: &mut Req) -> Result<Response, Error> {
    Ok(Response::json_text(OPENAPI))
}

#[cfg(test)]
mod tests {
    use crate::http::router::ROUTES;

    /// The document parses, and each operator-realm route of the table has its entry.
    // Widen to every route once the entries for the portal routes are merged in.
    #[test]
    fn openapi_documents_the_operator_routes() -> Result<(), serde_json::Error> {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI)?;
        assert_eq!(doc["openapi"], "3.1.0");
        let operator =
            |p: &str| (p.starts_with("/v1/admin/") && !p.starts_with("/v1/admin/auth/")) || p == "/v1/tenant/audit";
        for r in ROUTES.iter().filter(|r| operator(r.path)) {
            let method = r.method.as_str().to_ascii_lowercase();
            assert!(
                doc["paths"][r.path][&method].is_object(),
                "{} {} is not in openapi.json",
                r.method.as_str(),
                r.path
            );
        }
        Ok(())
    }
}
