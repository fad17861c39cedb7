//! UDP header view.

use super::Malformed;

/// A UDP datagram: the 8-byte header and the captured payload.
#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    hdr: &'a [u8; 8],
    payload: &'a [u8],
}

impl<'a> Udp<'a> {
    /// Check `buf` as a complete UDP datagram.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Malformed> {
        Self::parse(buf, buf.len())
    }

    /// `declared` is the datagram length announced by IP (`usize::MAX` when
    /// unknown, e.g. in a first fragment where the UDP length covers the
    /// reassembled datagram). The payload is cut to the UDP length field and
    /// to what was captured; a snaplen-cut datagram is not malformed.
    #[inline(always)]
    pub(crate) fn parse(buf: &'a [u8], declared: usize) -> Result<Self, Malformed> {
        let (hdr, rest) = buf
            .split_first_chunk::<8>()
            .ok_or(Malformed::UdpTruncated)?;
        let length = usize::from(u16::from_be_bytes([hdr[4], hdr[5]]));
        let payload = if length == 0 && buf.len() > 0xffff {
            // RFC 2675 jumbogram: the length lives in the IPv6 jumbo option.
            rest
        } else if length < 8 || length > declared {
            return Err(Malformed::UdpBadLength);
        } else {
            rest.get(..length - 8).unwrap_or(rest)
        };
        Ok(Udp { hdr, payload })
    }

    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.hdr[0], self.hdr[1]])
    }
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    /// The length field (header + payload as sent).
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.hdr[4], self.hdr[5]])
    }
    /// Captured payload, without IP/Ethernet padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_lengths() {
        let b = [0x00, 0x35, 0x04, 0xd2, 0x00, 0x0a, 0, 0, 0xaa, 0xbb, 0xcc];
        let u = Udp::new_checked(&b).unwrap();
        assert_eq!((u.src_port(), u.dst_port(), u.length()), (53, 1234, 10));
        assert_eq!(u.payload(), &[0xaa, 0xbb]); // trailing 0xcc is padding
        // length 12 > 11 bytes: bad if IP says 11, snaplen cut if IP says 12.
        let mut c = b;
        c[5] = 12;
        assert_eq!(Udp::new_checked(&c).err(), Some(Malformed::UdpBadLength));
        assert_eq!(Udp::parse(&c, 12).unwrap().payload(), &[0xaa, 0xbb, 0xcc]);
        c[5] = 7;
        assert_eq!(Udp::new_checked(&c).err(), Some(Malformed::UdpBadLength));
        assert_eq!(
            Udp::new_checked(&b[..7]).err(),
            Some(Malformed::UdpTruncated)
        );
    }
}
