//! Address sets from CIDR lists, such as the networks of known research scanners, looked up
//! by binary search over merged ranges (no allocation per lookup).

use std::net::IpAddr;

/// A set of address ranges, IPv4 stored as IPv4-mapped IPv6.
#[derive(Clone, Debug, Default)]
pub struct Networks(Vec<(u128, u128)>);

fn mapped(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl Networks {
    /// Parse one CIDR per line (`192.0.2.0/24`, `2001:db8::/32`, or a bare address); blank
    /// lines and `#` comments are skipped. Errors name the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |why: &str| format!("line {}: `{line}`: {why}", n + 1);
            let (addr, len) = match line.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (line, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            let len: u32 = match len {
                Some(l) => l.parse().map_err(|_| bad("not a prefix length"))?,
                None => bits,
            };
            if len > bits {
                return Err(bad("prefix length too long"));
            }
            let host_bits = bits - len;
            let mask = if host_bits == 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            let start = mapped(ip) & !mask;
            ranges.push((start, start | mask));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Ok(Self(merged))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many IPv4 addresses the set covers (each counted once): a telescope's share of the
    /// IPv4 space is this over 2^32.
    pub fn ipv4_addresses(&self) -> u64 {
        const V4: (u128, u128) = (0xffff_0000_0000, 0xffff_ffff_ffff);
        self.0
            .iter()
            .map(|&(lo, hi)| (lo.max(V4.0), hi.min(V4.1)))
            .filter(|(lo, hi)| lo <= hi)
            .map(|(lo, hi)| (hi - lo + 1) as u64)
            .sum()
    }

    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let a = mapped(ip);
        let i = self.0.partition_point(|&(lo, _)| lo <= a);
        i > 0 && a <= self.0[i - 1].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_merge_and_match() {
        let n = Networks::parse(
            "# research scanners\n192.0.2.0/24\n192.0.3.0/24 # adjacent, merged\n\n\
             2001:db8::/32\n198.51.100.7\n",
        )
        .unwrap();
        assert_eq!(n.0.len(), 3);
        for yes in [
            "192.0.2.0",
            "192.0.3.255",
            "2001:db8:ffff::1",
            "198.51.100.7",
        ] {
            assert!(n.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in [
            "192.0.4.0",
            "192.0.1.255",
            "2001:db9::",
            "198.51.100.8",
            "::ffff:0:0",
        ] {
            assert!(!n.contains(no.parse().unwrap()), "{no}");
        }
        assert!(
            Networks::parse("10.0.0.0/33")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(Networks::parse("\nfoo").unwrap_err().contains("line 2"));
        assert!(
            Networks::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            !Networks::parse("0.0.0.0/0")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
    }
}
