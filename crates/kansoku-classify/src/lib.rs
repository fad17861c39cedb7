//! The classify stage: gives each decoded packet a signature.
//!
//! Detection knowledge is data, not code (as in Suricata and Zeek): rules in TOML files name a
//! signature and conditions on header fields (docs/rules.md). The default set in `rules/` is
//! compiled into the binary; `--rules FILE` adds rules or overrides them by id. Rules are
//! compiled once into an index keyed by protocol and port ([`matcher`]), so a packet is tested
//! only against the few rules that could match it.
//!
//! A packet no rule matches gets a generic signature: `scan/tcp/<port>` for a TCP SYN,
//! `scan/udp/<port>`, `scan/icmp/<type>.<code>` for ICMP echo requests, and `unclassified` for
//! everything else (TCP without SYN, other ICMP, other protocols).

mod evidence;
mod expr;
mod matcher;
mod networks;
mod rule;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use kansoku_packet::decode::{Packet, Transport, tcp_flags};

pub use networks::Networks;
pub use rule::Rule;

/// Append a destination port key as the stored names write it: the port, or for ICMP and
/// ICMPv6 (whose key is `type * 256 + code`) `type.code`. Without `fmt`: the store writes
/// one or more per row.
pub fn write_port_key(key: u16, icmp: bool, out: &mut String) {
    let mut digits = itoa::Buffer::new();
    if icmp {
        out.push_str(digits.format(key >> 8));
        out.push('.');
        out.push_str(digits.format(key & 0xff));
    } else {
        out.push_str(digits.format(key));
    }
}

/// A compact signature handle, cheap to copy and hash on the hot path. Named signatures
/// (from rules) count up from 1; generic ones encode their protocol and port, so they need no
/// table and no allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureId(pub u32);

const GENERIC: u32 = 1 << 31;
const GENERIC_TCP: u32 = GENERIC;
const GENERIC_UDP: u32 = GENERIC | 1 << 16;
const GENERIC_ICMP: u32 = GENERIC | 2 << 16;
const GENERIC_ICMP6: u32 = GENERIC | 3 << 16;

impl SignatureId {
    /// Packets no rule matched and that are not a recognisable probe.
    pub const UNCLASSIFIED: SignatureId = SignatureId(0);
}

/// The rule that gave a packet its signature: its index in load order (see
/// [`Signatures::rule_name`]). It is the evidence the `sources` table records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u16);

/// What the classifier says of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    pub signature: SignatureId,
    /// The matching rule; `None` for generic signatures (no rule matched).
    pub rule: Option<RuleId>,
    /// How much the signature says about its source, for the source's label: a host seen
    /// probing like a worm is labelled so even if it also answered someone (backscatter) or
    /// sent other probes (generic scans).
    pub rank: Rank,
}

/// What a signature says about its source, least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    /// A generic scan or unclassified packet.
    Generic,
    /// An answer to someone else's packet: backscatter.
    Answer,
    /// A rule's probe signature (worm, tool, research scanner).
    Probe,
}

impl Label {
    /// A packet no rule matched.
    pub const fn generic(signature: SignatureId) -> Self {
        Self {
            signature,
            rule: None,
            rank: Rank::Generic,
        }
    }
}

/// The names of signature ids and rule ids; cheap to clone and share with the store.
#[derive(Clone, Debug, Default)]
pub struct Signatures {
    names: Arc<Vec<String>>,
    rules: Arc<Vec<String>>,
}

impl Signatures {
    /// The id of a named signature, if some rule issues it.
    pub fn id(&self, name: &str) -> Option<SignatureId> {
        let at = self.names.iter().position(|n| n == name)?;
        Some(SignatureId(at as u32 + 1))
    }

    /// The id (from its rule file) of a rule.
    pub fn rule_name(&self, rule: RuleId) -> &str {
        self.rules
            .get(usize::from(rule.0))
            .map_or("unknown", String::as_str)
    }

