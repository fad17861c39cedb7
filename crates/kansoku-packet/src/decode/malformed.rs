//! Reasons a frame could not be decoded.
//!
//! The names returned by [`Malformed::as_str`] are stored in counters and
//! tables, so they are part of the data format: add variants at the end,
//! never rename or reorder them.

use std::fmt;

macro_rules! malformed {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, $msg:literal; )*) => {
        /// Why a frame was rejected by [`decode`](super::decode).
        ///
        /// Fieldless and `#[repr(u8)]` so that callers can keep one counter per
        /// reason in a `[u64; Malformed::COUNT]` indexed by `reason as usize`.
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Malformed {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Malformed {
            /// Every variant, in discriminant order (`ALL[m as usize] == m`).
            pub const ALL: [Malformed; malformed!(@count $($variant)*)] = [$(Malformed::$variant,)*];
            /// Number of variants.
            pub const COUNT: usize = Self::ALL.len();

            /// Stable snake_case name, used as a key in stored data.
            pub fn as_str(self) -> &'static str {
                match self { $(Malformed::$variant => $name,)* }
            }

            /// Human-readable explanation.
            pub fn message(self) -> &'static str {
                match self { $(Malformed::$variant => $msg,)* }
            }
        }
    };
    (@count) => { 0 };
    (@count $head:ident $($tail:ident)*) => { 1 + malformed!(@count $($tail)*) };
}

malformed! {
    /// Ethernet frame shorter than its 14-byte header, or an empty raw-IP frame.
    LinkTruncated => "link_truncated", "link-layer header truncated";
    /// An 802.1Q / 802.1ad / 0x9100 tag announced but fewer than 4 bytes follow.
    VlanTruncated => "vlan_truncated", "VLAN tag truncated";
    /// Linux cooked capture (SLL 16 bytes, SLL2 20 bytes) header truncated.
    SllTruncated => "sll_truncated", "Linux cooked-capture header truncated";
    /// BSD NULL / LOOP frame shorter than its 4-byte address family.
    NullTruncated => "null_truncated", "loopback address-family header truncated";
    /// NULL / LOOP address family that is neither AF_INET nor a known AF_INET6
    /// value in either byte order. The header is a bare 4-byte number, so an
    /// unknown value cannot be told apart from garbage.
    UnknownAddressFamily => "unknown_address_family", "unknown loopback address family";
    /// Raw-IP link type whose first nibble is neither 4 nor 6.
    RawBadVersion => "raw_bad_version", "raw IP frame with IP version other than 4 or 6";
    /// Fewer bytes than the IPv4 header (20 bytes, or IHL*4 with options).
    Ipv4Truncated => "ipv4_truncated", "IPv4 header truncated";
    /// Ethertype / link type said IPv4 but the version nibble is not 4.
    Ipv4BadVersion => "ipv4_bad_version", "IPv4 version field is not 4";
    /// IPv4 IHL below 5 (header shorter than 20 bytes).
    Ipv4BadHeaderLength => "ipv4_bad_header_length", "IPv4 header length below 20 bytes";
    /// IPv4 total length smaller than the header length.
    Ipv4BadTotalLength => "ipv4_bad_total_length", "IPv4 total length smaller than its header";
    /// Fewer than 40 bytes of IPv6 header.
    Ipv6Truncated => "ipv6_truncated", "IPv6 header truncated";
    /// Ethertype / link type said IPv6 but the version nibble is not 6.
    Ipv6BadVersion => "ipv6_bad_version", "IPv6 version field is not 6";
    /// An IPv6 extension header runs past the end of the packet.
    Ipv6ExtensionTruncated => "ipv6_extension_truncated", "IPv6 extension header truncated";
    /// Fewer bytes than the TCP header (20 bytes, or data offset*4 with options).
    TcpTruncated => "tcp_truncated", "TCP header truncated";
    /// TCP data offset below 5, or past the segment length announced by IP.
    TcpBadDataOffset => "tcp_bad_data_offset", "TCP data offset invalid";
    /// Fewer than 8 bytes of UDP header.
    UdpTruncated => "udp_truncated", "UDP header truncated";
    /// UDP length field below 8, or larger than the datagram announced by IP.
    UdpBadLength => "udp_bad_length", "UDP length field invalid";
    /// Fewer than 4 bytes of ICMP / ICMPv6 header.
    IcmpTruncated => "icmp_truncated", "ICMP header truncated";
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Malformed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_discriminant_order_and_names_are_unique_snake_case() {
        for (i, m) in Malformed::ALL.iter().enumerate() {
            assert_eq!(*m as usize, i);
            let s = m.as_str();
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(!m.to_string().is_empty());
        }
        for a in Malformed::ALL {
            assert_eq!(
                Malformed::ALL
                    .iter()
                    .filter(|b| b.as_str() == a.as_str())
                    .count(),
                1
            );
        }
        assert_eq!(Malformed::COUNT, Malformed::ALL.len());
    }

    #[test]
    fn names_are_stable() {
        // These strings are stored; changing them breaks old data.
        assert_eq!(Malformed::LinkTruncated.as_str(), "link_truncated");
        assert_eq!(Malformed::TcpBadDataOffset.as_str(), "tcp_bad_data_offset");
        assert_eq!(Malformed::IcmpTruncated.as_str(), "icmp_truncated");
    }
}
