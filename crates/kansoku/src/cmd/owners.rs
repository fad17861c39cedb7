//! `kansoku owners`: per owner (from a prefixes file or an ASN database), the infected and
//! scanning hosts in the store, to notify them. The assignment, grouping and formats live in
//! `kansoku_analyse::owners`; this reads the store and writes the result.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Args};
use kansoku_analyse::owners::{
    AsnDatabase, Directory, Document, GroupOptions, KindPolicy, Period, PrefixOwners, SCHEMA,
    group, rfc3339_micros, write, write_per_owner,
};
use kansoku_store::Store;
use kansoku_store::activity::{ActivityFilter, read_activity};

use super::Format;
use crate::coverage::warn_outside;
use crate::time::{parse_time, unix_seconds};

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("owners").required(true).args(["prefixes", "asn_db"])))]
pub struct OwnersArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// CSV mapping prefixes to owners: a header `prefix,owner,contact`, then one prefix per
    /// line (IPv4 or IPv6 CIDR; the longest matching prefix wins). See docs/owners.md.
    #[arg(long, value_name = "FILE.csv")]
    pub prefixes: Option<PathBuf>,
    /// MaxMind ASN database (GeoLite2-ASN or GeoIP2-ISP format): the owner of an address is
    /// `AS<number> <organization>`.
    #[arg(long, value_name = "FILE.mmdb")]
    pub asn_db: Option<PathBuf>,
    /// From this time (inclusive): 2003-08-11, "2003-08-11 16:00" or RFC 3339 (UTC). A
    /// source-hour that overlaps the period counts whole.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// ...until this time (exclusive).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// Only entries of this signature (repeatable): blaster, scan/tcp/445, ...
    #[arg(long, value_name = "NAME")]
    pub signature: Vec<String>,
    /// Also list DoS victims (kind `backscatter`): hosts whose answers to spoofed floods
    /// reached the darknet. They are victims, not culprits, so they are left out by default.
    #[arg(long)]
    pub backscatter: bool,
    /// Leave out the sources in no prefix (the `unassigned` group).
    #[arg(long)]
    pub skip_unassigned: bool,
    /// A signature that is a scanning tool rather than malware (repeatable; zmap and masscan
    /// always are): its hosts are reported as `scanning`, not `infected`.
    #[arg(long, value_name = "NAME")]
    pub tool: Vec<String>,
    /// Write one file per owner into this directory (OWNER.json, .csv or .txt) and print
    /// their paths, instead of printing every owner.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: OwnersArgs) -> Result<bool> {
    // The owner source first: a typo in it should not wait for a store scan.
    let directory = match (&args.prefixes, &args.asn_db) {
        (Some(path), _) => Directory::Prefixes(PrefixOwners::load(path)?),
        (None, Some(path)) => Directory::Asn(AsnDatabase::open(path)?),
        (None, None) => unreachable!("clap requires --prefixes or --asn-db"),
    };
    let store = Store::open(&args.store)?;
    warn_outside(&store, unix_seconds(&args.from), unix_seconds(&args.to))?;
    let activity = read_activity(
        &store,
        &ActivityFilter {
            from: args.from.clone(),
            to: args.to.clone(),
            signatures: args.signature.clone(),
        },
    )?;
    let mut policy = KindPolicy {
        backscatter: args.backscatter,
        ..KindPolicy::default()
    };
    policy.tools.extend(args.tool.iter().cloned());
    let options = GroupOptions {
        policy,
        skip_unassigned: args.skip_unassigned,
    };
    let now_us = chrono::Utc::now().timestamp_micros();
    let document = Document {
        schema: SCHEMA,
        generated_at: rfc3339_micros(now_us),
        generator: format!("kansoku {}", env!("CARGO_PKG_VERSION")),
        store: args.store.display().to_string(),
        period: Period {
            from: args.from.clone(),
            to: args.to.clone(),
        },
        owners: group(&directory, &activity, &options)?,
    };
    let format = match args.format {
        Format::Table => kansoku_analyse::owners::Format::Table,
        Format::Json => kansoku_analyse::owners::Format::Json,
        Format::Csv => kansoku_analyse::owners::Format::Csv,
    };
    let mut out = std::io::stdout().lock();
    match &args.out_dir {
        Some(dir) => {
            for path in write_per_owner(dir, &document, format)? {
                writeln!(out, "{}", path.display())?;
            }
        }
        None => write(&mut out, &document, format)?,
    }
    Ok(true)
}
