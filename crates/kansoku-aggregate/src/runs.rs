//! Per-entry counts by key, kept as runs.
//!
//! A source row counts its packets per port and per matching rule. Consecutive packets of a
//! source nearly always share both (a scanner hits one port, one rule matches its probes), so
//! the entry keeps the current run inline and touches the shared map only when the key
//! changes: most packets cost no hash probe and no entry allocates anything of its own.

use hashbrown::HashMap;

/// Counts of runs that ended, per (entry id, key).
pub(crate) type RunTotals = HashMap<(u32, u32), u64>;

/// The current run of one entry.
#[derive(Clone, Copy)]
pub(crate) struct Run {
    key: u32,
    count: u64,
}

impl Run {
    /// A run that has seen no packet yet.
    pub(crate) fn empty() -> Self {
        Self { key: 0, count: 0 }
    }

    /// Count one packet with `key` for entry `entry`, folding the previous run into `totals`
    /// if the key changed.
    #[inline]
    pub(crate) fn add(&mut self, entry: u32, key: u32, totals: &mut RunTotals) {
        if self.key == key {
            self.count += 1;
        } else {
            if self.count > 0 {
                *totals.entry((entry, self.key)).or_insert(0) += self.count;
            }
            *self = Self { key, count: 1 };
        }
    }
}

/// Remove the totals of the entries `closed` selects from `totals`, returning them per entry.
pub(crate) fn take_closed(
    totals: &mut RunTotals,
    closed: impl Fn(u32) -> bool,
) -> HashMap<u32, Vec<(u32, u64)>> {
    let mut out: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
    totals.retain(|(id, key), count| {
        if closed(*id) {
            out.entry(*id).or_default().push((*key, *count));
            false
        } else {
            true
        }
    });
    out
}

/// An entry's final counts: its ended runs plus the open one, one per key, most packets first
/// (ties by key, so the order is deterministic).
pub(crate) fn finish(mut counts: Vec<(u32, u64)>, open: Run) -> Vec<(u32, u64)> {
    if open.count > 0 {
        match counts.iter_mut().find(|(key, _)| *key == open.key) {
            Some((_, count)) => *count += open.count,
            None => counts.push((open.key, open.count)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fold_into_one_count_per_key() {
        let mut totals = RunTotals::new();
        let mut run = Run::empty();
        for key in [80, 80, 443, 80, 22, 22, 22] {
            run.add(7, key, &mut totals);
        }
        let mut other = Run::empty();
        other.add(8, 80, &mut totals);
        other.add(8, 81, &mut totals);
        let mut taken = take_closed(&mut totals, |id| id == 7);
        let counts = finish(taken.remove(&7).unwrap_or_default(), run);
        assert_eq!(counts, [(22, 3), (80, 3), (443, 1)]);
        // Entry 8's ended run stays for its own flush.
        assert_eq!(totals.len(), 1);
        assert_eq!(finish(Vec::new(), Run::empty()), []);
    }
}
