//! One input through the whole flow: source → decode → classify → aggregate → store.
//!
//! Backscatter answers are also grouped into attack vectors by victim on the reading side,
//! where the decoded packet (and the ICMP error's quoted header naming the victim) is at hand;
//! they are few, so this costs the hot path one comparison per packet.
//!
//! With one thread the stages run in one loop. With two or more, the reading side (walk,
//! decode, classify), the aggregating side (hash sets) and the writing side (Parquet) run on
//! three threads joined by bounded channels (reused record batches, then closed rows), so nothing is allocated per packet and
//! memory stays bounded whatever the capture size. Results do not depend on the thread count:
//! records reach the aggregator in capture order either way.

use std::sync::mpsc;

use anyhow::{Context, Result};
use kansoku_aggregate::{Aggregator, AttackTracker, Flushed, PacketRecord, Victim};
use kansoku_classify::{Classifier, Networks, SignatureId};
use kansoku_packet::decode::{Decoded, Malformed, decode};
use kansoku_packet::source::{CaptureReader, Link, ReadSummary};
use kansoku_store::Staging;

/// Records per batch handed between threads: large enough to amortise the channel, small
/// enough to stay in cache.
const BATCH: usize = 4096;
/// Batches in flight between the two threads.
const IN_FLIGHT: usize = 4;

/// What decoding saw in one input.
#[derive(Debug)]
pub struct DecodeStats {
    pub frames: u64,
    pub ip_packets: u64,
    pub not_ip: u64,
    pub unknown_link: u64,
    pub malformed: [u64; Malformed::COUNT],
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

impl Default for DecodeStats {
    fn default() -> Self {
        Self {
            frames: 0,
            ip_packets: 0,
            not_ip: 0,
            unknown_link: 0,
            malformed: [0; Malformed::COUNT],
            first_ts: None,
            last_ts: None,
        }
    }
}

/// The outcome of pushing one input through the pipeline.
pub struct Processed {
    pub stats: DecodeStats,
    pub read: ReadSummary,
}

/// The classify stage: the classifier, and the attack vectors of the packets it labels
/// `backscatter`.
struct Classify<'a> {
    classifier: &'a mut Classifier,
    backscatter: Option<SignatureId>,
    /// Where answers must go to count as backscatter of an attack (empty: anywhere).
    telescope: &'a Networks,
    attacks: AttackTracker,
}

impl<'a> Classify<'a> {
    fn new(classifier: &'a mut Classifier, telescope: &'a Networks) -> Self {
        let backscatter = classifier.signatures().id("backscatter");
        Self {
            classifier,
            backscatter,
            telescope,
            attacks: AttackTracker::default(),
        }
    }

    #[inline]
    fn record(&mut self, ts_ns: i64, packet: &kansoku_packet::decode::Packet<'_>) -> PacketRecord {
        let label = self.classifier.classify(ts_ns, packet);
        if Some(label.signature) == self.backscatter
            && (self.telescope.is_empty() || self.telescope.contains(packet.dst))
        {
            self.attacks.add(ts_ns, Victim::of(packet), packet.ip_len);
        }
        PacketRecord::new(ts_ns, packet, label)
    }
}

/// Run one input through decode, classify and aggregate, writing rows into `staging`.
/// Backscatter answers join attack vectors only when sent into `telescope` (if not empty).
pub fn process(
    reader: CaptureReader,
    classifier: &mut Classifier,
    telescope: &Networks,
    bin_ns: i64,
    staging: &mut Staging,
    threads: usize,
    progress: &dyn Fn(u64),
) -> Result<Processed> {
    let mut classify = Classify::new(classifier, telescope);
    let processed = if threads <= 1 {
        process_inline(reader, &mut classify, bin_ns, staging, progress)
    } else {
        process_threaded(reader, &mut classify, bin_ns, staging, progress)
    }?;
    staging.write_backscatter(&std::mem::take(&mut classify.attacks).finish())?;
    Ok(processed)
}

