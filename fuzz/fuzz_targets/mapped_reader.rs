//! `mapped_reader`: the input is written to a temporary file and opened with
//! `CaptureReader::open`, which memory-maps plain files. For uncompressed inputs the result is
//! compared with the streaming path (`from_reader`): both must yield the same frames, faults,
//! offsets and content hash.
#![no_main]

use std::io::{Cursor, Write};

use kansoku_packet::source::{CaptureReader, Compression};
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
});
