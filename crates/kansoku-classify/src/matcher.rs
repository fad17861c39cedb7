//! Rules compiled into an index so that a packet is tested only against the rules that could
//! match it: a table per protocol maps the destination port (for ICMP, type and code) to the
//! candidate list for that key, already sorted by priority, and TCP lists are split further
//! by the packet's flags. No per-packet allocation, no scan over every rule.

use hashbrown::HashMap;

use kansoku_packet::decode::{Packet, Transport};

use crate::expr::Fields;
use crate::rule::Rule;

/// Ports (or ICMP type/code pairs) a rule may list before it is indexed as "any port".
const INDEX_LIMIT: u64 = 4096;

/// TCP candidate lists are split by the packet's flags byte, plus one more key for a TCP
/// packet without a readable header (a later fragment), which rules naming flags never match.
const FLAG_KEYS: usize = 257;

/// Candidate rule lists, deduplicated, and the tables pointing into them.
pub(crate) struct Index {
    lists: Vec<Box<[u16]>>,
    /// For TCP, per destination port: a row of [`FLAG_KEYS`] lists in `tcp_by_flags`.
    tcp: KeyTable,
    /// The TCP lists with the rules that cannot accept the packet's flags left out: most TCP
    /// rules name the flags they need, so a SYN skips the SYN-ACK and RST rules (backscatter)
    /// without testing them.
    tcp_by_flags: Box<[u32]>,
    udp: KeyTable,
    icmp: KeyTable,
    icmp6: KeyTable,
    /// Other protocols: their rules plus the any-protocol rules.
    other: HashMap<u8, u32>,
    /// Any-protocol rules only.
    fallback: u32,
}

/// Candidate lists, each stored once.
#[derive(Default)]
struct Lists {
    lists: Vec<Box<[u16]>>,
    seen: HashMap<Vec<u16>, u32>,
}

impl Lists {
    /// The id of the list of these rules, sorted highest priority first (among equals, the
    /// later rule, an override file's, first).
    fn intern(&mut self, rules: &[Rule], mut ids: Vec<u16>) -> u32 {
        ids.sort_by(|a, b| {
            rules[*b as usize]
                .priority
                .cmp(&rules[*a as usize].priority)
                .then(b.cmp(a))
        });
        let lists = &mut self.lists;
        *self.seen.entry(ids.clone()).or_insert_with(|| {
            lists.push(ids.into_boxed_slice());
            (lists.len() - 1) as u32
        })
    }
}

impl Index {
    pub(crate) fn build(rules: &[Rule]) -> Self {
        let mut lists = Lists::default();
        let any: Vec<u16> = (0..rules.len() as u16)
            .filter(|&i| rules[i as usize].proto.is_none())
            .collect();
        let table = |proto: u8, lists: &mut Lists| -> KeyTable {
            let mut wide = any.clone();
            let mut by_key: HashMap<u64, Vec<u16>> = HashMap::new();
            for (i, rule) in rules.iter().enumerate() {
                if rule.proto != Some(proto) {
                    continue;
                }
                match rule_keys(rule) {
                    Some(keys) => keys
                        .into_iter()
                        .for_each(|k| by_key.entry(k).or_default().push(i as u16)),
                    None => wide.push(i as u16),
                }
            }
            let wide_list = lists.intern(rules, wide.clone());
            let specific = by_key
                .into_iter()
                .map(|(key, specific)| {
                    let mut ids = wide.clone();
                    ids.extend(specific);
                    (key as u16, lists.intern(rules, ids))
                })
                .collect();
            KeyTable::new(wide_list, specific)
        };
        let mut tcp = table(6, &mut lists);
        let udp = table(17, &mut lists);
        let icmp = table(1, &mut lists);
        let icmp6 = table(58, &mut lists);
        let mut other = HashMap::new();
        for rule in rules {
            if let Some(p) = rule.proto
                && ![6, 17, 1, 58].contains(&p)
            {
                other.entry(p).or_insert(0);
            }
        }
        for (p, slot) in other.iter_mut() {
            let mut ids = any.clone();
            ids.extend((0..rules.len() as u16).filter(|&i| rules[i as usize].proto == Some(*p)));
            *slot = lists.intern(rules, ids);
        }
        let fallback = lists.intern(rules, any.clone());
        // Each distinct TCP list becomes a row of lists by flags; the table then names rows.
        let mut rows: HashMap<u32, u32> = HashMap::new();
        let mut tcp_by_flags = Vec::new();
        tcp.remap(|list| {
            let next_row = rows.len() as u32;
            *rows.entry(list).or_insert_with(|| {
                let all = lists.lists[list as usize].clone();
                for key in 0..FLAG_KEYS {
                    let flags = u8::try_from(key).ok();
                    let ids = all
                        .iter()
                        .copied()
                        .filter(|&i| match (rules[usize::from(i)].tcp_flags, flags) {
                            (None, _) => true,
                            (Some((mask, value)), Some(flags)) => flags & mask == value,
                            (Some(_), None) => false,
                        })
                        .collect();
                    tcp_by_flags.push(lists.intern(rules, ids));
                }
                next_row
            })
        });
        Self {
            lists: lists.lists,
            tcp,
            tcp_by_flags: tcp_by_flags.into_boxed_slice(),
            udp,
            icmp,
            icmp6,
            other,
            fallback,
        }
    }

