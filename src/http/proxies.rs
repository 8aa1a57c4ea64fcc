//! Our own reverse proxies (`--trusted-proxies`), and the client a request comes from
//! behind them (`--trust-proxy`).
use std::net::IpAddr;
use std::str::FromStr;

/// Addresses and CIDR blocks whose `X-Forwarded-For` we believe. Loopback by default: a
/// proxy on the same machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    addr: IpAddr,
    bits: u32,
}

impl Block {
    fn contains(self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.bits) == masked(u32::from(ip).into(), 32, self.bits)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(net.into(), 128, self.bits) == masked(ip.into(), 128, self.bits)
            }
            _ => false,
        }
    }
}

/// The first `bits` of a `width`-bit address.
fn masked(addr: u128, width: u32, bits: u32) -> u128 {
    if bits == 0 { 0 } else { addr >> (width - bits) }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self(vec![
            Block { addr: IpAddr::from([127, 0, 0, 0]), bits: 8 },
            Block { addr: IpAddr::from(std::net::Ipv6Addr::LOCALHOST), bits: 128 },
        ])
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses (`10.0.0.5`, `::1`) and CIDR blocks (`10.0.0.0/8`).
    fn from_str(s: &str) -> Result<Self, String> {
        let block = |item: &str| -> Option<Block> {
            let (addr, bits) = item.split_once('/').unwrap_or((item, ""));
            let addr = addr.parse::<IpAddr>().ok()?.to_canonical();
            let width = if addr.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() { width } else { bits.parse().ok().filter(|b| *b <= width)? };
            Some(Block { addr, bits })
        };
        s.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| block(item).ok_or_else(|| format!("{item} is not an address or a CIDR block")))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// As `--trusted-proxies` takes it (what `--help` shows as the default).
impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = |b: &Block| if b.addr.is_ipv4() { 32 } else { 128 };
        let items: Vec<String> = self
            .0
            .iter()
            .map(|b| if b.bits == width(b) { b.addr.to_string() } else { format!("{}/{}", b.addr, b.bits) })
            .collect();
        f.write_str(&items.join(","))
    }
}

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// The client of a request from `peer` with these `X-Forwarded-For` lines (in the order
    /// received). Each proxy appends the address it was reached from, so the list is read
    /// from the right: the first hop that is not one of our proxies is the client; what
    /// stands left of it is the client's own say. A peer that is not one of our proxies is
    /// the client itself, whatever it forwards; a hop that is not an address ends the walk
    /// at the last proxy reached.
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        let mut hops = forwarded.iter().flat_map(|line| line.split(',')).collect::<Vec<_>>();
        while self.contains(client) {
            match hops.pop().and_then(|hop| hop.trim().parse::<IpAddr>().ok()) {
                Some(hop) => client = hop.to_canonical(),
                None => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_rightmost_hop_that_is_not_a_proxy_is_the_client() {
        let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().expect("a list");
        let peer = ip("127.0.0.1");
        assert_eq!(proxies.client(peer, &["6.6.6.6, 1.2.3.4, 10.0.0.7"]), ip("1.2.3.4"));
        // Lines are joined in order: the last line holds the nearest hops.
        assert_eq!(proxies.client(peer, &["6.6.6.6", "1.2.3.4, 10.1.1.1"]), ip("1.2.3.4"));
        assert_eq!(proxies.client(peer, &[]), peer, "no header: the proxy itself");
        assert_eq!(proxies.client(peer, &["10.0.0.2"]), ip("10.0.0.2"), "only proxies: the farthest");
        assert_eq!(proxies.client(peer, &["1.2.3.4, junk"]), peer, "a hop that is no address ends the walk");
        assert_eq!(proxies.client(ip("8.8.8.8"), &["1.2.3.4"]), ip("8.8.8.8"), "a stranger's header is ignored");
        assert_eq!(proxies.client(peer, &["::ffff:1.2.3.4"]), ip("1.2.3.4"));
    }

    #[test]
    fn lists_parse_addresses_and_blocks_and_refuse_the_rest() {
        let proxies: TrustedProxies = "192.168.0.0/16,fd00::/8,::1".parse().expect("a list");
        assert!(proxies.contains(ip("192.168.4.4")) && !proxies.contains(ip("192.169.0.1")));
        assert!(proxies.contains(ip("fd12::1")) && proxies.contains(ip("::1")) && !proxies.contains(ip("fe80::1")));
        assert!(
            TrustedProxies::default().contains(ip("127.8.0.1")) && !TrustedProxies::default().contains(ip("10.0.0.1"))
        );
        assert!("0.0.0.0/0".parse::<TrustedProxies>().expect("all").contains(ip("1.1.1.1")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "10.0.0.1/x"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }
}
