//! Per-source evidence for rules with a `per_source` condition, in bounded memory.
//!
//! Some worms share every header feature and differ only in how they pick targets: Conficker
//! and Sasser both send Windows SYNs to TCP 445, but Conficker's address generator never sets
//! the high bit of the second and fourth octets. Such a rule labels a source's packets only once
//! enough of them agree; until then (or after one disagrees) the next rule in priority order
//! applies. A label can thus become more certain as evidence arrives.
//!
//! A rule can also require that the source matched another rule before (`after`): Welchia on a
//! live network sweeps with ICMP echo requests and then attacks TCP 135 on the hosts that
//! answered, with SYNs that look exactly like Blaster's.
//!
//! State is kept per (source, rule): a 256-bit set of distinct values and a violation flag.
//! Sources idle for an hour are evicted when the table grows past its cap, so memory stays
//! bounded however many sources a capture holds.

use hashbrown::HashMap;

use crate::expr::Fields;
use crate::rule::PerSource;

/// Entries kept before idle ones are evicted (about 64 bytes each).
const MAX_ENTRIES: usize = 1 << 20;
/// A source quiet for this long starts over.
const IDLE_NS: i64 = 3_600_000_000_000;

#[derive(Clone, Copy)]
struct Evidence {
    seen: [u64; 4],
    violated: bool,
    last_ns: i64,
}

#[derive(Default)]
pub(crate) struct EvidenceTable {
    entries: HashMap<(u128, u16), Evidence>,
}

impl EvidenceTable {
    /// Record one packet that matched rule `rule`'s header conditions; returns whether the
    /// source now satisfies the rule's per-source condition. `after` is the index of the rule
    /// the source must have matched before, if the condition names one.
    pub(crate) fn observe(
        &mut self,
        src: u128,
        rule: u16,
        condition: &PerSource,
        after: Option<u16>,
        fields: &Fields,
        ts_ns: i64,
    ) -> bool {
        // The precedent is checked first: until it holds, this rule gathers no evidence (and a
        // source that never swept costs one lookup, not an entry).
        if let Some(a) = after
            && self
                .entries
                .get(&(src, a))
                .is_none_or(|p| ts_ns.saturating_sub(p.last_ns) >= IDLE_NS)
        {
            return false;
        }
        if condition.every.is_none() && condition.distinct.is_none() {
            return true;
        }
        let e = self.entry(src, rule, ts_ns);
        if let Some((expr, equals)) = &condition.every
            && expr.eval(fields) != *equals
        {
            e.violated = true;
        }
        let mut enough = true;
        if let Some((expr, min)) = &condition.distinct {
            let value = (expr.eval(fields) & 0xff) as usize;
            e.seen[value / 64] |= 1 << (value % 64);
            enough = e.seen.iter().map(|w| w.count_ones()).sum::<u32>() >= *min;
        }
        !e.violated && enough
    }

    /// Note that `src` matched `rule` (a rule another rule's `after` names).
    pub(crate) fn mark(&mut self, src: u128, rule: u16, ts_ns: i64) {
        self.entry(src, rule, ts_ns);
    }

    fn entry(&mut self, src: u128, rule: u16, ts_ns: i64) -> &mut Evidence {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&(src, rule)) {
            self.evict(ts_ns);
        }
        let e = self.entries.entry((src, rule)).or_insert(Evidence {
            seen: [0; 4],
            violated: false,
            last_ns: ts_ns,
        });
        e.last_ns = e.last_ns.max(ts_ns);
        e
    }

    fn evict(&mut self, now_ns: i64) {
        self.entries
            .retain(|_, e| now_ns.saturating_sub(e.last_ns) < IDLE_NS);
        if self.entries.len() >= MAX_ENTRIES {
            // Everything is active: forget it all rather than grow. Sources start over.
            self.entries.clear();
        }
    }
}
