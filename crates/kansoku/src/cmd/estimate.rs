//! `kansoku estimate`: the infected population behind a signature's sources, over time,
//! with a logistic fit and the verdict on each assumption (see docs/estimate.md and
//! `kansoku_analyse::estimate`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use chrono::{DateTime, SecondsFormat};
use clap::Args;
use kansoku_analyse::estimate::{Band, Estimate, EstimateConfig, HOUR, HourEstimate, estimate};
use kansoku_store::Store;
use kansoku_store::population::{EstimateInputs, estimate_inputs, telescope_share};
use serde_json::{Value, json};

use super::Format;
use crate::time::{parse_time, unix_seconds};

#[derive(Args, Debug)]
pub struct EstimateArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// The signature whose sources are the infected hosts: slammer, sasser, ...
    #[arg(long)]
    pub signature: String,
    /// The telescope's prefixes (one or more): its share of IPv4 turns hit rates into
    /// Internet-wide probe rates.
    #[arg(long, value_name = "CIDR", required = true, num_args = 1.., value_parser = super::parse_prefix)]
    pub telescope: Vec<String>,
    /// Start of the window (rounded down to the hour): 2003-08-11, "2003-08-11 16:00" or
    /// RFC 3339 (UTC). Default: the signature's first hour in the store.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// End of the window, exclusive (rounded up to the hour). Default: the end of the
    /// signature's last hour.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// Coverage of the bands.
    #[arg(long, default_value_t = 0.95, value_parser = parse_confidence)]
    pub confidence: f64,
    /// Bootstrap replicates behind the bands.
    #[arg(long, default_value_t = 200)]
    pub replicates: usize,
    /// Seed of the bootstrap: the same store and seed give the same bands.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// table: summary, assumptions and hourly series; json: all of it as one object; csv:
    /// the hourly series.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_confidence(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(c) if c > 0.0 && c < 1.0 => Ok(c),
        _ => Err(format!("`{text}` is not a confidence between 0 and 1")),
    }
}

fn rfc3339(unix: f64) -> String {
    DateTime::from_timestamp(unix.round() as i64, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("@{unix}"))
}

fn band(b: &Band) -> Value {
    json!({"estimate": b.estimate, "low": b.low, "high": b.high})
}

fn hour_json(h: &HourEstimate) -> Value {
    json!({
        "hour": rfc3339(h.hour as f64),
        "seen": h.seen,
        "once": h.once,
        "twice": h.twice,
        "estimate": h.population.estimate,
        "low": h.population.low,
        "high": h.population.high,
        "lower_bound": h.lower_bound,
    })
}

/// Everything as one JSON object.
fn to_json(args: &EstimateArgs, share: f64, window: (i64, i64), e: &Estimate) -> Value {
    json!({
        "signature": args.signature,
        "telescope": args.telescope,
        "telescope_share": share,
        "from": rfc3339(window.0 as f64),
        "to": rfc3339(window.1 as f64),
        "confidence": args.confidence,
        "sources": e.sources,
        "probes": e.probes,
        "median_probe_rate": e.median_probe_rate,
        "at_end": e.at_end.as_ref().map(hour_json),
        "fit": e.fit.as_ref().map(|f| json!({
            "capacity": band(&f.capacity),
            "growth_per_hour": band(&f.growth_per_hour),
            "doubling_hours": band(&f.doubling_hours),
            "midpoint": {
                "estimate": rfc3339(f.midpoint.estimate),
                "low": rfc3339(f.midpoint.low),
                "high": rfc3339(f.midpoint.high),
            },
        })),
        "assumptions": e.assumptions.iter().map(|a| json!({
            "name": a.name,
            "verdict": a.verdict.to_string(),
            "detail": a.detail,
        })).collect::<Vec<_>>(),
        "hourly": e.hourly.iter().map(hour_json).collect::<Vec<_>>(),
    })
}

