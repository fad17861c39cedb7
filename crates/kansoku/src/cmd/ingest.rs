//! `kansoku ingest`: read captures into a store, one committed transaction per input.

use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kansoku_analyse::alerts::AlertConfig;
use kansoku_classify::{Classifier, Networks, Signatures};
use kansoku_packet::decode::Malformed;
use kansoku_packet::source::{
    CaptureReader, Compression, Container, ContentHash, Fault, FaultKind, Input, expand_inputs,
    prefix_hashes,
};
use kansoku_store::{COUNTED_HEAD, FaultRecord, Manifest, ManifestEntry, Resume, Store};

use crate::alerting;
use crate::pipeline::{self, DecodeStats, Processed};
use crate::time::{parse_duration, rfc3339};

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Store directory (created if missing).
    #[arg(long)]
    pub store: PathBuf,
    /// Name of the sensor that captured the inputs.
    #[arg(long, default_value = "default")]
    pub sensor: String,
    /// Observation bin width (30s, 5m, 1h...); must divide an hour. Fixed when the store is
    /// created: later ingests must use the same or leave it out. [default for a new store: 5m]
    #[arg(long, value_parser = parse_duration)]
    pub bin: Option<u32>,
    /// Extra fingerprint rules (TOML, see docs/rules.md), loaded after the built-in ones; a rule
    /// with an existing id replaces it. Repeatable.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Load no fingerprint rules, not even the built-in ones: packets get only generic
    /// `scan/<proto>/<port>` labels. bench/ingest.sh uses it to measure what the rules cost.
    #[arg(long, conflicts_with = "rules")]
    pub no_rules: bool,
    /// Networks of known research scanners (one CIDR per line, `#` comments): their packets
    /// are labelled `research-scanner`, a benign label, instead of by the rules.
    #[arg(long, value_name = "FILE")]
    pub research_networks: Option<PathBuf>,
    /// The sensor's monitored prefixes (repeatable): only backscatter answers sent into them
    /// join the DoS attacks of the `backscatter` table. Answers to other addresses, such as a
    /// scanner's own replies in a LAN capture, are not a victim's answers to spoofed floods.
    /// Labels and counts are unchanged. [default: every answer counts]
    #[arg(long, value_name = "CIDR", value_parser = super::parse_prefix)]
    pub telescope: Vec<String>,
    /// Skip inputs whose content is already in the store (one line each, exit code 0)
    /// instead of refusing them.
    #[arg(long)]
    pub skip_known: bool,
    /// Exit with 0 even when inputs had faults (the faults are still reported and recorded).
    #[arg(long)]
    pub keep_going: bool,
    /// Threads: 1 runs every stage in one loop; 2 or more split reading/decoding from
    /// aggregation/writing. The alert refresh after the ingest keeps to as many.
    /// [default: all cores]
    #[arg(long)]
    pub threads: Option<NonZeroUsize>,
    /// Capture files (pcap, pcapng, optionally .gz/.zst), directories (read recursively), or
    /// `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// What one run did, for the final line and the exit code.
#[derive(Default)]
struct Tally {
    committed: usize,
    skipped: usize,
    refused: usize,
    faulty: usize,
    frames: u64,
}