    /// The stored name of a signature.
    pub fn name(&self, id: SignatureId) -> Cow<'_, str> {
        match self.fixed_name(id) {
            Some(name) => Cow::Borrowed(name),
            None => {
                let mut name = String::with_capacity(16);
                self.write_name(id, &mut name);
                Cow::Owned(name)
            }
        }
    }

    /// Append the stored name of a signature to `out`. The same text as
    /// [`name`](Self::name), without an allocation and `fmt` call for each generic name: the
    /// store writes one per row, and most rows of a darknet carry generic signatures.
    pub fn write_name(&self, id: SignatureId, out: &mut String) {
        if let Some(name) = self.fixed_name(id) {
            out.push_str(name);
            return;
        }
        let (prefix, icmp) = match id.0 & !0xffff {
            GENERIC_TCP => ("scan/tcp/", false),
            GENERIC_UDP => ("scan/udp/", false),
            GENERIC_ICMP => ("scan/icmp/", true),
            _ => ("scan/icmp6/", true),
        };
        out.push_str(prefix);
        write_port_key(id.0 as u16, icmp, out);
    }

    /// The name of a signature that is not generic, `None` for a generic one.
    fn fixed_name(&self, id: SignatureId) -> Option<&str> {
        match id.0 & !0xffff {
            GENERIC_TCP | GENERIC_UDP | GENERIC_ICMP | GENERIC_ICMP6 => None,
            _ if id == SignatureId::UNCLASSIFIED => Some("unclassified"),
            _ => Some(
                self.names
                    .get(id.0 as usize - 1)
                    .map_or("unknown", String::as_str),
            ),
        }
    }
}

/// A rule file that cannot be used, with where and why.
#[derive(Debug)]
pub struct RuleError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for RuleError {}

/// The signature of packets from listed research-scanner networks.
pub const RESEARCH_SCANNER: &str = "research-scanner";

/// The signature of answers arriving unsolicited (DoS backscatter): ranked below probe
/// signatures when a source is labelled.
pub const BACKSCATTER: &str = "backscatter";

/// The default rule files, compiled into the binary.
const DEFAULT_RULES: [(&str, &str); 9] = [
    (
        "rules/blaster.toml",
        include_str!("../../../rules/blaster.toml"),
    ),
    (
        "rules/welchia.toml",
        include_str!("../../../rules/welchia.toml"),
    ),
    (
        "rules/slammer.toml",
        include_str!("../../../rules/slammer.toml"),
    ),
    (
        "rules/sasser.toml",
        include_str!("../../../rules/sasser.toml"),
    ),
    (
        "rules/conficker.toml",
        include_str!("../../../rules/conficker.toml"),
    ),
    (
        "rules/mirai.toml",
        include_str!("../../../rules/mirai.toml"),
    ),
    ("rules/zmap.toml", include_str!("../../../rules/zmap.toml")),
    (
        "rules/masscan.toml",
        include_str!("../../../rules/masscan.toml"),
    ),
    (
        "rules/backscatter.toml",
        include_str!("../../../rules/backscatter.toml"),
    ),
];

/// Maps packets to signatures.
pub struct Classifier {
    rules: Vec<Rule>,
    rule_signature: Vec<SignatureId>,
    /// Per rule: the rank of its signature.
    rule_rank: Vec<Rank>,
    signatures: Signatures,
    index: matcher::Index,
    evidence: evidence::EvidenceTable,
    /// Per rule: the index of the rule its `per_source.after` names.
    after: Vec<Option<u16>>,
    /// Per rule: whether another rule's `after` names it (so its matches are remembered).
    remembered: Vec<bool>,
    /// Known research scanners: their packets are labelled benign before any rule runs.
    research: Networks,
    research_id: SignatureId,
}

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifier")
            .field("rules", &self.rules.len())
            .field("signatures", &self.signatures)
            .finish()
    }
}

