//! The manifest: every input ever ingested into a store, with its content hash, what was
//! read from it and what was wrong with it. It is what makes ingesting the same capture twice
//! a refusal instead of a double count, and what tells which Parquet files are committed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// One ingested input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Unique id of this ingest; the Parquet files it wrote are named after it.
    pub id: String,
    /// The input as given (a path, or `<stdin>`).
    pub input: String,
    /// BLAKE3 of the (decompressed) content, hex; absent when the input could not be read.
    pub content_hash: Option<String>,
    /// Size of the file on disk (compressed if it was); absent for stdin. Lets a re-ingest
    /// hash only inputs that could be known before reading them.
    pub size: Option<u64>,
    pub sensor: String,
    /// RFC 3339 UTC.
    pub ingested_at: String,
    /// `pcap`, `pcapng`, or absent when not recognised.
    pub container: Option<String>,
    /// `none`, `gzip` or `zstd`.
    pub compression: String,
    /// Records read from the container.
    pub frames: u64,
    /// Frames that decoded to an IP packet and were aggregated.
    pub ip_packets: u64,
    /// Well-formed frames without IP (ARP, LLDP, ...).
    pub not_ip: u64,
    /// Frames on a link type kansoku does not decode.
    pub unknown_link: u64,
    /// Malformed frames by reason.
    pub malformed: BTreeMap<String, u64>,
    /// Earliest and latest frame timestamps, RFC 3339 UTC.
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    /// Bytes of the (decompressed) input consumed by complete records.
    pub bytes_read: u64,
    pub faults: Vec<FaultRecord>,
    /// Committed Parquet files, relative to the store root.
    pub files: Vec<String>,
    pub observation_rows: u64,
    pub source_rows: u64,
    /// Rows of the `backscatter` table (absent in manifests written before it existed).
    #[serde(default)]
    pub backscatter_rows: u64,
    /// When a fatal fault stopped the read: BLAKE3 (hex) of the content up to `bytes_read`,
    /// what this ingest counted. A later input starting with the same bytes (the complete
    /// copy of a capture copied while still being written) is resumed after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_hash: Option<String>,
    /// BLAKE3 (hex) of the first [`COUNTED_HEAD`] bytes of that (or all of it, if shorter):
    /// later inputs are compared on it first, so that they are not read twice in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_head_hash: Option<String>,
    /// The earlier ingest whose counted bytes this input starts with, and the offset after
    /// which this one began counting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<Resume>,
}

/// Bytes of `counted_head_hash`: a capture's global header and first records, whose
/// timestamps differ from one capture to the next.
pub const COUNTED_HEAD: u64 = 4096;

/// Where a resumed input began counting (see [`ManifestEntry::resumes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// Id of the ingest that counted the bytes before `offset`.
    pub ingest: String,
    pub offset: u64,
}

/// A fault as the manifest keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRecord {
    pub offset: u64,
    pub code: String,
    pub message: String,
    pub count: u64,
    pub fatal: bool,
}

/// All entries, in ingest order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    pub(crate) fn load(path: &Path) -> Result<Self, StoreError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    /// Replace the manifest atomically: a reader sees the old or the new one, never a mix.
    pub(crate) fn save(&self, path: &Path) -> Result<(), StoreError> {
        let tmp = path.with_extension("json.tmp");
        let mut file = fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let bytes = serde_json::to_vec_pretty(self).expect("manifest serialises");
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| StoreError::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))
    }

    /// The committed entry with this content hash, if any.
    pub fn find_hash(&self, hash: &str) -> Option<&ManifestEntry> {
        self.entries
            .iter()
            .find(|e| e.content_hash.as_deref() == Some(hash))
    }
}
