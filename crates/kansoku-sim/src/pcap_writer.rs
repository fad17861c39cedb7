//! A classic libpcap file writer (microsecond timestamps, little-endian, Ethernet).
//!
//! Classic pcap rather than pcapng because every tool reads it and the simulator needs
//! nothing pcapng adds. Output goes through one large buffer: a record is two small
//! `write_all` calls that only copy bytes.

use std::io::{self, BufWriter, Write};

use crate::time::MICROS;

/// The pcap magic for microsecond timestamps; written little-endian.
const MAGIC: u32 = 0xa1b2_c3d4;
const SNAPLEN: u32 = 65_535;
const LINKTYPE_ETHERNET: u32 = 1;
const BUFFER: usize = 1 << 20;

pub(crate) struct PcapWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    /// Wraps `out` and writes the global header.
    pub(crate) fn new(out: W) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(BUFFER, out);
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (8..12) and sigfigs (12..16) stay zero: timestamps are UTC.
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(Self { out })
    }

    /// Appends one frame captured at `ts_us` (Unix microseconds).
    pub(crate) fn write(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_us / MICROS)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timestamp after 2106"))?;
        let len = frame.len() as u32;
        let mut r = [0u8; 16];
        r[0..4].copy_from_slice(&secs.to_le_bytes());
        r[4..8].copy_from_slice(&((ts_us % MICROS) as u32).to_le_bytes());
        r[8..12].copy_from_slice(&len.to_le_bytes());
        r[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&r)?;
        self.out.write_all(frame)
    }

    /// Flushes everything to the underlying writer.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_record() {
        let mut buf = Vec::new();
        let mut w = PcapWriter::new(&mut buf).unwrap();
        w.write(1_000_002_000_003, &[1, 2, 3]).unwrap();
        w.finish().unwrap();
        assert_eq!(&buf[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(buf.len(), 24 + 16 + 3);
        assert_eq!(&buf[24..28], &1_000_002u32.to_le_bytes());
        assert_eq!(&buf[28..32], &3u32.to_le_bytes());
        assert_eq!(&buf[40..], &[1, 2, 3]);
    }
}
