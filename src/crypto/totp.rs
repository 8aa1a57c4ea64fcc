//! TOTP (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits, 30-second steps, one step of
//! clock drift either side. Only the arithmetic lives here; which step was last accepted
//! (so that no code works twice) is the store's, under one conditional UPDATE.
use data_encoding::BASE32_NOPAD;
use ring::hmac;

use super::secret::{Secret, random_bytes};

pub const DIGITS: u32 = 6;
pub const STEP_SECS: i64 = 30;
/// 160 bits, the HMAC-SHA1 block of RFC 4226's recommendation.
pub const SECRET_LEN: usize = 20;

/// A new random TOTP secret.
pub fn new_secret() -> Vec<u8> {
    random_bytes()[..SECRET_LEN].to_vec()
}

/// The secret as authenticator apps take it (RFC 4648 base32, no padding).
pub fn base32(secret: &[u8]) -> Secret {
    Secret::new(BASE32_NOPAD.encode(secret))
}

/// The time step that `unix` seconds fall in.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// RFC 4226 HOTP: HMAC-SHA1 of the counter, dynamically truncated to `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // Security: SHA-1 is what RFC 6238 and every authenticator app use; as an HMAC it has
    // no known weakness that matters here.
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    word % 10u32.pow(digits)
}

/// The code of one step, zero-padded as apps show it.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!("{:0width$}", hotp(secret, counter, DIGITS), width = DIGITS as usize)
}

/// The step (current, previous or next) whose code `code` is, compared in constant time;
/// None when it is none of them or not six digits.
pub fn matching_step(secret: &[u8], code: &str, unix: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix);
    // The latest matching step wins, so that accepting it shuts out every earlier one.
    [now + 1, now, now - 1]
        .into_iter()
        .find(|&step| step >= 0 && same(code_at_step(secret, step).as_bytes(), code.as_bytes()))
}

/// Equality that takes as long for a near miss as for a far one.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI of Google's Key Uri Format, which every authenticator app reads.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &Secret) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let issuer = utf8_percent_encode(issuer, NON_ALPHANUMERIC).to_string();
    let account = utf8_percent_encode(account, NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret_b32.expose()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, the SHA-1 rows (8 digits, the seed "12345678901234567890").
    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let seed = b"12345678901234567890";
        let vectors = [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for (time, expected) in vectors {
            assert_eq!(hotp(seed, step_at(time) as u64, 8), expected, "T = {time}");
        }
        assert_eq!(code_at_step(seed, step_at(59)), "287082");
        assert_eq!(code_at_step(seed, step_at(1_111_111_109)), "081804", "codes keep their leading zeros");
    }

    #[test]
    fn a_code_matches_one_step_either_side_and_no_further() {
        let seed = b"12345678901234567890";
        let t = 1_111_111_109; // step 37037036
        let code = code_at_step(seed, step_at(t));
        assert_eq!(matching_step(seed, &code, t), Some(step_at(t)));
        assert_eq!(matching_step(seed, &code, t + 30), Some(step_at(t)), "the previous step");
        assert_eq!(matching_step(seed, &code, t - 30), Some(step_at(t)), "the next step");
        assert_eq!(matching_step(seed, &code, t + 60), None);
        assert_eq!(matching_step(seed, &code, t - 60), None);
        assert_eq!(matching_step(seed, "12345", t), None);
        assert_eq!(matching_step(seed, "abcdef", t), None);
    }

    #[test]
    fn the_uri_names_the_secret_and_the_parameters() {
        let secret = base32(b"12345678901234567890");
        assert_eq!(secret.expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = otpauth_uri("Keystead", "ann@example.test", &secret);
        assert_eq!(
            uri,
            "otpauth://totp/Keystead:ann%40example%2Etest?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Keystead&algorithm=SHA1&digits=6&period=30"
        );
    }
}
