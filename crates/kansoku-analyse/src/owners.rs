//! Owner (notification) reports: which infected and scanning hosts belong to whom.
//!
//! Sources are assigned to owners by longest-prefix match over a prefixes file
//! (`prefix,owner,contact`) or by the network a MaxMind ASN database returns; one entry per
//! (source, signature) carries the evidence an owner needs to act. The JSON document is a
//! contract with the recipients, who automate on it: its shape is `docs/owner-report.schema.json`
//! and its version is [`SCHEMA`] (docs/owners.md has the version policy).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Name and major version of the JSON document. Adding a field keeps the version; removing,
/// renaming or changing the meaning of one bumps it.
pub const SCHEMA: &str = "kansoku.owner-report/1";

/// Owner name of the sources in no prefix (reserved: a prefixes file may not use it).
pub const UNASSIGNED: &str = "unassigned";

/// Signatures of scanning tools rather than of malware, by default.
pub const DEFAULT_TOOLS: [&str; 2] = ["zmap", "masscan"];

/// Errors name the file and, for the prefixes file, the line.
#[derive(Debug, thiserror::Error)]
pub enum OwnersError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Prefixes {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: not a usable MaxMind DB (GeoLite2-ASN or GeoIP2-ISP) file: {message}")]
    Mmdb { path: PathBuf, message: String },
}

/// An IP prefix. IPv4 is held as IPv4-mapped IPv6 so that one matcher serves both families;
/// it prints in the family it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    /// Network address, host bits zero, in the IPv6 space.
    bits: u128,
    /// Prefix length in the IPv6 space (an IPv4 /24 is 120).
    len: u8,
    v4: bool,
}

fn mapped(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn is_v4_mapped(a: u128) -> bool {
    a >> 32 == 0xffff
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl Prefix {
    /// The prefix of `len` bits (in `ip`'s own family) around `ip`, host bits cleared.
    pub fn new(ip: IpAddr, len: u8) -> Option<Self> {
        let offset = if ip.is_ipv4() { 96 } else { 0 };
        let len = len.checked_add(offset).filter(|l| *l <= 128)?;
        let bits = mapped(ip) & mask(len);
        Some(Self {
            bits,
            len,
            // An IPv6 prefix inside ::ffff:0:0/96 holds the same hosts as an IPv4 one.
            v4: len >= 96 && is_v4_mapped(bits),
        })
    }

    /// `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128). Host bits must be
    /// zero: `10.1.2.3/8` is more likely a typo than a wish for 10.0.0.0/8.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| {
            format!("`{text}` is not an IP prefix like 192.0.2.0/24 or 2001:db8::/32")
        })?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len: u8 = match len {
            Some(l) => l
                .parse()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("`{text}`: prefix length must be 0 to {max}"))?,
            None => max,
        };
        let prefix = Self::new(ip, len).expect("length checked");
        if prefix.bits != mapped(ip) {
            return Err(format!(
                "`{text}` has host bits set: did you mean {prefix}?"
            ));
        }
        Ok(prefix)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v6 = Ipv6Addr::from(self.bits);
        match v6.to_ipv4_mapped() {
            Some(v4) if self.v4 => write!(f, "{v4}/{}", self.len - 96),
            _ => write!(f, "{v6}/{}", self.len),
        }
    }
}

/// Who a source belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub owner: String,
    pub contact: Option<String>,
    /// Autonomous system number, when the owner comes from an ASN database.
    pub asn: Option<u32>,
    /// The prefix that matched.
    pub prefix: Prefix,
}

/// One owner of a prefixes file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixOwner {
    pub name: String,
    pub contact: Option<String>,
    pub prefixes: Vec<Prefix>,
}

/// Owners by prefix, matched longest prefix first.
#[derive(Clone, Debug, Default)]
pub struct PrefixOwners {
    owners: Vec<PrefixOwner>,
    /// Per prefix length present, longest first: network address -> owner index. At most
    /// 129 hash lookups per address, usually a handful.
    by_len: Vec<(u8, HashMap<u128, usize>)>,
}

