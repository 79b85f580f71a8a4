//! One module per subcommand; `run` dispatches.

mod tsdb;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs a parsed subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Tsdb(cmd) => tsdb::run(cmd),
    }
}
