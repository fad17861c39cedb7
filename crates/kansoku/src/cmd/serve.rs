//! `kansoku serve`: the dashboard and JSON API over a store (crate `kansoku-web`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use kansoku_store::population::telescope_share;

use crate::time::parse_duration;

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
    /// Infection reports one client address may send per hour (form and API together).
    #[arg(long, default_value_t = 10)]
    pub reports_per_hour: usize,
    /// A reverse proxy in front of the server (repeatable): requests from it are counted
    /// against the last address of its `X-Forwarded-For`, so that rate limits apply per
    /// client rather than to the proxy as a whole.
    #[arg(long, value_name = "ADDR")]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// The telescope's prefixes (as for `kansoku estimate`): with them, signature pages show
    /// the infected-population estimate.
    #[arg(long, value_name = "CIDR", num_args = 1.., value_parser = super::parse_prefix)]
    pub telescope: Vec<String>,
    /// Public view: hold back the newest data by this much (0, 30m, 6h, 1d). Operators
    /// (logged in) always see everything.
    #[arg(long, default_value = "0", value_parser = parse_delay)]
    pub public_delay: u32,
    /// Public view: the finest time bin shown (5m, 1h, 1d).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub public_min_bin: u32,
    /// Public view: counts below this are not shown (packets or sources per bin, a row's
    /// sources, an alert's observed value).
    #[arg(long, default_value_t = 5)]
    pub public_min_count: u64,
}

fn parse_delay(text: &str) -> Result<u32, String> {
    if text.trim() == "0" {
        Ok(0)
    } else {
        parse_duration(text)
    }
}

pub fn run(args: ServeArgs) -> Result<bool> {
    // Fail now, not on the first request, when the store is not there.
    kansoku_store::Store::open(&args.store)?;
    if let Some(dir) = &args.advisories
        && !dir.is_dir()
    {
        anyhow::bail!("--advisories {}: not a directory", dir.display());
    }
    let telescope_share = if args.telescope.is_empty() {
        None
    } else {
        Some(telescope_share(&args.telescope).map_err(|e| anyhow::anyhow!("--{e}"))?)
    };
    let config = kansoku_web::Config {
        telescope_share,
        reports_per_hour: args.reports_per_hour,
        public: kansoku_web::PublicPolicy {
            delay_s: i64::from(args.public_delay),
            min_bin_s: args.public_min_bin,
            min_count: args.public_min_count,
        },
        advisories: args.advisories.clone(),
        trusted_proxies: args.trusted_proxy.clone(),
        ..kansoku_web::Config::new(args.store.clone())
    };
    serve_until_interrupted(config, &[args.listen], |address| {
        eprintln!(
            "serving {} on http://{address}/ (Ctrl-C stops)",
            args.store.display()
        );
    })?;
    Ok(true)
}

/// Serves `config` on the first of `addresses` that can be bound, calls `ready` with the
/// bound address, and returns when Ctrl-C (or SIGTERM) arrives and the requests in flight
/// are answered, so the caller's cleanup (a demo's temporary store) runs.
pub fn serve_until_interrupted(
    config: kansoku_web::Config,
    addresses: &[SocketAddr],
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    runtime.block_on(async {
        let mut failures = Vec::new();
        let mut bound = None;
        for address in addresses {
            match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => {
                    bound = Some(listener);
                    break;
                }
                Err(e) => failures.push(format!("{address}: {e}")),
            }
        }
        let listener =
            bound.with_context(|| format!("cannot listen on {}", failures.join("; ")))?;
        ready(listener.local_addr()?);
        kansoku_web::serve(listener, config, interrupted())
            .await
            .context("serving")
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn interrupted() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