pub fn run(args: IngestArgs) -> Result<bool> {
    if let Some(bin) = args.bin
        && (bin == 0 || 3600 % bin != 0)
    {
        anyhow::bail!("--bin {bin}s does not divide an hour; choose e.g. 1m, 5m, 10m, 15m or 1h");
    }
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let rule_files: Vec<&Path> = args.rules.iter().map(PathBuf::as_path).collect();
    let classifier = if args.no_rules {
        Classifier::from_sources(&[])?
    } else {
        Classifier::load(&rule_files)?
    };
    let classifier = match &args.research_networks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let networks =
                Networks::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            classifier.with_research_networks(networks)
        }
        None => classifier,
    };
    let telescope = Networks::parse(&args.telescope.join("\n"))
        .map_err(|e| anyhow::anyhow!("--telescope: {e}"))?;
    let mut store = Store::open_for_writing(&args.store, args.bin)?;
    store.limit_query_threads(NonZeroUsize::new(threads).unwrap_or(NonZeroUsize::MIN));
    let bin_ns = i64::from(store.meta().bin_seconds) * 1_000_000_000;
    let (inputs, skipped_files) = expand_inputs(&args.inputs);
    for path in &skipped_files {
        eprintln!(
            "{}: not a capture (no pcap/pcapng/gzip/zstd magic), skipped",
            path.display()
        );
    }
    if inputs.is_empty() {
        anyhow::bail!("no capture files among the inputs");
    }
    let started = Instant::now();
    let mut run = Run {
        args: &args,
        store,
        classifier,
        telescope,
        threads,
        bin_ns,
        tally: Tally::default(),
        earliest_new_ns: None,
    };
    for input in &inputs {
        run.ingest(input)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let alerts_started = Instant::now();
    if let Some(since_ns) = run.earliest_new_ns {
        // Alerts are kept current as data arrives: re-derived from the new data's first bin.
        let since_s = since_ns.div_euclid(1_000_000_000);
        let fresh = alerting::refresh(&run.store, since_s, &AlertConfig::default())
            .context("updating the alerts table")?;
        if let Some(note) = fresh.learning_note() {
            eprintln!("note: {note}");
        }
        let raised = fresh.rows.iter().map(|a| a.at_s);
        if let (Some(first), Some(last)) = (raised.clone().min(), raised.max()) {
            eprintln!(
                "{} outbreak alert(s) raised between {} and {}: see `kansoku alerts --store {}`",
                fresh.rows.len(),
                rfc3339(first.saturating_mul(1_000_000_000)),
                rfc3339(last.saturating_mul(1_000_000_000)),
                args.store.display()
            );
        }
    }
    let tally = run.tally;
    eprintln!(
        "{} committed, {} skipped as known, {} refused, {} with faults; {} frames in {:.2}s \
         ({:.2} M frames/s); alerts refreshed in {:.2}s",
        tally.committed,
        tally.skipped,
        tally.refused,
        tally.faulty,
        tally.frames,
        secs,
        tally.frames as f64 / secs.max(1e-9) / 1e6,
        alerts_started.elapsed().as_secs_f64()
    );
    Ok(tally.refused == 0 && (tally.faulty == 0 || args.keep_going))
}

/// One `kansoku ingest` run: what its inputs share.
struct Run<'a> {
    args: &'a IngestArgs,
    store: Store,
    classifier: Classifier,
    telescope: Networks,
    threads: usize,
    bin_ns: i64,
    tally: Tally,
    /// Earliest frame of the inputs committed by this run: alerts are refreshed from there.
    earliest_new_ns: Option<i64>,
}

