//! A small, careful, read-only reader of Windows registry hive files (regf), written for this
//! tool rather than taken from a crate so that the same code understands the cells the offline
//! remover later edits (see `edit`), and so that every failure is an explanation, never a
//! panic. Hives that Windows did not finish writing (dirty) are refused: reading them would
//! miss the changes still in their transaction logs, and editing them would lose those changes.
pub mod base;
pub mod cell;
pub mod edit;
pub mod regexport;
pub mod verify;

use std::fs;
use std::path::{Path, PathBuf};

use base::BaseBlock;
use cell::{Bins, KeyNode, ValueNode};

/// Largest hive file read (real SOFTWARE hives reach a few hundred MiB on servers).
const MAX_HIVE_BYTES: u64 = 1 << 30;

/// Why a hive could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HiveError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is truncated: {0}")]
    Truncated(String),
    #[error("it is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "it is dirty: {0}. Refusing to read or change it. Replay the logs first (for example, \
         load the hive once in a Windows recovery environment or with a log-aware tool such as \
         notatin or yarp), then scan again"
    )]
    Dirty(String),
}

/// A hive error with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("hive {path}: {source}")]
pub struct HiveFileError {
    pub path: PathBuf,
    #[source]
    pub source: HiveError,
}

/// A whole hive file held in memory and validated at its base block.
#[derive(Debug, Clone)]
pub struct Hive {
    data: Vec<u8>,
    base: BaseBlock,
}

impl Hive {
    /// Validates the base block of `data`. Cells are checked lazily, as they are reached.
    pub fn from_bytes(data: Vec<u8>) -> Result<Hive, HiveError> {
        let base = BaseBlock::parse(&data)?;
        Ok(Hive { data, base })
    }

    /// Reads the hive at `path` and refuses it when transaction logs beside it are pending.
    pub fn open(path: &Path) -> Result<Hive, HiveFileError> {
        let wrap = |source| HiveFileError {
            path: path.to_path_buf(),
            source,
        };
        let len = fs::metadata(path).map_err(|e| wrap(e.into()))?.len();
        if len > MAX_HIVE_BYTES {
            return Err(wrap(HiveError::Corrupt(format!(
                "{len} bytes is larger than any real hive"
            ))));
        }
        if let Some(log) = pending_log(path).map_err(|e| wrap(e.into()))? {
            return Err(wrap(HiveError::Dirty(format!(
                "its transaction log {} is not empty, so changes may be pending",
                log.display()
            ))));
        }
        let data = fs::read(path).map_err(|e| wrap(e.into()))?;
        Hive::from_bytes(data).map_err(wrap)
    }

    /// The raw file bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The validated base block.
    pub fn base(&self) -> BaseBlock {
        self.base
    }

    pub(crate) fn bins(&self) -> Bins<'_> {
        Bins {
            data: &self.data,
            end: base::BASE_BLOCK_LEN + self.base.bins_size as usize,
            minor: self.base.minor,
        }
    }

    /// The root key.
    pub fn root(&self) -> Result<Key<'_>, HiveError> {
        let node = self.bins().key(self.base.root_cell)?;
        Ok(Key { hive: self, node })
    }

    /// Opens the key at a backslash-separated path below the root, case-insensitively.
    pub fn key(&self, path: &str) -> Result<Option<Key<'_>>, HiveError> {
        let mut key = self.root()?;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match key.subkey(part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }
}

/// Returns a non-empty Vista-style transaction log (`NAME.LOG1`, `NAME.LOG2`) next to `hive`.
/// (The XP/2003 single `NAME.LOG` is kept non-empty between flushes; for those hives the
/// base block sequence numbers are the signal, checked in `BaseBlock::parse`.)
fn pending_log(hive: &Path) -> std::io::Result<Option<PathBuf>> {
    let (Some(dir), Some(name)) = (hive.parent(), hive.file_name().and_then(|n| n.to_str())) else {
        return Ok(None);
    };
    let wanted = [
        format!("{name}.LOG1").to_lowercase(),
        format!("{name}.LOG2").to_lowercase(),
    ];
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let n = entry.file_name().to_string_lossy().to_lowercase();
        if wanted.contains(&n) && entry.metadata()?.len() > 0 {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Case-insensitive comparison of registry names.
pub fn names_equal(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// A key of a [`Hive`].
#[derive(Debug, Clone, Copy)]
pub struct Key<'h> {
    hive: &'h Hive,
    node: KeyNode<'h>,
}

impl<'h> Key<'h> {
    /// The key's own name.
    pub fn name(&self) -> String {
        self.node.name()
    }

    /// Offset of the key's `nk` cell.
    pub fn offset(&self) -> u32 {
        self.node.offset
    }

    /// The number of subkeys the key records (without reading its list).
    pub fn node_subkey_count(&self) -> usize {
        self.node.subkey_count() as usize
    }

    /// All subkeys, in stored order.
    pub fn subkeys(&self) -> Result<Vec<Key<'h>>, HiveError> {
        let count = self.node.subkey_count();
        if count == 0 {
            return Ok(Vec::new());
        }
        let bins = self.hive.bins();
        bins.subkey_offsets(self.node.subkey_list(), count)?
            .into_iter()
            .map(|off| {
                Ok(Key {
                    hive: self.hive,
                    node: bins.key(off)?,
                })
            })
            .collect()
    }

    /// The subkey called `name` (case-insensitive).
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h>>, HiveError> {
        Ok(self
            .subkeys()?
            .into_iter()
            .find(|k| names_equal(&k.name(), name)))
    }

    /// All values, in stored order.
    pub fn values(&self) -> Result<Vec<Value>, HiveError> {
        let count = self.node.value_count();
        if count == 0 {
            return Ok(Vec::new());
        }
        let bins = self.hive.bins();
        bins.value_offsets(self.node.value_list(), count)?
            .into_iter()
            .map(|off| {
                let vk = bins.value(off)?;
                Value::read(&bins, &vk)
            })
            .collect()
    }

    /// The value called `name` (case-insensitive; `""` is the default value).
    pub fn value(&self, name: &str) -> Result<Option<Value>, HiveError> {
        Ok(self
            .values()?
            .into_iter()
            .find(|v| names_equal(&v.name, name)))
    }
}

/// Registry value types this tool interprets.
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;

/// A value read out of a hive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub name: String,
    pub data_type: u32,
    pub data: Vec<u8>,
    /// Offset of the value's `vk` cell.
    pub offset: u32,
}

impl Value {
    fn read(bins: &Bins<'_>, vk: &ValueNode<'_>) -> Result<Value, HiveError> {
        Ok(Value {
            name: vk.name(),
            data_type: vk.data_type(),
            data: bins.value_data(vk)?,
            offset: vk.offset,
        })
    }

    /// The data as text: strings (UTF-16LE up to the first NUL) and multi-strings joined
    /// with `;`; `None` for other types.
    pub fn as_text(&self) -> Option<String> {
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        match self.data_type {
            REG_SZ | REG_EXPAND_SZ => {
                let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
                Some(String::from_utf16_lossy(&units[..end]))
            }
            REG_MULTI_SZ => Some(
                units
                    .split(|&u| u == 0)
                    .filter(|s| !s.is_empty())
                    .map(String::from_utf16_lossy)
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            _ => None,
        }
    }

    /// The data as a DWORD.
    pub fn as_dword(&self) -> Option<u32> {
        match (self.data_type, self.data.as_slice()) {
            (REG_DWORD, [a, b, c, d, ..]) => Some(u32::from_le_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
