//! Bounds-checked typed views over hive cells: key nodes (`nk`), value nodes (`vk`), subkey
//! lists (`lf`, `lh`, `li`, `ri`), value lists and value data (including `db` big data).
//! Every accessor returns an error rather than panicking, because an image under
//! investigation may be damaged, or crafted by the malware author.
use super::HiveError;
use super::base::{BASE_BLOCK_LEN, u16_at, u32_at};

/// Upper bound on entries in one subkey or value list; real keys stay far below it (the
/// largest known hold a few hundred thousand) and it bounds the work a corrupt count can cause.
pub const MAX_LIST: usize = 1 << 20;

/// Upper bound on the depth of `ri` index nesting (Windows writes at most one level).
const MAX_INDEX_DEPTH: usize = 2;

/// The hive bins of a hive file, addressed by cell offsets.
#[derive(Debug, Clone, Copy)]
pub struct Bins<'a> {
    /// The whole file, including the base block.
    pub data: &'a [u8],
    /// End of the hive bins in `data` (base block + declared bins size).
    pub end: usize,
    /// Minor format version (big data cells exist from 1.4 on).
    pub minor: u32,
}

fn corrupt(offset: u32, why: impl std::fmt::Display) -> HiveError {
    HiveError::Corrupt(format!("cell at {offset:#x}: {why}"))
}

impl<'a> Bins<'a> {
    /// The payload of the allocated cell at `offset` (without its 4-byte size header).
    pub fn cell(&self, offset: u32) -> Result<&'a [u8], HiveError> {
        if !offset.is_multiple_of(8) || offset == u32::MAX {
            return Err(corrupt(offset, "offset not aligned to 8 bytes"));
        }
        // Bounds are computed in u64 so that a crafted offset cannot overflow `usize` on a
        // 32-bit build (the Windows XP-era machines this tool may run on).
        let abs = BASE_BLOCK_LEN as u64 + u64::from(offset);
        if abs + 4 > self.end as u64 {
            return Err(corrupt(offset, "offset beyond the end of the hive bins"));
        }
        let abs = abs as usize;
        let size = u32_at(self.data, abs)
            .ok_or_else(|| corrupt(offset, "offset beyond the end of the file"))?
            as i32;
        if size >= 0 {
            return Err(corrupt(offset, "refers to a free cell"));
        }
        let len = u64::from(size.unsigned_abs());
        if len < 8 || abs as u64 + len > self.end as u64 {
            return Err(corrupt(
                offset,
                format!("size {len} runs past the hive bins"),
            ));
        }
        Ok(&self.data[abs + 4..abs + len as usize])
    }

    /// The key node at `offset`.
    pub fn key(&self, offset: u32) -> Result<KeyNode<'a>, HiveError> {
        let c = self.cell(offset)?;
        if c.len() < 0x4c || &c[0..2] != b"nk" {
            return Err(corrupt(offset, "not a key node"));
        }
        let name_len = u16_at(c, 0x48).unwrap_or(0) as usize;
        if 0x4c + name_len > c.len() {
            return Err(corrupt(offset, "key name runs past its cell"));
        }
        Ok(KeyNode {
            offset,
            cell: c,
            name_len,
        })
    }

    /// The value node at `offset`.
    pub fn value(&self, offset: u32) -> Result<ValueNode<'a>, HiveError> {
        let c = self.cell(offset)?;
        if c.len() < 0x14 || &c[0..2] != b"vk" {
            return Err(corrupt(offset, "not a value node"));
        }
        let name_len = u16_at(c, 2).unwrap_or(0) as usize;
        if 0x14 + name_len > c.len() {
            return Err(corrupt(offset, "value name runs past its cell"));
        }
        Ok(ValueNode {
            offset,
            cell: c,
            name_len,
        })
    }

    /// The offsets of the key nodes in the subkey list at `offset`, in list order.
    pub fn subkey_offsets(&self, offset: u32, expected: u32) -> Result<Vec<u32>, HiveError> {
        let mut out = Vec::new();
        self.walk_list(offset, 0, &mut out)?;
        // A key listed twice in one list never happens in a real hive; refusing it keeps
        // walks linear in the size of the file.
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        if let Some(dup) = out.iter().find(|o| !seen.insert(**o)) {
            return Err(corrupt(offset, format!("key {dup:#x} is listed twice")));
        }
        if out.len() != expected as usize {
            return Err(corrupt(
                offset,
                format!(
                    "subkey list holds {} entries, the key says {expected}",
                    out.len()
                ),
            ));
        }
        Ok(out)
    }

    fn walk_list(&self, offset: u32, depth: usize, out: &mut Vec<u32>) -> Result<(), HiveError> {
        let c = self.cell(offset)?;
        let count = u16_at(c, 2).ok_or_else(|| corrupt(offset, "short list"))? as usize;
        let (stride, nested) = match c.get(0..2) {
            Some(b"lf") | Some(b"lh") => (8, false),
            Some(b"li") => (4, false),
            Some(b"ri") => (4, true),
            _ => return Err(corrupt(offset, "not a subkey list")),
        };
        if 4 + count * stride > c.len() {
            return Err(corrupt(offset, "subkey list runs past its cell"));
        }
        for i in 0..count {
            let entry = u32_at(c, 4 + i * stride).unwrap_or(u32::MAX);
            if nested {
                if depth >= MAX_INDEX_DEPTH {
                    return Err(corrupt(offset, "index lists nested too deep"));
                }
                self.walk_list(entry, depth + 1, out)?;
            } else {
                out.push(entry);
            }
            if out.len() > MAX_LIST {
                return Err(corrupt(offset, "subkey list too long"));
            }
        }
        Ok(())
    }

    /// The offsets of the value nodes in the value list at `offset` holding `count` entries.
    pub fn value_offsets(&self, offset: u32, count: u32) -> Result<Vec<u32>, HiveError> {
        let count = count as usize;
        if count > MAX_LIST {
            return Err(corrupt(offset, "value list too long"));
        }
        let c = self.cell(offset)?;
        if count * 4 > c.len() {
            return Err(corrupt(offset, "value list runs past its cell"));
        }
        Ok((0..count)
            .map(|i| u32_at(c, i * 4).unwrap_or(u32::MAX))
            .collect())
    }

    /// The data of a value node.
    pub fn value_data(&self, v: &ValueNode<'a>) -> Result<Vec<u8>, HiveError> {
        let raw_size = v.raw_data_size();
        let off = v.data_offset();
        if raw_size & 0x8000_0000 != 0 {
            // Resident: up to 4 bytes stored in the offset field itself.
            let len = (raw_size & 0x7fff_ffff) as usize;
            if len > 4 {
                return Err(corrupt(v.offset, "resident data longer than 4 bytes"));
            }
            return Ok(off.to_le_bytes()[..len].to_vec());
        }
        let len = raw_size as usize;
        if len == 0 {
            return Ok(Vec::new());
        }
        let c = self.cell(off)?;
        if len > 16344 && self.minor >= 4 && c.get(0..2) == Some(b"db") {
            return self.big_data(off, c, len);
        }
        c.get(..len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| corrupt(off, "value data runs past its cell"))
    }

    /// Reassembles big data (`db` cell -> segment list -> segments of at most 16344 bytes).
    fn big_data(&self, off: u32, db: &[u8], len: usize) -> Result<Vec<u8>, HiveError> {
        let segments = u16_at(db, 2).unwrap_or(0) as usize;
        let list = self.cell(u32_at(db, 4).ok_or_else(|| corrupt(off, "short db cell"))?)?;
        if segments * 4 > list.len() {
            return Err(corrupt(off, "big data segment list runs past its cell"));
        }
        let mut out = Vec::with_capacity(len.min(1 << 24));
        for i in 0..segments {
            let seg = self.cell(u32_at(list, i * 4).unwrap_or(u32::MAX))?;
            let take = (len - out.len()).min(16344).min(seg.len());
            out.extend_from_slice(&seg[..take]);
            if out.len() == len {
                return Ok(out);
            }
        }
        Err(corrupt(off, "big data shorter than its declared size"))
    }
}

