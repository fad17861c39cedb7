//! A source's distinct IPv4 destinations of one hour, held inline as a few address intervals
//! while they stay few.
//!
//! Each packet asks whether its destination is new for its source in this hour. A shared set of
//! (source entry, destination) pairs answers exactly, but it holds an hour of pairs: on the bench
//! capture it outgrew L2 and its probe was the dearest of the aggregation (one-thread packet
//! stages 1.35 s with it, 1.20 s without). Yet the destinations of one source are rarely
//! scattered: a worm walking addresses in order (Blaster, Welchia's sweeps) and every
//! retransmitted SYN stay inside or at the edge of a short list of intervals. So the entry keeps
//! [`SLOTS`] disjoint intervals inline, already in cache with the rest of the entry, and answers
//! from them. A destination that fits none of them, once they are all taken, freezes them: from
//! then on the intervals stay as they are and only destinations outside them go to the shared
//! set, so every destination is counted in exactly one of the two places.

/// Intervals kept per entry: enough for a sequential walk and a stray probe or two.
const SLOTS: usize = 2;

/// Disjoint closed intervals of IPv4 addresses (as integers).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Intervals {
    lo: [u32; SLOTS],
    hi: [u32; SLOTS],
    len: u8,
    /// Set once a destination fitted no interval and no slot was free: the intervals no longer
    /// change, and the shared set holds every destination outside them.
    frozen: bool,
}

impl Intervals {
    /// No destination yet.
    pub(crate) const fn new() -> Self {
        Self {
            lo: [0; SLOTS],
            hi: [0; SLOTS],
            len: 0,
            frozen: false,
        }
    }

    /// Note `v4`: `Some(true)` if it is new, `Some(false)` if it was seen, `None` if the
    /// intervals cannot tell and the caller must ask the shared set.
    #[inline]
    pub(crate) fn insert(&mut self, v4: u32) -> Option<bool> {
        let len = usize::from(self.len);
        for i in 0..len {
            if self.lo[i] <= v4 && v4 <= self.hi[i] {
                return Some(false);
            }
        }
        if self.frozen {
            return None;
        }
        // Not inside any interval, so growing one by this address keeps them disjoint.
        for i in 0..len {
            if self.hi[i].checked_add(1) == Some(v4) {
                self.hi[i] = v4;
                return Some(true);
            }
            if self.lo[i].checked_sub(1) == Some(v4) {
                self.lo[i] = v4;
                return Some(true);
            }
        }
        if len < SLOTS {
            self.lo[len] = v4;
            self.hi[len] = v4;
            self.len += 1;
            return Some(true);
        }
        self.frozen = true;
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// The intervals plus a set for what they cannot tell, as the aggregator uses them.
    fn insert(intervals: &mut Intervals, spill: &mut HashSet<u32>, v4: u32) -> bool {
        intervals.insert(v4).unwrap_or_else(|| spill.insert(v4))
    }

    #[test]
    fn a_sequential_walk_with_retransmissions_stays_inline() {
        let mut intervals = Intervals::new();
        // Twenty SYNs in address order, then the same twenty again twice (retransmissions),
        // then the walk goes on; downward too.
        for round in 0..3 {
            for v4 in 1000..1020 {
                assert_eq!(
                    intervals.insert(v4),
                    Some(round == 0),
                    "{v4} in round {round}"
                );
            }
        }
        for v4 in (1020..1100).chain((900..1000).rev()) {
            assert_eq!(intervals.insert(v4), Some(true));
        }
        assert_eq!(intervals.insert(950), Some(false));
        assert!(!intervals.frozen);
    }

    #[test]
    fn the_ends_of_the_address_space_do_not_wrap() {
        let mut intervals = Intervals::new();
        assert_eq!(intervals.insert(u32::MAX), Some(true));
        assert_eq!(intervals.insert(0), Some(true));
        // 0 is not next to u32::MAX: a third, unrelated address finds no free slot.
        assert_eq!(intervals.insert(7), None);
        assert_eq!(intervals.insert(u32::MAX), Some(false));
        assert_eq!(intervals.insert(0), Some(false));
    }

    #[test]
    fn behaves_like_a_set() {
        // Walks, repeats and random picks from a small range so that all three meet, for many
        // independent entries; each must count every address exactly once.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..2000 {
            let mut intervals = Intervals::new();
            let mut spill = HashSet::new();
            let mut model = HashSet::new();
            let mut next = rng.next_u32() % 64;
            for _ in 0..200 {
                let r = rng.next_u32();
                next = match r % 4 {
                    0 => next.wrapping_add(1),
                    1 => next.wrapping_sub(1),
                    2 => next,
                    _ => (r >> 8) % 64,
                };
                let v4 = next.wrapping_add(u32::MAX - 31);
                assert_eq!(insert(&mut intervals, &mut spill, v4), model.insert(v4));
            }
        }
    }
}
