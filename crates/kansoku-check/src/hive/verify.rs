//! Independent verification of an edit: both images are read with `nt-hive` (a separate
//! implementation of the format, not this crate's reader) into a logical tree of keys and
//! values, and the edited tree must equal the original tree with exactly the planned
//! deletions applied: nothing missing that should remain, nothing left that should go,
//! no other value or key changed.
use std::collections::BTreeMap;

use nt_hive::Hive as NtHive;

use super::edit::Edit;

/// Depth beyond which the walk stops (matches the editor's limit).
const MAX_DEPTH: usize = 512;

/// A key's values: lower-cased name -> (name, type, data).
type Values = BTreeMap<String, (String, u32, Vec<u8>)>;
/// Lower-cased key path -> values.
pub type Tree = BTreeMap<String, Values>;

/// Smallest key node cell: a hive of `n` bytes holds fewer than `n / MIN_KEY_CELL` keys, so
/// a walk that visits more has met a key listed twice (a crafted or corrupt hive whose
/// repeated entries would otherwise make the walk exponential).
pub const MIN_KEY_CELL: usize = 0x50;

fn walk(
    key: &nt_hive::KeyNode<&[u8]>,
    path: &str,
    depth: usize,
    budget: &mut usize,
    tree: &mut Tree,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("key tree too deep".into());
    }
    *budget = budget
        .checked_sub(1)
        .ok_or("the hive lists more keys than it can hold: a key is referenced twice")?;
    let mut values = Values::new();
    if let Some(vs) = key.values() {
        for v in vs.map_err(|e| e.to_string())? {
            let v = v.map_err(|e| e.to_string())?;
            let name = v.name().map_err(|e| e.to_string())?.to_string_lossy();
            let ty = v.data_type().map(|t| t as u32).unwrap_or(u32::MAX);
            let data = v
                .data()
                .and_then(|d| d.into_vec())
                .map_err(|e| e.to_string())?;
            values.insert(name.to_lowercase(), (name, ty, data));
        }
    }
    tree.insert(path.to_lowercase(), values);
    if let Some(subs) = key.subkeys() {
        for k in subs.map_err(|e| e.to_string())? {
            let k = k.map_err(|e| e.to_string())?;
            let name = k.name().map_err(|e| e.to_string())?.to_string_lossy();
            let child = if path.is_empty() {
                name
            } else {
                format!("{path}\\{name}")
            };
            walk(&k, &child, depth + 1, budget, tree)?;
        }
    }
    Ok(())
}

/// Reads a whole hive image into a logical tree with nt-hive.
pub fn dump(bytes: &[u8]) -> Result<Tree, String> {
    let hive = NtHive::new(bytes).map_err(|e| format!("nt-hive rejects the hive: {e}"))?;
    let root = hive.root_key_node().map_err(|e| e.to_string())?;
    let mut tree = Tree::new();
    let mut budget = bytes.len() / MIN_KEY_CELL + 1;
    walk(&root, "", 0, &mut budget, &mut tree)?;
    Ok(tree)
}

/// The tree `before` with `edits` applied logically.
pub fn expected(mut tree: Tree, edits: &[Edit]) -> Result<Tree, String> {
    for e in edits {
        match e {
            Edit::DeleteValue { key, value } => {
                let k = tree
                    .get_mut(&key.to_lowercase())
                    .ok_or_else(|| format!("planned key {key} is not in the original"))?;
                k.remove(&value.to_lowercase())
                    .ok_or_else(|| format!("planned value {value:?} is not in the original"))?;
            }
            Edit::DeleteKey { key } => {
                let k = key.to_lowercase();
                if tree.remove(&k).is_none() {
                    return Err(format!("planned key {key} is not in the original"));
                }
                let prefix = format!("{k}\\");
                tree.retain(|p, _| !p.starts_with(&prefix));
            }
        }
    }
    Ok(tree)
}

/// Checks that `after` is `before` with exactly `edits` applied.
pub fn verify(before: &[u8], after: &[u8], edits: &[Edit]) -> Result<(), String> {
    let want = expected(dump(before)?, edits)?;
    let got = dump(after)?;
    if want == got {
        return Ok(());
    }
    let mut diffs = Vec::new();
    for (k, v) in &want {
        match got.get(k) {
            None => diffs.push(format!("key {k} is missing")),
            Some(g) if g != v => diffs.push(format!("values of key {k} differ")),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!("key {k} should not be there"));
    }
    diffs.truncate(5);
    Err(format!(
        "the edited hive is not the original minus the plan: {}",
        diffs.join("; ")
    ))
}
