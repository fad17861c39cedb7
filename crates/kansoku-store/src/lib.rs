//! The store stage: Parquet tables partitioned by day, the manifest of ingested inputs, and
//! SQL over both with an embedded engine (Apache DataFusion).
//!
//! Layout of a store directory (docs/schema.md has the columns):
//! ```text
//! STORE/store.json                      bin width and format version
//! STORE/manifest.json                   every ingested input (see manifest.rs)
//! STORE/observations/day=YYYY-MM-DD/<ingest id>.parquet
//! STORE/sources/day=YYYY-MM-DD/<ingest id>.parquet
//! STORE/.staging/<ingest id>/           files of an ingest not yet committed
//! ```
//! A commit moves staged files into place and then replaces the manifest atomically. Files
//! whose ingest id the manifest does not know are leftovers of a crash between those two
//! steps; opening the store for writing removes them, and queries never read them.

pub mod activity;
mod alerts;
pub mod dashboard;
mod hll;
mod manifest;
pub mod population;
mod query;
mod report;
mod schema;
mod series;
mod writer;

use std::fs::{self, File};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use kansoku_classify::Signatures;
use serde::{Deserialize, Serialize};

pub use alerts::{ALERTS_FILE, AlertRow, alerts_batch, read_alerts};
pub use manifest::{COUNTED_HEAD, FaultRecord, Manifest, ManifestEntry, Resume};
pub use query::{OutputFormat, Query, write_batches};
pub use report::{BackscatterOptions, Report, ReportOptions};
pub use schema::Table;
pub use series::{
    ChartScope, NamedSeries, ObservationSeries, Scope, ScopeFilter, SeriesSet, SparseSeries,
    port_heatmap, sensors, store_span,
};
pub use writer::Staging;

/// The store format version this code writes and reads.
const FORMAT_VERSION: u32 = 1;

/// Errors of the store, each naming the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a kansoku store (no store.json); create one with `kansoku ingest --store {path} ...`"
    )]
    NotAStore { path: PathBuf },
    #[error("{path}: corrupt store metadata: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "{path}: the store bins by {store}s, not {asked}s; bins are a property of the store \
         (coarser views are computed at query time): use another --store or drop --bin"
    )]
    BinMismatch {
        path: PathBuf,
        store: u32,
        asked: u32,
    },
    #[error("{path}: another kansoku process is writing to this store; wait for it to finish")]
    Locked { path: PathBuf },
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The root cause only: DataFusion nests the same message several levels deep.
    #[error("query: {0}")]
    Query(String),
}

impl From<datafusion::error::DataFusionError> for StoreError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        StoreError::Query(e.find_root().to_string())
    }
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `store.json`: what every reader of the store must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreMeta {
    pub format_version: u32,
    /// Width of an observation bin in seconds.
    pub bin_seconds: u32,
}

/// The default observation bin: 5 minutes (DESIGN §3).
pub const DEFAULT_BIN_SECONDS: u32 = 300;

/// An open store.
pub struct Store {
    root: PathBuf,
    meta: StoreMeta,
    manifest: Manifest,
    /// Threads the query engine may use for this handle (all cores if `None`).
    query_threads: Option<NonZeroUsize>,
    /// Held while this handle may write; released on drop.
    _lock: Option<File>,
}

impl Store {
    /// Open a store for writing, creating it if needed. `bin_seconds` is checked against an
    /// existing store (or sets the bin of a new one). Leftovers of a crashed ingest are removed.
    pub fn open_for_writing(root: &Path, bin_seconds: Option<u32>) -> Result<Self, StoreError> {
        fs::create_dir_all(root).map_err(|e| StoreError::io(root, e))?;
        let lock_path = root.join(".lock");
        let lock = File::create(&lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked {
                path: root.to_path_buf(),
            });
        }
        let meta_path = root.join("store.json");
        let meta = if meta_path.exists() {
            let meta = read_meta(&meta_path)?;
            if let Some(asked) = bin_seconds
                && asked != meta.bin_seconds
            {
                return Err(StoreError::BinMismatch {
                    path: root.to_path_buf(),
                    store: meta.bin_seconds,
                    asked,
                });
            }
            meta
        } else {
            let meta = StoreMeta {
                format_version: FORMAT_VERSION,
                bin_seconds: bin_seconds.unwrap_or(DEFAULT_BIN_SECONDS),
            };
            let bytes = serde_json::to_vec_pretty(&meta).expect("meta serialises");
            fs::write(&meta_path, bytes).map_err(|e| StoreError::io(&meta_path, e))?;
            meta
        };
        for table in Table::ALL {
            let dir = root.join(table.name());
            fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        let manifest = Manifest::load(&root.join("manifest.json"))?;
        let store = Self {
            root: root.to_path_buf(),
            meta,
            manifest,
            query_threads: None,
            _lock: Some(lock),
        };
        store.remove_uncommitted()?;
        Ok(store)
    }

