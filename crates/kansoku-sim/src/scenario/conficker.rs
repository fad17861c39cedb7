//! Conficker A/B (Downadup, November 2008 onwards) as seen from a darknet: TCP SYNs to 445.
//!
//! Conficker exploits MS08-067 in the Server service and connect()s to port 445 through
//! the Windows stack, so its SYNs look like Sasser's and Blaster's (MSS 1460, NOP, NOP,
//! SACK-permitted; DF; TTL 128 minus hops; retransmitted at +3 s and +9 s). What sets it
//! apart in a telescope is a flaw in its address generator: addresses are built from 15-bit
//! random values, so the 2nd and 4th octets never reach 128. A telescope therefore sees
//! Conficker only on addresses whose 2nd and 4th octets are below 128 (in 198.18.0.0/16:
//! last octet 0..127), at twice the density a uniform scanner would give them.
//!
//! References: CAIDA, "Conficker/Conflicker/Downadup as seen from the UCSD Network
//! Telescope" (2009); P. Porras, H. Saidi, V. Yegneswaran, "An Analysis of Conficker's
//! Logic and Rendezvous Points", SRI International (2009). Windows XP SP2 limits half-open
//! connections, so each host scans slowly; the population makes up for it.

use rand_chacha::ChaCha8Rng;

use super::windows_scan::{self, Profile, Targets};
use super::{Behaviour, Env, Source};
use crate::net::AddressPool;
use crate::time::MICROS;

const PROFILE: Profile = Profile {
    hosts: 3000.0,
    pps: (4.0, 40.0),
    // The rest of its attempts go to the local network and recently seen neighbours.
    random_share: 0.75,
    targets: Targets::Conficker,
    // A service that survives reboots: hosts keep scanning until cleaned or switched off.
    life_us: 48.0 * 3600.0 * MICROS as f64,
};

/// The infected hosts of the outbreak, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    windows_scan::spawn(&PROFILE, Behaviour::Conficker, env, pool, rng)
}