fn process_inline(
    mut reader: CaptureReader,
    classify: &mut Classify<'_>,
    bin_ns: i64,
    staging: &mut Staging,
    progress: &dyn Fn(u64),
) -> Result<Processed> {
    let mut aggregator = Aggregator::new(bin_ns);
    let mut stats = DecodeStats::default();
    let mut failed = None;
    read_records(&mut reader, classify, &mut stats, progress, |record| {
        if failed.is_none()
            && aggregator.add(&record)
            && let Err(e) = write_closed(&mut aggregator, staging)
        {
            failed = Some(e);
        }
        failed.is_none()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    write_all(&mut aggregator, staging)?;
    let read = reader.finish().context("reading the rest of the input")?;
    Ok(Processed { stats, read })
}

fn process_threaded(
    mut reader: CaptureReader,
    classify: &mut Classify<'_>,
    bin_ns: i64,
    staging: &mut Staging,
    progress: &dyn Fn(u64),
) -> Result<Processed> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<PacketRecord>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<PacketRecord>>(IN_FLIGHT + 2);
    for _ in 0..IN_FLIGHT + 1 {
        empty_tx
            .send(Vec::with_capacity(BATCH))
            .expect("receiver alive");
    }
    // Closed bins go to a third thread that encodes and writes them, so the aggregating
    // thread (the slowest stage) only aggregates.
    let (rows_tx, rows_rx) = mpsc::sync_channel::<Flushed>(2);
    std::thread::scope(|scope| {
        let writing = scope.spawn(move || -> Result<()> {
            for rows in rows_rx {
                staging.write(&rows.observations, &rows.sources)?;
            }
            Ok(())
        });
        let aggregating = scope.spawn(move || -> Result<()> {
            let mut aggregator = Aggregator::new(bin_ns);
            for mut batch in full_rx {
                for record in &batch {
                    if aggregator.add(record) {
                        let rows = aggregator.flush_closed();
                        if !rows.is_empty() && rows_tx.send(rows).is_err() {
                            // The writer failed; its error is reported when it is joined.
                            return Ok(());
                        }
                    }
                }
                batch.clear();
                // The reader may have stopped early; a closed return channel is fine.
                let _ = empty_tx.send(batch);
            }
            let _ = rows_tx.send(aggregator.flush_all());
            Ok(())
        });
        let mut stats = DecodeStats::default();
        let mut batch = empty_rx.recv().unwrap_or_default();
        let mut aggregator_gone = false;
        read_records(&mut reader, classify, &mut stats, progress, |record| {
            batch.push(record);
            if batch.len() == BATCH {
                let next = empty_rx.recv().unwrap_or_default();
                if full_tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    aggregator_gone = true;
                }
            }
            !aggregator_gone
        });
        if !batch.is_empty() {
            let _ = full_tx.send(batch);
        }
        drop(full_tx);
        aggregating
            .join()
            .map_err(|_| anyhow::anyhow!("the aggregation thread panicked"))??;
        writing
            .join()
            .map_err(|_| anyhow::anyhow!("the writing thread panicked"))??;
        let read = reader.finish().context("reading the rest of the input")?;
        Ok(Processed { stats, read })
    })
}

/// The hot loop: walk frames, decode, classify, and hand each IP packet's record to `emit`
/// (which returns `false` to stop early on a downstream error).
#[inline]
fn read_records(
    reader: &mut CaptureReader,
    classify: &mut Classify<'_>,
    stats: &mut DecodeStats,
    progress: &dyn Fn(u64),
    mut emit: impl FnMut(PacketRecord) -> bool,
) {
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    while let Some(frame) = reader.next_frame() {
        stats.frames += 1;
        if stats.frames.is_multiple_of(1 << 16) {
            progress(stats.frames);
        }
        let Link::Known(link) = frame.link else {
            stats.unknown_link += 1;
            continue;
        };
        first = first.min(frame.ts_ns);
        last = last.max(frame.ts_ns);
        match decode(link, frame.data) {
            Ok(Decoded::Ip(packet)) => {
                stats.ip_packets += 1;
                if !emit(classify.record(frame.ts_ns, &packet)) {
                    break;
                }
            }
            Ok(Decoded::NotIp { .. }) => stats.not_ip += 1,
            Err(reason) => stats.malformed[reason as usize] += 1,
        }
    }
    if first <= last {
        stats.first_ts = Some(first);
        stats.last_ts = Some(last);
    }
}

fn write_closed(aggregator: &mut Aggregator, staging: &mut Staging) -> Result<()> {
    let rows = aggregator.flush_closed();
    if !rows.is_empty() {
        staging.write(&rows.observations, &rows.sources)?;
    }
    Ok(())
}

fn write_all(aggregator: &mut Aggregator, staging: &mut Staging) -> Result<()> {
    let rows = aggregator.flush_all();
    staging.write(&rows.observations, &rows.sources)?;
    Ok(())
}
