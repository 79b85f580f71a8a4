//! A runner for Prometheus's PromQL test-script language ("promqltest"):
//! the `*.test` scripts Prometheus ships with its engine, which pharos uses
//! as its PromQL conformance suite (read in place from
//! `shared/conformance/promql`, never copied into the repository).
//!
//! What it owns: the script language ([`script`]: commands, `expect`
//! directives, expected results, with `file:line` errors), the series
//! notation ([`values`]: `0+10x5`, `_x3`, `stale`, histogram literals),
//! loading series into any [`storage::Appendable`] ([`load`]), running evals
//! against an engine behind the [`runner::Engine`] trait and comparing
//! results as the reference runner does ([`runner`]), the known-failures
//! list ([`known`]) and the report ([`report`]). What it must not know: how
//! PromQL is parsed or evaluated — the engine plugs in through the trait.
//!
//! ```
//! use promqltest::script::Script;
//!
//! let s = Script::parse("demo.test", "load 5m\n  up{job=\"a\"} 0+1x10\n\neval instant at 50m up\n  up{job=\"a\"} 10\n").unwrap();
//! assert_eq!(s.evals().count(), 1);
//! ```

pub mod known;
pub mod load;
pub mod promql_engine;
pub mod report;
pub mod runner;
pub mod script;
pub mod values;

use std::path::{Path, PathBuf};

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
pub use promql_engine::PromqlEngine;
