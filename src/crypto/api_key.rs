//! The API key format of API.md: `<prefix><43 base62 chars of 256 random bits><6 base62
//! chars of CRC-32 over what precedes>`. The checksum lets a typo (or a scanner's false
//! positive) be rejected before any database lookup.
use super::secret::{Secret, random_bytes};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 43;
const CHECK_LEN: usize = 6;

/// A new key with the given prefix.
pub fn generate(prefix: &str) -> Secret {
    let mut key = String::with_capacity(prefix.len() + RANDOM_LEN + CHECK_LEN);
    key.push_str(prefix);
    key.push_str(&base62(&random_bytes(), RANDOM_LEN));
    let crc = crc32fast::hash(key.as_bytes());
    key.push_str(&base62(&crc.to_be_bytes(), CHECK_LEN));
    Secret::new(key)
}

/// Whether `key` has the prefix, the length, the alphabet and a matching checksum.
pub fn is_well_formed(prefix: &str, key: &str) -> bool {
    let Some(rest) = key.strip_prefix(prefix) else { return false };
    if rest.len() != RANDOM_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, check) = key.split_at(key.len() - CHECK_LEN);
    base62(&crc32fast::hash(body.as_bytes()).to_be_bytes(), CHECK_LEN) == check
}

/// The regular expression a secret scanner can use for keys with this prefix.
pub fn pattern(prefix: &str) -> String {
    format!("{prefix}[0-9A-Za-z]{{{}}}", RANDOM_LEN + CHECK_LEN)
}

/// Big-endian bytes as a base62 number, most significant digit first, zero-padded to `width`.
fn base62(bytes: &[u8], width: usize) -> String {
    let mut number = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while digits.len() < width {
        // Long division of `number` by 62; the remainder is the next digit.
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            remainder = acc % 62;
        }
        digits.push(ALPHABET[remainder as usize]);
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_is_big_endian_and_padded() {
        assert_eq!(base62(&[0, 0, 0, 61], 6), "00000z");
        assert_eq!(base62(&[0, 0, 0, 62], 6), "000010");
        assert_eq!(base62(&[0xff; 4], 6), "4gfFC3"); // 4294967295
        assert_eq!(base62(&[0xff; 32], 43).len(), 43); // 2^256 - 1 fits in 43 digits
    }

    #[test]
    fn generated_keys_are_well_formed() {
        let key = generate("ksk_");
        assert_eq!(key.expose().len(), 4 + 43 + 6);
        assert!(is_well_formed("ksk_", key.expose()));
        assert!(!is_well_formed("xyz_", key.expose()));
    }

    #[test]
    fn a_single_typo_breaks_the_checksum() {
        let key = generate("ksk_");
        let raw = key.expose();
        let i = 10;
        let swapped = if &raw[i..=i] == "a" { "b" } else { "a" };
        let typo = format!("{}{}{}", &raw[..i], swapped, &raw[i + 1..]);
        assert!(!is_well_formed("ksk_", &typo));
        assert!(!is_well_formed("ksk_", &raw[..raw.len() - 1]));
        assert!(!is_well_formed("ksk_", &format!("{raw}0")));
    }

    #[test]
    fn pattern_names_the_length() {
        assert_eq!(pattern("ksk_"), "ksk_[0-9A-Za-z]{49}");
    }
}
