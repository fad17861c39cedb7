//! Sources: where frames come from. Capture files (pcap, pcapng, optionally gzip or zstd
//! compressed), directories of them, and stdin, each read front to back as slices of one
//! buffer so that decoding never copies.

mod bytes;
mod endian;
mod fault;
mod inputs;
mod pcap;
mod pcapng;
mod reader;

/// BLAKE3, the hash of inputs' contents (and of their counted prefixes).
pub use blake3::Hash as ContentHash;
pub use fault::{Fault, FaultKind};
pub use inputs::{Input, expand_inputs};
pub use pcapng::Link;
pub use reader::{
    CaptureReader, Compression, Container, Frame, REORDER_TOLERANCE_NS, ReadSummary, prefix_hashes,
};
