//! The rule file format (docs/rules.md) and its compilation into conditions.
//!
//! Parsing is strict: an unknown field, a wrong type or an invalid value refuses the whole file
//! with the file, line and field, because a silently ignored condition would make a rule match
//! far more than its author meant.

use serde::Deserialize;

use crate::expr::Expr;

/// A rule file: `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
}

/// A number, an inclusive range `"a-b"`, or a list of either.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum NumSpec {
    One(u64),
    Text(String),
    List(Vec<NumSpec>),
}

/// One `[[rule]]` as written.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub id: String,
    pub signature: String,
    pub version: u32,
    pub description: String,
    pub references: Vec<String>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub proto: Option<String>,
    #[serde(default)]
    pub dst_port: Option<NumSpec>,
    #[serde(default)]
    pub src_port: Option<NumSpec>,
    #[serde(default)]
    pub tcp_flags: Option<String>,
    #[serde(default)]
    pub tcp_flags_any: Option<String>,
    #[serde(default)]
    pub window: Option<NumSpec>,
    #[serde(default)]
    pub tcp_options: Option<String>,
    #[serde(default)]
    pub ttl: Option<NumSpec>,
    #[serde(default)]
    pub ip_df: Option<bool>,
    #[serde(default)]
    pub ip_id: Option<NumSpec>,
    #[serde(default)]
    pub ip_id_expr: Option<String>,
    #[serde(default)]
    pub tcp_seq_expr: Option<String>,
    #[serde(default)]
    pub ip_len: Option<NumSpec>,
    #[serde(default)]
    pub payload_len: Option<NumSpec>,
    #[serde(default)]
    pub payload: Vec<PayloadSpec>,
    #[serde(default)]
    pub icmp_type: Option<NumSpec>,
    #[serde(default)]
    pub icmp_code: Option<NumSpec>,
    #[serde(default)]
    pub icmp_error: Option<bool>,
    #[serde(default)]
    pub per_source: Option<PerSourceSpec>,
}

/// Evidence a rule needs from a source's packets (those matching its header conditions)
/// before it labels them.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerSourceSpec {
    /// Every such packet must have `every == equals` (one violation disqualifies the source).
    #[serde(default)]
    pub every: Option<String>,
    #[serde(default)]
    pub equals: u64,
    /// Distinct values (modulo 256) of this expression that must have been seen...
    #[serde(default)]
    pub distinct: Option<String>,
    /// ...at least this many.
    #[serde(default)]
    pub min_distinct: Option<u32>,
    /// The id of a rule the same source must have matched before (within the idle window).
    #[serde(default)]
    pub after: Option<String>,
}

/// A compiled [`PerSourceSpec`].
#[derive(Clone, Debug)]
pub struct PerSource {
    pub every: Option<(Expr, u64)>,
    pub distinct: Option<(Expr, u32)>,
    /// Rule id; resolved to an index when the rule set is assembled.
    pub after: Option<String>,
}

impl PerSource {
    fn compile(spec: &PerSourceSpec) -> Result<Self, String> {
        let distinct = match (&spec.distinct, spec.min_distinct) {
            (Some(e), Some(n)) if (1..=256).contains(&n) => Some((Expr::parse(e)?, n)),
            (Some(_), Some(_)) => return Err("min_distinct must be between 1 and 256".into()),
            (None, None) => None,
            _ => return Err("distinct and min_distinct go together".into()),
        };
        let every = spec
            .every
            .as_deref()
            .map(|e| Expr::parse(e).map(|x| (x, spec.equals)))
            .transpose()?;
        if every.is_none() && distinct.is_none() && spec.after.is_none() {
            return Err("give at least one of every, distinct/min_distinct, after".into());
        }
        Ok(Self {
            every,
            distinct,
            after: spec.after.clone(),
        })
    }
}

/// Bytes expected at an offset of the transport payload.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayloadSpec {
    pub offset: usize,
    pub hex: String,
}

/// A set of numbers as sorted inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumSet(Vec<(u64, u64)>);

impl NumSet {
    #[inline]
    pub fn contains(&self, v: u64) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= v && v <= hi)
    }

    /// Every member, when the set is small enough to index by (ports).
    pub fn members(&self, limit: u64) -> Option<Vec<u64>> {
        let size: u64 = self.0.iter().map(|(lo, hi)| hi - lo + 1).sum();
        (size <= limit).then(|| self.0.iter().flat_map(|&(lo, hi)| lo..=hi).collect())
    }

    fn parse(spec: &NumSpec, max: u64) -> Result<Self, String> {
        let mut ranges = Vec::new();
        collect(spec, max, &mut ranges)?;
        ranges.sort_unstable();
        Ok(NumSet(ranges))
    }
}

