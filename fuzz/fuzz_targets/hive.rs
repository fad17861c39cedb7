//! `hive`: the input is a registry hive file. The base block checksum is re-signed so that
//! mutations reach the cell parser rather than stopping at the checksum. The reader must
//! never panic: every key and value reachable from the root is read (bounded), and the
//! offline editor is asked to delete the first subkey and the first value of the root; when
//! it succeeds, its output must be a hive this crate accepts. The MS03-026 patch reads (the
//! OS description and the update-marker walk, as a SOFTWARE hive) must not panic either.
#![no_main]

use kansoku_check::hive::base::{CHECKSUM_OFFSET, checksum};
use kansoku_check::hive::edit::{Edit, apply};
use kansoku_check::hive::{Hive, Key};
use libfuzzer_sys::fuzz_target;

fn walk(key: &Key<'_>, depth: usize, budget: &mut usize) {
    if depth > 64 || *budget == 0 {
        return;
    }
    *budget -= 1;
    let _ = key.name();
    if let Ok(values) = key.values() {
        for v in values {
            let _ = (v.as_text(), v.as_dword());
        }
    }
    if let Ok(subkeys) = key.subkeys() {
        for k in subkeys {
            walk(&k, depth + 1, budget);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 512 {
        if let Some(sum) = checksum(&bytes) {
            bytes[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_le_bytes());
        }
    }
    let Ok(hive) = Hive::from_bytes(bytes) else {
        return;
    };
    let Ok(root) = hive.root() else {
        return;
    };
    let mut budget = 10_000;
    walk(&root, 0, &mut budget);
    let _ = kansoku_check::patch::os_info(&hive);
    let _ = kansoku_check::patch::markers(&hive);
    let mut edits = Vec::new();
    if let Some(k) = root.subkeys().ok().and_then(|k| k.into_iter().next()) {
        edits.push(Edit::DeleteKey { key: k.name() });
    }
    if let Some(v) = root.values().ok().and_then(|v| v.into_iter().next()) {
        edits.push(Edit::DeleteValue {
            key: String::new(),
            value: v.name,
        });
    }
    for edit in edits {
        if let Ok(out) = apply(&hive, &[edit], 0) {
            assert!(
                Hive::from_bytes(out).is_ok(),
                "the editor wrote a hive it rejects"
            );
        }
    }
});
