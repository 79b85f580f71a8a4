//! One module per subcommand; `run` dispatches.

mod check;
mod promqltest;
mod server;
mod tsdb;

use std::process::ExitCode;

pub(crate) use server::ServerArgs;

use crate::cli::Command;

/// Runs a parsed subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Tsdb(cmd) => tsdb::run(cmd),
        Command::Check(cmd) => check::run(cmd),
        Command::Server(args) => server::run(*args),
        Command::Promqltest {
            known_failures,
            files,
        } => promqltest::run(&files, known_failures.as_deref()),
    }
}
