//! Sets of (entry id, address) pairs: the exact distinct counts, probed two or three times
//! per packet.
//!
//! An [`Addr`] is a `u128`, so a plain `(u32, Addr)` pair takes 32 bytes with alignment and
//! hashes 20. Nearly every address a darknet sees is IPv4: its pair packs into one `u64`, a
//! quarter of the memory and a cheaper hash (packet stages 13 % faster on the bench capture,
//! docs/architecture.md). IPv6 pairs keep the wide form in a set of their own.

use hashbrown::HashSet;

use crate::record::Addr;

/// The top 96 bits of an IPv4-mapped IPv6 address (`::ffff:0:0/96`), how [`Addr`] holds IPv4.
const V4_MAPPED: u128 = 0xffff_0000_0000;

/// A set of (entry id, address) pairs.
#[derive(Default)]
pub(crate) struct PairSet {
    v4: HashSet<u64>,
    v6: HashSet<(u32, Addr)>,
}

impl PairSet {
    /// Add the pair; `true` if it was not there yet.
    #[inline]
    pub(crate) fn insert(&mut self, id: u32, addr: Addr) -> bool {
        match v4_of(addr) {
            Some(v4) => self.v4.insert(u64::from(id) << 32 | u64::from(v4)),
            None => self.v6.insert((id, addr)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Empty the set, keeping its capacity for reuse.
    pub(crate) fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
    }

    /// Every pair in ascending (id, address) order, emptying the set (capacity kept).
    /// `scratch` keeps its capacity between calls.
    ///
    /// Sorted because a sketch in list or set mode keeps its coupons in the order they came,
    /// and a hash set's order changes with its random seed: the same input would give
    /// different sketch bytes. IPv4 pairs sort as packed `u64`s, cheaper than wide pairs
    /// (the sort was 2 % of an ingest's instructions), and merge with the IPv6 ones.
    pub(crate) fn drain_sorted(&mut self, scratch: &mut Scratch, mut each: impl FnMut(u32, Addr)) {
        let (v4, v6) = (&mut scratch.v4, &mut scratch.v6);
        v4.extend(self.v4.drain());
        v6.extend(self.v6.drain());
        v4.sort_unstable();
        v6.sort_unstable();
        let wide = |pair: u64| ((pair >> 32) as u32, V4_MAPPED | u128::from(pair as u32));
        let mut narrow = v4.drain(..).map(wide).peekable();
        let mut rest = v6.drain(..).peekable();
        loop {
            let next = match (narrow.peek(), rest.peek()) {
                (Some(a), Some(b)) if a < b => narrow.next(),
                (Some(_), Some(_)) | (None, Some(_)) => rest.next(),
                (Some(_), None) => narrow.next(),
                (None, None) => break,
            };
            if let Some((id, addr)) = next {
                each(id, addr);
            }
        }
    }
}

/// Buffers for [`PairSet::drain_sorted`].
#[derive(Default)]
pub(crate) struct Scratch {
    v4: Vec<u64>,
    v6: Vec<(u32, Addr)>,
}

/// The IPv4 address inside an IPv4-mapped [`Addr`].
#[inline]
pub(crate) fn v4_of(addr: Addr) -> Option<u32> {
    (addr >> 32 == V4_MAPPED >> 32).then_some(addr as u32)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::record::addr;

    #[test]
    fn both_families_round_trip_and_count_once() {
        let v4 = addr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 255)));
        let zero = addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let v6 = addr(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
        // IPv4-compatible (not mapped): must stay apart from the IPv4 address it resembles.
        let compat = addr(IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0xc000, 0x2ff)));
        let mut set = PairSet::default();
        for (id, a) in [(7, v4), (u32::MAX, v4), (7, zero), (7, v6), (7, compat)] {
            assert!(set.insert(id, a));
            assert!(!set.insert(id, a));
        }
        assert_eq!(set.len(), 5);
        let mut pairs: Vec<(u32, Addr)> = Vec::new();
        set.drain_sorted(&mut Scratch::default(), |id, a| pairs.push((id, a)));
        let mut want = vec![(7, v4), (u32::MAX, v4), (7, zero), (7, v6), (7, compat)];
        want.sort_unstable();
        assert_eq!(pairs, want);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn behaves_like_a_set_of_wide_pairs() {
        // Few ids and addresses make repeats common, some addresses differ from an
        // IPv4-mapped one only in their top bits, and a clear between rounds must forget all.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut next = move || rng.next_u64();
        let mut set = PairSet::default();
        let mut model = std::collections::HashSet::new();
        for round in 0..4 {
            for _ in 0..20_000 {
                let r = next();
                let id = (r % 37) as u32;
                let low = u128::from((r >> 8) as u32 % 500);
                let addr = match (r >> 40) % 4 {
                    0 | 1 => V4_MAPPED | low,
                    2 => low,
                    _ => (u128::from(r >> 48) << 96) | V4_MAPPED | low,
                };
                assert_eq!(set.insert(id, addr), model.insert((id, addr)));
            }
            assert_eq!(set.len(), model.len());
            if round == 1 {
                set.clear();
                model.clear();
            }
        }
        let mut drained: Vec<(u32, Addr)> = Vec::new();
        set.drain_sorted(&mut Scratch::default(), |id, a| drained.push((id, a)));
        let mut want: Vec<(u32, Addr)> = model.into_iter().collect();
        want.sort_unstable();
        assert_eq!(drained, want, "every pair once, in ascending order");
        assert_eq!(set.len(), 0);
    }
}
