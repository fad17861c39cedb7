//! Visiting every target of a scan exactly once in a random order, without storing it.
//!
//! ZMap walks a cyclic group modulo a prime and Masscan encrypts the target index with its
//! BlackRock cipher; either way each address (or address and port) is probed once per scan
//! in an order that looks random. Here a keyed bijection on the smallest power of two that
//! holds the index space is applied to the index, and values past the end are "cycle
//! walked" (encrypted again until they fall inside), the construction of Black and Rogaway,
//! "Ciphers with Arbitrary Finite Domains" (CT-RSA 2002), which BlackRock also uses.

use rand::Rng;

/// A pseudo-random permutation of `0..n`, evaluated one index at a time.
#[derive(Debug, Clone)]
pub(crate) struct Permutation {
    n: u64,
    mask: u64,
    shift: u32,
    keys: [u64; 3],
}

impl Permutation {
    pub(crate) fn new<R: Rng>(n: u64, rng: &mut R) -> Self {
        debug_assert!(n > 0);
        let bits = 64 - (n - 1).leading_zeros();
        Self {
            n,
            mask: if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            },
            shift: bits.div_ceil(2).max(1),
            keys: [rng.random(), rng.random(), rng.random()],
        }
    }

    /// One pass of the bijection on `bits`-bit values: multiplying by an odd number, adding
    /// a constant and xoring with a right shift are each invertible modulo 2^bits; the
    /// multiplications spread low bits upward and the shifts spread high bits downward.
    fn mix(&self, mut x: u64) -> u64 {
        for k in self.keys {
            x = x.wrapping_mul(k | 1).wrapping_add(k >> 32) & self.mask;
            x ^= x >> self.shift;
        }
        x
    }

    /// The `i`-th element of the permutation (`i < n`).
    pub(crate) fn get(&self, i: u64) -> u64 {
        debug_assert!(i < self.n);
        let mut x = self.mix(i);
        // The cycle through i contains i itself, so this ends within the domain; on average
        // after fewer than two passes since the domain fills over half the power of two.
        while x >= self.n {
            x = self.mix(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn is_a_permutation() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in [1u64, 2, 3, 255, 256, 1000, 4096, 65_536 * 3] {
            let p = Permutation::new(n, &mut rng);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let x = p.get(i) as usize;
                assert!(!seen[x], "n={n}: {x} twice");
                seen[x] = true;
            }
        }
    }

    #[test]
    fn order_looks_shuffled() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let p = Permutation::new(65_536, &mut rng);
        let ascending = (1..65_536)
            .filter(|&i| p.get(i) == p.get(i - 1) + 1)
            .count();
        assert!(ascending < 100, "{ascending} consecutive steps");
        // The first few thousand targets spread over the whole space.
        let high = (0..4096).filter(|&i| p.get(i) >= 32_768).count();
        assert!((1700..2400).contains(&high), "{high}");
    }
}