impl PrefixOwners {
    pub fn load(path: &Path) -> Result<Self, OwnersError> {
        let text = std::fs::read(path).map_err(|source| OwnersError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse CSV with a header naming the columns `prefix`, `owner` and optionally `contact`
    /// (in any order; other columns are ignored), then one prefix per line (a quoted field may
    /// hold commas but not line breaks). Blank lines and lines starting with `#` are skipped.
    /// An owner may have many lines (one per prefix); its contact must not disagree between
    /// them. `path` only names the file in errors.
    pub fn parse(text: &[u8], path: &Path) -> Result<Self, OwnersError> {
        let error = |line: u64, message: String| OwnersError::Prefixes {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut columns: Option<(usize, usize, Option<usize>)> = None;
        let mut owners: Vec<PrefixOwner> = Vec::new();
        // Owner name -> (index, line its contact came from).
        let mut owner_index: HashMap<String, (usize, u64)> = HashMap::new();
        let mut seen: HashMap<Prefix, u64> = HashMap::new();
        let mut record = csv::StringRecord::new();
        // One record per line, so that errors name the line an editor shows (the csv
        // crate's own positions do not count comment lines).
        // Spreadsheets often save CSV with a UTF-8 byte order mark.
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        for (n, text) in text.split(|b| *b == b'\n').enumerate() {
            let line = n as u64 + 1;
            let trimmed = text.trim_ascii();
            if trimmed.is_empty() || trimmed.starts_with(b"#") {
                continue;
            }
            if trimmed.iter().filter(|b| **b == b'"').count() % 2 == 1 {
                return Err(error(
                    line,
                    "unbalanced quotes: a quoted field must end on its line".into(),
                ));
            }
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(trimmed);
            let parsed = reader
                .read_record(&mut record)
                .map_err(|e| error(line, format!("not CSV: {e}")))?;
            if !parsed {
                continue;
            }
            let Some((prefix_col, owner_col, contact_col)) = columns else {
                let find = |name: &str| record.iter().position(|c| c.eq_ignore_ascii_case(name));
                let (Some(p), Some(o)) = (find("prefix"), find("owner")) else {
                    return Err(error(
                        line,
                        format!(
                            "the header must name the columns prefix, owner and (optionally) \
                             contact, as in `prefix,owner,contact`; found `{}`",
                            record.iter().collect::<Vec<_>>().join(",")
                        ),
                    ));
                };
                columns = Some((p, o, find("contact")));
                continue;
            };
            let field = |i: usize, name: &str| {
                record
                    .get(i)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| error(line, format!("missing {name} (column {})", i + 1)))
            };
            let prefix = Prefix::parse(field(prefix_col, "prefix")?).map_err(|m| error(line, m))?;
            let name = field(owner_col, "owner")?.to_owned();
            if name.eq_ignore_ascii_case(UNASSIGNED) {
                return Err(error(
                    line,
                    format!("the owner name `{UNASSIGNED}` is reserved for sources in no prefix"),
                ));
            }
            let contact = contact_col
                .and_then(|i| record.get(i))
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            if let Some(first) = seen.insert(prefix, line) {
                return Err(error(
                    line,
                    format!("{prefix} is listed again (first on line {first})"),
                ));
            }
            match owner_index.get_mut(&name) {
                Some((i, contact_line)) => {
                    let owner: &mut PrefixOwner = &mut owners[*i];
                    match (&owner.contact, contact) {
                        (Some(a), Some(b)) if *a != b => {
                            return Err(error(
                                line,
                                format!(
                                    "owner `{name}` has contact `{b}` here but `{a}` on line \
                                     {contact_line}"
                                ),
                            ));
                        }
                        (None, Some(b)) => {
                            owner.contact = Some(b);
                            *contact_line = line;
                        }
                        _ => {}
                    }
                    owner.prefixes.push(prefix);
                }
                None => {
                    owner_index.insert(name.clone(), (owners.len(), line));
                    owners.push(PrefixOwner {
                        name,
                        contact,
                        prefixes: vec![prefix],
                    });
                }
            }
        }
        if columns.is_none() {
            return Err(error(
                1,
                "empty: expected a header `prefix,owner,contact` and one line per prefix".into(),
            ));
        }
        Ok(Self::new(owners))
    }

    pub fn new(mut owners: Vec<PrefixOwner>) -> Self {
        let mut by_len: BTreeMap<u8, HashMap<u128, usize>> = BTreeMap::new();
        for (i, owner) in owners.iter_mut().enumerate() {
            owner.prefixes.sort();
            for p in &owner.prefixes {
                by_len.entry(p.len).or_default().insert(p.bits, i);
            }
        }
        Self {
            owners,
            by_len: by_len.into_iter().rev().collect(),
        }
    }

    pub fn owners(&self) -> &[PrefixOwner] {
        &self.owners
    }

    /// The owner of the longest prefix containing `ip`. IPv4 addresses match IPv4 prefixes
    /// only: an IPv6 `::/0` is not the owner of all of IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<(&PrefixOwner, Prefix)> {
        let a = mapped(ip);
        let min_len = if is_v4_mapped(a) { 96 } else { 0 };
        self.by_len
            .iter()
            .filter(|(len, _)| *len >= min_len)
            .find_map(|(len, nets)| {
                let bits = a & mask(*len);
                nets.get(&bits).map(|&i| {
                    let owner = &self.owners[i];
                    let prefix = *owner
                        .prefixes
                        .iter()
                        .find(|p| p.len == *len && p.bits == bits)
                        .expect("indexed prefixes belong to their owner");
                    (owner, prefix)
                })
            })
    }
}

/// A MaxMind DB with `autonomous_system_number` and `autonomous_system_organization`
/// (GeoLite2-ASN, GeoIP2-ISP): the owner of an address is `AS<number> <organization>`.
pub struct AsnDatabase {
    path: PathBuf,
    reader: maxminddb::Reader<Vec<u8>>,
}

impl fmt::Debug for AsnDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsnDatabase")
            .field("path", &self.path)
            .finish()
    }
}

impl AsnDatabase {
    pub fn open(path: &Path) -> Result<Self, OwnersError> {
        let bytes = std::fs::read(path).map_err(|source| OwnersError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| OwnersError::Mmdb {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// The AS announcing `ip`, with the database's network for it; `None` when the database
    /// has no AS number for it (an IPv6 address in an IPv4-only database included: its owner
    /// is unknown, which is no reason to fail the whole report).
    pub fn lookup(&self, ip: IpAddr) -> Result<Option<Assignment>, OwnersError> {
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None);
        }
        let bad = |e: maxminddb::MaxMindDbError| OwnersError::Mmdb {
            path: self.path.clone(),
            message: format!("looking up {ip}: {e}"),
        };
        let found = self.reader.lookup(ip).map_err(bad)?;
        let Some(asn) = found.decode::<maxminddb::geoip2::Asn<'_>>().map_err(bad)? else {
            return Ok(None);
        };
        let Some(number) = asn.autonomous_system_number else {
            return Ok(None);
        };
        let network = found.network().map_err(bad)?;
        let prefix =
            Prefix::new(network.ip(), network.prefix()).ok_or_else(|| OwnersError::Mmdb {
                path: self.path.clone(),
                message: format!("looking up {ip}: network {network} is not a prefix"),
            })?;
        let owner = match asn.autonomous_system_organization {
            Some(org) if !org.is_empty() => format!("AS{number} {org}"),
            _ => format!("AS{number}"),
        };
        Ok(Some(Assignment {
            owner,
            contact: None,
            asn: Some(number),
            prefix,
        }))
    }
}

