//! Shared helpers for pharos's integration tests: finding the reference
//! binaries (Debian's `prometheus`, `promtool`, …) that tests use as peers
//! and oracles.
//!
//! A developer without the reference stack still gets a passing plain
//! `cargo test`: tests that need a missing binary say so and return. CI sets
//! `PHAROS_REQUIRE_REFERENCE=1`, and then a missing binary fails the test, so
//! a skipped test can never hide a failure there.

use std::path::PathBuf;

/// The environment variable that turns a missing reference binary into a
/// test failure.
pub const REQUIRE_ENV: &str = "PHAROS_REQUIRE_REFERENCE";

/// The path of reference binary `name` (looked up in `/usr/bin`, then
/// `PATH`), or `None` after printing why the calling test does nothing.
///
/// # Panics
/// When the binary is missing and [`REQUIRE_ENV`] is set.
pub fn reference(name: &str) -> Option<PathBuf> {
    let found = std::iter::once(PathBuf::from("/usr/bin"))
        .chain(
            std::env::var_os("PATH").map_or_else(Vec::new, |p| std::env::split_paths(&p).collect()),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty()) {
            panic!("reference binary {name} is required ({REQUIRE_ENV} is set) but not installed");
        }
        println!("skipped: reference binary {name} is not installed");
    }
    found
}

/// A free TCP port on 127.0.0.1 (bound and released, so a race with another
/// process is possible but unlikely).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind a port on 127.0.0.1")
}
