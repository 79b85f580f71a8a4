//! One module per subcommand; `run` dispatches.

mod check;
mod promqltest;
mod tsdb;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs a parsed subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Tsdb(cmd) => tsdb::run(cmd),
        Command::Check(cmd) => check::run(cmd),
        Command::Promqltest {
            known_failures,
            files,
        } => promqltest::run(&files, known_failures.as_deref()),
    }
}
