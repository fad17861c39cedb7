//! Address space: the telescope prefix and the pool of plausible source addresses.

use std::collections::HashSet;
use std::fmt;

use rand::Rng;

/// An IPv4 prefix such as the telescope `198.18.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    base: u32,
    len: u8,
}

impl Prefix {
    /// A prefix from an address and length; host bits of `addr` are cleared.
    pub(crate) fn new(addr: [u8; 4], len: u8) -> Option<Self> {
        if len > 32 {
            return None;
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Some(Self {
            base: u32::from_be_bytes(addr) & mask,
            len,
        })
    }

    pub(crate) fn base(self) -> u32 {
        self.base
    }

    pub(crate) fn len(self) -> u8 {
        self.len
    }

    /// Number of addresses, as u64 so that /0 fits.
    pub(crate) fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }

    pub(crate) fn contains(self, addr: u32) -> bool {
        u64::from(addr.wrapping_sub(self.base)) < self.size()
    }

    /// A uniformly random address inside the prefix.
    pub(crate) fn random<R: Rng>(self, rng: &mut R) -> u32 {
        self.base
            .wrapping_add((rng.random::<u64>() % self.size()) as u32)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", dotted(self.base), self.len)
    }
}

/// Dotted-quad text of an address.
pub(crate) fn dotted(addr: u32) -> String {
    std::net::Ipv4Addr::from(addr).to_string()
}

/// Ranges that never source Internet traffic (RFC 6890 special-purpose blocks and multicast).
const RESERVED: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGN)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link local
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0200, 24), // 192.0.2.0/24 documentation
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking (the default telescope)
    (0xe000_0000, 3),  // 224.0.0.0/3 multicast, reserved, broadcast
];

/// Whether `addr` is a public unicast address that could source Internet traffic.
pub(crate) fn is_public_unicast(addr: u32) -> bool {
    RESERVED
        .iter()
        .all(|&(base, len)| (addr ^ base) >> (32 - u32::from(len)) != 0)
}

/// The /24s the simulator treats as known research scanners (think Censys, Shadowserver or
/// a university measurement group). They are arbitrary public-looking blocks, not the real
/// networks of any project; only ZMap research sources are placed in them, so a classifier
/// given this list as its "research scanners" file can label those sources without
/// mislabelling anything else.
pub(crate) const RESEARCH_NETWORKS: [(u32, u8); 3] = [
    (0x2513_dd00, 24), // 37.19.221.0/24
    (0x6794_4c00, 24), // 103.148.76.0/24
    (0xc257_2d00, 24), // 194.87.45.0/24
];

/// Whether `addr` lies in one of [`RESEARCH_NETWORKS`].
pub(crate) fn is_research(addr: u32) -> bool {
    RESEARCH_NETWORKS
        .iter()
        .any(|&(base, len)| (addr ^ base) >> (32 - u32::from(len)) == 0)
}

/// Hands out distinct public unicast source addresses, never inside the telescope, so that
/// each simulated host has one address and the ground truth is unambiguous. Addresses in
/// [`RESEARCH_NETWORKS`] are only handed out by [`AddressPool::draw_research`].
pub(crate) struct AddressPool {
    telescope: Prefix,
    // Membership only (never iterated), so its random hashing cannot affect the output.
    used: HashSet<u32>,
}

impl AddressPool {
    pub(crate) fn new(telescope: Prefix) -> Self {
        Self {
            telescope,
            used: HashSet::new(),
        }
    }

    /// A fresh address no other source has.
    pub(crate) fn draw<R: Rng>(&mut self, rng: &mut R) -> u32 {
        loop {
            let a: u32 = rng.random();
            if is_public_unicast(a)
                && !self.telescope.contains(a)
                && !is_research(a)
                && self.used.insert(a)
            {
                return a;
            }
        }
    }

    /// A fresh address inside a research network, or an ordinary one once those are nearly
    /// used up (a few hundred research sources), so that a huge scale cannot loop forever.
    pub(crate) fn draw_research<R: Rng>(&mut self, rng: &mut R) -> u32 {
        for _ in 0..32 {
            let (base, _) = RESEARCH_NETWORKS[rng.random_range(0..RESEARCH_NETWORKS.len())];
            let a = base | rng.random_range(1..255);
            if !self.telescope.contains(a) && self.used.insert(a) {
                return a;
            }
        }
        self.draw(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_masks_and_contains() {
        let p = Prefix::new([198, 18, 7, 9], 16).unwrap();
        assert_eq!(p.to_string(), "198.18.0.0/16");
        assert!(p.contains(0xc612_ffff));
        assert!(!p.contains(0xc613_0000));
        assert_eq!(p.size(), 65_536);
        assert!(Prefix::new([0; 4], 33).is_none());
        assert!(Prefix::new([0; 4], 0).unwrap().contains(u32::MAX));
    }

    #[test]
    fn reserved_ranges_are_rejected() {
        for a in [
            [10, 1, 2, 3],
            [127, 0, 0, 1],
            [169, 254, 1, 1],
            [172, 31, 0, 1],
            [192, 168, 1, 1],
            [224, 0, 0, 1],
            [255, 255, 255, 255],
            [0, 1, 2, 3],
        ] {
            assert!(!is_public_unicast(u32::from_be_bytes(a)), "{a:?}");
        }
        assert!(is_research(u32::from_be_bytes([103, 148, 76, 9])));
        assert!(!is_research(u32::from_be_bytes([103, 148, 77, 9])));
        for a in [
            [8, 8, 8, 8],
            [172, 32, 0, 1],
            [61, 1, 2, 3],
            [223, 255, 0, 1],
        ] {
            assert!(is_public_unicast(u32::from_be_bytes(a)), "{a:?}");
        }
    }
}
