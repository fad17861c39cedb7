//! Byte order of a capture file or pcapng section, read from its magic.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    /// Read a `u32` at `at`; the caller has checked that `b` holds `at + 4` bytes.
    #[inline]
    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        match self {
            Endian::Little => u32::from_le_bytes(w),
            Endian::Big => u32::from_be_bytes(w),
        }
    }

    /// Read a `u16` at `at`; the caller has checked that `b` holds `at + 2` bytes.
    #[inline]
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let w = [b[at], b[at + 1]];
        match self {
            Endian::Little => u16::from_le_bytes(w),
            Endian::Big => u16::from_be_bytes(w),
        }
    }

    /// Read a `u64` at `at`; the caller has checked that `b` holds `at + 8` bytes.
    #[inline]
    pub fn u64(self, b: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        match self {
            Endian::Little => u64::from_le_bytes(w),
            Endian::Big => u64::from_be_bytes(w),
        }
    }
}