fn collect(spec: &NumSpec, max: u64, out: &mut Vec<(u64, u64)>) -> Result<(), String> {
    let check = |v: u64| {
        if v > max {
            Err(format!("{v} is above the field's maximum {max}"))
        } else {
            Ok(v)
        }
    };
    match spec {
        NumSpec::One(v) => out.push((check(*v)?, *v)),
        NumSpec::Text(text) => {
            let (lo, hi) = text
                .split_once('-')
                .ok_or_else(|| format!("`{text}` is not a range like \"1-128\""))?;
            let parse = |s: &str| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("`{text}` is not a range like \"1-128\""))
            };
            let (lo, hi) = (check(parse(lo)?)?, check(parse(hi)?)?);
            if lo > hi {
                return Err(format!("range `{text}` is empty"));
            }
            out.push((lo, hi));
        }
        NumSpec::List(items) => {
            if items.is_empty() {
                return Err("an empty list matches nothing".into());
            }
            for item in items {
                collect(item, max, out)?;
            }
        }
    }
    Ok(())
}

/// TCP flag letters, as tcpdump and Suricata write them.
const FLAG_LETTERS: [(char, u8); 8] = [
    ('F', 0x01),
    ('S', 0x02),
    ('R', 0x04),
    ('P', 0x08),
    ('A', 0x10),
    ('U', 0x20),
    ('E', 0x40),
    ('C', 0x80),
];

fn parse_flags(text: &str) -> Result<u8, String> {
    text.chars().try_fold(0u8, |acc, c| {
        FLAG_LETTERS
            .iter()
            .find(|(l, _)| *l == c.to_ascii_uppercase())
            .map(|(_, bit)| acc | bit)
            .ok_or_else(|| format!("unknown TCP flag `{c}` in `{text}`: use F S R P A U E C"))
    })
}

/// TCP option kinds by name, in the order docs/rules.md lists them.
const OPTION_NAMES: [(&str, u8); 8] = [
    ("eol", 0),
    ("nop", 1),
    ("mss", 2),
    ("ws", 3),
    ("sack_perm", 4),
    ("sack", 5),
    ("ts", 8),
    ("tfo", 34),
];

/// Parse `"mss,nop,nop,sack_perm"` (or a number for any other kind) into option kinds.
fn parse_options(text: &str) -> Result<Vec<u8>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|name| {
            let name = name.trim().to_ascii_lowercase();
            OPTION_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, k)| *k)
                .or_else(|| name.parse().ok())
                .ok_or_else(|| {
                    format!(
                        "unknown TCP option `{name}` in `{text}`: use eol, nop, mss, ws, \
                         sack_perm, sack, ts, tfo or a kind number"
                    )
                })
        })
        .collect()
}

/// Protocol names rules may use.
pub fn parse_proto(text: &str) -> Result<u8, String> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "icmp6" | "icmpv6" => Ok(58),
        other => other.parse().map_err(|_| {
            format!("unknown protocol `{text}`: use tcp, udp, icmp, icmp6 or a number")
        }),
    }
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if clean.is_empty() || !clean.len().is_multiple_of(2) {
        return Err(format!("`{text}` is not an even number of hex digits"));
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&clean[i..i + 2], 16).map_err(|_| format!("`{text}` is not hex"))
        })
        .collect()
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub signature: String,
    pub version: u32,
    pub description: String,
    pub references: Vec<String>,
    pub priority: i32,
    pub proto: Option<u8>,
    pub dst_port: Option<NumSet>,
    pub src_port: Option<NumSet>,
    /// (mask, value): `flags & mask == value`.
    pub tcp_flags: Option<(u8, u8)>,
    pub window: Option<NumSet>,
    pub tcp_options: Option<Vec<u8>>,
    pub ttl: Option<NumSet>,
    pub ip_df: Option<bool>,
    pub ip_id: Option<NumSet>,
    pub ip_id_expr: Option<Expr>,
    pub tcp_seq_expr: Option<Expr>,
    pub ip_len: Option<NumSet>,
    pub payload_len: Option<NumSet>,
    pub payload: Vec<(usize, Vec<u8>)>,
    pub icmp_type: Option<NumSet>,
    pub icmp_code: Option<NumSet>,
    pub icmp_error: Option<bool>,
    pub per_source: Option<PerSource>,
    /// The conditions as written, to detect conflicting duplicates.
    pub(crate) spec: RuleSpec,
}

