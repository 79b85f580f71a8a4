//! Parsing a test script into a typed command list.
//!
//! A script is split on `\n`; every line is trimmed and a line starting with
//! `#` becomes empty. An empty line ends a `load` or `eval` block (so a
//! comment inside a block cuts it). Commands are dispatched on the first
//! word, case-insensitively: `clear`, anything starting with `load`, anything
//! starting with `eval`. Line numbers are 1-based.

mod eval;
mod load;

pub use eval::{AnnotationMatch, Eval, EvalKind, Expectations, Expected, ExpectedSeries};
pub use load::{Load, LoadSeries};

use std::path::Path;

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Script {
    /// The name used in messages (usually the file name).
    pub name: String,
    /// The commands in file order.
    pub commands: Vec<Command>,
}

/// One command of a script.
#[derive(Clone, Debug)]
pub enum Command {
    /// `load <interval>` or `load_with_nhcb <interval>` and its series.
    Load(Load),
    /// `clear`: start again with an empty store.
    Clear {
        /// Line of the command.
        line: usize,
    },
    /// `eval …` with its expectations.
    Eval(Box<Eval>),
}

/// Why a script does not parse; names `file:line`.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The script file could not be read.
    #[error("cannot read test script {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line does not follow the language.
    #[error("cannot parse test script {file}:{line}: {msg}")]
    Syntax {
        /// The script name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

impl Script {
    /// Reads and parses the script at `path`; its name is the file name.
    pub fn from_file(path: &Path) -> Result<Script, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Script::parse(&name, &text)
    }

    /// Parses script text; `name` appears in errors and reports.
    pub fn parse(name: &str, text: &str) -> Result<Script, ScriptError> {
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| {
                let l = l.trim();
                if l.starts_with('#') {
                    ""
                } else {
                    l
                }
            })
            .collect();
        let syntax = |line: usize, msg: String| ScriptError::Syntax {
            file: name.to_owned(),
            line,
            msg,
        };
        let mut commands = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            if l.is_empty() {
                i += 1;
                continue;
            }
            let word = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let block = Block {
                lines: &lines,
                start: i,
            };
            if word == "clear" {
                commands.push(Command::Clear { line: i + 1 });
                i += 1;
            } else if word.starts_with("load") {
                let (load, next) = load::parse_load(&block).map_err(|(line, m)| syntax(line, m))?;
                commands.push(Command::Load(load));
                i = next;
            } else if word.starts_with("eval") {
                let (eval, next) = eval::parse_eval(&block).map_err(|(line, m)| syntax(line, m))?;
                commands.push(Command::Eval(Box::new(eval)));
                i = next;
            } else {
                return Err(syntax(i + 1, format!("invalid command {l:?}")));
            }
        }
        Ok(Script {
            name: name.to_owned(),
            commands,
        })
    }

    /// The eval commands, in order.
    pub fn evals(&self) -> impl Iterator<Item = &Eval> {
        self.commands.iter().filter_map(|c| match c {
            Command::Eval(e) => Some(&**e),
            _ => None,
        })
    }
}

/// A command's header line and the lines after it, up to the next empty one.
pub(crate) struct Block<'a> {
    lines: &'a [&'a str],
    start: usize,
}

impl<'a> Block<'a> {
    /// The header line.
    fn header(&self) -> &'a str {
        self.lines[self.start]
    }

    /// The 1-based number of the header line.
    fn line_no(&self) -> usize {
        self.start + 1
    }

    /// The body lines with their 0-based indices, up to the first empty line.
    fn body(&self) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        let lines = self.lines;
        (self.start + 1..lines.len())
            .map(move |i| (i, lines[i]))
            .take_while(|(_, l)| !l.is_empty())
    }

    /// The index of the line after the body.
    fn end(&self) -> usize {
        self.start + 1 + self.body().count()
    }
}

/// Parses a duration after the epoch (`50m`, `0`) into milliseconds.
pub(crate) fn parse_millis(s: &str) -> Result<i64, String> {
    let d = model::parse_duration(s).map_err(|e| e.to_string())?;
    i64::try_from(d.as_millis()).map_err(|_| format!("duration {s:?} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Script::parse("t.test", text).unwrap_err().to_string()
    }

    #[test]
    fn dispatch_and_blocks() {
        let s = Script::parse(
            "t.test",
            "# comment\nload 1m\n  foo 1 2\n\nCLEAR trailing\nclear\neval instant at 1m foo\n  foo 2\n",
        )
        .unwrap();
        assert_eq!(s.commands.len(), 4);
        assert!(matches!(&s.commands[1], Command::Clear { line: 5 }));
        assert!(matches!(&s.commands[3], Command::Eval(e) if e.line == 7));
        assert_eq!(
            err("\nfoo 1"),
            "cannot parse test script t.test:2: invalid command \"foo 1\""
        );
        assert_eq!(
            err("eval instant at 1m foo\n# cut\n  foo 2"),
            "cannot parse test script t.test:3: invalid command \"foo 2\""
        );
        assert!(err("LOAD 1m\n foo 1").contains("t.test:1:"));
    }
}
