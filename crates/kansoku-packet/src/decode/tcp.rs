//! TCP header view.

use super::Malformed;

/// A TCP segment: the fixed 20-byte header, options and captured payload.
///
/// Only constructed through [`Tcp::new_checked`] (or the decoder), so every
/// accessor reads from a fixed-size array and cannot fail.
#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    hdr: &'a [u8; 20],
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Tcp<'a> {
    /// Check `buf` as a complete TCP segment (header, options, payload).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Malformed> {
        Self::parse(buf, buf.len())
    }

    /// `declared` is the segment length announced by the IP layer, which may
    /// exceed `buf.len()` when the capture snaplen cut the frame. A data offset
    /// past `declared` is a lie ([`Malformed::TcpBadDataOffset`]); one past
    /// `buf` but within `declared` means the snapshot cut the options
    /// ([`Malformed::TcpTruncated`]).
    #[inline(always)]
    pub(crate) fn parse(buf: &'a [u8], declared: usize) -> Result<Self, Malformed> {
        let (hdr, rest) = buf
            .split_first_chunk::<20>()
            .ok_or(Malformed::TcpTruncated)?;
        let header_len = usize::from(hdr[12] >> 4) * 4;
        if header_len < 20 || header_len > declared {
            return Err(Malformed::TcpBadDataOffset);
        }
        let (options, payload) = rest
            .split_at_checked(header_len - 20)
            .ok_or(Malformed::TcpTruncated)?;
        Ok(Tcp {
            hdr,
            options,
            payload,
        })
    }

    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.hdr[0], self.hdr[1]])
    }
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    pub fn seq(&self) -> u32 {
        u32::from_be_bytes([self.hdr[4], self.hdr[5], self.hdr[6], self.hdr[7]])
    }
    pub fn ack(&self) -> u32 {
        u32::from_be_bytes([self.hdr[8], self.hdr[9], self.hdr[10], self.hdr[11]])
    }
    /// Low 8 flag bits: FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128.
    /// (The NS / AE bit in byte 12 is left out on purpose.)
    pub fn flags(&self) -> u8 {
        self.hdr[13]
    }
    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.hdr[14], self.hdr[15]])
    }
    /// Header length in bytes including options (data offset * 4).
    pub fn header_len(&self) -> usize {
        20 + self.options.len()
    }
    /// Raw option bytes (may be empty).
    pub fn options(&self) -> &'a [u8] {
        self.options
    }
    /// Captured payload (may be shorter than sent if the snaplen cut it).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// TCP flag bits as returned by [`Tcp::flags`].
pub mod flags {
    pub const FIN: u8 = 1;
    pub const SYN: u8 = 2;
    pub const RST: u8 = 4;
    pub const PSH: u8 = 8;
    pub const ACK: u8 = 16;
    pub const URG: u8 = 32;
    pub const ECE: u8 = 64;
    pub const CWR: u8 = 128;
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SYN_WITH_MSS: [u8; 28] = [
        0x04, 0xd2, 0x00, 0x50, // 1234 -> 80
        0, 0, 0, 1, 0, 0, 0, 0, // seq 1, ack 0
        0x70, 0x02, 0x20, 0x00, // doff 7, SYN, window 8192
        0, 0, 0, 0, // checksum, urgent
        2, 4, 5, 0xb4, 1, 1, 4, 2, // MSS 1460, NOP NOP SACK-permitted
    ];

    #[test]
    fn fields() {
        let t = Tcp::new_checked(&SYN_WITH_MSS).unwrap();
        assert_eq!((t.src_port(), t.dst_port()), (1234, 80));
        assert_eq!((t.seq(), t.ack()), (1, 0));
        assert_eq!(t.flags(), flags::SYN);
        assert_eq!(t.window(), 8192);
        assert_eq!(t.header_len(), 28);
        assert_eq!(t.options(), &SYN_WITH_MSS[20..]);
        assert!(t.payload().is_empty());
    }

    #[test]
    fn bad_offsets_and_truncation() {
        let mut b = SYN_WITH_MSS;
        b[12] = 0x40;
        assert_eq!(
            Tcp::new_checked(&b).err(),
            Some(Malformed::TcpBadDataOffset)
        );
        b[12] = 0xf0; // 60 bytes: past the segment.
        assert_eq!(
            Tcp::new_checked(&b).err(),
            Some(Malformed::TcpBadDataOffset)
        );
        // Same, but IP says the segment is longer: the snapshot cut it.
        assert_eq!(Tcp::parse(&b, 100).err(), Some(Malformed::TcpTruncated));
        for n in 0..20 {
            assert_eq!(
                Tcp::new_checked(&SYN_WITH_MSS[..n]).err(),
                Some(Malformed::TcpTruncated)
            );
        }
    }
}
