//! `kansoku owners`: per owner (from a prefixes file or an ASN database), the infected and
//! scanning hosts in the store, to notify them. The assignment, grouping and formats live in
//! `kansoku_analyse::owners`; this reads the store and writes the result.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use clap::{ArgGroup, Args};
use kansoku_analyse::owners::{
    Activity, AsnDatabase, Directory, Document, GroupOptions, KindPolicy, Period, PrefixOwners,
    SCHEMA, group, rfc3339_micros, write, write_per_owner,
};
use kansoku_store::{Query, Store};

use super::Format;
use crate::time::parse_time;

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

/// SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Per (source, signature) over the period: the sums an owner report needs, and the
/// source's final label over all its signatures (as `kansoku evaluate` defines it).
fn activity_sql(args: &OwnersArgs) -> String {
    let mut window = Vec::new();
    if let Some(from) = &args.from {
        window.push(format!("last_seen >= {}", quote(from)));
    }
    if let Some(to) = &args.to {
        window.push(format!("first_seen < {}", quote(to)));
    }
    let window = if window.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", window.join(" AND "))
    };
    let only = if args.signature.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = args.signature.iter().map(|s| quote(s)).collect();
        format!("WHERE s.signature IN ({})", names.join(", "))
    };
    format!(
        "WITH s AS (SELECT * FROM sources {window}), \
         l AS (SELECT src, last_value(label ORDER BY hour, last_seen) AS label FROM s GROUP BY src) \
         SELECT s.src, s.signature, l.label, \
         CAST(min(s.first_seen) AS BIGINT) AS first_us, CAST(max(s.last_seen) AS BIGINT) AS last_us, \
         CAST(count(DISTINCT s.hour) AS BIGINT) AS hours, CAST(sum(s.packets) AS BIGINT) AS packets, \
         CAST(sum(s.bytes) AS BIGINT) AS bytes, CAST(max(s.destinations) AS BIGINT) AS destinations, \
         string_agg(s.rules, ' ') AS rules, string_agg(s.top_ports, ' ') AS top_ports \
         FROM s JOIN l ON s.src = l.src {only} \
         GROUP BY s.src, s.signature, l.label"
    )
}

fn strings(batch: &RecordBatch, i: usize) -> Result<StringArray> {
    let cast = arrow::compute::cast(batch.column(i), &DataType::Utf8)?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .context("sources query: a text column is not text")
}

fn numbers(batch: &RecordBatch, i: usize) -> Result<Int64Array> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .context("sources query: a number column is not BIGINT")
}

fn read_activity(batches: &[RecordBatch]) -> Result<Vec<Activity>> {
    let mut rows = Vec::new();
    for b in batches {
        let (src, signature, label) = (strings(b, 0)?, strings(b, 1)?, strings(b, 2)?);
        let (first, last, hours) = (numbers(b, 3)?, numbers(b, 4)?, numbers(b, 5)?);
        let (packets, bytes, destinations) = (numbers(b, 6)?, numbers(b, 7)?, numbers(b, 8)?);
        let (rules, ports) = (strings(b, 9)?, strings(b, 10)?);
        let text = |a: &StringArray, i| {
            if a.is_null(i) {
                String::new()
            } else {
                a.value(i).to_owned()
            }
        };
        let count = |a: &Int64Array, i| u64::try_from(a.value(i)).unwrap_or(0);
        for i in 0..b.num_rows() {
            rows.push(Activity {
                src: text(&src, i),
                signature: text(&signature, i),
                label: text(&label, i),
                first_seen_us: first.value(i),
                last_seen_us: last.value(i),
                hours: count(&hours, i),
                packets: count(&packets, i),
                bytes: count(&bytes, i),
                max_destinations: count(&destinations, i),
                rules: text(&rules, i),
                top_ports: text(&ports, i),
            });
        }
    }
    Ok(rows)
}

pub fn run(args: OwnersArgs) -> Result<bool> {
    // The owner source first: a typo in it should not wait for a store scan.
    let directory = match (&args.prefixes, &args.asn_db) {
        (Some(path), _) => Directory::Prefixes(PrefixOwners::load(path)?),
        (None, Some(path)) => Directory::Asn(AsnDatabase::open(path)?),
        (None, None) => unreachable!("clap requires --prefixes or --asn-db"),
    };
    let store = Store::open(&args.store)?;
    let batches = Query::new(&store)?.sql(&activity_sql(&args))?;
    let activity = read_activity(&batches)?;
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