/// Where owners come from.
#[derive(Debug)]
pub enum Directory {
    Prefixes(PrefixOwners),
    Asn(AsnDatabase),
}

impl Directory {
    pub fn assign(&self, ip: IpAddr) -> Result<Option<Assignment>, OwnersError> {
        match self {
            Directory::Prefixes(p) => Ok(p.lookup(ip).map(|(owner, prefix)| Assignment {
                owner: owner.name.clone(),
                contact: owner.contact.clone(),
                asn: None,
                prefix,
            })),
            Directory::Asn(db) => db.lookup(ip),
        }
    }
}

/// What an owner is told a host did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Its packets match a worm's fingerprint: the host runs malware.
    Infected,
    /// A scanning tool or a generic scan (`scan/<proto>/<port>`): someone scans from it.
    Scanning,
    /// It answered floods spoofed in its name: a DoS victim, not a culprit.
    Backscatter,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Infected => "infected",
            Kind::Scanning => "scanning",
            Kind::Backscatter => "backscatter",
        }
    }
}

/// Which signatures are reported, and as what.
#[derive(Clone, Debug)]
pub struct KindPolicy {
    /// Signatures of scanning tools (the rest of the rule signatures are malware).
    pub tools: BTreeSet<String>,
    /// Report DoS victims (kind `backscatter`) too.
    pub backscatter: bool,
}

impl Default for KindPolicy {
    fn default() -> Self {
        Self {
            tools: DEFAULT_TOOLS.iter().map(|t| (*t).to_owned()).collect(),
            backscatter: false,
        }
    }
}

impl KindPolicy {
    /// `None` for what no owner needs to hear about: research scanners (benign by
    /// definition), `unclassified` stray packets, and backscatter unless asked for.
    pub fn kind(&self, signature: &str) -> Option<Kind> {
        match signature {
            "research-scanner" | "unclassified" => None,
            "backscatter" => self.backscatter.then_some(Kind::Backscatter),
            s if s.starts_with("scan/") || self.tools.contains(s) => Some(Kind::Scanning),
            _ => Some(Kind::Infected),
        }
    }
}

/// One source's activity under one signature over the report's period, summed over its
/// rows of the `sources` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub src: String,
    pub signature: String,
    /// The source's final label in the period (over all its signatures).
    pub label: String,
    pub first_seen_us: i64,
    pub last_seen_us: i64,
    pub hours: u64,
    pub packets: u64,
    pub bytes: u64,
    pub max_destinations: u64,
    /// `rules` of every row, space separated (`blaster.syn-135:1180 ...`).
    pub rules: String,
    /// `top_ports` of every row, space separated (`tcp/135:1200 ...`).
    pub top_ports: String,
}

/// A (name, packets) count, such as a rule's evidence or a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub rule: String,
    pub packets: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortCount {
    pub port: String,
    pub packets: u64,
}

/// One host under one signature, as an owner reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    pub src: String,
    pub prefix: Option<String>,
    pub kind: Kind,
    pub signature: String,
    pub label: String,
    pub first_seen: String,
    pub last_seen: String,
    pub hours_active: u64,
    pub packets: u64,
    pub bytes: u64,
    pub max_destinations_per_hour: u64,
    pub ports: Vec<PortCount>,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub hosts: u64,
    pub infected: u64,
    pub scanning: u64,
    pub backscatter: u64,
    pub packets: u64,
}

/// Everything one owner is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnerReport {
    pub name: String,
    pub contact: Option<String>,
    pub asn: Option<u32>,
    /// `false` for the group of sources in no prefix.
    pub assigned: bool,
    /// The owner's prefixes from the prefixes file, or the database networks its hosts are in.
    pub prefixes: Vec<String>,
    pub summary: Summary,
    pub hosts: Vec<Host>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The JSON document: every owner on standard output, one owner per file with `--out-dir`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Document {
    pub schema: &'static str,
    pub generated_at: String,
    pub generator: String,
    pub store: String,
    pub period: Period,
    pub owners: Vec<OwnerReport>,
}

