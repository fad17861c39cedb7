//! Shared by the reader targets: walk a `CaptureReader` to the end, decode every frame on a
//! known link type, check invariants, and return an owned transcript for differential checks.

use std::hint::black_box;

use kansoku_packet::decode::decode;
use kansoku_packet::source::{CaptureReader, Compression, FaultKind, Link, ReadSummary};

/// An owned copy of one frame.
#[derive(Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    pub ts_ns: i64,
    pub link: Link,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

/// True when the reader will see a gzip or zstd stream (it sniffs the same magics).
pub fn compressed(input: &[u8]) -> bool {
    input.starts_with(&[0x1f, 0x8b]) || input.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

/// Read everything; `input` is the raw bytes the reader was given. `None` when `finish`
/// reported an I/O error, which only a corrupt compressed stream may cause.
pub fn walk(mut reader: CaptureReader, input: &[u8]) -> Option<(Vec<OwnedFrame>, ReadSummary)> {
    let mut frames = Vec::new();
    let mut data_bytes: u64 = 0;
    while let Some(f) = reader.next_frame() {
        data_bytes += f.data.len() as u64;
        if let Link::Known(link) = f.link {
            // Decode must never panic; the accessors are fuzzed by the `decode` target.
            let _ = black_box(decode(link, f.data));
        }
        frames.push(OwnedFrame {
            ts_ns: f.ts_ns,
            link: f.link,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        });
    }
    // The iterator is fused: once it said "end", it keeps saying so.
    assert!(
        reader.next_frame().is_none(),
        "next_frame yielded after None"
    );
    let faults_seen = reader.faults().to_vec();
    let summary = match reader.finish() {
        Ok(summary) => summary,
        Err(e) => {
            // Hashing the rest of a corrupt gzip/zstd stream fails; a plain input never does.
            assert!(compressed(input), "finish failed on a plain input: {e}");
            return None;
        }
    };

    assert_eq!(summary.frames, frames.len() as u64, "frame count mismatch");
    // finish() may append one Io fault: draining the rest of a corrupt gzip/zstd stream for
    // the content hash failed (and the walk had not already recorded an Io fault).
    assert!(
        summary.faults.starts_with(&faults_seen),
        "finish() rewrote the walk's faults: {faults_seen:?} -> {:?}",
        summary.faults
    );
    match &summary.faults[faults_seen.len()..] {
        [] => {}
        [extra] => {
            assert!(
                compressed(input),
                "finish() added a fault on a plain input: {extra:?}"
            );
            assert!(matches!(extra.kind, FaultKind::Io { .. }), "{extra:?}");
            assert!(
                !faults_seen
                    .iter()
                    .any(|f| matches!(f.kind, FaultKind::Io { .. }))
            );
            assert!(
                extra.offset >= summary.bytes_read,
                "{extra:?} before the consumed offset"
            );
        }
        more => panic!("finish() added several faults: {more:?}"),
    }
    assert!(
        data_bytes <= summary.bytes_read,
        "frames hold {data_bytes} bytes but only {} were consumed",
        summary.bytes_read
    );
    if !frames.is_empty() {
        assert!(summary.container.is_some(), "frames without a container");
    }
    // During the walk: at most one fatal fault, and nothing recorded after it.
    let fatal: Vec<usize> = (0..faults_seen.len())
        .filter(|&i| faults_seen[i].kind.is_fatal())
        .collect();
    assert!(fatal.len() <= 1, "several fatal faults: {faults_seen:?}");
    if let Some(&i) = fatal.first() {
        assert_eq!(
            i + 1,
            faults_seen.len(),
            "fault after a fatal one: {faults_seen:?}"
        );
    }
    for f in &faults_seen {
        assert!(f.count >= 1);
        assert!(
            f.offset <= summary.bytes_read,
            "fault {f:?} past the consumed offset {}",
            summary.bytes_read
        );
    }
    for f in &summary.faults {
        black_box((f.kind.code(), f.to_string()));
    }
    if summary.compression == Compression::None {
        assert!(
            summary.bytes_read <= input.len() as u64,
            "consumed {} of {} bytes",
            summary.bytes_read,
            input.len()
        );
        assert_eq!(
            summary.content_hash,
            blake3::hash(input),
            "content hash is not the hash of the input"
        );
    }
    assert_eq!(summary.compression != Compression::None, compressed(input));
    Some((frames, summary))
}
