//! `mapped_reader`: the input is written to a temporary file and opened with
//! `CaptureReader::open`, which memory-maps plain files. For uncompressed inputs the result is
//! compared with the streaming path (`from_reader`): both must yield the same frames, faults,
//! offsets and content hash; and a read resumed at an offset derived from the input gives a
//! suffix of the whole read's frames (`resume_at`, `prefix_hashes`).
#![no_main]

use std::io::{Cursor, Write};

use kansoku_packet::source::{CaptureReader, Compression, prefix_hashes};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(data).expect("write temp file");
    file.flush().expect("flush temp file");
    let Ok(reader) = CaptureReader::open(file.path()) else {
        return;
    };
    let Some((mapped_frames, mapped)) = common::walk(reader, data) else {
        return;
    };
    if mapped.compression != Compression::None {
        return;
    }
    let streamed = CaptureReader::from_reader(Box::new(Cursor::new(data.to_vec())))
        .expect("plain stream reader");
    let (stream_frames, streamed) =
        common::walk(streamed, data).expect("a plain input always finishes");
    assert_eq!(
        mapped_frames, stream_frames,
        "mapped and streamed frames differ"
    );
    assert_eq!(
        mapped.faults, streamed.faults,
        "mapped and streamed faults differ"
    );
    assert_eq!(mapped.bytes_read, streamed.bytes_read);
    assert_eq!(mapped.frames, streamed.frames);
    assert_eq!(mapped.container, streamed.container);
    assert_eq!(mapped.content_hash, streamed.content_hash);

    // Resuming: the prefix hash of what was read is the hash of those bytes, and a read
    // resumed anywhere gives a suffix of the whole read's frames.
    let counted = mapped.bytes_read;
    let hashes = prefix_hashes(file.path(), &[counted]).expect("prefix hash");
    assert_eq!(hashes[0], Some(blake3::hash(&data[..counted as usize])));
    let at = counted * u64::from(data.last().copied().unwrap_or(0)) / 255;
    let mut resumed = CaptureReader::open(file.path()).expect("reopen");
    resumed.resume_at(at);
    let (resumed_frames, _) = common::walk(resumed, data).expect("a plain input always finishes");
    assert!(resumed_frames.len() <= mapped_frames.len());
    assert_eq!(
        resumed_frames[..],
        mapped_frames[mapped_frames.len() - resumed_frames.len()..],
        "a resumed read is not a suffix of the whole read"
    );
});