/// RFC 3339 UTC with microseconds, as the store's JSON prints times.
pub fn rfc3339_micros(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Sum `name:count` pairs (as the store writes `rules` and `top_ports`), most first.
fn merge_counts(text: &str) -> Vec<(String, u64)> {
    let mut sums: HashMap<&str, u64> = HashMap::new();
    for pair in text.split_ascii_whitespace() {
        if let Some((name, n)) = pair.rsplit_once(':')
            && let Ok(n) = n.parse::<u64>()
        {
            *sums.entry(name).or_default() += n;
        }
    }
    let mut counts: Vec<(String, u64)> = sums.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// Ports listed per host: the store keeps each hour's top five, so a longer list would
/// pretend to a completeness it does not have.
const PORTS_PER_HOST: usize = 10;

/// Options of [`group`].
#[derive(Clone, Debug, Default)]
pub struct GroupOptions {
    pub policy: KindPolicy,
    /// Leave out the sources in no prefix.
    pub skip_unassigned: bool,
}

/// Assign every activity to its owner and build one report per owner that has hosts:
/// owners by name (the unassigned group last), hosts infected first, then by address and
/// signature.
pub fn group(
    directory: &Directory,
    activity: &[Activity],
    options: &GroupOptions,
) -> Result<Vec<OwnerReport>, OwnersError> {
    let mut reports: BTreeMap<(bool, String), OwnerReport> = BTreeMap::new();
    let mut assigned_cache: HashMap<&str, Option<Assignment>> = HashMap::new();
    for a in activity {
        let Some(kind) = options.policy.kind(&a.signature) else {
            continue;
        };
        let Ok(ip) = a.src.parse::<IpAddr>() else {
            continue;
        };
        let assignment = match assigned_cache.get(a.src.as_str()) {
            Some(found) => found.clone(),
            None => {
                let found = directory.assign(ip)?;
                assigned_cache.insert(&a.src, found.clone());
                found
            }
        };
        if assignment.is_none() && options.skip_unassigned {
            continue;
        }
        let key = match &assignment {
            Some(x) => (false, x.owner.clone()),
            None => (true, UNASSIGNED.to_owned()),
        };
        let report = reports.entry(key).or_insert_with(|| OwnerReport {
            name: assignment
                .as_ref()
                .map_or(UNASSIGNED.to_owned(), |x| x.owner.clone()),
            contact: assignment.as_ref().and_then(|x| x.contact.clone()),
            asn: assignment.as_ref().and_then(|x| x.asn),
            assigned: assignment.is_some(),
            prefixes: Vec::new(),
            summary: Summary::default(),
            hosts: Vec::new(),
        });
        report.hosts.push(Host {
            src: a.src.clone(),
            prefix: assignment.as_ref().map(|x| x.prefix.to_string()),
            kind,
            signature: a.signature.clone(),
            label: a.label.clone(),
            first_seen: rfc3339_micros(a.first_seen_us),
            last_seen: rfc3339_micros(a.last_seen_us),
            hours_active: a.hours,
            packets: a.packets,
            bytes: a.bytes,
            max_destinations_per_hour: a.max_destinations,
            ports: merge_counts(&a.top_ports)
                .into_iter()
                .take(PORTS_PER_HOST)
                .map(|(port, packets)| PortCount { port, packets })
                .collect(),
            evidence: merge_counts(&a.rules)
                .into_iter()
                .map(|(rule, packets)| Evidence { rule, packets })
                .collect(),
        });
    }
    let configured: HashMap<&str, Vec<String>> = match directory {
        Directory::Prefixes(p) => p
            .owners()
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    o.prefixes.iter().map(Prefix::to_string).collect(),
                )
            })
            .collect(),
        Directory::Asn(_) => HashMap::new(),
    };
    let mut out = Vec::with_capacity(reports.len());
    for (_, mut report) in reports {
        report.hosts.sort_by(|a, b| {
            let ip = |h: &Host| h.src.parse::<IpAddr>().map(mapped).unwrap_or_default();
            (a.kind, ip(a), &a.signature).cmp(&(b.kind, ip(b), &b.signature))
        });
        report.prefixes = match configured.get(report.name.as_str()) {
            Some(list) => list.clone(),
            None => {
                // Networks of the database, in address order.
                let mut nets: Vec<Prefix> = report
                    .hosts
                    .iter()
                    .filter_map(|h| h.prefix.as_deref().and_then(|p| Prefix::parse(p).ok()))
                    .collect();
                nets.sort();
                nets.dedup();
                nets.iter().map(Prefix::to_string).collect()
            }
        };
        let mut sources: BTreeMap<Kind, BTreeSet<&str>> = BTreeMap::new();
        for h in &report.hosts {
            sources.entry(h.kind).or_default().insert(&h.src);
        }
        let count = |k| sources.get(&k).map_or(0, |s| s.len() as u64);
        report.summary = Summary {
            hosts: report
                .hosts
                .iter()
                .map(|h| h.src.as_str())
                .collect::<BTreeSet<_>>()
                .len() as u64,
            infected: count(Kind::Infected),
            scanning: count(Kind::Scanning),
            backscatter: count(Kind::Backscatter),
            packets: report.hosts.iter().map(|h| h.packets).sum(),
        };
        out.push(report);
    }
    Ok(out)
}

/// How a report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    /// File name extension of `--out-dir` files.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// The CSV columns: one row per host entry, owner columns repeated so that each row stands
/// alone (a recipient may filter or sort the file).
pub const CSV_HEADER: [&str; 17] = [
    "owner",
    "contact",
    "asn",
    "prefix",
    "src",
    "kind",
    "signature",
    "label",
    "first_seen",
    "last_seen",
    "hours_active",
    "packets",
    "bytes",
    "max_destinations_per_hour",
    "ports",
    "evidence",
    "schema",
];

fn pairs<'a>(items: impl Iterator<Item = (&'a str, u64)>) -> String {
    items
        .map(|(name, n)| format!("{name}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Write `document` (all its owners) in `format`.
pub fn write(out: &mut dyn Write, document: &Document, format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, document)?;
            writeln!(out)
        }
        Format::Csv => write_csv(out, document),
        Format::Table => write_table(out, document),
    }
}

