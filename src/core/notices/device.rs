//! What a sign-in's device and network are, coarsely: the browser family and OS from the
//! User-Agent ("Firefox on Linux"), and the client's network (IPv4 /24, IPv6 /48). Coarse
//! on purpose: a browser update or a new address from the same provider is not a new
//! device, and nothing finer is remembered.
use std::net::IpAddr;

use crate::core::principal::Origin;
use crate::crypto::secret::TokenHash;
use crate::types::UserId;

pub struct Device {
    /// "Firefox on Linux", "curl", "an unknown client".
    pub family: String,
    /// "203.0.113.0/24", "2001:db8:1::/48", or the client text itself when it is no address.
    pub network: String,
}

impl Device {
    pub fn of(origin: &Origin) -> Self {
        Self { family: family(&origin.user_agent), network: network(&origin.ip) }
    }

    /// What `known_devices` keeps of it for this account: a SHA-256, so the table holds
    /// no addresses (the account's id in it keeps two accounts' rows from matching).
    pub fn fingerprint(&self, user: UserId) -> TokenHash {
        TokenHash::of(&format!("{user}\n{}\n{}", self.family, self.network))
    }
}

/// The browser (or client program) and the OS, from the most specific token to the least:
/// Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
fn family(ua: &str) -> String {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
        ("FreeBSD", "FreeBSD"),
    ];
    let browser = BROWSERS.iter().find(|(token, _)| ua.contains(token)).map(|(_, name)| (*name).to_owned());
    // Not a browser: the program's name (`curl/8.5` → "curl"), letters and digits only.
    let browser = browser.or_else(|| {
        let product: String =
            ua.split('/').next().unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).take(32).collect();
        (!product.is_empty()).then_some(product)
    });
    let system = SYSTEMS.iter().find(|(token, _)| ua.contains(token)).map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b,
        (None, Some(s)) => format!("a browser on {s}"),
        (None, None) => "an unknown client".to_owned(),
    }
}

/// The network of a client address: its /24 (IPv4) or /48 (IPv6, one site's prefix).
fn network(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => format!("{}/24", std::net::Ipv4Addr::from(u32::from(v4) & 0xFFFF_FF00)),
        Ok(IpAddr::V6(v6)) => format!("{}/48", std::net::Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 48))),
        Err(_) => ip.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_coarse() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                "Safari on macOS",
            ),
            ("curl/8.5.0", "curl"),
            ("", "an unknown client"),
            ("<script>/1", "script"),
        ];
        for (ua, want) in cases {
            assert_eq!(family(ua), want, "{ua}");
        }
    }

    #[test]
    fn networks_are_prefixes() {
        assert_eq!(network("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network("::ffff:203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network("2001:db8:1:2:3::9"), "2001:db8:1::/48");
        assert_eq!(network("unknown"), "unknown");
    }

    #[test]
    fn one_network_one_family_one_fingerprint_per_account() {
        let user = UserId::random();
        let at = |ip: &str, ua: &str| Device::of(&Origin { ip: ip.into(), user_agent: ua.into() }).fingerprint(user);
        assert_eq!(at("198.51.100.1", "curl/8"), at("198.51.100.200", "curl/7"));
        assert_ne!(at("198.51.100.1", "curl/8"), at("198.51.101.1", "curl/8"));
        assert_ne!(at("198.51.100.1", "curl/8"), at("198.51.100.1", "Firefox/128 (X11; Linux)"));
        let other = Device::of(&Origin { ip: "198.51.100.1".into(), user_agent: "curl/8".into() });
        assert_ne!(other.fingerprint(UserId::random()), at("198.51.100.1", "curl/8"));
    }
}
