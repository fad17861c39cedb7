//! Turning command-line arguments into a list of inputs: files as named, directories walked
//! recursively in name order (so runs are reproducible), `-` for stdin.

use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::File(path) => write!(f, "{}", path.display()),
            Input::Stdin => write!(f, "<stdin>"),
        }
    }
}

/// Magics that mark a file inside a directory as worth reading: pcap (both resolutions, both
/// byte orders), pcapng, gzip and zstd.
const MAGICS: [[u8; 4]; 7] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
    [0x28, 0xb5, 0x2f, 0xfd],
    [0x1f, 0x8b, 0x00, 0x00],
];

fn looks_like_capture(path: &Path) -> bool {
    let mut head = [0u8; 4];
    let Ok(mut file) = File::open(path) else {
        // Unreadable: keep it, so that reading it reports why.
        return true;
    };
    match file.read_exact(&mut head) {
        Ok(()) => MAGICS.iter().any(|m| {
            if m[0] == 0x1f {
                head[..2] == m[..2]
            } else {
                head == *m
            }
        }),
        Err(_) => false,
    }
}

/// Whether the file name ends in a capture extension, possibly followed by `.gz` or `.zst`.
fn named_like_capture(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    [".pcap", ".pcapng", ".cap"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Expand arguments into inputs. Files named explicitly are always read (a wrong one then gets
/// a clear fault); files found inside directories are read when their first bytes are a
/// capture or compression magic or their name says capture (`.pcap`, `.pcapng`, `.cap`, also
/// compressed: a broken one is then a fault, not a silent skip), and the others are returned
/// as skipped so the caller can say so.
pub fn expand_inputs(args: &[PathBuf]) -> (Vec<Input>, Vec<PathBuf>) {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if arg.is_dir() {
            walk(arg, &mut inputs, &mut skipped);
        } else {
            inputs.push(Input::File(arg.clone()));
        }
    }
    (inputs, skipped)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, skipped: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        // Let the reader report the error against the path.
        inputs.push(Input::File(dir.to_path_buf()));
        return;
    };
    let mut entries: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        // A symlinked directory is not followed (a link loop would recurse forever); a
        // symlinked file is read like any file.
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    entries.sort();
    for (path, is_dir) in entries {
        if is_dir {
            walk(&path, inputs, skipped);
        } else if path.is_file() && (looks_like_capture(&path) || named_like_capture(&path)) {
            inputs.push(Input::File(path));
        } else {
            skipped.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_in_order_and_skips_non_captures() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("b");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("x.pcap"), [0xd4, 0xc3, 0xb2, 0xa1, 0, 0]).unwrap();
        fs::write(dir.path().join("a.pcapng"), [0x0a, 0x0d, 0x0d, 0x0a]).unwrap();
        fs::write(dir.path().join("c.gz"), [0x1f, 0x8b, 8, 0]).unwrap();
        fs::write(dir.path().join("README"), b"hello").unwrap();
        // Named as captures but broken: read, so that their faults are reported.
        fs::write(dir.path().join("bad.pcap"), b"not a capture").unwrap();
        fs::write(dir.path().join("empty.PCAP.gz"), b"").unwrap();
        let (inputs, skipped) = expand_inputs(&[dir.path().to_path_buf(), PathBuf::from("-")]);
        assert_eq!(
            inputs,
            vec![
                Input::File(dir.path().join("a.pcapng")),
                Input::File(sub.join("x.pcap")),
                Input::File(dir.path().join("bad.pcap")),
                Input::File(dir.path().join("c.gz")),
                Input::File(dir.path().join("empty.PCAP.gz")),
                Input::Stdin,
            ]
        );
        assert_eq!(skipped, vec![dir.path().join("README")]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_directories_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        fs::write(dir.path().join("a.pcap"), [0xd4, 0xc3, 0xb2, 0xa1]).unwrap();
        let (inputs, skipped) = expand_inputs(&[dir.path().to_path_buf()]);
        assert_eq!(inputs, vec![Input::File(dir.path().join("a.pcap"))]);
        assert_eq!(skipped, vec![dir.path().join("loop")]);
    }
}
