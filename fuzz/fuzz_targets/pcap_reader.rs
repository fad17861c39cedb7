//! `pcap_reader`: the input is a whole capture (pcap, pcapng, or either inside gzip/zstd),
//! read through the streaming path (`CaptureReader::from_reader`, as for stdin).
#![no_main]

use std::io::Cursor;

use kansoku_packet::source::CaptureReader;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::from_reader(Box::new(Cursor::new(data.to_vec()))) else {
        // Only a zstd decoder that cannot be created fails here; nothing to walk.
        return;
    };
    common::walk(reader, data);
});