fn write_table(
    out: &mut impl Write,
    args: &EstimateArgs,
    share: f64,
    window: (i64, i64),
    e: &Estimate,
) -> std::io::Result<()> {
    let pct = 100.0 * args.confidence;
    writeln!(
        out,
        "{}: {} sources, {} probes, {} to {} (telescope share {share:.3e})",
        args.signature,
        e.sources,
        e.probes,
        rfc3339(window.0 as f64),
        rfc3339(window.1 as f64)
    )?;
    if let Some(r) = e.median_probe_rate {
        writeln!(out, "median probe rate: {r:.2} addresses/s per host")?;
    }
    if let Some(end) = &e.at_end {
        let p = &end.population;
        writeln!(
            out,
            "infected by the end: {:.0} ({pct:.0}% band {:.0} to {:.0}; {} seen; at least {:.0} whatever the active times)",
            p.estimate, p.low, p.high, end.seen, end.lower_bound
        )?;
    } else if e.sources > 0 {
        writeln!(
            out,
            "infected by the end: at least {} (the sources seen; no extrapolation, see the \
             assumptions)",
            e.sources
        )?;
    }
    if let Some(f) = &e.fit {
        let (k, d) = (&f.capacity, &f.doubling_hours);
        // A plateau the series had not bent towards has no upper edge (docs/estimate.md).
        let k_high = if k.high.is_finite() {
            format!("{:.0}", k.high)
        } else {
            "no upper bound".to_owned()
        };
        writeln!(
            out,
            "logistic plateau: {:.0} ({:.0} to {k_high}); doubling time {:.2} h ({:.2} to {:.2}); midpoint {}",
            k.estimate,
            k.low,
            d.estimate,
            d.low,
            d.high,
            rfc3339(f.midpoint.estimate)
        )?;
    }
    writeln!(out, "assumptions:")?;
    for a in &e.assumptions {
        writeln!(out, "  {}: {}. {}", a.name, a.verdict, a.detail)?;
    }
    if !e.hourly.is_empty() {
        writeln!(
            out,
            "{:<21} {:>7} {:>6} {:>6} {:>9} {:>9} {:>9}",
            "hour", "seen", "once", "twice", "estimate", "low", "high"
        )?;
        for h in &e.hourly {
            writeln!(
                out,
                "{:<21} {:>7} {:>6} {:>6} {:>9.0} {:>9.0} {:>9.0}",
                rfc3339(h.hour as f64),
                h.seen,
                h.once,
                h.twice,
                h.population.estimate,
                h.population.low,
                h.population.high
            )?;
        }
    }
    Ok(())
}

fn write_csv(out: &mut impl Write, e: &Estimate) -> std::io::Result<()> {
    writeln!(out, "hour,seen,once,twice,estimate,low,high,lower_bound")?;
    for h in &e.hourly {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            rfc3339(h.hour as f64),
            h.seen,
            h.once,
            h.twice,
            h.population.estimate,
            h.population.low,
            h.population.high,
            h.lower_bound
        )?;
    }
    Ok(())
}

pub fn run(args: EstimateArgs) -> Result<bool> {
    let share = telescope_share(&args.telescope).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = Store::open(&args.store)?;
    let from = unix_seconds(&args.from).map(|t| t.div_euclid(HOUR) * HOUR);
    let to = unix_seconds(&args.to).map(|t| (t + HOUR - 1).div_euclid(HOUR) * HOUR);
    let EstimateInputs { rows, ambiguous } = estimate_inputs(&store, &args.signature, from, to)?;
    let from = from.or_else(|| rows.iter().map(|o| o.hour).min());
    let to = to.or_else(|| rows.iter().map(|o| o.hour + HOUR).max());
    let (Some(from), Some(to)) = (from, to) else {
        bail!(
            "no IPv4 sources of signature `{}` in the store{} (the estimate scales by the \
             telescope's share of the IPv4 space, so it counts IPv4 sources only)",
            args.signature,
            if args.from.is_some() || args.to.is_some() {
                " in that window"
            } else {
                ""
            }
        );
    };
    let config = EstimateConfig {
        share,
        from,
        to,
        confidence: args.confidence,
        replicates: args.replicates,
        seed: args.seed,
    };
    let e = estimate(&rows, &ambiguous, &config);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &to_json(&args, share, (from, to), &e))?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, &args, share, (from, to), &e)?,
        Format::Csv => write_csv(&mut out, &e)?,
    }
    Ok(true)
}
