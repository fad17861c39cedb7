//! Time-binned aggregation with exact distinct counts and bounded memory.
//!
//! Two tables are built at once (DESIGN §3):
//! - observations, per (bin, proto, dst_port, signature): packets, bytes, distinct sources
//!   (exact, plus an HLL sketch that merges across bins), distinct destinations;
//! - sources, per (hour, src, signature): first/last seen, packets, bytes, distinct
//!   destinations and ports, the most-hit ports, TTL range.
//!
//! Exact distinct counts use one hash set of `(entry id, address)` pairs per kind and window
//! (per open bin for observations, per open hour for sources, emptied whole when the window
//! closes) instead of a set per entry: one probe per set and packet, no per-entry allocation.
//! Entries live in slabs whose ids are recycled when a bin or hour is flushed, so memory
//! follows the number of *open* bins, not the length of the capture. The sources table also records scan pattern, shape and the TRW decision.
//!
//! A bin is flushed once a packet two bins later arrives (one bin of grace for slightly
//! out-of-order captures). A packet older than that opens the bin again and produces a second
//! row for the same key: counts still add up, and sketches still merge, but the exact
//! `sources`/`destinations` of the two rows must not be added (see docs/schema.md).

use std::net::IpAddr;

use datasketches::hash::value::raw_bytes;
use datasketches::hll::{HllSketch, HllType};
use hashbrown::HashMap;
use kansoku_classify::{Rank, RuleId, SignatureId};

use crate::intervals::Intervals;
use crate::pairs::{self, PairSet};
use crate::record::{Addr, PacketRecord, addr_to_ip, ipv4_text, push_ip_text};
use crate::rows::{ObservationRow, PortCount, RuleCount, ScanPattern, ScanShape, SourceRow};
use crate::runs::{self, Run, RunTotals};
use crate::windows::{WindowOf, Windows};

const HOUR_NS: i64 = 3_600_000_000_000;

/// log2 of the HLL register count: 4096 registers, about 1.6 % standard error, a few hundred
/// bytes in sparse mode (small bins) and 2 KiB dense.
pub const HLL_LG_K: u8 = 12;

/// Default cap on open entries, in units of about 50 bytes (an IPv4 pair takes 8 bytes, an
/// IPv6 one or a run total up to 48, plus hash-table slack): at most about 300 MiB, keeping an
/// ingest under its 512 MiB budget however dense an hour is, whatever the address family.
pub const DEFAULT_MAX_OPEN_ENTRIES: usize = 6_000_000;

/// Units an open source entry weighs against the cap. Its slot (176 bytes) and index entry
/// are only half of it: closing it builds its label, its row (152 bytes and two small
/// vectors) and the row's Arrow form, all at once for every source of the hour: about 700
/// bytes. Counted as one unit, a flood of 3 million distinct sources in one hour never hit the
/// cap and peaked at 2.1 GB; at 24 units, 322 MiB on one thread and 436 MiB on two, where up
/// to two flushes of rows wait for the writer (`bench/memory.sh`).
const SOURCE_UNITS: usize = 24;

/// Units an open observation entry weighs: its slot and index entry, and at the flush its
/// sketch and row.
const OBSERVATION_UNITS: usize = 6;

/// Largest step past the highest destination so far that still counts as sequential: a walk
/// that skips a few dead addresses is still a walk.
const SEQUENTIAL_STEP: u128 = 16;

/// Distinct destinations after which a source is declared a scanner. Threshold Random Walk
/// (Jung, Paxson, Berger, Balakrishnan 2004) with its published parameters (θ0 = 0.8 success
/// for benign hosts, θ1 = 0.2 for scanners, η1 = 99) multiplies the likelihood ratio by
/// (1-θ1)/(1-θ0) = 4 per failed first contact; in a darknet every first contact fails, so the
/// ratio crosses η1 at the ceil(ln 99 / ln 4) = 4th distinct destination.
pub const TRW_PROBES: u64 = 4;