fn write_csv(out: &mut dyn Write, document: &Document) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for o in &document.owners {
        for h in &o.hosts {
            let numbers = [
                h.hours_active,
                h.packets,
                h.bytes,
                h.max_destinations_per_hour,
            ]
            .map(|n| n.to_string());
            w.write_record([
                o.name.as_str(),
                o.contact.as_deref().unwrap_or(""),
                &o.asn.map(|a| a.to_string()).unwrap_or_default(),
                h.prefix.as_deref().unwrap_or(""),
                &h.src,
                h.kind.as_str(),
                &h.signature,
                &h.label,
                &h.first_seen,
                &h.last_seen,
                &numbers[0],
                &numbers[1],
                &numbers[2],
                &numbers[3],
                &pairs(h.ports.iter().map(|p| (p.port.as_str(), p.packets))),
                &pairs(h.evidence.iter().map(|e| (e.rule.as_str(), e.packets))),
                document.schema,
            ])?;
        }
    }
    w.flush()
}

fn write_table(out: &mut dyn Write, document: &Document) -> std::io::Result<()> {
    let period = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "owner report: store {}, period {} .. {}",
        document.store,
        period(&document.period.from),
        period(&document.period.to)
    )?;
    if document.owners.is_empty() {
        writeln!(out, "\nno infected or scanning source in the period")?;
    }
    for o in &document.owners {
        let contact = o
            .contact
            .as_deref()
            .map(|c| format!(" <{c}>"))
            .unwrap_or_default();
        let s = &o.summary;
        writeln!(
            out,
            "\n{}{contact}: {} hosts ({} infected, {} scanning{}{}), {} packets",
            o.name,
            s.hosts,
            s.infected,
            s.scanning,
            if s.backscatter > 0 {
                format!(", {} backscatter", s.backscatter)
            } else {
                String::new()
            },
            // A host infected by one worm may also scan for another: the kinds overlap.
            if s.infected + s.scanning + s.backscatter > s.hosts {
                "; a host can be of several kinds"
            } else {
                ""
            },
            s.packets
        )?;
        if !o.prefixes.is_empty() {
            writeln!(out, "prefixes: {}", o.prefixes.join(" "))?;
        }
        let header = [
            "src",
            "kind",
            "signature",
            "first_seen",
            "last_seen",
            "packets",
            "ports",
            "evidence",
        ];
        let rows: Vec<[String; 8]> = o
            .hosts
            .iter()
            .map(|h| {
                [
                    h.src.clone(),
                    h.kind.as_str().to_owned(),
                    h.signature.clone(),
                    h.first_seen[..19].replace('T', " "),
                    h.last_seen[..19].replace('T', " "),
                    h.packets.to_string(),
                    pairs(h.ports.iter().take(3).map(|p| (p.port.as_str(), p.packets))),
                    pairs(h.evidence.iter().map(|e| (e.rule.as_str(), e.packets))),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                // Numbers right-aligned, text left; no trailing blanks.
                if i == 5 {
                    text.push_str(&format!("{c:>w$}  "));
                } else if i + 1 == cells.len() {
                    text.push_str(c);
                } else {
                    text.push_str(&format!("{c:<w$}  "));
                }
            }
            text.trim_end().to_owned()
        };
        writeln!(out, "{}", line(&header))?;
        for r in &rows {
            writeln!(out, "{}", line(&r.each_ref().map(String::as_str)))?;
        }
    }
    Ok(())
}

/// A file name for an owner: its letters and digits (any script: `京都大学`, `übel-gmbh`),
/// lowercased, joined by `-`, at most [`MAX_STEM_CHARS`] of them, unique within `taken`.
/// Where that leaves nothing or a name already taken, a hash of the exact owner name is
/// appended, so a file's name never depends on which other owners a report holds or their
/// order (a numbered `owner-2` could silently become another owner's file the next day).
pub fn file_stem(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if stem.chars().count() >= MAX_STEM_CHARS {
            break;
        }
        if c.is_alphanumeric() {
            stem.extend(c.to_lowercase());
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
    }
    while stem.ends_with('-') {
        stem.pop();
    }
    if !stem.is_empty() && taken.insert(stem.clone()) {
        return stem;
    }
    let base = if stem.is_empty() { "owner" } else { &stem };
    let mut unique = format!("{base}-{:08x}", name_hash(name));
    // Only two owners whose names differ yet hash alike get here twice.
    let mut n = 2;
    while !taken.insert(unique.clone()) {
        unique = format!("{base}-{:08x}-{n}", name_hash(name));
        n += 1;
    }
    unique
}

/// Letters and digits kept of an owner name in its file name: well under the 255-byte limit
/// of common file systems even at four bytes per character.
const MAX_STEM_CHARS: usize = 48;

