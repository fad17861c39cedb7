//! `kansoku serve`: the dashboard and JSON API over a store (crate `kansoku-web`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Infection reports one client address may send per hour (form and API together).
    #[arg(long, default_value_t = 10)]
    pub reports_per_hour: usize,
}

pub fn run(args: ServeArgs) -> Result<bool> {
    // Fail now, not on the first request, when the store is not there.
    kansoku_store::Store::open(&args.store)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        eprintln!(
            "serving {} on http://{address}/ (Ctrl-C stops)",
            args.store.display()
        );
        kansoku_web::serve(
            listener,
            kansoku_web::Config {
                reports_per_hour: args.reports_per_hour,
                ..kansoku_web::Config::new(args.store.clone())
            },
        )
        .await
        .context("serving")
    })?;
    Ok(true)
}
