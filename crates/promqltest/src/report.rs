//! Running many scripts and the text report of `pharos promqltest`:
//!
//! ```text
//! functions.test:123: rate(foo[5m]): expected {a="1"} 5, got {a="1"} 4
//! functions.test: 430 passed, 1 failed
//! literals.test: 25 passed, 0 failed
//! 455 passed, 1 failed
//! ```
//!
//! One line per failing eval (`file:line: <expr>: <reason>`, marked
//! `[known]` when the known-failures file lists it), then one count line per
//! file (saying what its loads could not store, if anything), then the
//! known-failures discrepancies if a list was given, and last
//! `N passed, M failed`.

use std::fmt::Write;
use std::path::Path;

use storage::{Appendable, Queryable};

use crate::known::{Discrepancy, KnownFailures, KnownFailuresError};
use crate::runner::{run_script, Engine, EvalOutcome, FileReport};
use crate::script::Script;

/// The outcomes of a run over several scripts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per script, in run order.
    pub files: Vec<FileReport>,
}

impl Report {
    /// Evals that passed, over all files.
    pub fn passed(&self) -> usize {
        self.files.iter().map(FileReport::passed).sum()
    }

    /// Evals that failed, over all files.
    pub fn failed(&self) -> usize {
        self.files.iter().map(FileReport::failed).sum()
    }

    /// The report text (see the module doc); with `known`, failures it
    /// lists are marked and its disagreements with the run are listed.
    pub fn render(&self, known: Option<&KnownFailures>) -> String {
        let mut s = String::new();
        for f in &self.files {
            for o in &f.outcomes {
                let Some(why) = &o.failure else { continue };
                let mark = match known.and_then(|k| k.reason(&f.name, o.line)) {
                    Some(_) => "  [known]",
                    None => "",
                };
                let why = why.replace('\n', "; ");
                if o.expr.is_empty() {
                    // A file-level failure (the script does not parse).
                    let _ = writeln!(s, "{}:{}: {why}{mark}", f.name, o.line);
                } else {
                    let _ = writeln!(s, "{}:{}: {}: {why}{mark}", f.name, o.line, o.expr);
                }
            }
        }
        for f in &self.files {
            let _ = write!(
                s,
                "{}: {} passed, {} failed",
                f.name,
                f.passed(),
                f.failed()
            );
            let lo = &f.left_out;
            if lo.skipped_histograms + lo.skipped_start_timestamps > 0 {
                let _ = write!(
                    s,
                    " (not loaded: {} histogram samples, {} start timestamps)",
                    lo.skipped_histograms, lo.skipped_start_timestamps
                );
            }
            s.push('\n');
        }
        if let Some(k) = known {
            for d in k.check(self) {
                let _ = writeln!(s, "{d}");
            }
        }
        let _ = writeln!(s, "{} passed, {} failed", self.passed(), self.failed());
        s
    }

    /// Whether the run agrees with `known` (no new failures, no stale
    /// entries); without a list, whether nothing failed.
    pub fn is_ok(&self, known: Option<&KnownFailures>) -> bool {
        match known {
            Some(k) => k.check(self).is_empty(),
            None => self.failed() == 0,
        }
    }

    /// The disagreements with `known`.
    pub fn discrepancies(&self, known: &KnownFailures) -> Vec<Discrepancy> {
        known.check(self)
    }
}

/// Parses and runs every script in `paths`, each against fresh stores from
/// `new_store`. A script that does not parse counts as one failed eval at
/// the line of the error, as upstream fails the whole file.
pub fn run_files<S, F>(engine: &dyn Engine, paths: &[&Path], new_store: F) -> Report
where
    S: Appendable + Queryable,
    F: Fn() -> S,
{
    let mut report = Report::default();
    for path in paths {
        match Script::from_file(path) {
            Ok(script) => report.files.push(run_script(engine, &script, &new_store)),
            Err(e) => {
                let line = match &e {
                    crate::script::ScriptError::Syntax { line, .. } => *line,
                    crate::script::ScriptError::Read { .. } => 0,
                };
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                report.files.push(FileReport {
                    name,
                    outcomes: vec![EvalOutcome {
                        line,
                        expr: String::new(),
                        failure: Some(e.to_string()),
                    }],
                    left_out: Default::default(),
                });
            }
        }
    }
    report
}

/// What `pharos promqltest` printed and whether it should exit 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The report (see the module doc).
    pub text: String,
    /// With a known-failures file: the run agrees with it; without: no eval
    /// failed.
    pub ok: bool,
}

/// The whole `pharos promqltest <file>... [--known-failures <path>]` after
/// flag parsing: run the scripts, check them against the list, render.
pub fn run_command<S, F>(
    engine: &dyn Engine,
    paths: &[&Path],
    known_failures: Option<&Path>,
    new_store: F,
) -> Result<CommandOutcome, KnownFailuresError>
where
    S: Appendable + Queryable,
    F: Fn() -> S,
{
    let known = known_failures.map(KnownFailures::from_file).transpose()?;
    let report = run_files(engine, paths, new_store);
    Ok(CommandOutcome {
        text: report.render(known.as_ref()),
        ok: report.is_ok(known.as_ref()),
    })
}
