//! Staged Parquet writing: an ingest writes its files under `STORE/.staging/<id>/` and only
//! [`Store::commit`](crate::Store::commit) moves them into the partitioned table directories,
//! so a crash mid-ingest leaves nothing half-visible.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::PathBuf;

use arrow::record_batch::RecordBatch;
use chrono::DateTime;
use kansoku_aggregate::{AttackRow, ObservationRow, SourceRow};
use kansoku_classify::Signatures;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::StoreError;
use crate::schema::{Naming, Table, backscatter_batch, observations_batch, sources_batch};

/// Open writers of one ingest, one per (table, day).
pub struct Staging {
    pub(crate) id: String,
    pub(crate) dir: PathBuf,
    sensor: String,
    signatures: Signatures,
    writers: BTreeMap<(Table, String), ArrowWriter<File>>,
    pub(crate) observation_rows: u64,
    pub(crate) source_rows: u64,
    pub(crate) backscatter_rows: u64,
}

const DAY_NS: i64 = 86_400_000_000_000;

/// The UTC day number of a timestamp (cheap to compare row by row).
fn day_number(ns: i64) -> i64 {
    ns.div_euclid(DAY_NS)
}

/// A day number as the `day=` partition value.
fn day_name(day: i64) -> String {
    DateTime::from_timestamp_nanos(day.saturating_mul(DAY_NS))
        .format("%Y-%m-%d")
        .to_string()
}

impl Staging {
    pub(crate) fn new(id: String, dir: PathBuf, sensor: String, signatures: Signatures) -> Self {
        Self {
            id,
            dir,
            sensor,
            signatures,
            writers: BTreeMap::new(),
            observation_rows: 0,
            source_rows: 0,
            backscatter_rows: 0,
        }
    }

    fn naming(&self) -> Naming<'_> {
        Naming {
            sensor: &self.sensor,
            signatures: &self.signatures,
        }
    }

    /// Add rows; they are split by day and appended to that day's file.
    pub fn write(
        &mut self,
        observations: &[ObservationRow],
        sources: &[SourceRow],
    ) -> Result<(), StoreError> {
        let same_day = |a: i64, b: i64| day_number(a) == day_number(b);
        for chunk in observations.chunk_by(|a, b| same_day(a.bin_start_ns, b.bin_start_ns)) {
            let batch = observations_batch(chunk, self.naming())?;
            let day = day_name(day_number(chunk[0].bin_start_ns));
            self.append(Table::Observations, day, &batch)?;
        }
        for chunk in sources.chunk_by(|a, b| same_day(a.hour_ns, b.hour_ns)) {
            let batch = sources_batch(chunk, self.naming())?;
            self.append(
                Table::Sources,
                day_name(day_number(chunk[0].hour_ns)),
                &batch,
            )?;
        }
        self.observation_rows += observations.len() as u64;
        self.source_rows += sources.len() as u64;
        Ok(())
    }

    /// Add attack vectors (ordered by first answer), each in the file of its first day.
    pub fn write_backscatter(&mut self, attacks: &[AttackRow]) -> Result<(), StoreError> {
        let same_day = |a: &AttackRow, b: &AttackRow| {
            day_number(a.first_seen_ns) == day_number(b.first_seen_ns)
        };
        for chunk in attacks.chunk_by(same_day) {
            let batch = backscatter_batch(chunk, &self.sensor)?;
            let day = day_name(day_number(chunk[0].first_seen_ns));
            self.append(Table::Backscatter, day, &batch)?;
        }
        self.backscatter_rows += attacks.len() as u64;
        Ok(())
    }

    fn append(&mut self, table: Table, day: String, batch: &RecordBatch) -> Result<(), StoreError> {
        let key = (table, day);
        if !self.writers.contains_key(&key) {
            let path = self.dir.join(staged_name(table, &key.1));
            let file = File::create(&path).map_err(|e| StoreError::io(&path, e))?;
            let mut props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_max_row_group_row_count(Some(256 * 1024))
                .set_dictionary_enabled(false);
            for column in DICTIONARY_COLUMNS {
                props = props.set_column_dictionary_enabled(ColumnPath::from(*column), true);
            }
            let props = props.build();
            let writer = ArrowWriter::try_new(file, table.schema(), Some(props))?;
            self.writers.insert(key.clone(), writer);
        }
        let writer = self.writers.get_mut(&key).expect("inserted above");
        writer.write(batch)?;
        Ok(())
    }

    /// Close every file (writing the Parquet footers) and fsync it; returns the staged files
    /// with the table and day each belongs to.
    pub(crate) fn finish(self) -> Result<Staged, StoreError> {
        let mut files = Vec::new();
        for ((table, day), writer) in self.writers {
            let file = writer.into_inner()?;
            let path = self.dir.join(staged_name(table, &day));
            file.sync_all().map_err(|e| StoreError::io(&path, e))?;
            files.push((table, day, path));
        }
        Ok(Staged {
            id: self.id,
            dir: self.dir,
            files,
            observation_rows: self.observation_rows,
            source_rows: self.source_rows,
            backscatter_rows: self.backscatter_rows,
        })
    }

    /// Drop everything staged (the input was refused after all).
    pub fn abandon(self) {
        let dir = self.dir.clone();
        drop(self.writers);
        let _ = fs::remove_dir_all(dir);
    }
}

/// A finished staging area, ready to be committed.
pub(crate) struct Staged {
    pub id: String,
    pub dir: PathBuf,
    /// (table, day, staged path)
    pub files: Vec<(Table, String, PathBuf)>,
    pub observation_rows: u64,
    pub source_rows: u64,
    pub backscatter_rows: u64,
}

/// Columns worth a dictionary: few distinct values repeated over many rows. Counts, times and
/// sketches are nearly unique per row, where a dictionary only costs a hash probe per value
/// (about 4 % of a whole ingest's time) before parquet gives up on it; zstd still compresses
/// them.
const DICTIONARY_COLUMNS: &[&str] = &[
    "sensor",
    "proto",
    "signature",
    "label",
    "rules",
    "scan_pattern",
    "scan_shape",
];

fn staged_name(table: Table, day: &str) -> String {
    format!("{}-{day}.parquet", table.name())
}
