//! SQL over a store with Apache DataFusion, and the three output formats every report shares.
//!
//! Tables are registered from the files the manifest lists, not by listing directories: a
//! query sees exactly the committed ingests, even while another ingest is committing.

use std::io::Write;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::schema::Table;
use crate::{Store, StoreError};

/// How a report or query result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// A JSON array of objects (one per row).
    Json,
    /// CSV with a header line.
    Csv,
}

/// A SQL session over one store.
pub struct Query {
    ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
}

impl Query {
    /// Register `observations`, `sources` and `backscatter` over the store's committed files,
    /// and `alerts` over the alerts file.
    pub fn new(store: &Store) -> Result<Self, StoreError> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        let mut config = SessionConfig::new().with_information_schema(true);
        if let Some(threads) = store.query_threads() {
            runtime.worker_threads(threads.get());
            config = config.with_target_partitions(threads.get());
        }
        let runtime = runtime
            .enable_all()
            .build()
            .map_err(|e| StoreError::io(store.root(), e))?;
        let ctx = SessionContext::new_with_config(config);
        ctx.register_udaf(crate::hll::hll_count());
        for table in Table::ALL {
            let prefix = format!("{}/", table.name());
            let urls = store
                .manifest()
                .entries
                .iter()
                .flat_map(|e| e.files.iter())
                .filter(|f| f.starts_with(&prefix))
                .map(|f| {
                    let path = store.root().join(f);
                    let path = std::path::absolute(&path).unwrap_or(path);
                    ListingTableUrl::parse(path.to_string_lossy())
                })
                .collect::<Result<Vec<_>, _>>()?;
            register(&ctx, table.name(), table.schema(), urls)?;
        }
        let alerts = store.root().join(crate::ALERTS_FILE);
        let alerts_url = if alerts.exists() {
            let path = std::path::absolute(&alerts).unwrap_or(alerts);
            vec![ListingTableUrl::parse(path.to_string_lossy())?]
        } else {
            Vec::new()
        };
        register(&ctx, "alerts", crate::alerts::alerts_schema(), alerts_url)?;
        Ok(Self { ctx, runtime })
    }

    /// Run one SQL query and collect its result. Queries only: `COPY ... TO` (which writes
    /// files), `CREATE`, `DROP`, `INSERT` and `SET` are refused, so that reading a store can
    /// never write anywhere or change what later queries see.
    pub fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, StoreError> {
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.runtime.block_on(async {
            let frame = self.ctx.sql_with_options(sql, read_only).await?;
            Ok(frame.collect().await?)
        })
    }
}

fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    urls: Vec<ListingTableUrl>,
) -> Result<(), StoreError> {
    if urls.is_empty() {
        // An empty store still has its tables, so queries over it return no rows rather
        // than failing on an unknown table.
        ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
        return Ok(());
    }
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Print batches in the chosen format.
pub fn write_batches(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    format: OutputFormat,
) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: "<output>".into(),
        source: e,
    };
    match format {
        OutputFormat::Table => {
            let text = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{text}").map_err(io)?;
        }
        OutputFormat::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.fZ".to_owned())
                .build(&mut *out);
            for b in batches {
                writer.write(b)?;
            }
        }
        OutputFormat::Json => {
            // Explicit nulls: a missing key would read as "no such column" to a consumer.
            let mut writer = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(&mut *out);
            for b in batches {
                writer.write(b)?;
            }
            writer.finish()?;
            writeln!(out).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use arrow::array::{Array, StringArray};

    use super::*;

    /// The engine's partitions, as the session reports them.
    fn partitions(store: &Store) -> String {
        let batches = Query::new(store)
            .and_then(|q| {
                q.sql(
                    "SELECT value FROM information_schema.df_settings \
                     WHERE name = 'datafusion.execution.target_partitions'",
                )
            })
            .expect("settings query");
        let cast = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)
            .expect("text");
        let values = cast.as_any().downcast_ref::<StringArray>().expect("text");
        assert_eq!(values.len(), 1);
        values.value(0).to_owned()
    }

    #[test]
    fn queries_cannot_write_files_or_change_tables() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_for_writing(dir.path(), None).expect("store");
        let query = Query::new(&store).expect("query");
        let copy = dir.path().join("copy.csv");
        for statement in [
            format!("COPY (SELECT 1) TO '{}'", copy.display()),
            "DROP TABLE observations".to_owned(),
            "CREATE TABLE t AS SELECT 1".to_owned(),
            "INSERT INTO observations SELECT * FROM observations".to_owned(),
            "SET datafusion.execution.batch_size = 1".to_owned(),
        ] {
            assert!(query.sql(&statement).is_err(), "{statement} was run");
        }
        assert!(!copy.exists());
        assert!(query.sql("SELECT count(*) FROM observations").is_ok());
    }

    #[test]
    fn a_thread_limit_on_the_store_bounds_its_queries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open_for_writing(dir.path(), None).expect("store");
        for threads in [3, 1] {
            store.limit_query_threads(NonZeroUsize::new(threads).expect("not zero"));
            assert_eq!(partitions(&store), threads.to_string());
        }
    }
}