impl Run<'_> {
    /// Read one input and commit it (or record why not).
    fn ingest(&mut self, input: &Input) -> Result<()> {
        let (store, classifier, telescope, args, tally) = (
            &mut self.store,
            &mut self.classifier,
            &self.telescope,
            self.args,
            &mut self.tally,
        );
        let (threads, bin_ns) = (self.threads, self.bin_ns);
        let label = input.to_string();
        let size = match input {
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Stdin => None,
        };
        // Cheap early refusal: only a file whose size matches a known input is hashed up front.
        if let (Input::File(path), Some(size)) = (input, size)
            && store
                .manifest()
                .entries
                .iter()
                .any(|e| e.size == Some(size))
            && let Ok(hash) = hash_file(path)
            && let Some(known) = store.manifest().find_hash(&hash)
        {
            report_known(&label, known, args.skip_known, tally);
            return Ok(());
        }
        let reader = match input {
            Input::File(path) => CaptureReader::open(path),
            Input::Stdin => CaptureReader::from_reader(Box::new(std::io::stdin())),
        };
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(e) => {
                // Unreadable: recorded, so the manifest says what happened to every input.
                eprintln!("{label}: cannot read: {e}");
                let fault = Fault {
                    offset: 0,
                    kind: FaultKind::Io {
                        message: e.to_string(),
                    },
                    count: 1,
                };
                let entry = ManifestEntry {
                    input: label,
                    sensor: args.sensor.clone(),
                    ingested_at: rfc3339(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)),
                    compression: "none".into(),
                    size,
                    faults: vec![fault_record(&fault)],
                    ..ManifestEntry::default()
                };
                let staging = store.stage(&args.sensor, Signatures::default())?;
                store.commit(staging, entry)?;
                tally.faulty += 1;
                return Ok(());
            }
        };
        let resumes = match input {
            Input::File(path) => resumed_prefix(store.manifest(), path),
            Input::Stdin => None,
        };
        if let Some((known, resume)) = &resumes {
            eprintln!(
                "{label}: its first {} bytes are what {} counted (ingest {}, stopped by a fault \
                 there); counting only the records after them",
                resume.offset, known.input, known.id
            );
            reader.resume_at(resume.offset);
        }
        let resumes = resumes.map(|(_, resume)| resume);
        let mut staging = store.stage(&args.sensor, classifier.signatures().clone())?;
        let bar = progress_bar(size, &label);
        let tick = |frames: u64| {
            if let Some(bar) = &bar {
                bar.set_message(format!("{frames} frames"));
                bar.tick();
            }
        };
        let Processed { stats, read } = pipeline::process(
            reader,
            classifier,
            telescope,
            bin_ns,
            &mut staging,
            threads,
            &tick,
        )
        .with_context(|| format!("{label}: ingest failed; nothing of it was committed"))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let hash = read.content_hash.to_hex().to_string();
        if let Some(known) = store.manifest().find_hash(&hash) {
            staging.abandon();
            report_known(&label, known, args.skip_known, tally);
            return Ok(());
        }
        for fault in &read.faults {
            eprintln!("{label}: {fault}");
        }
        let faulty = !read.faults.is_empty();
        let mut entry = manifest_entry(label.clone(), args, size, hash, &stats, &read);
        entry.resumes = resumes;
        // A read stopped by a fault after counting something: a later, longer copy of the same
        // bytes resumes after them. With nothing counted there is nothing to resume from.
        if let Input::File(path) = input
            && stats.frames > 0
            && read.faults.iter().any(|f| f.kind.is_fatal())
        {
            let lengths = [read.bytes_read.min(COUNTED_HEAD), read.bytes_read];
            if let Ok([head, counted]) = prefix_hashes(path, &lengths).as_deref() {
                let hex = |h: &Option<ContentHash>| h.map(|h| h.to_hex().to_string());
                entry.counted_head_hash = hex(head);
                entry.counted_hash = hex(counted);
            }
        }
        store.commit(staging, entry)?;
        let malformed: u64 = stats.malformed.iter().sum();
        eprintln!(
            "{label}: {} frames, {} IP packets, {} not IP, {} malformed, {} on unknown links{}",
            stats.frames,
            stats.ip_packets,
            stats.not_ip,
            malformed,
            stats.unknown_link,
            if faulty {
                "; committed with faults (see above)"
            } else {
                ""
            }
        );
        if let Some(first) = stats.first_ts {
            self.earliest_new_ns = Some(self.earliest_new_ns.map_or(first, |e| e.min(first)));
        }
        tally.frames += stats.frames;
        tally.committed += 1;
        tally.faulty += usize::from(faulty);
        Ok(())
    }
}