impl Classifier {
    /// The default rules plus, in order, the rules of `extra` files (a rule whose id already
    /// exists replaces it).
    pub fn load(extra: &[&Path]) -> Result<Self, RuleError> {
        let mut sources: Vec<(String, String)> = DEFAULT_RULES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        for path in extra {
            let text = std::fs::read_to_string(path).map_err(|e| RuleError {
                file: path.display().to_string(),
                message: format!("cannot read: {e}"),
            })?;
            sources.push((path.display().to_string(), text));
        }
        Self::from_sources(&sources)
    }

    /// Compile rule files given as (name, TOML text).
    pub fn from_sources(sources: &[(String, String)]) -> Result<Self, RuleError> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut origin: Vec<String> = Vec::new();
        for (file, text) in sources {
            let parsed: rule::RuleFile = toml::from_str(text).map_err(|e| RuleError {
                file: file.clone(),
                message: e.to_string().trim_end().to_owned(),
            })?;
            let mut ids_here = std::collections::HashSet::new();
            for (n, spec) in parsed.rule.into_iter().enumerate() {
                let id = spec.id.clone();
                let line = line_of_rule(text, n);
                let compiled = Rule::compile(spec).map_err(|(field, message)| RuleError {
                    file: file.clone(),
                    message: format!("line {line}: rule `{id}`, field `{field}`: {message}"),
                })?;
                if !ids_here.insert(id.clone()) {
                    return Err(RuleError {
                        file: file.clone(),
                        message: format!("line {line}: rule id `{id}` appears twice in this file"),
                    });
                }
                // Same id from an earlier file: this one overrides it.
                match rules.iter().position(|r| r.id == id) {
                    Some(at) => {
                        rules[at] = compiled;
                        origin[at] = file.clone();
                    }
                    None => {
                        rules.push(compiled);
                        origin.push(file.clone());
                    }
                }
            }
        }
        check_conflicts(&rules, &origin)?;
        if rules.len() > usize::from(u16::MAX) {
            return Err(RuleError {
                file: "rules".into(),
                message: "more than 65535 rules".into(),
            });
        }
        let mut names: Vec<String> = Vec::new();
        let rule_signature = rules
            .iter()
            .map(|r| {
                let at = names
                    .iter()
                    .position(|n| *n == r.signature)
                    .unwrap_or_else(|| {
                        names.push(r.signature.clone());
                        names.len() - 1
                    });
                SignatureId(at as u32 + 1)
            })
            .collect();
        let mut after = Vec::with_capacity(rules.len());
        let mut remembered = vec![false; rules.len()];
        for (r, file) in rules.iter().zip(&origin) {
            let named = r.per_source.as_ref().and_then(|p| p.after.as_deref());
            let target = match named {
                Some(id) => {
                    let at = rules
                        .iter()
                        .position(|x| x.id == id)
                        .ok_or_else(|| RuleError {
                            file: file.clone(),
                            message: format!(
                                "rule `{}`, field `per_source`: `after` names no rule `{id}`",
                                r.id
                            ),
                        })?;
                    remembered[at] = true;
                    Some(at as u16)
                }
                None => None,
            };
            after.push(target);
        }
        let index = matcher::Index::build(&rules);
        let rule_ids = rules.iter().map(|r| r.id.clone()).collect();
        let rule_rank = rules
            .iter()
            .map(|r| match r.signature.as_str() {
                BACKSCATTER => Rank::Answer,
                _ => Rank::Probe,
            })
            .collect();
        Ok(Self {
            after,
            remembered,
            rules,
            rule_signature,
            rule_rank,
            signatures: Signatures {
                names: Arc::new(names),
                rules: Arc::new(rule_ids),
            },
            index,
            evidence: evidence::EvidenceTable::default(),
            research: Networks::default(),
            research_id: SignatureId::UNCLASSIFIED,
        })
    }

    /// Label every packet from these networks `research-scanner` (a benign label: Internet
    /// census projects and the like announce their scanning networks), whatever else it
    /// matches.
    pub fn with_research_networks(mut self, networks: Networks) -> Self {
        let mut names = self.signatures.names.as_ref().clone();
        names.push(RESEARCH_SCANNER.to_owned());
        self.research_id = SignatureId(names.len() as u32);
        self.signatures.names = Arc::new(names);
        self.research = networks;
        self
    }

    /// The label of one packet seen at `ts_ns`: the highest-priority matching rule's
    /// signature, else a generic one. Rules with a per-source condition match only once the
    /// source has shown enough evidence (see [`evidence`]).
    #[inline]
    pub fn classify(&mut self, ts_ns: i64, packet: &Packet<'_>) -> Label {
        if !self.research.is_empty() && self.research.contains(packet.src) {
            return Label {
                signature: self.research_id,
                rule: None,
                rank: Rank::Probe,
            };
        }
        let candidates = self.index.candidates(packet);
        if !candidates.is_empty() {
            let fields = matcher::fields(packet);
            for &i in candidates {
                let rule = &self.rules[usize::from(i)];
                if !matcher::matches(rule, packet, &fields) {
                    continue;
                }
                let remembered = self.remembered[usize::from(i)];
                let label = Label {
                    signature: self.rule_signature[usize::from(i)],
                    rule: Some(RuleId(i)),
                    rank: self.rule_rank[usize::from(i)],
                };
                if rule.per_source.is_none() && !remembered {
                    return label;
                }
                let src = match packet.src {
                    std::net::IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
                    std::net::IpAddr::V6(a) => u128::from(a),
                };
                if let Some(condition) = &rule.per_source {
                    let after = self.after[usize::from(i)];
                    if !self
                        .evidence
                        .observe(src, i, condition, after, &fields, ts_ns)
                    {
                        continue;
                    }
                }
                if remembered {
                    self.evidence.mark(src, i, ts_ns);
                }
                return label;
            }
        }
        Label::generic(generic(packet))
    }

    /// Names of the signatures this classifier issues.
    pub fn signatures(&self) -> &Signatures {
        &self.signatures
    }

    /// The compiled rules, in load order (overrides in place).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// The generic signature of a packet no rule matched.