/// How many of a source's most-hit ports its row lists.
const TOP_PORTS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ObsKey {
    bin: i64,
    dst_port: u16,
    signature: SignatureId,
    proto: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SrcKey {
    hour: i64,
    src: Addr,
    signature: SignatureId,
}

/// What one open observation entry has counted; its key lives in the index.
struct ObsAcc {
    packets: u64,
    bytes: u64,
    sources: u64,
    destinations: u64,
}

/// What one open source entry has counted; its key (hour, source, signature) lives in the index.
struct SrcAcc {
    first_ns: i64,
    last_ns: i64,
    packets: u64,
    bytes: u64,
    destinations: u64,
    ttl_min: u8,
    ttl_max: u8,
    /// The observation entry of this source's previous packet: if the next packet falls in the
    /// same one, the source is already counted there and the set probe is skipped.
    last_obs: u32,
    /// The aggregator's `obs_epoch` when `last_obs` was set: ids are recycled when bins
    /// close, so `last_obs` is trusted only within the same epoch.
    last_obs_epoch: u64,
    /// Packets per (protocol, port) and per matching rule, as runs (see [`runs`]).
    ports: Run,
    rules: Run,
    /// The rank of this entry's signature, and the aggregator's packet count at its latest
    /// packet: among a source's entries of one hour, the highest (rank, last_seq) holds the
    /// source's label for the hour.
    rank: Rank,
    last_seq: u64,
    /// Highest destination so far, and how new destinations moved relative to it: a small
    /// step past it (a sequential walk, like Blaster's) or anything else (a random pick).
    max_dst: Addr,
    sequential_steps: u64,
    other_steps: u64,
    /// When the source reached [`TRW_PROBES`] distinct destinations.
    scanner_at_ns: Option<i64>,
    /// Its distinct IPv4 destinations while they form a few intervals (see [`Intervals`]).
    dst_seen: Intervals,
}

/// The exact-count sets of one observation bin.
#[derive(Default)]
struct BinSets {
    /// (observation entry, source) pairs.
    sources: PairSet,
    /// (observation entry, destination) pairs.
    destinations: PairSet,
}

/// A slab of entries with recycled ids.
struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    fn new() -> Self {
        Self {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(value);
                id
            }
            None => {
                self.entries.push(Some(value));
                (self.entries.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn get_mut(&mut self, id: u32) -> &mut T {
        self.entries[id as usize]
            .as_mut()
            .expect("ids in the index always point at live entries")
    }

    fn remove(&mut self, id: u32) -> T {
        self.free.push(id);
        self.entries[id as usize]
            .take()
            .expect("ids in the index always point at live entries")
    }
}

/// Rows produced by a flush, ready to be written.
#[derive(Debug, Default)]
pub struct Flushed {
    pub observations: Vec<ObservationRow>,
    pub sources: Vec<SourceRow>,
}

impl Flushed {
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.sources.is_empty()
    }
}

/// Aggregates packet records into observation and source rows.
pub struct Aggregator {
    bin_ns: i64,
    bin_of: WindowOf,
    obs_index: HashMap<ObsKey, u32>,
    obs: Slab<ObsAcc>,
    /// Exact-count sets per open bin.
    bin_sets: Windows<BinSets>,
    src_index: HashMap<SrcKey, u32>,
    srcs: Slab<SrcAcc>,
    /// (source entry, destination) pairs per open hour that the entries' own intervals cannot
    /// tell: IPv6 destinations, and IPv4 ones once a source's are too scattered. A source
    /// entry belongs to one hour.
    src_destinations: Windows<PairSet>,
    src_ports: RunTotals,
    src_rules: RunTotals,
    drain_scratch: pairs::Scratch,
    /// Sketches of the entries being closed, by entry id; empty between flushes. Kept, so
    /// that a flush does not allocate and drop one slot per open entry.
    sketch_slots: Vec<Option<HllSketch>>,
    /// One-entry cache of the last observation key: darknet traffic is dominated by a few
    /// ports, so consecutive packets usually share it.
    last_obs: Option<(ObsKey, u32)>,
    /// One-entry cache of the last source key: scanners send in bursts.
    last_src: Option<(SrcKey, u32)>,
    newest_bin: i64,
    /// Incremented whenever observation entries close (and their ids may be reused).
    obs_epoch: u64,
    /// Source hours before this one have been flushed; flushing them again finds nothing, so
    /// bin boundaries inside an hour skip the source maps.
    hours_flushed_before: i64,
    /// Packets added, to check the memory budget every 64k packets only.
    added: u64,
    max_open_entries: usize,
    early_flushes: u64,
}

impl Aggregator {
    /// `bin_ns`: the observation bin width in nanoseconds (a divisor of an hour keeps bins
    /// aligned with the hourly source rows).
    pub fn new(bin_ns: i64) -> Self {
        assert!(bin_ns > 0, "bin width must be positive");
        Self {
            bin_ns,
            bin_of: WindowOf::new(bin_ns),
            obs_index: HashMap::new(),
            obs: Slab::new(),
            bin_sets: Windows::new(),
            src_index: HashMap::new(),
            srcs: Slab::new(),
            src_destinations: Windows::new(),
            src_ports: RunTotals::new(),
            src_rules: RunTotals::new(),
            drain_scratch: pairs::Scratch::default(),
            sketch_slots: Vec::new(),
            last_obs: None,
            last_src: None,
            newest_bin: i64::MIN,
            obs_epoch: 0,
            hours_flushed_before: i64::MIN,
            added: 0,
            max_open_entries: DEFAULT_MAX_OPEN_ENTRIES,
            early_flushes: 0,
        }
    }

    /// Cap the open entries (see [`DEFAULT_MAX_OPEN_ENTRIES`]). When an hour holds more
    /// distinct (source, destination) pairs than this, everything open is flushed early: rows
    /// are split in two (counts still add up, sketches still merge; exact distinct counts of
    /// the two parts must not be added), which is the price of bounded memory.
    pub fn with_max_open_entries(mut self, entries: usize) -> Self {
        self.max_open_entries = entries.max(1);
        self
    }

    /// How many times the memory cap forced an early flush.
    pub fn early_flushes(&self) -> u64 {
        self.early_flushes
    }

    /// Add one packet. Returns `true` when a bin boundary passed or the memory cap is reached,
    /// and [`flush_closed`](Self::flush_closed) has rows to give.
    #[inline]
    pub fn add(&mut self, r: &PacketRecord) -> bool {
        let bin = self.bin_of.of(r.ts_ns);
        let crossed = bin > self.newest_bin;
        if crossed {
            self.newest_bin = bin;
        }
        let obs_key = ObsKey {
            bin,
            dst_port: r.dst_port,
            signature: r.signature,
            proto: r.proto,
        };
        let obs_id = match self.last_obs {
            Some((key, id)) if key == obs_key => id,
            _ => {
                let id = match self.obs_index.get(&obs_key) {
                    Some(&id) => id,
                    None => {
                        let id = self.obs.insert(ObsAcc {
                            packets: 0,
                            bytes: 0,
                            sources: 0,
                            destinations: 0,
                        });
                        self.obs_index.insert(obs_key, id);
                        id
                    }
                };
                self.last_obs = Some((obs_key, id));
                id
            }
        };
        let sets = self.bin_sets.get(bin);
        let new_destination = sets.destinations.insert(obs_id, r.dst);

        let src_key = SrcKey {
            hour: r.ts_ns.div_euclid(HOUR_NS),
            src: r.src,
            signature: r.signature,
        };
        let port = u32::from(r.proto) << 16 | u32::from(r.dst_port);
        let cached = self
            .last_src
            .filter(|(key, _)| *key == src_key)
            .map(|(_, id)| id);
        let src_id = match cached.or_else(|| self.src_index.get(&src_key).copied()) {
            Some(id) => id,
            None => {
                let id = self.srcs.insert(SrcAcc {
                    first_ns: r.ts_ns,
                    last_ns: r.ts_ns,
                    packets: 0,
                    bytes: 0,
                    destinations: 0,
                    ttl_min: r.ttl,
                    ttl_max: r.ttl,
                    last_obs: u32::MAX,
                    last_obs_epoch: 0,
                    ports: Run::empty(),
                    rules: Run::empty(),
                    rank: r.rank,
                    last_seq: 0,
                    max_dst: r.dst,
                    sequential_steps: 0,
                    other_steps: 0,
                    scanner_at_ns: None,
                    dst_seen: Intervals::new(),
                });
                self.src_index.insert(src_key, id);
                id
            }
        };
        self.last_src = Some((src_key, src_id));
        let src = self.srcs.get_mut(src_id);
        let new_src_destination = match pairs::v4_of(r.dst).and_then(|v4| src.dst_seen.insert(v4)) {
            Some(new) => new,
            None => self
                .src_destinations
                .get(src_key.hour)
                .insert(src_id, r.dst),
        };
        src.first_ns = src.first_ns.min(r.ts_ns);
        src.last_ns = src.last_ns.max(r.ts_ns);
        src.packets += 1;
        src.bytes += u64::from(r.bytes);
        if new_src_destination {
            src.destinations += 1;
            if src.destinations > 1 {
                if r.dst > src.max_dst && r.dst - src.max_dst <= SEQUENTIAL_STEP {
                    src.sequential_steps += 1;
                } else {
                    src.other_steps += 1;
                }
            }
            src.max_dst = src.max_dst.max(r.dst);
            if src.destinations == TRW_PROBES {
                src.scanner_at_ns = Some(r.ts_ns);
            }
        }
        src.ttl_min = src.ttl_min.min(r.ttl);
        src.ttl_max = src.ttl_max.max(r.ttl);
        src.ports.add(src_id, port, &mut self.src_ports);
        if let Some(rule) = r.rule {
            src.rules
                .add(src_id, u32::from(rule.0), &mut self.src_rules);
        }
        src.last_seq = self.added;
        let known = src.last_obs == obs_id && src.last_obs_epoch == self.obs_epoch;
        let new_source = !known && sets.sources.insert(obs_id, r.src);
        src.last_obs = obs_id;
        src.last_obs_epoch = self.obs_epoch;

        let obs = self.obs.get_mut(obs_id);
        obs.packets += 1;
        obs.bytes += u64::from(r.bytes);
        obs.sources += u64::from(new_source);
        obs.destinations += u64::from(new_destination);
        self.added += 1;
        crossed || (self.added.is_multiple_of(1 << 16) && self.over_budget())
    }

    fn over_budget(&self) -> bool {
        self.open_entries() > self.max_open_entries
    }

    /// Rows of every bin and hour that can no longer receive in-order packets.
    pub fn flush_closed(&mut self) -> Flushed {
        if self.over_budget() {
            self.early_flushes += 1;
            return self.flush_all();
        }
        // One bin of grace: bins up to newest-2 are closed, and so are hours that end before
        // the start of bin newest-1.
        let bin_cutoff = self.newest_bin.saturating_sub(1);
        let hours_before = bin_cutoff.saturating_mul(self.bin_ns).div_euclid(HOUR_NS);
        let hours_closed = hours_before > self.hours_flushed_before;
        if hours_closed {
            self.hours_flushed_before = hours_before;
        }
        self.flush(
            |bin| bin < bin_cutoff,
            hours_closed.then_some(|hour| hour < hours_before),
        )
    }

    /// Rows of everything still open (at the end of an input).
    pub fn flush_all(&mut self) -> Flushed {
        self.flush(|_| true, Some(|_| true))
    }

    /// Flush the observation entries of the bins `bin_closed` selects and, when given, the
    /// source entries of the hours `hour_closed` selects.
    fn flush(
        &mut self,
        bin_closed: impl Fn(i64) -> bool,
        hour_closed: Option<impl Fn(i64) -> bool>,
    ) -> Flushed {
        let mut out = Flushed::default();
        self.last_obs = None;
        self.last_src = None;

        // Observations: find the closed entries, build their sketches from the exact source
        // sets (one coupon per distinct source, so no per-packet sketch update is needed).
        let mut closed: Vec<(ObsKey, u32)> = Vec::new();
        self.obs_index.retain(|key, id| {
            let is_closed = bin_closed(key.bin);
            if is_closed {
                closed.push((*key, *id));
            }
            !is_closed
        });
        if !closed.is_empty() {
            // Indexed by entry id. Every pair in a closed bin's sets belongs to an entry of
            // that bin (the bin is part of the key), so each pair feeds a closed entry, and
            // every sketch made here is taken below: the slots are all empty again after.
            let sketches = &mut self.sketch_slots;
            if sketches.len() < self.obs.entries.len() {
                sketches.resize_with(self.obs.entries.len(), || None);
            }
            // In sorted order, so that the same input gives the same sketch bytes.
            let mut text = String::with_capacity(40);
            let scratch = &mut self.drain_scratch;
            self.bin_sets.close(&bin_closed, |sets| {
                sets.sources.drain_sorted(scratch, |id, src| {
                    let sketch = sketches[id as usize].get_or_insert_with(new_sketch);
                    update_sketch(sketch, src, &mut text);
                });
                sets.destinations.clear();
            });
            // Sources may still point at a closed entry as their `last_obs`; the id is about
            // to be recycled, so a new epoch invalidates every `last_obs`.
            self.obs_epoch += 1;
            // In row order: the entries are sorted here, as (key, id) pairs, rather than the
            // wide rows after.
            closed
                .sort_unstable_by_key(|(key, _)| (key.bin, key.proto, key.dst_port, key.signature));
            out.observations.reserve(closed.len());
            for (key, id) in closed {
                let acc = self.obs.remove(id);
                let sketch = sketches[id as usize].take().unwrap_or_else(new_sketch);
                out.observations.push(ObservationRow {
                    bin_start_ns: key.bin.saturating_mul(self.bin_ns),
                    proto: key.proto,
                    dst_port: key.dst_port,
                    signature: key.signature,
                    packets: acc.packets,
                    bytes: acc.bytes,
                    sources: acc.sources,
                    sources_hll: sketch.serialize(),
                    destinations: acc.destinations,
                });
            }
            debug_assert!(
                sketches.iter().all(Option::is_none),
                "a sketch was made for an entry that did not close"
            );
        }

        // Sources.
        let Some(hour_closed) = hour_closed else {
            return out;
        };
        // The closed entries in row order, (hour, address, signature): a source's entries of
        // one hour are then adjacent, so its label needs no map, and the rows need no sort.
        // (A map of labels for an hour of millions of sources missed the cache on every probe.)
        let mut closed: Vec<(i64, IpAddr, SignatureId, u32)> = Vec::new();
        self.src_index.retain(|key, id| {
            let is_closed = hour_closed(key.hour);
            if is_closed {
                closed.push((key.hour, addr_to_ip(key.src), key.signature, *id));
            }
            !is_closed
        });
        self.src_destinations.close(&hour_closed, PairSet::clear);
        if !closed.is_empty() {
            closed.sort_unstable();
            let mut is_closed = vec![false; self.srcs.entries.len()];
            for &(.., id) in &closed {
                is_closed[id as usize] = true;
            }
            let mut ports = runs::take_closed(&mut self.src_ports, |id| is_closed[id as usize]);
            let mut rules = runs::take_closed(&mut self.src_rules, |id| is_closed[id as usize]);
            for group in closed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
                // A source's label for the hour: the signature of its latest packet of the
                // highest rank.
                let label = group
                    .iter()
                    .map(|&(_, _, signature, id)| {
                        let acc = self.srcs.get_mut(id);
                        (acc.rank, acc.last_seq, signature)
                    })
                    .max()
                    .expect("groups are not empty")
                    .2;
                for &(hour, src, signature, id) in group {
                    let acc = self.srcs.remove(id);
                    let ports = runs::finish(ports.remove(&id).unwrap_or_default(), acc.ports);
                    let distinct_ports = ports.len() as u64;
                    out.sources.push(SourceRow {
                        hour_ns: hour.saturating_mul(HOUR_NS),
                        src,
                        signature,
                        label,
                        first_seen_ns: acc.first_ns,
                        last_seen_ns: acc.last_ns,
                        packets: acc.packets,
                        bytes: acc.bytes,
                        destinations: acc.destinations,
                        ports: distinct_ports,
                        top_ports: ports
                            .into_iter()
                            .take(TOP_PORTS)
                            .map(|(port, packets)| PortCount::new(port, packets))
                            .collect(),
                        rules: runs::finish(rules.remove(&id).unwrap_or_default(), acc.rules)
                            .into_iter()
                            .map(|(rule, packets)| RuleCount {
                                rule: RuleId(rule as u16),
                                packets,
                            })
                            .collect(),
                        ttl_min: acc.ttl_min,
                        ttl_max: acc.ttl_max,
                        pattern: ScanPattern::of(&acc),
                        shape: ScanShape::of(acc.destinations, distinct_ports),
                        scanner_at_ns: acc.scanner_at_ns,
                    });
                }
            }
        }
        out
    }

    /// Entries currently held, in the cap's units (see [`DEFAULT_MAX_OPEN_ENTRIES`]): what
    /// memory follows.
    pub fn open_entries(&self) -> usize {
        self.bin_sets
            .values()
            .map(|b| b.sources.len() + b.destinations.len())
            .sum::<usize>()
            + self
                .src_destinations
                .values()
                .map(PairSet::len)
                .sum::<usize>()
            + self.src_ports.len()
            + self.src_rules.len()
            + self.obs_index.len() * OBSERVATION_UNITS
            + self.src_index.len() * SOURCE_UNITS
    }
}

impl ScanPattern {
    fn of(acc: &SrcAcc) -> Self {
        if acc.destinations <= 1 {
            ScanPattern::Single
        } else if acc.sequential_steps >= acc.other_steps {
            ScanPattern::Sequential
        } else {
            ScanPattern::Random
        }
    }
}

impl ScanShape {
    fn of(destinations: u64, ports: u64) -> Self {
        match (destinations > 1, ports > 1) {
            (false, false) => ScanShape::Single,
            (true, false) => ScanShape::Horizontal,
            (false, true) => ScanShape::Vertical,
            (true, true) => ScanShape::Both,
        }
    }
}

fn new_sketch() -> HllSketch {
    HllSketch::new(HLL_LG_K, HllType::Hll4).expect("lg_k 12 is within the supported range")
}

/// Sketches hash the *text* form of the address as raw UTF-8 bytes, the encoding Apache
/// DataSketches uses for strings in every language: a sketch stored here merges with one that
/// Spark's `hll_sketch_agg(src)` or Druid builds from the `src` column of the sources table.
///
/// IPv4 text goes from a stack buffer straight to the hash: no `String`, no UTF-8 check.
fn update_sketch(sketch: &mut HllSketch, src: Addr, text: &mut String) {
    match addr_to_ip(src) {
        IpAddr::V4(v4) => {
            let mut buf = [0u8; 15];
            let len = ipv4_text(v4.octets(), &mut buf);
            sketch.update(raw_bytes::from_slice(&buf[..len]));
        }
        ip @ IpAddr::V6(_) => {
            text.clear();
            push_ip_text(ip, text);
            sketch.update(raw_bytes::from_slice(text.as_bytes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{ScanPattern, ScanShape};
    use std::net::{IpAddr, Ipv4Addr};

    const MIN: i64 = 60_000_000_000;

    fn rec(ts_ns: i64, src: u32, dst: u32, port: u16) -> PacketRecord {
        PacketRecord {
            ts_ns,
            src: crate::addr(IpAddr::V4(Ipv4Addr::from(src))),
            dst: crate::addr(IpAddr::V4(Ipv4Addr::from(dst))),
            bytes: 40,
            signature: SignatureId::UNCLASSIFIED,
            rule: None,
            rank: Rank::Generic,
            dst_port: port,
            proto: 6,
            ttl: 100 + (src % 20) as u8,
        }
    }

    fn estimate(row: &ObservationRow) -> f64 {
        HllSketch::deserialize(&row.sources_hll).unwrap().estimate()
    }

    #[test]
    fn counts_and_exact_distincts_per_bin() {
        let mut agg = Aggregator::new(5 * MIN);
        // bin 0: 3 sources hit port 135 (one of them twice, on two destinations), one hits 445
        for r in [
            rec(0, 1, 100, 135),
            rec(MIN, 2, 100, 135),
            rec(2 * MIN, 1, 101, 135),
            rec(3 * MIN, 3, 102, 135),
            rec(4 * MIN, 3, 102, 445),
        ] {
            agg.add(&r);
        }
        let out = agg.flush_all();
        assert_eq!(out.observations.len(), 2);
        let p135 = &out.observations[0];
        assert_eq!((p135.dst_port, p135.packets, p135.bytes), (135, 4, 160));
        assert_eq!((p135.sources, p135.destinations), (3, 3));
        assert!((estimate(p135) - 3.0).abs() < 0.5);
        let p445 = &out.observations[1];
        assert_eq!((p445.packets, p445.sources, p445.destinations), (1, 1, 1));

        assert_eq!(out.sources.len(), 3);
        let s1 = &out.sources[0];
        assert_eq!(s1.src, IpAddr::V4(Ipv4Addr::from(1)));
        assert_eq!((s1.packets, s1.destinations, s1.ports), (2, 2, 1));
        assert_eq!((s1.first_seen_ns, s1.last_seen_ns), (0, 2 * MIN));
        let s3 = &out.sources[2];
        assert_eq!((s3.packets, s3.destinations, s3.ports), (2, 1, 2));
        assert_eq!(s3.top_ports.len(), 2);
    }

    #[test]
    fn closed_bins_are_flushed_with_one_bin_of_grace() {
        let mut agg = Aggregator::new(MIN);
        assert!(agg.add(&rec(0, 1, 1, 80)));
        assert!(!agg.add(&rec(1, 2, 1, 80)));
        assert!(agg.add(&rec(MIN, 1, 1, 80)));
        // bin 0 is still within grace
        assert!(agg.flush_closed().observations.is_empty());
        assert!(agg.add(&rec(2 * MIN, 1, 1, 80)));
        let out = agg.flush_closed();
        assert_eq!(out.observations.len(), 1);
        assert_eq!(out.observations[0].bin_start_ns, 0);
        assert_eq!(out.observations[0].sources, 2);
        // a late packet for bin 0 opens it again rather than being lost
        agg.add(&rec(30, 3, 1, 80));
        let rest = agg.flush_all();
        let late: Vec<_> = rest
            .observations
            .iter()
            .filter(|r| r.bin_start_ns == 0)
            .collect();
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].packets, 1);
    }

    #[test]
    fn memory_follows_open_bins_not_capture_length() {
        let mut agg = Aggregator::new(MIN);
        let mut peak = 0;
        // Four hours at 10 packets per second.
        for i in 0..144_000i64 {
            let ts = i * 100_000_000;
            if agg.add(&rec(ts, (i % 5000) as u32, (i % 65536) as u32, 135)) {
                let _ = agg.flush_closed();
            }
            peak = peak.max(agg.open_entries());
        }
        // Source records hold one hour (5,000 sources, 36k packets, each a new
        // source-destination pair); bins hold two minutes. The peak is what an hour holds, not
        // the 144k packets seen.
        assert!(peak < 5_000 * SOURCE_UNITS + 50_000, "peak entries {peak}");
        assert!(
            agg.obs.entries.len() < 16,
            "slab grew to {}",
            agg.obs.entries.len()
        );
        assert_eq!(agg.early_flushes(), 0);
    }

    #[test]
    fn the_memory_cap_flushes_early_without_losing_counts() {
        let mut agg = Aggregator::new(60 * MIN).with_max_open_entries(10_000);
        let mut rows = Vec::new();
        for i in 0..300_000i64 {
            if agg.add(&rec(i, i as u32, (i * 3) as u32, 80)) {
                rows.extend(agg.flush_closed().observations);
            }
            // The cap is checked every 65,536 packets; each adds at most a source, an
            // observation and a few pairs.
            let per_packet = SOURCE_UNITS + OBSERVATION_UNITS + 4;
            assert!(agg.open_entries() < 10_000 + per_packet * (1 << 16));
        }
        rows.extend(agg.flush_all().observations);
        assert!(agg.early_flushes() > 0);
        assert!(rows.len() > 1, "the one bin was split");
        assert_eq!(rows.iter().map(|r| r.packets).sum::<u64>(), 300_000);
    }

    #[test]
    fn sketch_estimates_track_exact_counts() {
        let mut agg = Aggregator::new(5 * MIN);
        for i in 0..20_000u32 {
            agg.add(&rec(i64::from(i), i * 7919 + 1, 5, 23));
        }
        let out = agg.flush_all();
        let row = &out.observations[0];
        assert_eq!(row.sources, 20_000);
        let err = (estimate(row) - 20_000.0).abs() / 20_000.0;
        assert!(err < 0.05, "relative error {err}");
    }

    #[test]
    fn the_same_packets_give_the_same_sketch_bytes() {
        // A sketch in list or set mode keeps its coupons in the order they came, and each
        // aggregator's hash sets have their own random seed.
        let sketches = || {
            let mut agg = Aggregator::new(5 * MIN);
            for i in 0..300u32 {
                agg.add(&rec(i64::from(i), i * 7919 + 1, 5, 23));
            }
            agg.flush_all().observations[0].sources_hll.clone()
        };
        assert_eq!(sketches(), sketches());
    }

    #[test]
    fn scan_pattern_shape_and_trw_detection() {
        let mut agg = Aggregator::new(5 * MIN);
        // Source 1 walks upward with retransmissions of earlier targets in between.
        for (i, dst) in [10, 11, 12, 10, 13, 11, 14, 15].into_iter().enumerate() {
            agg.add(&rec(i as i64 * 1000, 1, dst, 135));
        }
        // Source 2 picks destinations at random; source 3 probes many ports of one host.
        for (i, dst) in [900, 5, 70_000, 12_345, 77].into_iter().enumerate() {
            agg.add(&rec(i as i64, 2, dst, 445));
        }
        for port in [21, 22, 23, 80] {
            agg.add(&rec(i64::from(port), 3, 42, port));
        }
        agg.add(&rec(0, 4, 42, 80));
        let rows = agg.flush_all().sources;
        let by_src = |n: u32| {
            rows.iter()
                .find(|r| r.src == IpAddr::V4(Ipv4Addr::from(n)))
                .unwrap()
        };
        let walker = by_src(1);
        assert_eq!(
            (walker.pattern, walker.shape),
            (ScanPattern::Sequential, ScanShape::Horizontal)
        );
        // The 4th distinct destination (13) came with the 5th packet.
        assert_eq!(walker.scanner_at_ns, Some(4000));
        let random = by_src(2);
        assert_eq!(
            (random.pattern, random.shape),
            (ScanPattern::Random, ScanShape::Horizontal)
        );
        assert_eq!(by_src(3).shape, ScanShape::Vertical);
        assert_eq!(
            by_src(3).scanner_at_ns,
            None,
            "one host is not a darknet scan"
        );
        let single = by_src(4);
        assert_eq!(
            (single.pattern, single.shape),
            (ScanPattern::Single, ScanShape::Single)
        );
    }

    #[test]
    fn rows_carry_matching_rules_and_the_label_of_the_hour() {
        let (early, late) = (SignatureId(1), SignatureId(2));
        let labelled = |ts: i64, sig: SignatureId, rule: u16| PacketRecord {
            signature: sig,
            rule: Some(RuleId(rule)),
            rank: Rank::Probe,
            ..rec(ts, 5, 1, 445)
        };
        let mut agg = Aggregator::new(5 * MIN);
        // Rule 3 then rule 4 under the early signature, then the late one takes over.
        for (ts, sig, rule) in [(0, early, 3), (1, early, 3), (2, early, 4), (3, late, 7)] {
            agg.add(&labelled(ts, sig, rule));
        }
        agg.add(&labelled(4, early, 3));
        agg.add(&labelled(5, late, 7));
        // Another source ends the hour on the early signature; a generic packet has no rule.
        agg.add(&labelled(6, late, 7));
        agg.add(&PacketRecord {
            src: rec(0, 6, 0, 0).src,
            ..labelled(7, early, 3)
        });
        agg.add(&rec(8, 5, 2, 80));
        let rows = agg.flush_all().sources;
        let row = |src: u32, sig: SignatureId| {
            rows.iter()
                .find(|r| r.src == IpAddr::V4(Ipv4Addr::from(src)) && r.signature == sig)
                .unwrap()
        };
        let rules = |r: &SourceRow| -> Vec<(u16, u64)> {
            r.rules.iter().map(|m| (m.rule.0, m.packets)).collect()
        };
        assert_eq!(rules(row(5, early)), [(3, 3), (4, 1)]);
        assert_eq!(rules(row(5, late)), [(7, 3)]);
        assert_eq!(rules(row(5, SignatureId::UNCLASSIFIED)), []);
        // Source 5's latest packet was generic, which says less than its latest probe (late);
        // source 6's was early.
        for sig in [early, late, SignatureId::UNCLASSIFIED] {
            assert_eq!(row(5, sig).label, late);
        }
        assert_eq!(row(6, early).label, early);
    }

    #[test]
    fn port_runs_fold_into_exact_port_counts() {
        let mut agg = Aggregator::new(5 * MIN);
        for (i, port) in [80, 80, 443, 80, 22, 22, 22].into_iter().enumerate() {
            agg.add(&rec(i as i64, 9, 1, port));
        }
        let s = &agg.flush_all().sources[0];
        assert_eq!(s.ports, 3);
        let top: Vec<(u16, u64)> = s.top_ports.iter().map(|p| (p.port, p.packets)).collect();
        assert_eq!(top, [(22, 3), (80, 3), (443, 1)]);
    }
}
