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
    /// Directory of advisories (`<id>.en.md`, `<id>.ja.md`, revision logs in `.revisions/`);
    /// without it the advisory pages say how to enable them.
    #[arg(long, value_name = "DIR")]
    pub advisories: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> Result<bool> {
    // Fail now, not on the first request, when the store is not there.
    kansoku_store::Store::open(&args.store)?;
    if let Some(dir) = &args.advisories
        && !dir.is_dir()
    {
        anyhow::bail!("--advisories {}: not a directory", dir.display());
    }
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
                store: args.store.clone(),
                advisories: args.advisories.clone(),
            },
        )
        .await
        .context("serving")
    })?;
    Ok(true)
}
