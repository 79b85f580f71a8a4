//! The known-failures file: every eval expected to fail, with its reason.
//!
//! Format, one entry per line:
//!
//! ```text
//! # comment
//! functions.test:123  histogram functions not implemented
//! ```
//!
//! `<file name>:<header line>`, then whitespace, then a free-text reason
//! (required, so nobody lists a failure without saying why). Blank lines and
//! lines starting with `#` are ignored. The runner checks the list both
//! ways: a failing eval that is not listed is a new failure, and a listed
//! eval (of a file that was run) that passes is a stale entry to remove.

use std::collections::BTreeMap;

use crate::report::Report;

/// The parsed list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownFailures {
    entries: BTreeMap<(String, usize), String>,
}

/// Why a known-failures file is refused.
#[derive(Debug, thiserror::Error)]
pub enum KnownFailuresError {
    /// The file could not be read.
    #[error("cannot read known-failures file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not `file:line  reason`.
    #[error("cannot parse known-failures line {line}: {msg}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

/// A disagreement between a run and the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// A failing eval the list does not mention.
    NewFailure {
        /// Script name.
        file: String,
        /// Eval line.
        line: usize,
    },
    /// A listed eval that passed: the entry must go.
    NowPasses {
        /// Script name.
        file: String,
        /// Eval line.
        line: usize,
    },
}

impl std::fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discrepancy::NewFailure { file, line } => {
                write!(
                    f,
                    "{file}:{line}: fails but is not in the known-failures file"
                )
            }
            Discrepancy::NowPasses { file, line } => {
                write!(
                    f,
                    "{file}:{line}: passes but is listed in the known-failures file"
                )
            }
        }
    }
}

impl KnownFailures {
    /// Reads and parses the file at `path`.
    pub fn from_file(path: &std::path::Path) -> Result<KnownFailures, KnownFailuresError> {
        let text = std::fs::read_to_string(path).map_err(|source| KnownFailuresError::Read {
            path: path.display().to_string(),
            source,
        })?;
        KnownFailures::parse(&text)
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<KnownFailures, KnownFailuresError> {
        let mut entries = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let err = |msg: &str| KnownFailuresError::Syntax {
                line: i + 1,
                msg: format!("{msg}: {l:?}"),
            };
            let (key, reason) = l
                .split_once(char::is_whitespace)
                .ok_or_else(|| err("expected `file:line  reason`"))?;
            let (file, line) = key
                .rsplit_once(':')
                .ok_or_else(|| err("expected file:line"))?;
            let line: usize = line.parse().map_err(|_| err("line is not a number"))?;
            if entries
                .insert((file.to_owned(), line), reason.trim().to_owned())
                .is_some()
            {
                return Err(err("listed twice"));
            }
        }
        Ok(KnownFailures { entries })
    }

    /// The list that matches `report` exactly: every failing eval with its
    /// current reason (first line of it), for writing a fresh file.
    pub fn from_report(report: &Report) -> KnownFailures {
        let mut entries = BTreeMap::new();
        for f in &report.files {
            for o in &f.outcomes {
                if let Some(why) = &o.failure {
                    let reason = why.lines().next().unwrap_or("").to_owned();
                    entries.insert((f.name.clone(), o.line), reason);
                }
            }
        }
        KnownFailures { entries }
    }

    /// The reason recorded for an eval, if listed.
    pub fn reason(&self, file: &str, line: usize) -> Option<&str> {
        self.entries
            .get(&(file.to_owned(), line))
            .map(String::as_str)
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Compares a run with the list; entries of files not in the run are
    /// left alone.
    pub fn check(&self, report: &Report) -> Vec<Discrepancy> {
        let mut out = Vec::new();
        for f in &report.files {
            for o in &f.outcomes {
                let listed = self.entries.contains_key(&(f.name.clone(), o.line));
                match (&o.failure, listed) {
                    (Some(_), false) => out.push(Discrepancy::NewFailure {
                        file: f.name.clone(),
                        line: o.line,
                    }),
                    (None, true) => out.push(Discrepancy::NowPasses {
                        file: f.name.clone(),
                        line: o.line,
                    }),
                    _ => {}
                }
            }
        }
        out
    }

    /// The file text: one `file:line  reason` line per entry, sorted.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for ((file, line), reason) in &self.entries {
            s.push_str(&format!("{file}:{line}  {reason}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{EvalOutcome, FileReport};

    fn report() -> Report {
        let o = |line, failure: Option<&str>| EvalOutcome {
            line,
            expr: "x".into(),
            failure: failure.map(str::to_owned),
        };
        Report {
            files: vec![FileReport {
                name: "a.test".into(),
                outcomes: vec![
                    o(1, None),
                    o(5, Some("expected 1, got 2\nmore")),
                    o(9, Some("boom")),
                ],
                left_out: Default::default(),
            }],
        }
    }

    #[test]
    fn parse_and_write() {
        let k = KnownFailures::parse("# c\n\na.test:5  expected 1, got 2\n b.test:7 not yet\n")
            .unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(k.reason("a.test", 5), Some("expected 1, got 2"));
        assert_eq!(
            k.to_text(),
            "a.test:5  expected 1, got 2\nb.test:7  not yet\n"
        );
        assert_eq!(KnownFailures::parse(&k.to_text()).unwrap(), k);
        for bad in ["a.test:5", "a.test  why", "a.test:x why", "a:1 x\na:1 y"] {
            assert!(KnownFailures::parse(bad).is_err(), "{bad}");
        }
        let fresh = KnownFailures::from_report(&report());
        assert_eq!(
            fresh.to_text(),
            "a.test:5  expected 1, got 2\na.test:9  boom\n"
        );
    }

    #[test]
    fn check_both_ways() {
        let k =
            KnownFailures::parse("a.test:1 was broken\na.test:5 r\nb.test:3 other file\n").unwrap();
        let d: Vec<String> = k.check(&report()).iter().map(ToString::to_string).collect();
        assert_eq!(
            d,
            [
                "a.test:1: passes but is listed in the known-failures file",
                "a.test:9: fails but is not in the known-failures file"
            ]
        );
    }
}