/// 32 bits of FNV-1a over the name's bytes: stable across runs, platforms and versions.
fn name_hash(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Write one file per owner into `dir` (created if needed), each a [`Document`] with that
/// owner alone. Returns the files written, in owner order.
pub fn write_per_owner(
    dir: &Path,
    document: &Document,
    format: Format,
) -> Result<Vec<PathBuf>, OwnersError> {
    std::fs::create_dir_all(dir).map_err(|source| OwnersError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut taken = BTreeSet::new();
    let mut written = Vec::new();
    for owner in &document.owners {
        let path = dir.join(format!(
            "{}.{}",
            file_stem(&owner.name, &mut taken),
            format.extension()
        ));
        let single = Document {
            owners: vec![owner.clone()],
            ..document.clone()
        };
        let mut bytes = Vec::new();
        write(&mut bytes, &single, format).map_err(|source| OwnersError::Io {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&path, bytes).map_err(|source| OwnersError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn owners(csv: &str) -> Result<PrefixOwners, OwnersError> {
        PrefixOwners::parse(csv.as_bytes(), Path::new("owners.csv"))
    }

    #[test]
    fn prefixes_parse_print_and_contain() {
        for text in [
            "192.0.2.0/24",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "198.51.100.7/32",
            "2001:db8::/32",
            "::/0",
        ] {
            assert_eq!(Prefix::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Prefix::parse("192.0.2.1").unwrap().to_string(),
            "192.0.2.1/32"
        );
        let contains = |prefix: &str, a: &str| {
            let owner = PrefixOwner {
                name: "x".into(),
                contact: None,
                prefixes: vec![Prefix::parse(prefix).unwrap()],
            };
            PrefixOwners::new(vec![owner]).lookup(ip(a)).is_some()
        };
        assert!(contains("192.0.2.0/24", "192.0.2.255"));
        assert!(!contains("192.0.2.0/24", "192.0.3.0"));
        // An IPv4 prefix holds IPv4 addresses only (and IPv4-mapped IPv6, the same hosts).
        assert!(!contains("192.0.2.0/24", "::c000:200"));
        assert!(contains("192.0.2.0/24", "::ffff:192.0.2.1"));
        assert!(!contains("0.0.0.0/0", "2001:db8::1"));
        assert!(contains("::/0", "2001:db8::1"));
        assert!(!contains("::/0", "192.0.2.1"));
        assert!(contains("::ffff:192.0.2.0/120", "192.0.2.1"));
        assert_eq!(
            Prefix::parse("::ffff:192.0.2.0/120").unwrap().to_string(),
            "192.0.2.0/24"
        );
        let e = Prefix::parse("10.1.2.3/8").unwrap_err();
        assert!(e.contains("did you mean 10.0.0.0/8"), "{e}");
        assert!(Prefix::parse("10.0.0.0/33").is_err());
        assert!(Prefix::parse("2001:db8::/129").is_err());
        assert!(Prefix::parse("example.net").is_err());
    }

    #[test]
    fn the_longest_prefix_wins() {
        let o = owners(
            "# who is who\nprefix,owner,contact\n10.0.0.0/8,Big ISP,abuse@big.example\n\
             10.1.0.0/16,\"Customer, Inc.\",noc@customer.example\n10.1.2.3,One Host,\n\
             2001:db8::/32,Big ISP,\n2001:db8:1::/48,\"Customer, Inc.\",\n",
        )
        .unwrap();
        let who = |a: &str| {
            o.lookup(ip(a))
                .map(|(o, p)| (o.name.clone(), p.to_string()))
        };
        assert_eq!(
            who("10.200.0.1"),
            Some(("Big ISP".into(), "10.0.0.0/8".into()))
        );
        assert_eq!(
            who("10.1.9.9"),
            Some(("Customer, Inc.".into(), "10.1.0.0/16".into()))
        );
        assert_eq!(
            who("10.1.2.3"),
            Some(("One Host".into(), "10.1.2.3/32".into()))
        );
        assert_eq!(
            who("2001:db8:1::5"),
            Some(("Customer, Inc.".into(), "2001:db8:1::/48".into()))
        );
        assert_eq!(
            who("2001:db8:2::5"),
            Some(("Big ISP".into(), "2001:db8::/32".into()))
        );
        assert_eq!(who("11.0.0.1"), None);
        let big = &o.owners()[0];
        assert_eq!(big.contact.as_deref(), Some("abuse@big.example"));
        assert_eq!(big.prefixes.len(), 2);
        assert_eq!(o.owners()[2].contact, None);
    }

    #[test]
    fn bad_prefix_files_name_the_line() {
        let err = |csv: &str| owners(csv).unwrap_err().to_string();
        let e = err("prefix,owner,contact\n10.0.0.0/8,A,\n10.0.0.300/8,B,\n");
        assert!(
            e.starts_with("owners.csv:3: `10.0.0.300/8` is not an IP prefix"),
            "{e}"
        );
        let e = err("net,name\n10.0.0.0/8,A\n");
        assert!(e.starts_with("owners.csv:1: the header must name"), "{e}");
        let e = err("prefix,owner,contact\n10.0.0.0/8,,x\n");
        assert!(
            e.starts_with("owners.csv:2: missing owner (column 2)"),
            "{e}"
        );
        let e = err("prefix,owner\n10.0.0.0/8\n");
        assert!(e.starts_with("owners.csv:2: missing owner"), "{e}");
        let e = err("prefix,owner\n10.0.0.0/8,A\n\n# again\n10.0.0.0/8,B\n");
        assert!(
            e.starts_with("owners.csv:5: 10.0.0.0/8 is listed again (first on line 2)"),
            "{e}"
        );
        let e = err("prefix,owner,contact\n10.0.0.0/8,A,a@x\n11.0.0.0/8,A,b@x\n");
        assert!(
            e.contains(":3: owner `A` has contact `b@x` here but `a@x` on line 2"),
            "{e}"
        );
        let e = err("prefix,owner\n10.0.0.0/8,Unassigned\n");
        assert!(
            e.contains(":2: the owner name `unassigned` is reserved"),
            "{e}"
        );
        let e = err("prefix,owner\n10.0.0.0/8,\"A\n");
        assert!(e.starts_with("owners.csv:2: unbalanced quotes"), "{e}");
        let e = err("# nothing\n");
        assert!(e.starts_with("owners.csv:1: empty"), "{e}");
        let e = err("prefix,owner,contact\n10.0.0.0/8,A,\n11.0.0.0/8,A,a@x\n12.0.0.0/8,A,b@x\n");
        assert!(
            e.contains(":4: owner `A` has contact `b@x` here but `a@x` on line 3"),
            "{e}"
        );
        // A byte order mark and CRLF line ends, as spreadsheets write them.
        let o = owners("\u{feff}prefix,owner\r\n192.0.2.0/24,A\r\n").unwrap();
        assert_eq!(o.lookup(ip("192.0.2.9")).unwrap().0.name, "A");
        // Column order is free; extra columns are ignored.
        let o = owners("owner,note,prefix\nA,x,192.0.2.0/24\n").unwrap();
        assert_eq!(o.lookup(ip("192.0.2.9")).unwrap().0.name, "A");
    }

    #[test]
    fn signatures_map_to_kinds() {
        let mut policy = KindPolicy::default();
        assert_eq!(policy.kind("blaster"), Some(Kind::Infected));
        assert_eq!(policy.kind("mirai"), Some(Kind::Infected));
        assert_eq!(policy.kind("zmap"), Some(Kind::Scanning));
        assert_eq!(policy.kind("scan/tcp/445"), Some(Kind::Scanning));
        assert_eq!(policy.kind("backscatter"), None);
        assert_eq!(policy.kind("research-scanner"), None);
        assert_eq!(policy.kind("unclassified"), None);
        policy.backscatter = true;
        policy.tools.insert("nmap".into());
        assert_eq!(policy.kind("backscatter"), Some(Kind::Backscatter));
        assert_eq!(policy.kind("nmap"), Some(Kind::Scanning));
    }

    fn activity(src: &str, signature: &str, packets: u64, rules: &str) -> Activity {
        Activity {
            src: src.into(),
            signature: signature.into(),
            label: signature.into(),
            first_seen_us: 1_060_617_600_000_000,
            last_seen_us: 1_060_621_200_500_000,
            hours: 2,
            packets,
            bytes: packets * 48,
            max_destinations: 7,
            rules: rules.into(),
            top_ports: "tcp/135:3 tcp/4444:1 tcp/135:2".into(),
        }
    }

    fn sample() -> (Directory, Vec<Activity>) {
        let dir = Directory::Prefixes(
            owners(
                "prefix,owner,contact\n10.0.0.0/8,Big ISP,abuse@big.example\n\
                 10.1.0.0/16,Customer,\n2001:db8::/32,Big ISP,\n",
            )
            .unwrap(),
        );
        let rows = vec![
            activity("10.9.0.1", "scan/tcp/445", 4, ""),
            activity(
                "10.9.0.1",
                "blaster",
                6,
                "blaster.syn-135:4 blaster.syn-135:1 blaster.tftp:1",
            ),
            activity("10.1.0.7", "welchia", 3, "welchia.echo:3"),
            activity("10.1.0.8", "backscatter", 50, "backscatter.syn-ack:50"),
            activity("10.1.0.9", "research-scanner", 9, ""),
            activity("2001:db8::2", "zmap", 2, "zmap.tcp-syn:2"),
            activity("203.0.113.5", "mirai", 8, "mirai.telnet:8"),
        ];
        (dir, rows)
    }

    #[test]
    fn activity_groups_by_owner_with_merged_evidence() {
        let (dir, rows) = sample();
        let reports = group(&dir, &rows, &GroupOptions::default()).unwrap();
        let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Big ISP", "Customer", "unassigned"]);
        let big = &reports[0];
        assert_eq!(big.prefixes, ["10.0.0.0/8", "2001:db8::/32"]);
        let entries: Vec<(&str, Kind, &str)> = big
            .hosts
            .iter()
            .map(|h| (h.src.as_str(), h.kind, h.signature.as_str()))
            .collect();
        assert_eq!(
            entries,
            [
                ("10.9.0.1", Kind::Infected, "blaster"),
                ("10.9.0.1", Kind::Scanning, "scan/tcp/445"),
                ("2001:db8::2", Kind::Scanning, "zmap"),
            ]
        );
        assert_eq!(
            big.summary,
            Summary {
                hosts: 2,
                infected: 1,
                scanning: 2,
                backscatter: 0,
                packets: 12
            }
        );
        let blaster = &big.hosts[0];
        assert_eq!(
            blaster.evidence,
            [
                Evidence {
                    rule: "blaster.syn-135".into(),
                    packets: 5
                },
                Evidence {
                    rule: "blaster.tftp".into(),
                    packets: 1
                },
            ]
        );
        assert_eq!(
            blaster.ports[0],
            PortCount {
                port: "tcp/135".into(),
                packets: 5
            }
        );
        assert_eq!(blaster.first_seen, "2003-08-11T16:00:00.000000Z");
        assert_eq!(blaster.last_seen, "2003-08-11T17:00:00.500000Z");
        assert_eq!(blaster.prefix.as_deref(), Some("10.0.0.0/8"));
        // Backscatter victims and research scanners are nobody's culprits.
        let customer = &reports[1];
        assert_eq!(customer.hosts.len(), 1);
        assert_eq!(customer.hosts[0].signature, "welchia");
        assert_eq!(customer.contact, None);
        let unassigned = &reports[2];
        assert!(!unassigned.assigned && unassigned.prefixes.is_empty());
        assert_eq!(unassigned.hosts[0].prefix, None);

        let options = GroupOptions {
            policy: KindPolicy {
                backscatter: true,
                ..KindPolicy::default()
            },
            skip_unassigned: true,
        };
        let reports = group(&dir, &rows, &options).unwrap();
        assert_eq!(reports.len(), 2);
        let customer = &reports[1];
        assert_eq!(customer.hosts.last().unwrap().kind, Kind::Backscatter);
        assert_eq!(customer.summary.backscatter, 1);
    }

    fn document(reports: Vec<OwnerReport>) -> Document {
        Document {
            schema: SCHEMA,
            generated_at: rfc3339_micros(1_700_000_000_000_000),
            generator: "kansoku test".into(),
            store: "store".into(),
            period: Period {
                from: Some("2003-08-11T00:00:00Z".into()),
                to: None,
            },
            owners: reports,
        }
    }

    /// Every object of the schema closed to fields it does not name, so that a field the
    /// code adds without documenting it fails here (the published schema stays open: version
    /// 1 may grow).
    fn strict(schema: &mut serde_json::Value) {
        match schema {
            serde_json::Value::Object(map) => {
                if map.contains_key("properties") {
                    map.insert("additionalProperties".into(), false.into());
                }
                map.values_mut().for_each(strict);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strict),
            _ => {}
        }
    }

    /// Validate a document's JSON against docs/owner-report.schema.json, closed.
    pub(crate) fn validate(json: &serde_json::Value) -> Result<(), String> {
        let mut schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/owner-report.schema.json")).unwrap();
        strict(&mut schema);
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource("owner-report.schema.json", schema)
            .unwrap();
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile("owner-report.schema.json", &mut schemas)
            .map_err(|e| format!("schema: {e:#}"))?;
        schemas.validate(json, index).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn json_follows_the_published_schema() {
        let (dir, rows) = sample();
        let options = GroupOptions {
            policy: KindPolicy {
                backscatter: true,
                ..KindPolicy::default()
            },
            skip_unassigned: false,
        };
        let mut doc = document(group(&dir, &rows, &options).unwrap());
        // As an ASN database fills it in.
        doc.owners[0].asn = Some(64500);
        let mut text = Vec::new();
        write(&mut text, &doc, Format::Json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
        validate(&json).unwrap();
        assert_eq!(json["schema"], SCHEMA);
        // So does the example in docs/owners.md.
        let docs = include_str!("../../../docs/owners.md");
        let example = docs
            .split("```json\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("docs/owners.md has a JSON example");
        validate(&serde_json::from_str(example).unwrap()).unwrap();
        // The closed schema catches drift: an undocumented field fails.
        let mut extra = json.clone();
        extra["owners"][0]["hosts"][0]["note"] = "x".into();
        assert!(validate(&extra).is_err());
        let mut wrong = json.clone();
        wrong["owners"][0]["hosts"][0]["kind"] = "bad".into();
        assert!(validate(&wrong).is_err());
    }

    #[test]
    fn csv_and_table_carry_the_same_entries() {
        let (dir, rows) = sample();
        let doc = document(group(&dir, &rows, &GroupOptions::default()).unwrap());
        let mut text = Vec::new();
        write(&mut text, &doc, Format::Csv).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_slice());
        assert_eq!(reader.headers().unwrap(), CSV_HEADER.as_slice());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let hosts: Vec<&Host> = doc.owners.iter().flat_map(|o| &o.hosts).collect();
        assert_eq!(records.len(), hosts.len());
        assert_eq!(&records[0][0], "Big ISP");
        assert_eq!(&records[0][4], "10.9.0.1");
        assert_eq!(&records[0][15], "blaster.syn-135:5 blaster.tftp:1");
        let mut table = Vec::new();
        write(&mut table, &doc, Format::Table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains(
                "Big ISP <abuse@big.example>: 2 hosts (1 infected, 2 scanning; a host can be of \
                 several kinds), 12 packets"
            ),
            "{table}"
        );
        assert!(table.contains("2003-08-11 16:00:00"), "{table}");
        assert_eq!(
            table.lines().filter(|l| l.starts_with("10.9.0.1 ")).count(),
            2,
            "{table}"
        );
    }

    #[test]
    fn owner_files_get_distinct_safe_names() {
        let mut taken = BTreeSet::new();
        assert_eq!(
            file_stem("AS64500 Example Net, Inc.", &mut taken),
            "as64500-example-net-inc"
        );
        // A second owner with the same letters gets a hash of its own exact name.
        let second = file_stem("as64500 example net inc", &mut taken);
        assert_eq!(
            second,
            format!(
                "as64500-example-net-inc-{:08x}",
                name_hash("as64500 example net inc")
            )
        );
        assert_eq!(
            file_stem("../..", &mut taken),
            format!("owner-{:08x}", name_hash("../.."))
        );
        // Names in any script keep their letters: no numbered `owner-N` that shifts when an
        // owner is added.
        assert_eq!(file_stem("京都大学", &mut taken), "京都大学");
        assert_eq!(file_stem("東京大学", &mut taken), "東京大学");
        assert_eq!(file_stem("Übel GmbH", &mut taken), "übel-gmbh");
        let long = "ä".repeat(300);
        assert_eq!(file_stem(&long, &mut taken).chars().count(), 48);
        // The same name always gets the same file, whatever came before it.
        let mut other = BTreeSet::new();
        assert_eq!(file_stem("東京大学", &mut other), "東京大学");
    }
}
