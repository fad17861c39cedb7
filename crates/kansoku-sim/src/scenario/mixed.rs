//! A darknet with everything at once: the background plus every outbreak and tool scan,
//! each at a fraction of its own scenario's population so that the whole stays near the
//! size of a single-outbreak capture (about 0.7M packets over 3 days at scale 1).
//!
//! Mixing historical outbreaks in one period is anachronistic on purpose: the capture is
//! a labelled test bed for classifiers, which must tell every signature apart from the
//! others and from the background. Each source belongs to exactly one class, because
//! every model draws its addresses from the same pool.

use rand_chacha::ChaCha8Rng;

use super::{Env, Source, blaster, conficker, masscan, mirai, sasser, slammer, welchia, zmap};
use crate::net::AddressPool;

/// Spawns a population for an environment.
type Spawner = fn(&Env, &mut AddressPool, &mut ChaCha8Rng) -> Vec<Source>;

/// Every outbreak with the share of its own scenario's population it gets here.
const PARTS: [(Spawner, f64); 8] = [
    (blaster::spawn, 0.2),
    (welchia::spawn, 0.2),
    (slammer::spawn, 0.25),
    (sasser::spawn, 0.25),
    (conficker::spawn, 0.25),
    (mirai::spawn, 0.25),
    (zmap::spawn, 0.35),
    (masscan::spawn, 0.5),
];

/// The outbreak populations of the mixed scenario (the background is added by the caller).
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let mut sources = Vec::new();
    for (spawn, share) in PARTS {
        let part = Env {
            scale: env.scale * share,
            ..*env
        };
        sources.extend(spawn(&part, pool, rng));
    }
    sources
}