    /// The rules that could match this packet, highest priority first.
    #[inline]
    pub(crate) fn candidates(&self, packet: &Packet<'_>) -> &[u16] {
        let key = packet.dst_port();
        let list = match packet.proto {
            6 => {
                let flags = match &packet.transport {
                    Transport::Tcp(t) => usize::from(t.flags()),
                    _ => FLAG_KEYS - 1,
                };
                self.tcp_by_flags[self.tcp.get(key) as usize * FLAG_KEYS + flags]
            }
            17 => self.udp.get(key),
            1 => self.icmp.get(key),
            58 => self.icmp6.get(key),
            p => self.other.get(&p).copied().unwrap_or(self.fallback),
        };
        &self.lists[list as usize]
    }
}

/// The candidate list of each key (port, or ICMP type and code) of one protocol. Most keys
/// share the protocol's wide list; a bitmap (8 KiB, it stays in L1) tells the few keys with
/// rules of their own, and their lists are stored in key order, found by counting the set bits
/// before the key (a rank query: no hashing). A direct table of 64k lists took 256 KiB per
/// protocol, and background scans over every port missed the cache on it once per packet.
struct KeyTable {
    specific: Box<[u64]>,
    /// Per bitmap word: how many bits are set in the words before it.
    set_before: Box<[u32]>,
    /// The lists of the specific keys, in key order.
    lists: Box<[u32]>,
    wide: u32,
}

impl KeyTable {
    fn new(wide: u32, mut specific: Vec<(u16, u32)>) -> Self {
        specific.sort_unstable();
        specific.dedup_by_key(|(key, _)| *key);
        let mut bits = vec![0u64; 1 << 10];
        for (key, _) in &specific {
            bits[usize::from(key >> 6)] |= 1 << (key & 63);
        }
        let set_before = bits
            .iter()
            .scan(0, |before, word| {
                let here = *before;
                *before += word.count_ones();
                Some(here)
            })
            .collect();
        Self {
            specific: bits.into_boxed_slice(),
            set_before,
            lists: specific.into_iter().map(|(_, list)| list).collect(),
            wide,
        }
    }

    /// Replace every list id the table gives by `f` of it.
    fn remap(&mut self, mut f: impl FnMut(u32) -> u32) {
        self.wide = f(self.wide);
        self.lists.iter_mut().for_each(|list| *list = f(*list));
    }

    #[inline]
    fn get(&self, key: u16) -> u32 {
        let word = usize::from(key >> 6);
        let bits = self.specific[word];
        let bit = 1u64 << (key & 63);
        if bits & bit == 0 {
            return self.wide;
        }
        let rank = self.set_before[word] + (bits & (bit - 1)).count_ones();
        self.lists[rank as usize]
    }
}

