//! The regf base block (the first 4096 bytes of a hive file): signature, sequence numbers,
//! version, root cell and checksum. Validating it first is what lets the rest of the reader
//! trust nothing else: every later offset is checked against the size recorded here.
//!
//! Layout (all little-endian), from the Windows registry file format specification by
//! Maxim Suhanov (<https://github.com/msuhanov/regf/blob/master/Windows%20registry%20file%20format%20specification.md>)
//! and libhivex's `hivex-internal.h`.
use super::HiveError;

/// Size of the base block; hive bins start right after it and cell offsets count from here.
pub const BASE_BLOCK_LEN: usize = 4096;
/// Offset of the XOR checksum over the first 508 bytes.
pub const CHECKSUM_OFFSET: usize = 0x1fc;

pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The fields of a base block this tool relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseBlock {
    /// Incremented when a write to the primary file starts.
    pub primary_seq: u32,
    /// Set equal to `primary_seq` when the write completed. They differ in a hive whose last
    /// write was interrupted: its recent changes are only in the transaction log.
    pub secondary_seq: u32,
    pub major: u32,
    pub minor: u32,
    /// Offset of the root key cell, relative to the start of the hive bins.
    pub root_cell: u32,
    /// Total size of the hive bins following the base block.
    pub bins_size: u32,
}

/// The checksum Windows writes at 0x1fc: XOR of the first 127 dwords, with 0 and 0xffffffff
/// remapped (so a zeroed or all-ones block never validates).
pub fn checksum(block: &[u8]) -> Option<u32> {
    let mut x = 0u32;
    for i in 0..127 {
        x ^= u32_at(block, i * 4)?;
    }
    Some(match x {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        x => x,
    })
}

impl BaseBlock {
    /// Parses and validates the base block of a whole hive file `data`.
    pub fn parse(data: &[u8]) -> Result<BaseBlock, HiveError> {
        if data.len() < BASE_BLOCK_LEN {
            return Err(HiveError::Truncated(format!(
                "{} bytes, shorter than the 4096-byte base block",
                data.len()
            )));
        }
        if &data[0..4] != b"regf" {
            return Err(HiveError::Corrupt(
                "no \"regf\" signature: not a registry hive".into(),
            ));
        }
        let field = |off| u32_at(data, off).unwrap_or(0);
        let b = BaseBlock {
            primary_seq: field(4),
            secondary_seq: field(8),
            major: field(0x14),
            minor: field(0x18),
            root_cell: field(0x24),
            bins_size: field(0x28),
        };
        let stored = field(CHECKSUM_OFFSET);
        let computed = checksum(data).unwrap_or(0);
        if stored != computed {
            return Err(HiveError::Corrupt(format!(
                "base block checksum {stored:#010x} does not match its contents ({computed:#010x})"
            )));
        }
        if b.major != 1 || !(2..=6).contains(&b.minor) {
            return Err(HiveError::Corrupt(format!(
                "unsupported hive format version {}.{}",
                b.major, b.minor
            )));
        }
        if field(0x1c) != 0 {
            return Err(HiveError::Corrupt(
                "this is a transaction log or an alternate file, not a primary hive".into(),
            ));
        }
        if b.primary_seq != b.secondary_seq {
            return Err(HiveError::Dirty(format!(
                "its base block sequence numbers differ ({} and {}): the last write to it did not \
                 complete and its latest changes are only in its transaction log",
                b.primary_seq, b.secondary_seq
            )));
        }
        let end = (BASE_BLOCK_LEN as u64) + u64::from(b.bins_size);
        if b.bins_size == 0 || !b.bins_size.is_multiple_of(4096) {
            return Err(HiveError::Corrupt(format!(
                "hive bins size {} is not a positive multiple of 4096",
                b.bins_size
            )));
        }
        if (data.len() as u64) < end {
            return Err(HiveError::Truncated(format!(
                "the base block declares {end} bytes but the file has {}",
                data.len()
            )));
        }
        Ok(b)
    }
}
