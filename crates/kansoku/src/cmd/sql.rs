//! `kansoku sql`: any SQL over the store's tables.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kansoku_store::{Query, Store, write_batches};

use super::Format;

#[derive(Args, Debug)]
pub struct SqlArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// The statement, e.g. "SELECT dst_port, sum(packets) FROM observations GROUP BY 1".
    /// Tables: observations, sources, backscatter, alerts (see docs/schema.md). Queries only:
    /// COPY, CREATE, DROP, INSERT and SET are refused.
    pub query: String,
}

pub fn run(args: SqlArgs) -> Result<bool> {
    let store = Store::open(&args.store)?;
    let batches = Query::new(&store)?.sql(&args.query)?;
    write_batches(&mut std::io::stdout().lock(), &batches, args.format.into())?;
    Ok(true)
}
