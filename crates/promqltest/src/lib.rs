//! A runner for Prometheus's PromQL test-script language ("promqltest").

pub mod script;
pub mod values;

use std::path::{Path, PathBuf};

/// The folder of the PromQL conformance scripts: `$PHAROS_CONFORMANCE/promql`
/// if that variable is set, else `../shared/conformance/promql` relative to
/// the workspace root; `None` when the folder does not exist (a fresh clone).
pub fn conformance_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("PHAROS_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    let dir = base.join("promql");
    dir.is_dir().then_some(dir)
}

/// The `*.test` files in `dir`, sorted by name.
pub fn corpus_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "test") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
pub mod load;
