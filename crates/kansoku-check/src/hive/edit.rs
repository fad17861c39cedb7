//! Offline edits of a hive image in memory: deleting one value, or one key with its whole
//! subtree, exactly as the registry itself would leave the file. The edit works on a copy;
//! the caller verifies the result with an independent parser (`verify`) before it is
//! allowed anywhere near the original file.
//!
//! What changes, per the regf layout (offsets inside a cell's data):
//! - deleting a value: its entry leaves the key's value list (later entries shift down), the
//!   key's value count (nk+0x24) drops; the value node, its data cell (or big-data `db` cell,
//!   segment list and segments) become free; an emptied value list is freed and the key's
//!   list offset (nk+0x28) set to -1.
//! - deleting a key: every key below it is released the same way (values, value lists,
//!   subkey lists and `ri` index sub-lists, class names), each key's security cell loses a
//!   reference (and is unlinked from the security list and freed at zero); the key leaves
//!   its parent's subkey list (`lf`/`lh`/`li`, or inside an `ri` index), the parent's count
//!   (nk+0x14) drops and emptied lists are freed.
//! - freed cells get a positive size and their contents are zeroed, so no worm data stays
//!   readable in slack space; touched keys get a new last-written time; the base block gets
//!   matching sequence numbers one higher and a recomputed checksum.
use std::collections::HashSet;

use super::HiveError;
use super::base::{BASE_BLOCK_LEN, BaseBlock, CHECKSUM_OFFSET, checksum, u16_at, u32_at};
use super::cell::Bins;
use super::{Hive, names_equal};

/// "No cell" in an offset field.
const NONE: u32 = u32::MAX;
/// Depth beyond which a subtree is treated as a loop (real hives stay far below).
const MAX_DEPTH: usize = 512;

/// One planned change to a hive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// Delete the value `value` of the key at `key` (path below the hive root).
    DeleteValue { key: String, value: String },
    /// Delete the key at `key` and everything below it.
    DeleteKey { key: String },
}

fn bad(msg: impl Into<String>) -> HiveError {
    HiveError::Corrupt(msg.into())
}

/// A hive image being edited.
struct Editor {
    data: Vec<u8>,
    end: usize,
    minor: u32,
    now: u64,
}