impl Rule {
    /// Validate and compile; errors name the field.
    pub(crate) fn compile(spec: RuleSpec) -> Result<Rule, (String, String)> {
        let field = |name: &str| {
            let name = name.to_owned();
            move |e: String| (name.clone(), e)
        };
        if spec.id.trim().is_empty() {
            return Err(("id".into(), "must not be empty".into()));
        }
        if spec.signature.trim().is_empty() || spec.signature.starts_with("scan/") {
            return Err((
                "signature".into(),
                "must be a name, and not start with `scan/` (reserved for generic scans)".into(),
            ));
        }
        if spec.references.is_empty() {
            return Err((
                "references".into(),
                "a rule needs at least one reference (write-up, paper or source) so others \
                 can check it"
                    .into(),
            ));
        }
        let set = |name: &str, s: &Option<NumSpec>, max: u64| {
            s.as_ref()
                .map(|s| NumSet::parse(s, max))
                .transpose()
                .map_err(field(name))
        };
        let proto = spec
            .proto
            .as_deref()
            .map(parse_proto)
            .transpose()
            .map_err(field("proto"))?;
        let is = |p: u8| proto == Some(p);
        let tcp_only = [
            (
                "tcp_flags",
                spec.tcp_flags.is_some() || spec.tcp_flags_any.is_some(),
            ),
            ("window", spec.window.is_some()),
            ("tcp_options", spec.tcp_options.is_some()),
            ("tcp_seq_expr", spec.tcp_seq_expr.is_some()),
        ];
        for (name, present) in tcp_only {
            if present && !is(6) {
                return Err((name.into(), "needs proto = \"tcp\"".into()));
            }
        }
        for (name, present) in [
            ("dst_port", spec.dst_port.is_some()),
            ("src_port", spec.src_port.is_some()),
        ] {
            if present && !(is(6) || is(17)) {
                return Err((name.into(), "needs proto = \"tcp\" or \"udp\"".into()));
            }
        }
        for (name, present) in [
            ("icmp_type", spec.icmp_type.is_some()),
            ("icmp_code", spec.icmp_code.is_some()),
            ("icmp_error", spec.icmp_error.is_some()),
        ] {
            if present && !(is(1) || is(58)) {
                return Err((name.into(), "needs proto = \"icmp\" or \"icmp6\"".into()));
            }
        }
        let exact = spec
            .tcp_flags
            .as_deref()
            .map(parse_flags)
            .transpose()
            .map_err(field("tcp_flags"))?;
        let any = spec
            .tcp_flags_any
            .as_deref()
            .map(parse_flags)
            .transpose()
            .map_err(field("tcp_flags_any"))?;
        let tcp_flags = match (exact, any) {
            (Some(_), Some(_)) => {
                return Err((
                    "tcp_flags_any".into(),
                    "use either tcp_flags (exactly these of FSRPAU) or tcp_flags_any (at \
                     least these), not both"
                        .into(),
                ));
            }
            // Exactly these among the six classic flags; ECE/CWR are ignored unless named.
            (Some(v), None) => Some((0x3f | (v & 0xc0), v)),
            (None, Some(v)) => Some((v, v)),
            (None, None) => None,
        };
        let payload = spec
            .payload
            .iter()
            .map(|p| parse_hex(&p.hex).map(|bytes| (p.offset, bytes)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(field("payload"))?;
        let expr = |name: &str, text: &Option<String>| {
            text.as_deref()
                .map(Expr::parse)
                .transpose()
                .map_err(field(name))
        };
        Ok(Rule {
            id: spec.id.clone(),
            signature: spec.signature.clone(),
            version: spec.version,
            description: spec.description.clone(),
            references: spec.references.clone(),
            priority: spec.priority,
            proto,
            dst_port: set("dst_port", &spec.dst_port, 65535)?,
            src_port: set("src_port", &spec.src_port, 65535)?,
            tcp_flags,
            window: set("window", &spec.window, 65535)?,
            tcp_options: spec
                .tcp_options
                .as_deref()
                .map(parse_options)
                .transpose()
                .map_err(field("tcp_options"))?,
            ttl: set("ttl", &spec.ttl, 255)?,
            ip_df: spec.ip_df,
            ip_id: set("ip_id", &spec.ip_id, u64::from(u32::MAX))?,
            ip_id_expr: expr("ip_id_expr", &spec.ip_id_expr)?,
            tcp_seq_expr: expr("tcp_seq_expr", &spec.tcp_seq_expr)?,
            ip_len: set("ip_len", &spec.ip_len, 65535 + 40)?,
            payload_len: set("payload_len", &spec.payload_len, 65535)?,
            payload,
            icmp_type: set("icmp_type", &spec.icmp_type, 255)?,
            icmp_code: set("icmp_code", &spec.icmp_code, 255)?,
            icmp_error: spec.icmp_error,
            per_source: spec
                .per_source
                .as_ref()
                .map(PerSource::compile)
                .transpose()
                .map_err(field("per_source"))?,
            spec,
        })
    }

    /// The conditions as written, without the descriptive fields: two rules with the same
    /// conditions and priority but different signatures conflict.
    pub(crate) fn condition_key(&self) -> RuleSpec {
        RuleSpec {
            id: String::new(),
            signature: String::new(),
            version: 0,
            description: String::new(),
            references: Vec::new(),
            ..self.spec.clone()
        }
    }
}
