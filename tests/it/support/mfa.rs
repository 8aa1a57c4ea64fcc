//! Second-factor helpers: codes computed by `totp-rs` (not the server's implementation),
//! from the secret the enrolment answer showed, at the server's own clock.
use serde_json::json;
use totp_rs::{Algorithm, TOTP};

use super::{PASSWORD, Res, TestServer};

/// An authenticator app, as a test holds one after enrolling.
pub struct Authenticator {
    totp: TOTP,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

impl Authenticator {
    pub fn new(secret_b32: &str) -> Self {
        let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned()).to_bytes().expect("base32 secret");
        let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).expect("totp parameters");
        Self { totp, secret: secret_b32.to_owned(), recovery_codes: Vec::new() }
    }

    /// The code the app shows now, by the server's clock.
    pub fn code(&self, s: &TestServer) -> String {
        self.totp.generate(s.app.clock.now().unix() as u64)
    }
}

impl TestServer {
    /// Enrols TOTP through `{prefix}/totp` and `…/confirm` (`/v1/me/mfa` or
    /// `/v1/admin/me/mfa`), then moves the clock to the next step so that the next code
    /// is a fresh one.
    pub fn enrol_totp(&self, prefix: &str, token: &str) -> Authenticator {
        let res = self.post(&format!("{prefix}/totp"), Some(token), json!({ "password": PASSWORD }));
        assert_eq!(res.status, 200, "start enrolment: {}", res.text);
        let mut app = Authenticator::new(&res.str("/secret"));
        let res = self.post(&format!("{prefix}/totp/confirm"), Some(token), json!({ "code": app.code(self) }));
        assert_eq!(res.status, 200, "confirm enrolment: {}", res.text);
        // None when the person holds codes already (of another factor).
        app.recovery_codes = res.body["recovery_codes"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|c| c.as_str().expect("code").to_owned())
            .collect();
        self.app.clock.advance(30);
        app
    }

    /// The `mfa_token` of a `403 mfa_required` answer (asserting the shape).
    pub fn mfa_token(res: &Res) -> String {
        super::assert_error(res, 403, "mfa_required");
        res.str("/error/mfa_token")
    }
}
