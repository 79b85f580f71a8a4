//! Where the upstream conformance vectors are, for the tests that read them
//! in place.
//!
//! The vectors live outside the repository (`../shared/conformance` next to
//! the checkout, or `$PHAROS_CONFORMANCE`). A fresh clone has none, so a
//! test that needs them skips with a message — unless
//! `PHAROS_REQUIRE_CONFORMANCE` is set (CI sets it), where a missing folder
//! fails the test instead of letting it pass silently.

use std::path::{Path, PathBuf};

/// The conformance folder `sub` (e.g. `"promql"`,
/// `"prometheus-config"`), or `None` after printing why the caller skips.
///
/// # Panics
/// When the folder is missing and `PHAROS_REQUIRE_CONFORMANCE` is set.
pub fn conformance_dir(sub: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("PHAROS_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    let dir = base.join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("PHAROS_REQUIRE_CONFORMANCE").is_none(),
        "PHAROS_REQUIRE_CONFORMANCE is set but {} is missing",
        dir.display()
    );
    println!("skipping: no conformance vectors at {}", dir.display());
    None
}
