//! The `pharos` binary: parses the command line and hands each subcommand to
//! its module. Everything substantial lives in the library crates.

mod cli;
mod commands;
mod gofmt;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
