//! A forward-only window over the bytes of one input.
//!
//! Plain files are memory-mapped, so a record is a slice of the map and the walkers never copy.
//! Compressed files and stdin cannot be mapped: they are decompressed into one large buffer
//! that is refilled in place, so a record is still a contiguous slice (copied once, by the
//! decompressor, never by us). Every byte that passes through is fed to a BLAKE3 hasher, so the
//! content hash that the manifest keys on costs no second read of the input.

use std::fs::File;
use std::io::{self, Read};

use memmap2::Mmap;

/// Refill granularity for streamed inputs: large enough that refills are rare and a record
/// (at most [`MAX_RECORD`] bytes) always fits.
const STREAM_BUFFER: usize = 8 << 20;

/// How often (in bytes of progress) a mapped input's consumed prefix is hashed: small enough to
/// still be in cache, large enough that the hasher runs on long SIMD-friendly runs.
const HASH_CHUNK: usize = 1 << 20;

/// The largest record or block the walkers accept. libpcap refuses records above 256 KiB;
/// pcapng blocks can legitimately be larger (many options), so allow some headroom.
pub const MAX_RECORD: usize = 16 << 20;

enum Backing {
    Mapped(Mmap),
    /// An empty regular file cannot be mapped on every platform; treat it as an empty slice.
    Empty,
    Stream {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        /// `buf[start..end]` holds bytes not yet consumed.
        start: usize,
        end: usize,
        eof: bool,
    },
}

/// The bytes of one input, consumed front to back.
pub struct ByteSource {
    backing: Backing,
    /// Offset in the (decompressed) input of the first unconsumed byte.
    offset: u64,
    /// Mapped inputs only: bytes of the map already fed to the hasher.
    hashed: usize,
    /// Mapped inputs only: bytes of the map already handed back to the kernel.
    released: usize,
    hasher: blake3::Hasher,
}

impl ByteSource {
    /// Map a plain file. The map is read-only and private: a capture being appended to by a
    /// live writer is read up to the size it had when opened.
    pub fn mapped(file: &File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let backing = if len == 0 {
            Backing::Empty
        } else {
            // SAFETY: the map is only read. Truncation of the file by another process while we
            // read it would raise SIGBUS; captures are immutable once written, and rotating
            // writers create new files rather than truncating old ones.
            let map = unsafe { Mmap::map(file)? };
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            Backing::Mapped(map)
        };
        Ok(Self::with_backing(backing))
    }

    /// Read a stream (a decompressor or stdin) through a refilled buffer.
    pub fn stream(reader: Box<dyn Read + Send>) -> Self {
        Self::with_backing(Backing::Stream {
            reader,
            buf: vec![0; STREAM_BUFFER],
            start: 0,
            end: 0,
            eof: false,
        })
    }

    fn with_backing(backing: Backing) -> Self {
        Self {
            backing,
            offset: 0,
            hashed: 0,
            released: 0,
            hasher: blake3::Hasher::new(),
        }
    }

    /// Offset of the next unconsumed byte, counted in the decompressed input.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The unconsumed bytes currently available, at least `want` of them unless the input ends
    /// first. `want` must not exceed [`MAX_RECORD`].
    ///
    /// Inlined for the mapped case, a slice of the map: it runs once per record.
    #[inline]
    pub fn fill(&mut self, want: usize) -> io::Result<&[u8]> {
        debug_assert!(want <= MAX_RECORD);
        // Checked first and borrowed after: a borrow returned from one arm of a match would
        // still count as held in the arm that calls `fill_other`.
        if matches!(self.backing, Backing::Mapped(_)) {
            let Backing::Mapped(map) = &self.backing else {
                unreachable!("the backing was just checked to be a map")
            };
            return Ok(&map[self.offset as usize..]);
        }
        self.fill_other(want)
    }