/// Decodes a stored name: Latin-1 when the compressed-name flag is set, UTF-16LE otherwise.
fn decode_name(bytes: &[u8], compressed: bool) -> String {
    if compressed {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    }
}

/// A key node (`nk` cell).
#[derive(Debug, Clone, Copy)]
pub struct KeyNode<'a> {
    pub offset: u32,
    pub cell: &'a [u8],
    name_len: usize,
}

impl KeyNode<'_> {
    pub fn flags(&self) -> u16 {
        u16_at(self.cell, 2).unwrap_or(0)
    }
    pub fn parent(&self) -> u32 {
        u32_at(self.cell, 0x10).unwrap_or(u32::MAX)
    }
    pub fn subkey_count(&self) -> u32 {
        u32_at(self.cell, 0x14).unwrap_or(0)
    }
    pub fn subkey_list(&self) -> u32 {
        u32_at(self.cell, 0x1c).unwrap_or(u32::MAX)
    }
    pub fn value_count(&self) -> u32 {
        u32_at(self.cell, 0x24).unwrap_or(0)
    }
    pub fn value_list(&self) -> u32 {
        u32_at(self.cell, 0x28).unwrap_or(u32::MAX)
    }
    pub fn security(&self) -> u32 {
        u32_at(self.cell, 0x2c).unwrap_or(u32::MAX)
    }
    pub fn class(&self) -> u32 {
        u32_at(self.cell, 0x30).unwrap_or(u32::MAX)
    }
    pub fn name(&self) -> String {
        decode_name(
            &self.cell[0x4c..0x4c + self.name_len],
            self.flags() & 0x20 != 0,
        )
    }
}

/// A value node (`vk` cell).
#[derive(Debug, Clone, Copy)]
pub struct ValueNode<'a> {
    pub offset: u32,
    pub cell: &'a [u8],
    name_len: usize,
}

impl ValueNode<'_> {
    pub fn raw_data_size(&self) -> u32 {
        u32_at(self.cell, 4).unwrap_or(0)
    }
    pub fn data_offset(&self) -> u32 {
        u32_at(self.cell, 8).unwrap_or(u32::MAX)
    }
    pub fn data_type(&self) -> u32 {
        u32_at(self.cell, 0xc).unwrap_or(0)
    }
    /// True when the data lives in its own cell (not resident in the node, and not empty).
    pub fn has_data_cell(&self) -> bool {
        self.raw_data_size() & 0x8000_0000 == 0 && self.raw_data_size() != 0
    }
    pub fn name(&self) -> String {
        let flags = u16_at(self.cell, 0x10).unwrap_or(0);
        decode_name(&self.cell[0x14..0x14 + self.name_len], flags & 1 != 0)
    }
}
