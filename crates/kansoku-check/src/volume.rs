//! Case-insensitive, confined path resolution on a mounted Windows volume.
//!
//! Windows names are case-insensitive but a volume mounted on Linux (ntfs-3g, a copied image,
//! a FAT USB disk) may present them in any case: `WINNT\System32\CONFIG\system`. Every path the
//! checker reads is resolved here one component at a time against the real directory entries.
//! A symbolic link (ntfs-3g shows junctions such as `Documents and Settings` that way) is only
//! followed when its canonical target stays inside the root: an image must never make the
//! checker read, quarantine or rewrite a file of the machine it runs on.
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a path could not be resolved inside the volume.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("{link} is a link to {target}, outside the scanned root {root}: refusing to follow it")]
    Escape {
        link: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    #[error("{dir} holds several entries named {name:?} differing only in case: {found:?}")]
    Ambiguous {
        dir: PathBuf,
        name: String,
        found: Vec<String>,
    },
    #[error(
        "no Windows directory (WINDOWS or WINNT holding system32\\config\\SYSTEM) under {0}: is this the system volume?"
    )]
    NoWindows(PathBuf),
    #[error("two Windows installations under {root}: {a} and {b}; scan each copy separately")]
    TwoWindows {
        root: PathBuf,
        a: PathBuf,
        b: PathBuf,
    },
}

