//! Base block checks on synthetic blocks (hives with real content are tested in
//! `tests/hive.rs` against hives built by libhivex).
use super::base::{BASE_BLOCK_LEN, CHECKSUM_OFFSET, checksum};
use super::*;

/// A base block plus one empty 4 KiB bin, with a valid checksum.
fn synthetic(seq1: u32, seq2: u32) -> Vec<u8> {
    let mut d = vec![0u8; BASE_BLOCK_LEN + 4096];
    d[0..4].copy_from_slice(b"regf");
    d[4..8].copy_from_slice(&seq1.to_le_bytes());
    d[8..12].copy_from_slice(&seq2.to_le_bytes());
    d[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
    d[0x18..0x1c].copy_from_slice(&3u32.to_le_bytes());
    d[0x20..0x24].copy_from_slice(&1u32.to_le_bytes());
    d[0x24..0x28].copy_from_slice(&0x20u32.to_le_bytes());
    d[0x28..0x2c].copy_from_slice(&4096u32.to_le_bytes());
    let sum = checksum(&d).unwrap();
    d[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_le_bytes());
    d
}

#[test]
fn clean_base_block_is_accepted() {
    let h = Hive::from_bytes(synthetic(7, 7)).unwrap();
    assert_eq!(h.base().primary_seq, 7);
    // The root offset points into an all-zero bin: a free cell, reported, not a panic.
    assert!(matches!(h.root(), Err(HiveError::Corrupt(_))));
}

#[test]
fn differing_sequence_numbers_mean_dirty() {
    let err = Hive::from_bytes(synthetic(8, 7)).unwrap_err();
    assert!(matches!(err, HiveError::Dirty(_)));
    assert!(
        err.to_string()
            .contains("sequence numbers differ (8 and 7)")
    );
}

#[test]
fn checksum_mismatch_is_corrupt() {
    let mut d = synthetic(1, 1);
    d[0x30] ^= 1;
    assert!(matches!(Hive::from_bytes(d), Err(HiveError::Corrupt(m)) if m.contains("checksum")));
}

#[test]
fn short_or_foreign_files_are_rejected() {
    assert!(matches!(
        Hive::from_bytes(vec![0; 100]),
        Err(HiveError::Truncated(_))
    ));
    let mut d = synthetic(1, 1);
    d[0] = b'X';
    assert!(matches!(Hive::from_bytes(d), Err(HiveError::Corrupt(_))));
    let mut d = synthetic(1, 1);
    d.truncate(BASE_BLOCK_LEN + 100);
    assert!(matches!(Hive::from_bytes(d), Err(HiveError::Truncated(_))));
}

#[test]
fn checksum_remaps_zero() {
    assert_eq!(checksum(&[0u8; 512]), Some(1));
    assert_eq!(checksum(&[0u8; 10]), None);
}

#[test]
fn string_values_decode() {
    let v = Value {
        name: "x".into(),
        data_type: REG_SZ,
        data: "ab\0zz".encode_utf16().flat_map(u16::to_le_bytes).collect(),
        offset: 0,
    };
    assert_eq!(v.as_text().as_deref(), Some("ab"));
    let m = Value {
        data_type: REG_MULTI_SZ,
        data: "a\0b\0\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect(),
        ..v.clone()
    };
    assert_eq!(m.as_text().as_deref(), Some("a;b"));
    let d = Value {
        data_type: REG_DWORD,
        data: vec![2, 1, 0, 0],
        ..v
    };
    assert_eq!(d.as_dword(), Some(0x102));
    assert_eq!(d.as_text(), None);
}