    /// Open an existing store for reading.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let meta_path = root.join("store.json");
        if !meta_path.exists() {
            return Err(StoreError::NotAStore {
                path: root.to_path_buf(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            meta: read_meta(&meta_path)?,
            manifest: Manifest::load(&root.join("manifest.json"))?,
            query_threads: None,
            _lock: None,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn meta(&self) -> StoreMeta {
        self.meta
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Bound the threads of the queries run through this handle, such as the alert refresh
    /// after an ingest, so that `kansoku ingest --threads N` keeps to N.
    pub fn limit_query_threads(&mut self, threads: NonZeroUsize) {
        self.query_threads = Some(threads);
    }

    pub(crate) fn query_threads(&self) -> Option<NonZeroUsize> {
        self.query_threads
    }

    /// Start staging the rows of one input. `signatures` names the signature ids the rows
    /// will carry.
    pub fn stage(&self, sensor: &str, signatures: Signatures) -> Result<Staging, StoreError> {
        let id = new_ingest_id();
        let dir = self.root.join(".staging").join(&id);
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(Staging::new(id, dir, sensor.to_owned(), signatures))
    }

    /// Make an input's rows visible and record it in the manifest. `entry.id`, `files` and
    /// the row counts are filled in here.
    pub fn commit(&mut self, staging: Staging, mut entry: ManifestEntry) -> Result<(), StoreError> {
        let staged = staging.finish()?;
        if std::env::var_os("KANSOKU_FAILPOINT_BEFORE_COMMIT").is_some() {
            // Test hook: die the way a power cut would, after the files are staged.
            std::process::abort();
        }
        entry.id = staged.id.clone();
        entry.observation_rows = staged.observation_rows;
        entry.source_rows = staged.source_rows;
        entry.backscatter_rows = staged.backscatter_rows;
        entry.files.clear();
        for file in &staged.files {
            let rel = PathBuf::from(file.table.name())
                .join(format!("day={}", file.day))
                .join(file.committed_name(&staged.id));
            let dest = self.root.join(&rel);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
            }
            fs::rename(&file.path, &dest).map_err(|e| StoreError::io(&dest, e))?;
            entry.files.push(rel.to_string_lossy().into_owned());
        }
        let _ = fs::remove_dir_all(&staged.dir);
        // Succeeds only when no other staging area is left, which is the normal case.
        let _ = fs::remove_dir(self.root.join(".staging"));
        self.manifest.entries.push(entry);
        let saved = self.manifest.save(&self.root.join("manifest.json"));
        if saved.is_err() {
            self.manifest.entries.pop();
        }
        saved
    }

    /// Remove staged and table files that no manifest entry owns (a crash mid-commit).
    fn remove_uncommitted(&self) -> Result<(), StoreError> {
        let staging = self.root.join(".staging");
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| StoreError::io(&staging, e))?;
        }
        let committed: std::collections::HashSet<&str> = self
            .manifest
            .entries
            .iter()
            .flat_map(|e| e.files.iter().map(String::as_str))
            .collect();
        for file in self.table_files()? {
            let rel = file
                .strip_prefix(&self.root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !committed.contains(rel.as_str()) {
                fs::remove_file(&file).map_err(|e| StoreError::io(&file, e))?;
            }
        }
        Ok(())
    }

    /// Every Parquet file under the table directories.
    fn table_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut files = Vec::new();
        for table in Table::ALL {
            let dir = self.root.join(table.name());
            let Ok(days) = fs::read_dir(&dir) else {
                continue;
            };
            for day in days.flatten() {
                let Ok(entries) = fs::read_dir(day.path()) else {
                    continue;
                };
                for f in entries.flatten() {
                    if f.path().extension().is_some_and(|e| e == "parquet") {
                        files.push(f.path());
                    }
                }
            }
        }
        Ok(files)
    }
}

fn read_meta(path: &Path) -> Result<StoreMeta, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let meta: StoreMeta = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if meta.format_version != FORMAT_VERSION || meta.bin_seconds == 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "format version {} with bin {}s; this kansoku reads version {FORMAT_VERSION}",
                meta.format_version, meta.bin_seconds
            ),
        });
    }
    Ok(meta)
}

/// A sortable, unique ingest id: UTC time of the ingest plus random bits.
fn new_ingest_id() -> String {
    let now = chrono::Utc::now();
    let nanos = now.timestamp_subsec_nanos();
    let salt = std::process::id() ^ nanos.rotate_left(13);
    format!("{}-{salt:08x}", now.format("%Y%m%dT%H%M%S%.6fZ")).replace('.', "")
}
