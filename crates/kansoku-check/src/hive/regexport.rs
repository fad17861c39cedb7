//! Exports keys as a `.reg` file in the format of regedit 5.00 (UTF-16LE with a byte-order
//! mark, CRLF line ends), so that what the remover deletes can be inspected on any Windows
//! machine and, if needed, re-imported there by hand.
use std::fmt::Write as _;

use super::{Hive, HiveError, Key, REG_DWORD, REG_SZ, Value};

/// Depth limit of an exported subtree.
const MAX_DEPTH: usize = 512;

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn hex_bytes(data: &[u8]) -> String {
    data.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One value line.
pub fn value_line(v: &Value) -> String {
    let name = if v.name.is_empty() {
        "@".to_string()
    } else {
        format!("\"{}\"", quote(&v.name))
    };
    let units: Vec<u16> = v
        .data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    // A plain string only when it round-trips: even length, one terminating NUL, no other.
    let plain_sz = v.data_type == REG_SZ
        && v.data.len().is_multiple_of(2)
        && units.last() == Some(&0)
        && !units[..units.len() - 1].contains(&0);
    let data = if plain_sz {
        match String::from_utf16(&units[..units.len() - 1]) {
            Ok(s) => format!("\"{}\"", quote(&s)),
            Err(_) => format!("hex(1):{}", hex_bytes(&v.data)),
        }
    } else if v.data_type == REG_DWORD && v.data.len() == 4 {
        format!("dword:{:08x}", v.as_dword().unwrap_or(0))
    } else if v.data_type == 3 {
        format!("hex:{}", hex_bytes(&v.data))
    } else {
        format!("hex({:x}):{}", v.data_type, hex_bytes(&v.data))
    };
    format!("{name}={data}")
}

fn key_text(
    key: &Key<'_>,
    full: &str,
    recurse: bool,
    depth: usize,
    budget: &mut usize,
    out: &mut String,
) -> Result<(), HiveError> {
    if depth > MAX_DEPTH {
        return Err(HiveError::Corrupt("key tree too deep".into()));
    }
    // See `verify::MIN_KEY_CELL`: more visits than the file can hold keys means a loop.
    *budget = budget.checked_sub(1).ok_or_else(|| {
        HiveError::Corrupt(
            "the hive lists more keys than it can hold: a key is referenced twice".into(),
        )
    })?;
    let _ = write!(out, "[{full}]\r\n");
    for v in key.values()? {
        let _ = write!(out, "{}\r\n", value_line(&v));
    }
    out.push_str("\r\n");
    if recurse {
        for k in key.subkeys()? {
            key_text(
                &k,
                &format!("{full}\\{}", k.name()),
                true,
                depth + 1,
                budget,
                out,
            )?;
        }
    }
    Ok(())
}

/// The `.reg` text of `key_path` (and, with `recurse`, its subtree), with the hive mounted
/// at `mount` (for example `HKEY_LOCAL_MACHINE\SOFTWARE`).
pub fn export_text(
    hive: &Hive,
    mount: &str,
    key_path: &str,
    recurse: bool,
) -> Result<String, HiveError> {
    let key = hive
        .key(key_path)?
        .ok_or_else(|| HiveError::Corrupt(format!("key {key_path} does not exist")))?;
    let mut out = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    let full = if key_path.is_empty() {
        mount.to_string()
    } else {
        format!("{mount}\\{key_path}")
    };
    let mut budget = hive.bytes().len() / super::verify::MIN_KEY_CELL + 1;
    key_text(&key, &full, recurse, 0, &mut budget, &mut out)?;
    Ok(out)
}

/// Encodes `.reg` text as regedit writes it: UTF-16LE with a byte-order mark.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, ty: u32, data: Vec<u8>) -> Value {
        Value {
            name: name.into(),
            data_type: ty,
            data,
            offset: 0,
        }
    }
    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    #[test]
    fn value_lines() {
        assert_eq!(
            value_line(&v("windows auto update", REG_SZ, utf16z("msblast.exe"))),
            "\"windows auto update\"=\"msblast.exe\""
        );
        assert_eq!(
            value_line(&v("", REG_SZ, utf16z("C:\\x \"y\""))),
            "@=\"C:\\\\x \\\"y\\\"\""
        );
        assert_eq!(
            value_line(&v("Start", REG_DWORD, vec![2, 0, 0, 0])),
            "\"Start\"=dword:00000002"
        );
        assert_eq!(
            value_line(&v("ImagePath", 2, utf16z("a"))),
            "\"ImagePath\"=hex(2):61,00,00,00"
        );
        assert_eq!(value_line(&v("b", 3, vec![1, 0xff])), "\"b\"=hex:01,ff");
        // A string without its terminator is kept byte-exact.
        assert_eq!(
            value_line(&v("s", REG_SZ, vec![0x61, 0])),
            "\"s\"=hex(1):61,00"
        );
    }

    #[test]
    fn encoding_has_a_bom() {
        assert_eq!(encode("A\r\n"), [0xff, 0xfe, 0x41, 0, 0x0d, 0, 0x0a, 0]);
    }
}
