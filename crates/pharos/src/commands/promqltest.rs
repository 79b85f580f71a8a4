//! `pharos promqltest <file>...`: runs PromQL test scripts against pharos's
//! engine and prints one line per failing eval, per-file counts and a last
//! line `N passed, M failed`. With `--known-failures`, the run passes when
//! exactly the listed evals fail.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use promqltest::PromqlEngine;
use storage::MemStorage;

pub(crate) fn run(files: &[PathBuf], known_failures: Option<&Path>) -> anyhow::Result<ExitCode> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let outcome = promqltest::report::run_command(
        &PromqlEngine::default(),
        &paths,
        known_failures,
        MemStorage::new,
    )
    .context("cannot read the known-failures file")?;
    print!("{}", outcome.text);
    Ok(if outcome.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