impl Editor {
    fn bins(&self) -> Bins<'_> {
        Bins {
            data: &self.data,
            end: self.end,
            minor: self.minor,
        }
    }

    /// Writes a field of an allocated cell, after checking the cell and the field's bounds
    /// (offsets come from the hive itself and may be damaged or crafted).
    fn put32(&mut self, cell: u32, field: usize, v: u32) -> Result<(), HiveError> {
        if self.bins().cell(cell)?.len() < field + 4 {
            return Err(bad(format!(
                "cell {cell:#x} is too short for field {field:#x}"
            )));
        }
        let at = BASE_BLOCK_LEN + cell as usize + 4 + field;
        self.data[at..at + 4].copy_from_slice(&v.to_le_bytes());
        Ok(())
    }

    /// Marks an allocated cell free and zeroes its contents.
    fn free(&mut self, cell: u32, freed: &mut HashSet<u32>) -> Result<(), HiveError> {
        if !freed.insert(cell) {
            return Err(bad(format!("cell {cell:#x} is referenced twice")));
        }
        let len = self.bins().cell(cell)?.len() + 4;
        let at = BASE_BLOCK_LEN + cell as usize;
        self.data[at..at + 4].copy_from_slice(&(len as i32).to_le_bytes());
        self.data[at + 4..at + len].fill(0);
        Ok(())
    }

    /// Sets a key's last-written time.
    fn touch(&mut self, key: u32) -> Result<(), HiveError> {
        self.bins().key(key)?;
        let at = BASE_BLOCK_LEN + key as usize + 4 + 4;
        self.data[at..at + 8].copy_from_slice(&self.now.to_le_bytes());
        Ok(())
    }

    /// Frees a value node and its data.
    fn free_value(&mut self, vk: u32, freed: &mut HashSet<u32>) -> Result<(), HiveError> {
        let (has_cell, size, off) = {
            let v = self.bins().value(vk)?;
            (
                v.has_data_cell(),
                v.raw_data_size() as usize,
                v.data_offset(),
            )
        };
        if has_cell {
            let c = self.bins().cell(off)?;
            if size > 16344 && self.minor >= 4 && c.get(0..2) == Some(b"db") {
                let segments = u16_at(c, 2).unwrap_or(0) as usize;
                let list = u32_at(c, 4).unwrap_or(NONE);
                let list_cell = self.bins().cell(list)?;
                let segs: Vec<u32> = (0..segments)
                    .map(|i| u32_at(list_cell, i * 4).unwrap_or(NONE))
                    .collect();
                for s in segs {
                    self.free(s, freed)?;
                }
                self.free(list, freed)?;
            }
            self.free(off, freed)?;
        }
        self.free(vk, freed)
    }

    /// Drops one reference to a security cell, unlinking and freeing it at zero.
    fn release_security(&mut self, sk: u32, freed: &mut HashSet<u32>) -> Result<(), HiveError> {
        let c = self.bins().cell(sk)?;
        if c.get(0..2) != Some(b"sk") {
            return Err(bad(format!("cell {sk:#x} is not a security cell")));
        }
        let (flink, blink, refs) = (
            u32_at(c, 4).unwrap_or(NONE),
            u32_at(c, 8).unwrap_or(NONE),
            u32_at(c, 12).unwrap_or(0),
        );
        if refs == 0 {
            return Err(bad(format!("security cell {sk:#x} has no references")));
        }
        if refs > 1 {
            self.put32(sk, 12, refs - 1)?;
            return Ok(());
        }
        if flink == sk || blink == sk {
            return Err(bad("refusing to free the hive's last security cell"));
        }
        for n in [flink, blink] {
            if self.bins().cell(n)?.get(0..2) != Some(b"sk") {
                return Err(bad(format!(
                    "security list of {sk:#x} links to {n:#x}, not a security cell"
                )));
            }
        }
        self.put32(blink, 4, flink)?;
        self.put32(flink, 8, blink)?;
        self.free(sk, freed)
    }

    /// Frees a key and everything below it (not its entry in the parent's list).
    fn free_subtree(
        &mut self,
        nk: u32,
        depth: usize,
        freed: &mut HashSet<u32>,
    ) -> Result<(), HiveError> {
        if depth > MAX_DEPTH {
            return Err(bad("key tree too deep (a loop?)"));
        }
        let k = self.bins().key(nk)?;
        let (sub_count, sub_list, val_count, val_list, sk, class, class_len) = (
            k.subkey_count(),
            k.subkey_list(),
            k.value_count(),
            k.value_list(),
            k.security(),
            k.class(),
            u16_at(k.cell, 0x4a).unwrap_or(0),
        );
        if sub_count > 0 {
            let children = self.bins().subkey_offsets(sub_list, sub_count)?;
            for child in children {
                self.free_subtree(child, depth + 1, freed)?;
            }
            self.free_list_cells(sub_list, 0, freed)?;
        }
        if val_count > 0 {
            for vk in self.bins().value_offsets(val_list, val_count)? {
                self.free_value(vk, freed)?;
            }
            self.free(val_list, freed)?;
        }
        if class != NONE && class_len > 0 {
            self.free(class, freed)?;
        }
        if sk != NONE {
            self.release_security(sk, freed)?;
        }
        self.free(nk, freed)
    }

    /// Frees a subkey list cell and, for an `ri` index, its sub-lists.
    fn free_list_cells(
        &mut self,
        list: u32,
        depth: usize,
        freed: &mut HashSet<u32>,
    ) -> Result<(), HiveError> {
        let c = self.bins().cell(list)?;
        if c.get(0..2) == Some(b"ri") {
            if depth > 1 {
                return Err(bad("index lists nested too deep"));
            }
            let n = u16_at(c, 2).unwrap_or(0) as usize;
            let subs: Vec<u32> = (0..n)
                .map(|i| u32_at(c, 4 + i * 4).unwrap_or(NONE))
                .collect();
            for s in subs {
                self.free_list_cells(s, depth + 1, freed)?;
            }
        }
        self.free(list, freed)
    }

    /// Removes `entry` from a leaf list (`lf`/`lh` entries of 8 bytes, `li` of 4); returns
    /// the new count, or `None` when the entry is not in this list.
    fn remove_from_leaf(&mut self, list: u32, entry: u32) -> Result<Option<usize>, HiveError> {
        let c = self.bins().cell(list)?;
        let stride = match c.get(0..2) {
            Some(b"lf") | Some(b"lh") => 8,
            Some(b"li") => 4,
            _ => return Err(bad(format!("cell {list:#x} is not a leaf subkey list"))),
        };
        let n = u16_at(c, 2).unwrap_or(0) as usize;
        if 4 + n * stride > c.len() {
            return Err(bad(format!("subkey list {list:#x} runs past its cell")));
        }
        let Some(i) = (0..n).find(|&i| u32_at(c, 4 + i * stride) == Some(entry)) else {
            return Ok(None);
        };
        let base = BASE_BLOCK_LEN + list as usize + 4;
        let (from, to) = (base + 4 + (i + 1) * stride, base + 4 + n * stride);
        self.data.copy_within(from..to, from - stride);
        self.data[to - stride..to].fill(0);
        self.data[base + 2..base + 4].copy_from_slice(&((n - 1) as u16).to_le_bytes());
        Ok(Some(n - 1))
    }

    /// Removes key `child` from the subkey list of key `parent`.
    fn unlink_subkey(
        &mut self,
        parent: u32,
        child: u32,
        freed: &mut HashSet<u32>,
    ) -> Result<(), HiveError> {
        let (count, list) = {
            let p = self.bins().key(parent)?;
            (p.subkey_count(), p.subkey_list())
        };
        let c = self.bins().cell(list)?;
        let list_emptied = if c.get(0..2) == Some(b"ri") {
            let n = u16_at(c, 2).unwrap_or(0) as usize;
            if 4 + n * 4 > c.len() {
                return Err(bad(format!("subkey index {list:#x} runs past its cell")));
            }
            let subs: Vec<u32> = (0..n)
                .map(|i| u32_at(c, 4 + i * 4).unwrap_or(NONE))
                .collect();
            let mut emptied = None;
            for (i, s) in subs.iter().enumerate() {
                if let Some(left) = self.remove_from_leaf(*s, child)? {
                    if left == 0 {
                        emptied = Some(i);
                    } else {
                        emptied = Some(usize::MAX);
                    }
                    break;
                }
            }
            match emptied {
                None => return Err(bad("the key is not in its parent's subkey index")),
                Some(usize::MAX) => false,
                Some(i) => {
                    // Drop the emptied sub-list from the index.
                    self.free(subs[i], freed)?;
                    let base = BASE_BLOCK_LEN + list as usize + 4;
                    let (from, to) = (base + 4 + (i + 1) * 4, base + 4 + n * 4);
                    self.data.copy_within(from..to, from - 4);
                    self.data[to - 4..to].fill(0);
                    self.data[base + 2..base + 4].copy_from_slice(&((n - 1) as u16).to_le_bytes());
                    n == 1
                }
            }
        } else {
            match self.remove_from_leaf(list, child)? {
                None => return Err(bad("the key is not in its parent's subkey list")),
                Some(left) => left == 0,
            }
        };
        if count == 0 {
            return Err(bad("parent key has a zero subkey count"));
        }
        self.put32(parent, 0x14, count - 1)?;
        if list_emptied {
            self.free(list, freed)?;
            self.put32(parent, 0x1c, NONE)?;
        }
        self.touch(parent)?;
        Ok(())
    }

    fn delete_value(&mut self, key: u32, vk: u32) -> Result<(), HiveError> {
        let mut freed = HashSet::new();
        let (count, list) = {
            let k = self.bins().key(key)?;
            (k.value_count(), k.value_list())
        };
        let entries = self.bins().value_offsets(list, count)?;
        let i = entries
            .iter()
            .position(|&e| e == vk)
            .ok_or_else(|| bad("the value is not in its key's value list"))?;
        let base = BASE_BLOCK_LEN + list as usize + 4;
        let n = entries.len();
        self.data
            .copy_within(base + (i + 1) * 4..base + n * 4, base + i * 4);
        self.data[base + (n - 1) * 4..base + n * 4].fill(0);
        self.put32(key, 0x24, count - 1)?;
        if count == 1 {
            self.free(list, &mut freed)?;
            self.put32(key, 0x28, NONE)?;
        }
        self.free_value(vk, &mut freed)?;
        self.touch(key)?;
        Ok(())
    }

    /// Writes matching sequence numbers one higher, the time, and the checksum.
    fn seal(&mut self, base: &BaseBlock) {
        let seq = base.primary_seq.wrapping_add(1);
        self.data[4..8].copy_from_slice(&seq.to_le_bytes());
        self.data[8..12].copy_from_slice(&seq.to_le_bytes());
        self.data[12..20].copy_from_slice(&self.now.to_le_bytes());
        let sum = checksum(&self.data).unwrap_or(1);
        self.data[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_le_bytes());
    }
}