#[inline]
fn generic(packet: &Packet<'_>) -> SignatureId {
    let port = u32::from(packet.dst_port());
    match &packet.transport {
        Transport::Tcp(t) if t.flags() & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN => {
            SignatureId(GENERIC_TCP | port)
        }
        Transport::Udp(_) => SignatureId(GENERIC_UDP | port),
        Transport::Icmp(i) if i.kind() == 8 && packet.proto == 1 => {
            SignatureId(GENERIC_ICMP | port)
        }
        Transport::Icmp(i) if i.kind() == 128 && packet.proto == 58 => {
            SignatureId(GENERIC_ICMP6 | port)
        }
        _ => SignatureId::UNCLASSIFIED,
    }
}

/// Two rules with the same conditions and priority but different signatures would make the
/// result depend on load order: refuse them.
fn check_conflicts(rules: &[Rule], origin: &[String]) -> Result<(), RuleError> {
    for (i, a) in rules.iter().enumerate() {
        for (j, b) in rules.iter().enumerate().skip(i + 1) {
            if a.priority == b.priority
                && a.signature != b.signature
                && a.condition_key() == b.condition_key()
            {
                return Err(RuleError {
                    file: origin[j].clone(),
                    message: format!(
                        "rule `{}` has the same conditions and priority as rule `{}` ({}) but \
                         another signature ({} vs {}); change a condition or a priority",
                        b.id, a.id, origin[i], b.signature, a.signature
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The line of the `n`th `[[rule]]` header in a rule file (1-based), for messages.
fn line_of_rule(text: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[rule]]"))
        .nth(n)
        .map_or(1, |(i, _)| i + 1)
}
