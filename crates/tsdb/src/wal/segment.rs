//! Segment files: naming, listing and creation.
//!
//! A segment is named by its index as eight decimal digits (`00000042`).
//! Like Prometheus, any all-digit file name counts as a segment when listing
//! (older Prometheus versions used six digits), other names are ignored, and
//! the indexes found must be consecutive.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::WalError;

/// The path of segment `index` in `dir`.
pub fn segment_path(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("{index:08}"))
}

/// The segment indexes in `dir`, ascending. Fails when they are not
/// consecutive, since a gap means records were lost.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>, WalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| WalError::io("list", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(i) = name.parse::<u32>() {
            out.push(i);
        }
    }
    out.sort_unstable();
    for w in out.windows(2) {
        if w[0].checked_add(1) != Some(w[1]) {
            return Err(WalError::NotSequential {
                dir: dir.to_owned(),
                prev: w[0],
                next: w[1],
            });
        }
    }
    Ok(out)
}

/// Creates (or opens for appending, if it exists) segment `index` and makes
/// its directory entry durable.
pub(crate) fn create_segment(dir: &Path, index: u32) -> Result<File, WalError> {
    let path = segment_path(dir, index);
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| WalError::io("create", &path, e))?;
    sync_dir(dir)?;
    Ok(f)
}

/// fsyncs a directory so that entries created, renamed or removed in it
/// survive power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| WalError::io("sync directory", dir, e))
}

/// Size of a file in bytes.
pub(crate) fn file_size(path: &Path) -> Result<u64, WalError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| WalError::io("stat", path, e))
}

/// Removes a file, treating "already gone" as success.
pub(crate) fn remove_file(path: &Path) -> Result<(), WalError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(WalError::io("remove", path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_listing() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(segment_path(d.path(), 7), d.path().join("00000007"));
        assert!(list_segments(d.path()).unwrap().is_empty());
        for n in [
            "00000003",
            "000004",
            "00000005",
            "checkpoint.00000002",
            "00000006.repair",
            "x1",
        ] {
            std::fs::write(d.path().join(n), b"").unwrap();
        }
        assert_eq!(list_segments(d.path()).unwrap(), [3, 4, 5]);
        std::fs::write(d.path().join("00000009"), b"").unwrap();
        let e = list_segments(d.path()).unwrap_err();
        assert!(
            matches!(
                e,
                WalError::NotSequential {
                    prev: 5,
                    next: 9,
                    ..
                }
            ),
            "{e}"
        );
    }
}