/// Splits `a\b\c` into (`a\b`, `c`).
fn split_parent(path: &str) -> (String, String) {
    let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
    match parts.split_last() {
        Some((last, rest)) => (rest.join("\\"), last.to_string()),
        None => (String::new(), String::new()),
    }
}

/// The current time as a Windows FILETIME (100 ns ticks since 1601).
pub fn filetime_now() -> u64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs + 11_644_473_600) * 10_000_000
}

/// Whether the target of `edit` is in `hive`: a value or key already gone means the edit
/// was already made (a plan applied twice), which is no corruption.
pub fn target_present(hive: &Hive, edit: &Edit) -> Result<bool, HiveError> {
    Ok(match edit {
        Edit::DeleteValue { key, value } => match hive.key(key)? {
            Some(k) => k.values()?.iter().any(|v| names_equal(&v.name, value)),
            None => false,
        },
        Edit::DeleteKey { key } => hive.key(key)?.is_some(),
    })
}

/// Applies `edits` in order to a copy of `hive` and returns the new file image. Every
/// target must exist (a plan made against a different hive fails here, not silently).
pub fn apply(hive: &Hive, edits: &[Edit], now: u64) -> Result<Vec<u8>, HiveError> {
    let base = hive.base();
    let mut ed = Editor {
        data: hive.bytes().to_vec(),
        end: BASE_BLOCK_LEN + base.bins_size as usize,
        minor: base.minor,
        now,
    };
    for edit in edits {
        // Locate targets afresh on the current image, so edits compose.
        let current = Hive::from_bytes(ed.data.clone())?;
        match edit {
            Edit::DeleteValue { key, value } => {
                let k = current
                    .key(key)?
                    .ok_or_else(|| bad(format!("key {key} does not exist")))?;
                let v = k
                    .values()?
                    .into_iter()
                    .find(|v| names_equal(&v.name, value))
                    .ok_or_else(|| bad(format!("value {value:?} of {key} does not exist")))?;
                ed.delete_value(k.offset(), v.offset)?;
            }
            Edit::DeleteKey { key } => {
                let (parent_path, _) = split_parent(key);
                let target = current
                    .key(key)?
                    .ok_or_else(|| bad(format!("key {key} does not exist")))?;
                if key.split('\\').all(str::is_empty) {
                    return Err(bad("refusing to delete the root key"));
                }
                let parent = current
                    .key(&parent_path)?
                    .ok_or_else(|| bad(format!("parent of {key} does not exist")))?;
                let mut freed = HashSet::new();
                ed.unlink_subkey(parent.offset(), target.offset(), &mut freed)?;
                ed.free_subtree(target.offset(), 0, &mut freed)?;
            }
        }
    }
    ed.seal(&base);
    // The result must still be a hive this crate accepts.
    Hive::from_bytes(ed.data.clone())?;
    Ok(ed.data)
}
