//! `pharos check …`: promtool's `check` subcommands, with its output and
//! exit codes (0 valid, 1 invalid).

mod config;
mod rules;

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::CheckCommand;

/// Runs a `check` subcommand.
pub(crate) fn run(cmd: CheckCommand) -> anyhow::Result<ExitCode> {
    let ok = match cmd {
        CheckCommand::Config {
            syntax_only,
            agent,
            files,
        } => {
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            let ok = config::check_files(&mut out, &mut err, &files, syntax_only, agent)?;
            out.flush()?;
            ok
        }
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