/// The earlier ingest, stopped by a fatal fault, whose counted bytes `path` starts with (the
/// longest such prefix), and where to resume. Inputs that cannot be read here are read (and
/// their faults reported) by the ingest itself, so errors only mean "no resume".
fn resumed_prefix<'m>(manifest: &'m Manifest, path: &Path) -> Option<(&'m ManifestEntry, Resume)> {
    // Those whose first bytes match (a read of at most COUNTED_HEAD bytes), then those whose
    // whole counted part does: an unrelated input is not read twice.
    let matching = |entries: Vec<&'m ManifestEntry>,
                    length: fn(&ManifestEntry) -> u64,
                    hash: fn(&ManifestEntry) -> Option<&str>| {
        let lengths: Vec<u64> = entries.iter().map(|e| length(e)).collect();
        let hashes = prefix_hashes(path, &lengths).ok()?;
        let same = |(e, h): &(&ManifestEntry, Option<ContentHash>)| {
            h.is_some_and(|h| hash(e) == Some(h.to_hex().as_str()))
        };
        let kept: Vec<&'m ManifestEntry> = entries
            .into_iter()
            .zip(hashes)
            .filter(same)
            .map(|(e, _)| e)
            .collect();
        (!kept.is_empty()).then_some(kept)
    };
    let stopped: Vec<&ManifestEntry> = manifest
        .entries
        .iter()
        .filter(|e| e.counted_hash.is_some() && e.counted_head_hash.is_some() && e.frames > 0)
        .collect();
    if stopped.is_empty() {
        return None;
    }
    let heads = matching(
        stopped,
        |e| e.bytes_read.min(COUNTED_HEAD),
        |e| e.counted_head_hash.as_deref(),
    )?;
    matching(heads, |e| e.bytes_read, |e| e.counted_hash.as_deref())?
        .into_iter()
        .max_by_key(|e| e.bytes_read)
        .map(|e| {
            let resume = Resume {
                ingest: e.id.clone(),
                offset: e.bytes_read,
            };
            (e, resume)
        })
}

fn report_known(label: &str, known: &ManifestEntry, skip: bool, tally: &mut Tally) {
    if skip {
        tally.skipped += 1;
        eprintln!("{label}: already ingested (as {}), skipped", known.input);
    } else {
        tally.refused += 1;
        eprintln!(
            "{label}: refused: the same content was already ingested as {} on {} (ingest {}); \
             counting it again would double every figure. Use --skip-known to skip such inputs \
             without failing.",
            known.input, known.ingested_at, known.id
        );
    }
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    // Finishing a reader that read nothing hashes the whole (decompressed) content.
    let summary = CaptureReader::open(path)?.finish()?;
    Ok(summary.content_hash.to_hex().to_string())
}

fn manifest_entry(
    input: String,
    args: &IngestArgs,
    size: Option<u64>,
    hash: String,
    stats: &DecodeStats,
    read: &kansoku_packet::source::ReadSummary,
) -> ManifestEntry {
    ManifestEntry {
        input,
        content_hash: Some(hash),
        size,
        sensor: args.sensor.clone(),
        ingested_at: rfc3339(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)),
        container: read.container.map(|c| {
            match c {
                Container::Pcap => "pcap",
                Container::Pcapng => "pcapng",
            }
            .to_owned()
        }),
        compression: match read.compression {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
        .to_owned(),
        frames: stats.frames,
        ip_packets: stats.ip_packets,
        not_ip: stats.not_ip,
        unknown_link: stats.unknown_link,
        malformed: Malformed::ALL
            .iter()
            .filter(|m| stats.malformed[**m as usize] > 0)
            .map(|m| (m.as_str().to_owned(), stats.malformed[*m as usize]))
            .collect(),
        first_ts: stats.first_ts.map(rfc3339),
        last_ts: stats.last_ts.map(rfc3339),
        bytes_read: read.bytes_read,
        faults: read.faults.iter().map(fault_record).collect(),
        ..ManifestEntry::default()
    }
}

fn fault_record(fault: &Fault) -> FaultRecord {
    FaultRecord {
        offset: fault.offset,
        code: fault.kind.code().to_owned(),
        message: fault.kind.to_string(),
        count: fault.count,
        fatal: fault.kind.is_fatal(),
    }
}

/// A spinner with the input's name on a terminal; nothing on a pipe.
fn progress_bar(size: Option<u64>, label: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let size = size.map_or(String::new(), |s| format!("({:.1} MB)", s as f64 / 1e6));
    bar.set_prefix(format!("{label} {size}"));
    Some(bar)
}