/// The scanned volume: a canonical root directory every resolved path stays under.
#[derive(Debug, Clone)]
pub struct Volume {
    root: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Compares names the way Windows does for the names this tool looks up (ASCII and most of
/// Latin: full Unicode lower-casing; NTFS' upcase table agrees on these).
fn same_name(a: &OsStr, b: &str) -> bool {
    match a.to_str() {
        Some(a) => a == b || a.to_lowercase() == b.to_lowercase(),
        None => false,
    }
}

impl Volume {
    /// Opens `root`, which must be an existing directory. The root itself may be reached
    /// through links (it is the user's choice); everything below it is confined.
    pub fn open(root: &Path) -> Result<Volume, VolumeError> {
        let root = fs::canonicalize(root).map_err(io_err(root))?;
        if !root.is_dir() {
            return Err(VolumeError::NotADirectory(root));
        }
        Ok(Volume { root })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `path` (which need not exist) lies inside the root after canonicalising its
    /// nearest existing ancestor. Used to keep the quarantine off the scanned volume.
    pub fn contains(&self, path: &Path) -> bool {
        let mut probe = path.to_path_buf();
        let mut rest = Vec::new();
        loop {
            if let Ok(c) = fs::canonicalize(&probe) {
                let full: PathBuf = rest.iter().rev().fold(c, |acc: PathBuf, p| acc.join(p));
                return full.starts_with(&self.root);
            }
            match (probe.file_name().map(|n| n.to_os_string()), probe.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    probe = parent.to_path_buf();
                }
                _ => return false,
            }
        }
    }

    /// Finds the entry of `dir` named `name` case-insensitively, following a link only when
    /// it stays inside the root. `Ok(None)` when there is no such entry.
    pub fn child(&self, dir: &Path, name: &str) -> Result<Option<PathBuf>, VolumeError> {
        let mut exact = None;
        let mut found = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let entry_name = entry.file_name();
            if same_name(&entry_name, name) {
                if entry_name.to_str() == Some(name) {
                    exact = Some(entry.path());
                }
                found.push((entry_name.to_string_lossy().into_owned(), entry.path()));
            }
        }
        let path = match (exact, found.len()) {
            (_, 0) => return Ok(None),
            (_, 1) => found.remove(0).1,
            (Some(p), _) => p,
            (None, _) => {
                return Err(VolumeError::Ambiguous {
                    dir: dir.to_path_buf(),
                    name: name.to_string(),
                    found: found.into_iter().map(|(n, _)| n).collect(),
                });
            }
        };
        self.confine(&path).map(Some)
    }

    /// Returns `path` itself when it is not a link, or its canonical target when that target
    /// is inside the root; refuses any other link.
    fn confine(&self, path: &Path) -> Result<PathBuf, VolumeError> {
        let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
        if !meta.file_type().is_symlink() {
            return Ok(path.to_path_buf());
        }
        // A dangling link cannot be canonicalised; show what it points at.
        let target = match fs::canonicalize(path) {
            Ok(t) => t,
            Err(_) => fs::read_link(path).map_err(io_err(path))?,
        };
        if target.starts_with(&self.root) && target.exists() {
            Ok(target)
        } else {
            Err(VolumeError::Escape {
                link: path.to_path_buf(),
                target,
                root: self.root.clone(),
            })
        }
    }

    /// Resolves `components` below `base` (a path this volume returned, or the root).
    /// `Ok(None)` when some component does not exist.
    pub fn resolve_from(
        &self,
        base: &Path,
        components: &[&str],
    ) -> Result<Option<PathBuf>, VolumeError> {
        let mut cur = base.to_path_buf();
        for (i, c) in components.iter().enumerate() {
            if i > 0 && !cur.is_dir() {
                return Ok(None);
            }
            match self.child(&cur, c)? {
                Some(next) => cur = next,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// Resolves a Windows-style relative path (`system32\wins\dllhost.exe`) below `base`.
    pub fn resolve_win(&self, base: &Path, win_path: &str) -> Result<Option<PathBuf>, VolumeError> {
        let parts: Vec<&str> = win_path
            .split(['\\', '/'])
            .filter(|p| !p.is_empty())
            .collect();
        self.resolve_from(base, &parts)
    }

    /// Lists the entries of a directory inside the volume, each confined like [`child`].
    /// Entries that are links out of the root are reported as errors in the second list
    /// rather than failing the whole listing.
    ///
    /// [`child`]: Volume::child
    pub fn list(&self, dir: &Path) -> Result<(Vec<PathBuf>, Vec<VolumeError>), VolumeError> {
        let mut ok = Vec::new();
        let mut refused = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            match self.confine(&entry.path()) {
                Ok(p) => ok.push(p),
                Err(e) => refused.push(e),
            }
        }
        ok.sort();
        Ok((ok, refused))
    }

    /// Finds the Windows directory (`WINDOWS` on XP/2003 and later, `WINNT` on 2000 and on
    /// upgraded installations) as the directory holding `system32\config\SYSTEM`.
    pub fn windows_dir(&self) -> Result<PathBuf, VolumeError> {
        let mut hits = Vec::new();
        for name in ["WINDOWS", "WINNT"] {
            if let Some(dir) = self.child(&self.root, name)?
                && self
                    .resolve_from(&dir, &["system32", "config", "SYSTEM"])?
                    .is_some_and(|p| p.is_file())
            {
                hits.push(dir);
            }
        }
        match hits.len() {
            0 => Err(VolumeError::NoWindows(self.root.clone())),
            1 => Ok(hits.remove(0)),
            _ => Err(VolumeError::TwoWindows {
                root: self.root.clone(),
                a: hits[0].clone(),
                b: hits[1].clone(),
            }),
        }
    }

    /// The path of `path` relative to the root in Windows notation (`WINNT\system32\x.exe`),
    /// the form reports and manifests use.
    pub fn display(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("\\")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"x").unwrap();
    }

    #[test]
    fn resolves_mixed_case_winnt_layout() {
        let t = tempfile::tempdir().unwrap();
        touch(&t.path().join("WinNT/System32/CONFIG/system"));
        let v = Volume::open(t.path()).unwrap();
        let win = v.windows_dir().unwrap();
        assert_eq!(win.file_name().unwrap(), "WinNT");
        let hive = v
            .resolve_win(&win, "SYSTEM32\\config\\SYSTEM")
            .unwrap()
            .unwrap();
        assert!(hive.ends_with("WinNT/System32/CONFIG/system"));
        assert_eq!(v.display(&hive), "WinNT\\System32\\CONFIG\\system");
        assert!(
            v.resolve_win(&win, "system32\\nothere.exe")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn no_windows_directory_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("windows/system32")).unwrap();
        let v = Volume::open(t.path()).unwrap();
        assert!(matches!(v.windows_dir(), Err(VolumeError::NoWindows(_))));
    }

    #[test]
    fn two_installations_are_refused() {
        let t = tempfile::tempdir().unwrap();
        touch(&t.path().join("WINDOWS/system32/config/SYSTEM"));
        touch(&t.path().join("winnt/system32/config/system"));
        let v = Volume::open(t.path()).unwrap();
        assert!(matches!(
            v.windows_dir(),
            Err(VolumeError::TwoWindows { .. })
        ));
    }

    #[test]
    fn case_duplicates_prefer_exact_else_refuse() {
        let t = tempfile::tempdir().unwrap();
        touch(&t.path().join("a/File.txt"));
        touch(&t.path().join("a/FILE.TXT"));
        let v = Volume::open(t.path()).unwrap();
        let a = v.root().join("a");
        assert!(
            v.child(&a, "File.txt")
                .unwrap()
                .unwrap()
                .ends_with("File.txt")
        );
        assert!(matches!(
            v.child(&a, "file.txt"),
            Err(VolumeError::Ambiguous { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_escaping_the_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        touch(&outside.path().join("config/SYSTEM"));
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("WINDOWS")).unwrap();
        std::os::unix::fs::symlink(outside.path(), t.path().join("WINDOWS/system32")).unwrap();
        let v = Volume::open(t.path()).unwrap();
        let win = v.child(v.root(), "windows").unwrap().unwrap();
        let err = v.resolve_win(&win, "System32\\config\\SYSTEM").unwrap_err();
        assert!(matches!(err, VolumeError::Escape { .. }), "{err}");
        assert!(err.to_string().contains("outside the scanned root"));
        // `..` inside a link target is resolved before the check, so it cannot sneak out.
        std::os::unix::fs::symlink("../../..", t.path().join("WINDOWS/up")).unwrap();
        assert!(matches!(
            v.resolve_win(&win, "up"),
            Err(VolumeError::Escape { .. })
        ));
        let (ok, refused) = v.list(&win).unwrap();
        assert!(ok.is_empty());
        assert_eq!(refused.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_inside_the_root_is_followed() {
        let t = tempfile::tempdir().unwrap();
        touch(&t.path().join("Users/alice/NTUSER.DAT"));
        std::os::unix::fs::symlink(
            t.path().join("Users"),
            t.path().join("Documents and Settings"),
        )
        .unwrap();
        let v = Volume::open(t.path()).unwrap();
        let p = v
            .resolve_win(v.root(), "documents and settings\\ALICE\\ntuser.dat")
            .unwrap()
            .unwrap();
        assert!(p.starts_with(v.root()));
        assert!(p.ends_with("Users/alice/NTUSER.DAT"));
    }

    #[test]
    fn contains_sees_through_missing_components() {
        let t = tempfile::tempdir().unwrap();
        let v = Volume::open(t.path()).unwrap();
        assert!(v.contains(&t.path().join("q/new/dir")));
        let other = tempfile::tempdir().unwrap();
        assert!(!v.contains(&other.path().join("q")));
    }
}