    #[inline(never)]
    fn fill_other(&mut self, want: usize) -> io::Result<&[u8]> {
        match &mut self.backing {
            Backing::Empty => Ok(&[]),
            Backing::Mapped(map) => Ok(&map[self.offset as usize..]),
            Backing::Stream {
                reader,
                buf,
                start,
                end,
                eof,
            } => {
                if *end - *start < want && !*eof {
                    buf.copy_within(*start..*end, 0);
                    *end -= *start;
                    *start = 0;
                    if buf.len() < want {
                        buf.resize(want.max(STREAM_BUFFER), 0);
                    }
                    while *end < want && !*eof {
                        match reader.read(&mut buf[*end..]) {
                            Ok(0) => *eof = true,
                            Ok(n) => {
                                self.hasher.update(&buf[*end..*end + n]);
                                *end += n;
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(&buf[*start..*end])
            }
        }
    }

    /// Consume `n` bytes that a preceding [`fill`](Self::fill) made available and return them.
    #[inline]
    pub fn take(&mut self, n: usize) -> &[u8] {
        let from = self.offset as usize;
        self.offset += n as u64;
        match &mut self.backing {
            Backing::Empty => &[],
            Backing::Mapped(map) => {
                let to = from + n;
                if to - self.hashed >= HASH_CHUNK {
                    hash_up_to(map, &mut self.hasher, &mut self.hashed, to);
                    release(map, &mut self.released, from);
                }
                &map[from..to]
            }
            Backing::Stream { buf, start, .. } => {
                let at = *start;
                *start += n;
                &buf[at..at + n]
            }
        }
    }

    /// Hash whatever was not consumed (a fault may stop the walk early: the content hash still
    /// covers the whole input) and return the hash of the whole input. A stream that fails
    /// while being drained (a truncated or corrupt `.gz`) still yields the hash of every byte
    /// it gave, together with the error and the offset (in the decompressed input) where it
    /// happened, so that the caller can report it rather than lose the whole read.
    pub fn finish(mut self) -> (blake3::Hash, Option<(u64, io::Error)>) {
        let mut failure = None;
        match &mut self.backing {
            Backing::Empty => {}
            Backing::Mapped(map) => {
                self.hasher.update(&map[self.hashed..]);
            }
            Backing::Stream {
                reader,
                buf,
                start,
                end,
                ..
            } => {
                let mut at = self.offset + (*end - *start) as u64;
                loop {
                    match reader.read(buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            self.hasher.update(&buf[..n]);
                            at += n as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            failure = Some((at, e));
                            break;
                        }
                    }
                }
            }
        }
        (self.hasher.finalize(), failure)
    }
}

/// Feed the map's bytes up to `to` to the hasher: once per [`HASH_CHUNK`], kept out of the
/// inlined per-record path.
#[inline(never)]
fn hash_up_to(map: &Mmap, hasher: &mut blake3::Hasher, hashed: &mut usize, to: usize) {
    hasher.update(&map[*hashed..to]);
    *hashed = to;
}

/// Page size assumed for releasing: madvise needs page-aligned offsets, and 4 KiB divides every
/// page size Linux uses.
const PAGE: usize = 4096;

/// Hand the pages of `map` wholly before `upto` back to the kernel. A mapped file's pages count
/// as the process's resident memory once touched; without this, reading a 20 GB capture would
/// show 20 GB of RSS. The walk never goes back, and no slice into that range outlives the
/// record it belongs to (frames borrow the reader until the next call).
fn release(map: &Mmap, released: &mut usize, upto: usize) {
    let end = upto & !(PAGE - 1);
    if end <= *released {
        return;
    }
    #[cfg(unix)]
    {
        // SAFETY: the mapping is private and read-only, so DONTNEED only drops clean pages,
        // which the kernel re-reads from the file if they are ever touched again; the range
        // lies wholly before the current record, which no live slice points into.
        let _ = unsafe {
            map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                *released,
                end - *released,
            )
        };
    }
    *released = end;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn drain(mut src: ByteSource, step: usize) -> (Vec<u8>, blake3::Hash) {
        let mut out = Vec::new();
        loop {
            let avail = src.fill(step).unwrap().len();
            if avail == 0 {
                break;
            }
            out.extend_from_slice(src.take(avail.min(step)));
        }
        (out, src.finish().0)
    }

    #[test]
    fn mapped_and_streamed_agree_on_bytes_and_hash() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&data).unwrap();
        let mapped = ByteSource::mapped(file.as_file()).unwrap();
        let (a, ha) = drain(mapped, 1000);
        let streamed = ByteSource::stream(Box::new(io::Cursor::new(data.clone())));
        let (b, hb) = drain(streamed, 70_001);
        assert_eq!(a, data);
        assert_eq!(b, data);
        assert_eq!(ha, blake3::hash(&data));
        assert_eq!(hb, ha);
    }

    #[test]
    fn finish_hashes_unconsumed_tail() {
        let data = vec![5u8; 100_000];
        let mut src = ByteSource::stream(Box::new(io::Cursor::new(data.clone())));
        src.fill(10).unwrap();
        src.take(10);
        assert_eq!(src.finish().0, blake3::hash(&data));
    }

    #[test]
    fn empty_file_is_empty() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut src = ByteSource::mapped(file.as_file()).unwrap();
        assert!(src.fill(16).unwrap().is_empty());
        assert_eq!(src.finish().0, blake3::hash(b""));
    }
}
