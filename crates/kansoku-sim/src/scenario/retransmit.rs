//! Windows SYN retransmission: nothing in a darknet answers, so every SYN a Windows
//! 2000/XP/2003 host sends there is retransmitted after 3 s and again 6 s later (+9 s),
//! with the same source port and sequence number (`TcpMaxConnectRetransmissions` = 2,
//! initial RTO 3 s, doubled). Blaster, Sasser and Conficker all connect() through that
//! stack, so all three show the triplets.

use std::collections::VecDeque;

use super::due;
use crate::time::MICROS;

/// Retransmission times after the first SYN.
const RETRANSMIT_US: [u64; 2] = [3 * MICROS, 9 * MICROS];

/// A SYN that may still be retransmitted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub due: u64,
    pub dst: u32,
    pub sport: u16,
    pub seq: u32,
}

/// The pending retransmissions of one host.
#[derive(Debug)]
pub(crate) struct Retransmits {
    /// Per-host timer skew added to both retransmission times (a few milliseconds).
    skew_us: u64,
    /// Pending first and second retransmissions, each in due order (first SYNs are sent in
    /// time order and every probe waits the same time, so pushing at the back keeps order).
    queues: [VecDeque<Probe>; 2],
}

impl Retransmits {
    pub(crate) fn new(skew_us: u64) -> Self {
        Self {
            skew_us,
            queues: [VecDeque::new(), VecDeque::new()],
        }
    }

    /// When the earliest pending retransmission is due.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.queues
            .iter()
            .filter_map(|q| q.front().map(|p| p.due))
            .min()
    }

    /// When the host's next packet is due: the earlier of the next pending retransmission
    /// and `scheduled`, the next first SYN of its scanning schedule (`u64::MAX` when that
    /// has ended); `None` once both are done.
    pub(crate) fn next_with(&self, scheduled: u64) -> Option<u64> {
        due(self.next_due().map_or(scheduled, |t| t.min(scheduled)))
    }

    /// The retransmission due at `now`, if any; a first retransmission schedules the
    /// second. Second retransmissions go first when both are due at once.
    pub(crate) fn take(&mut self, now: u64) -> Option<Probe> {
        if self.queues[1].front().is_some_and(|p| p.due == now) {
            return self.queues[1].pop_front();
        }
        if self.queues[0].front().is_some_and(|p| p.due == now) {
            let p = self.queues[0].pop_front()?;
            let due = p.due - RETRANSMIT_US[0] + RETRANSMIT_US[1];
            self.queues[1].push_back(Probe { due, ..p });
            return Some(p);
        }
        None
    }

    /// Records a first SYN sent at `now`; returns it as a probe.
    pub(crate) fn sent(&mut self, now: u64, dst: u32, sport: u16, seq: u32) -> Probe {
        let p = Probe {
            due: now + RETRANSMIT_US[0] + self.skew_us,
            dst,
            sport,
            seq,
        };
        self.queues[0].push_back(p);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_syn_is_sent_three_times() {
        let mut r = Retransmits::new(5);
        let first = r.sent(100, 1, 2, 3);
        assert_eq!(first.due, 100 + 3 * MICROS + 5);
        assert!(r.take(first.due - 1).is_none());
        let again = r.take(first.due).unwrap();
        assert_eq!((again.dst, again.sport, again.seq), (1, 2, 3));
        assert_eq!(r.next_due(), Some(100 + 9 * MICROS + 5));
        assert!(r.take(100 + 9 * MICROS + 5).is_some());
        assert_eq!(r.next_due(), None);
    }
}
