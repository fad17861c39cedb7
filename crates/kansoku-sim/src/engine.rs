//! The event loop: merges every source's schedule into one capture in time order.
//!
//! A binary heap holds one entry per *active* source, keyed by the time of its next frame
//! (ties broken by source index, so the order never depends on anything but the seed).
//! Sources not yet started wait in a list sorted by start time and join the heap when
//! their time comes, which keeps the heap small. Memory is bounded by the number of
//! sources, never by the number of packets.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::io::{self, Write};

use rand_chacha::ChaCha8Rng;

use crate::Summary;
use crate::pcap_writer::PcapWriter;
use crate::scenario::{Env, Source};

/// Runs every source to the end of the capture, writing frames to `out`.
pub(crate) fn run<W: Write>(
    env: &Env,
    sources: &mut [Source],
    rng: &mut ChaCha8Rng,
    out: W,
) -> io::Result<Summary> {
    let mut writer = PcapWriter::new(out)?;
    let mut waiting: Vec<(u64, u32)> = sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.first_us < env.end_us)
        .map(|(i, s)| (s.first_us, i as u32))
        .collect();
    waiting.sort_unstable();
    let mut waiting = waiting.into_iter().peekable();
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut frame = Vec::with_capacity(128);
    let mut summary = Summary::default();

    loop {
        // Admit sources whose first frame is due before the earliest active one.
        let head = heap.peek().map_or((u64::MAX, u32::MAX), |r| r.0);
        if let Some(&due) = waiting.peek()
            && due < head
        {
            heap.push(Reverse(due));
            waiting.next();
            continue;
        }
        let Some(mut top) = heap.peek_mut() else {
            break;
        };
        let Reverse((now, i)) = *top;
        let source = &mut sources[i as usize];
        let next = source
            .behaviour
            .emit(source.addr, now, env, rng, &mut frame);
        writer.write(now, &frame)?;
        source.tally.record(now);
        if summary.packets == 0 {
            summary.first_ts = now;
        }
        summary.packets += 1;
        summary.last_ts = now;
        match next {
            Some(t) if t < env.end_us => {
                debug_assert!(t >= now, "source {i} went back in time");
                *top = Reverse((t, i));
            }
            _ => {
                PeekMut::pop(top);
            }
        }
    }
    writer.finish()?;
    summary.sources = sources.iter().filter(|s| s.tally.packets > 0).count();
    Ok(summary)
}