/// The index keys of a rule: its destination ports, or for ICMP its type*256+code pairs;
/// `None` when it matches too many to list (it then joins every key of its protocol).
fn rule_keys(rule: &Rule) -> Option<Vec<u64>> {
    match rule.proto {
        Some(6 | 17) => rule.dst_port.as_ref()?.members(INDEX_LIMIT),
        Some(1 | 58) => {
            let types = rule.icmp_type.as_ref()?.members(256)?;
            let codes = match &rule.icmp_code {
                Some(c) => c.members(256)?,
                None => (0..256).collect(),
            };
            Some(
                types
                    .iter()
                    .flat_map(|t| codes.iter().map(move |c| t << 8 | c))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// What the conditions read of a packet beyond `Packet`'s own fields.
#[inline]
pub(crate) fn fields(packet: &Packet<'_>) -> Fields {
    let low32 = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(a) => u64::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u64::from(u128::from(a) as u32),
    };
    let (seq, ack, window) = match &packet.transport {
        Transport::Tcp(t) => (t.seq(), t.ack(), t.window()),
        _ => (0, 0, 0),
    };
    Fields {
        src: low32(packet.src),
        dst: low32(packet.dst),
        sport: u64::from(packet.src_port()),
        dport: u64::from(packet.dst_port()),
        seq: u64::from(seq),
        ack: u64::from(ack),
        ip_id: u64::from(packet.ip_id),
        ttl: u64::from(packet.ttl),
        window: u64::from(window),
        ip_len: u64::from(packet.ip_len),
    }
}

/// The transport payload a rule's `payload` and `payload_len` see: TCP and UDP data; for ICMP,
/// the bytes after the 8-byte header (echo data, or the quoted datagram of an error).
#[inline]
fn payload<'a>(packet: &Packet<'a>) -> &'a [u8] {
    match &packet.transport {
        Transport::Tcp(t) => t.payload(),
        Transport::Udp(u) => u.payload(),
        Transport::Icmp(i) => i.rest().get(4..).unwrap_or(&[]),
        Transport::Other => &[],
    }
}

/// Whether every condition of `rule` holds for `packet`.
#[inline]
pub(crate) fn matches(rule: &Rule, packet: &Packet<'_>, f: &Fields) -> bool {
    if rule.proto.is_some_and(|p| p != packet.proto) {
        return false;
    }
    let set = |s: &Option<crate::rule::NumSet>, v: u64| s.as_ref().is_none_or(|s| s.contains(v));
    if !set(&rule.dst_port, f.dport)
        || !set(&rule.src_port, f.sport)
        || !set(&rule.ttl, f.ttl)
        || !set(&rule.ip_id, f.ip_id)
        || !set(&rule.ip_len, f.ip_len)
    {
        return false;
    }
    if rule.ip_df.is_some_and(|df| df != packet.dont_fragment) {
        return false;
    }
    if let Transport::Tcp(t) = &packet.transport {
        if rule
            .tcp_flags
            .is_some_and(|(mask, value)| t.flags() & mask != value)
            || !set(&rule.window, f.window)
        {
            return false;
        }
        if let Some(layout) = &rule.tcp_options
            && !option_layout_is(t.options(), layout)
        {
            return false;
        }
    } else if rule.tcp_flags.is_some() || rule.window.is_some() || rule.tcp_options.is_some() {
        return false;
    }
    if let Transport::Icmp(i) = &packet.transport {
        if !set(&rule.icmp_type, u64::from(i.kind()))
            || !set(&rule.icmp_code, u64::from(i.code()))
            || rule.icmp_error.is_some_and(|e| e != i.is_error())
        {
            return false;
        }
    } else if rule.icmp_type.is_some() || rule.icmp_code.is_some() || rule.icmp_error.is_some() {
        return false;
    }
    if rule.payload_len.is_some() || !rule.payload.is_empty() {
        let data = payload(packet);
        if !set(&rule.payload_len, data.len() as u64) {
            return false;
        }
        for (offset, bytes) in &rule.payload {
            if data.get(*offset..offset + bytes.len()) != Some(bytes.as_slice()) {
                return false;
            }
        }
    }
    if rule
        .ip_id_expr
        .as_ref()
        .is_some_and(|e| e.eval(f) != f.ip_id)
        || rule
            .tcp_seq_expr
            .as_ref()
            .is_some_and(|e| e.eval(f) != f.seq)
    {
        return false;
    }
    true
}

/// Whether the option kinds of a TCP header are exactly `layout` (trailing EOL padding aside).
fn option_layout_is(options: &[u8], layout: &[u8]) -> bool {
    let mut i = 0;
    let mut expected = layout.iter();
    while i < options.len() {
        let kind = options[i];
        if kind == 0 {
            // End of list: the rest is padding, unless the rule names EOL itself.
            return match expected.next() {
                None => true,
                Some(0) => expected.next().is_none(),
                Some(_) => false,
            };
        }
        if expected.next() != Some(&kind) {
            return false;
        }
        i += if kind == 1 {
            1
        } else {
            match options.get(i + 1) {
                Some(&len) if len >= 2 => usize::from(len),
                _ => return false,
            }
        };
    }
    expected.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::{KeyTable, option_layout_is};

    #[test]
    fn key_tables_give_the_wide_list_except_for_set_keys() {
        let table = KeyTable::new(7, vec![(135, 4), (u16::MAX, 5), (64, 3), (0, 1), (63, 2)]);
        for key in 0..=u16::MAX {
            let expected = match key {
                0 => 1,
                63 => 2,
                64 => 3,
                135 => 4,
                u16::MAX => 5,
                _ => 7,
            };
            assert_eq!(table.get(key), expected, "key {key}");
        }
        // Dense: many set bits per word, so the rank counts within and across words.
        let every_third: Vec<(u16, u32)> = (0..=u16::MAX)
            .filter(|k| k % 3 == 0)
            .map(|k| (k, u32::from(k) + 10))
            .collect();
        let table = KeyTable::new(1, every_third);
        for key in 0..=u16::MAX {
            let expected = if key % 3 == 0 { u32::from(key) + 10 } else { 1 };
            assert_eq!(table.get(key), expected, "key {key}");
        }
    }

    #[test]
    fn option_layouts() {
        let xp = [2, 4, 5, 0xb4, 1, 1, 4, 2];
        assert!(option_layout_is(&xp, &[2, 1, 1, 4]));
        assert!(!option_layout_is(&xp, &[2, 1, 4]));
        assert!(!option_layout_is(&xp, &[2, 1, 1, 4, 1]));
        assert!(option_layout_is(&[2, 4, 5, 0xb4, 0, 0, 0, 0], &[2]));
        assert!(option_layout_is(&[], &[]));
        assert!(
            !option_layout_is(&[2, 1], &[2]),
            "a length below 2 is malformed"
        );
        assert!(
            !option_layout_is(&[2], &[2]),
            "a missing length is malformed"
        );
    }
}
