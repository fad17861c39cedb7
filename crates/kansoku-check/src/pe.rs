//! The file version of a PE image (rpcrt4.dll) from its VS_VERSIONINFO resource, read with
//! pelite, a bounds-checked PE parser. The version resource is what Microsoft's bulletins
//! list in their file tables, so it is the evidence a patch verdict can rest on.
use std::fmt;
use std::path::Path;

use serde::Serialize;

/// Largest image read (rpcrt4.dll is well under 1 MiB on every Windows release).
const MAX_IMAGE: u64 = 64 << 20;

/// A four-part file version `major.minor.build.revision`, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FileVersion(pub [u16; 4]);

impl fmt::Display for FileVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Reads the file version of the PE image at `path`.
pub fn file_version(path: &Path) -> Result<FileVersion, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_IMAGE {
        return Err(format!("{len} bytes is too large for rpcrt4.dll"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    version_of(&bytes)
}

/// Reads the file version of a PE image in memory.
pub fn version_of(bytes: &[u8]) -> Result<FileVersion, String> {
    let pe = pelite::PeFile::from_bytes(bytes).map_err(|e| format!("not a PE image: {e}"))?;
    let resources = pe.resources().map_err(|e| format!("no resources: {e}"))?;
    let info = resources
        .version_info()
        .map_err(|e| format!("no version resource: {e}"))?;
    let fixed = info
        .fixed()
        .ok_or("version resource has no VS_FIXEDFILEINFO")?;
    // pelite names the words of dwFileVersionLS Patch (high) and Build (low).
    let v = fixed.dwFileVersion;
    Ok(FileVersion([v.Major, v.Minor, v.Patch, v.Build]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(FileVersion([5, 1, 2600, 1230]) > FileVersion([5, 1, 2600, 999]));
        assert!(FileVersion([5, 2, 0, 0]) > FileVersion([5, 1, 9999, 9999]));
        assert_eq!(FileVersion([5, 0, 2195, 6753]).to_string(), "5.0.2195.6753");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(version_of(b"").is_err());
        assert!(version_of(&[0u8; 4096]).is_err());
        let mut mz = vec![0u8; 1024];
        mz[0..2].copy_from_slice(b"MZ");
        mz[0x3c] = 0xff;
        assert!(version_of(&mz).is_err());
    }
}
