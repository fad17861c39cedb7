//! The reader and the editor on structures libhivex does not write, crafted by hand:
//! subkey lists split under an `ri` index, and a value stored as `db` big data. Each crafted
//! hive is first shown to read identically with nt-hive and libhivex, then edited, and every
//! edit is verified by nt-hive (`verify`) and by libhivex's export.
mod common;

use common::craft::Craft;
use common::{Reg, hivex_export, hivex_ready};
use kansoku_check::hive::Hive;
use kansoku_check::hive::edit::{Edit, apply};
use kansoku_check::hive::verify::{dump, verify};

fn base() -> Reg {
    let mut reg = Reg::new().sz("Keep", "v", "keep me");
    for i in 0..12 {
        reg = reg.sz(&format!("Many\\K{i:02}"), "v", &format!("value {i}"));
    }
    reg.sz("Big", "small", "x")
}

/// Moves the subkeys of `Many` into two leaf lists under an `ri` index.
fn split_into_ri(bytes: Vec<u8>) -> Vec<u8> {
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let many = hive.key("Many").unwrap().unwrap().offset();
    let mut c = Craft::new(bytes);
    let list = c.get32(many, 0x1c);
    let old = c.cell(list).to_vec();
    let sig = [old[0], old[1]];
    assert!(sig == *b"lh" || sig == *b"lf", "hivex wrote {sig:?}");
    let n = u16::from_le_bytes([old[2], old[3]]) as usize;
    assert_eq!(n, 12);
    let leaf = |entries: &[u8], count: usize| {
        let mut v = vec![sig[0], sig[1]];
        v.extend((count as u16).to_le_bytes());
        v.extend_from_slice(entries);
        v
    };
    let a = c.alloc(&leaf(&old[4..4 + 5 * 8], 5));
    let b = c.alloc(&leaf(&old[4 + 5 * 8..4 + n * 8], n - 5));
    let mut ri = b"ri".to_vec();
    ri.extend(2u16.to_le_bytes());
    ri.extend(a.to_le_bytes());
    ri.extend(b.to_le_bytes());
    let ri = c.alloc(&ri);
    c.put32(many, 0x1c, ri);
    c.free(list);
    c.seal();
    c.bytes
}

#[test]
fn ri_index_lists_read_and_edit_correctly() {
    if !hivex_ready("ri_index_lists_read_and_edit_correctly") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    base().build(&path);
    let plain = std::fs::read(&path).unwrap();
    let crafted = split_into_ri(plain.clone());
    // The crafting changed the layout only: nt-hive, libhivex and this crate agree.
    assert_eq!(dump(&crafted).unwrap(), dump(&plain).unwrap());
    let export_plain = hivex_export(&path, "\\").unwrap();
    std::fs::write(&path, &crafted).unwrap();
    assert_eq!(hivex_export(&path, "\\").unwrap(), export_plain);
    let hive = Hive::from_bytes(crafted.clone()).unwrap();
    assert_eq!(
        hive.key("Many").unwrap().unwrap().subkeys().unwrap().len(),
        12
    );
    assert!(hive.key("many\\k11").unwrap().is_some());

    // One key out of the first leaf; then every key of the second leaf, which empties it
    // and drops it from the index; then the rest, which frees the index itself.
    let mut current = crafted;
    let mut order: Vec<String> = vec!["Many\\K02".into()];
    order.extend((5..12).map(|i| format!("Many\\K{i:02}")));
    order.extend([0, 1, 3, 4].map(|i| format!("Many\\K{i:02}")));
    for key in &order {
        let edits = [Edit::DeleteKey { key: key.clone() }];
        let hive = Hive::from_bytes(current.clone()).unwrap();
        let next = apply(&hive, &edits, 1).unwrap_or_else(|e| panic!("{key}: {e}"));
        verify(&current, &next, &edits).unwrap_or_else(|e| panic!("{key}: {e}"));
        std::fs::write(&path, &next).unwrap();
        let export = hivex_export(&path, "\\").unwrap();
        assert!(
            !export
                .to_lowercase()
                .contains(&format!("[\\{}]", key.to_lowercase())),
            "{key}"
        );
        // libhivex exports strings as hex(1): "keep me" in UTF-16LE.
        assert!(
            export.contains("[\\Keep]\n\"v\"=hex(1):6b,00,65,00,65,00,70,00"),
            "{export}"
        );
        current = next;
    }
    let hive = Hive::from_bytes(current.clone()).unwrap();
    assert!(
        hive.key("Many")
            .unwrap()
            .unwrap()
            .subkeys()
            .unwrap()
            .is_empty()
    );

    // Deleting a whole subtree whose list is an index frees the index and its leaves.
    let hive = Hive::from_bytes(split_into_ri(plain.clone())).unwrap();
    let edits = [Edit::DeleteKey { key: "Many".into() }];
    let after = apply(&hive, &edits, 1).unwrap();
    verify(hive.bytes(), &after, &edits).unwrap();
}

#[test]
fn big_data_values_read_and_delete_correctly() {
    if !hivex_ready("big_data_values_read_and_delete_correctly") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    base().build(&path);
    let plain = std::fs::read(&path).unwrap();
    let hive = Hive::from_bytes(plain.clone()).unwrap();
    assert!(hive.base().minor >= 4, "big data needs format 1.4 or later");
    let big = hive.key("Big").unwrap().unwrap();
    let vk = big.value("small").unwrap().unwrap().offset;

    // 20,000 bytes of REG_BINARY in two segments (16,344 + 3,656) behind a db cell.
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut c = Craft::new(plain);
    c.add_bin(24 * 1024);
    let s1 = c.alloc(&data[..16_344]);
    let s2 = c.alloc(&data[16_344..]);
    let mut list = Vec::new();
    list.extend(s1.to_le_bytes());
    list.extend(s2.to_le_bytes());
    let list = c.alloc(&list);
    let mut db = b"db".to_vec();
    db.extend(2u16.to_le_bytes());
    db.extend(list.to_le_bytes());
    let db = c.alloc(&db);
    // "x" is stored resident in the value node (4 bytes): there is no data cell to free.
    assert_ne!(c.get32(vk, 4) & 0x8000_0000, 0);
    c.put32(vk, 4, data.len() as u32);
    c.put32(vk, 8, db);
    c.put32(vk, 0xc, 3);
    c.seal();
    let crafted = c.bytes;

    let hive = Hive::from_bytes(crafted.clone()).unwrap();
    let v = hive
        .key("Big")
        .unwrap()
        .unwrap()
        .value("small")
        .unwrap()
        .unwrap();
    assert_eq!(v.data, data, "this crate reassembles the segments");
    let tree = dump(&crafted).unwrap();
    assert_eq!(tree["big"]["small"].2, data, "nt-hive reads the same bytes");

    let edits = [Edit::DeleteValue {
        key: "Big".into(),
        value: "small".into(),
    }];
    let after = apply(&hive, &edits, 1).unwrap();
    verify(&crafted, &after, &edits).unwrap();
    std::fs::write(&path, &after).unwrap();
    let export = hivex_export(&path, "\\Big").unwrap();
    assert!(!export.contains("\"small\""), "{export}");
    // The segments, their list and the db cell are free and zeroed.
    let marker: Vec<u8> = data[100..140].to_vec();
    assert!(!after.windows(marker.len()).any(|w| w == marker.as_slice()));
}
