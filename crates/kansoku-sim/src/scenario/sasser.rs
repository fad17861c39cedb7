//! W32/Sasser (May 2004) as seen from a darknet: TCP SYNs to port 445.
//!
//! Sasser exploits the LSASS overflow (MS04-011) on Windows 2000/XP. Its 128 scanning
//! threads pick a completely random address 52% of the time, and otherwise one sharing the
//! first octet (25%) or the first two octets (23%) with the infected host (Symantec
//! W32.Sasser.Worm write-up; LURHQ and eEye analyses); only the fully random share reaches a
//! darknet that is not next door. Each probe is a connect() through the Windows stack, so
//! the telescope sees the Windows 2000/XP SYN (MSS 1460, NOP, NOP, SACK-permitted; DF;
//! TTL 128 minus hops; window 64240 or 65535) retransmitted at +3 s and +9 s. The FTP
//! server on 5554 and the backdoor on 9996 only carry traffic to hosts that answered, which
//! nothing in a darknet does.

use rand_chacha::ChaCha8Rng;

use super::windows_scan::{self, Profile, Targets};
use super::{Behaviour, Env, Source};
use crate::net::AddressPool;
use crate::time::MICROS;

const PROFILE: Profile = Profile {
    hosts: 1500.0,
    // Fast for a connect() scanner: many threads, and XP before SP2 had no half-open limit.
    pps: (30.0, 300.0),
    random_share: 0.52,
    targets: Targets::Uniform,
    // LSASS crashes reboot the host, but the Run key restarts the worm; cleanup takes days.
    life_us: 36.0 * 3600.0 * MICROS as f64,
};

/// The infected hosts of the outbreak, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    windows_scan::spawn(&PROFILE, Behaviour::Sasser, env, pool, rng)
}
