//! `eval instant at <t> <expr>` and `eval range from <a> to <b> step <s>
//! <expr>` blocks: the header, `expect …` directives and expected results.

use std::sync::LazyLock;

use model::Labels;
use regex::Regex;

use super::{parse_millis, Block};
use crate::values::{parse_scalar_line, parse_series_line, unquote_prefix, Value};

/// An `eval` command.
#[derive(Clone, Debug)]
pub struct Eval {
    /// Line of the header.
    pub line: usize,
    /// The PromQL expression, as written.
    pub expr: String,
    /// Instant or range, with times in milliseconds since the epoch.
    pub kind: EvalKind,
    /// Failure, annotation, order and result-type expectations.
    pub expect: Expectations,
    /// The expected result.
    pub expected: Expected,
}

/// When the query runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalKind {
    /// One instant query. With `expect range vector`, `at_ms` is the end
    /// of that directive, which overrides the header's time.
    Instant {
        /// Evaluation time.
        at_ms: i64,
    },
    /// One range query over `[start_ms, end_ms]` (end inclusive).
    Range {
        /// First step.
        start_ms: i64,
        /// Last step (inclusive when on the grid).
        end_ms: i64,
        /// Step width.
        step_ms: i64,
    },
}

/// The `expect` directives of an eval (and deprecated header forms).
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// `expect fail`: the query must fail with a matching error.
    pub fail: Option<AnnotationMatch>,
    /// `expect warn` lines: at least one warning; each line matches one and
    /// every warning matches a line. Empty = warnings not checked.
    pub warn: Vec<AnnotationMatch>,
    /// `expect info` lines, as `warn` for infos.
    pub info: Vec<AnnotationMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect ordered`: result order must be the expected line order.
    pub ordered: bool,
    /// `expect range vector from a to b step s` (ms): an instant query
    /// returning a matrix whose points lie on this grid.
    pub range_vector: Option<(i64, i64, i64)>,
    /// `expect string "…"`: the expected string result.
    pub string: Option<String>,
}

/// How an error or annotation text is matched.
#[derive(Clone, Debug)]
pub enum AnnotationMatch {
    /// Bare directive: any message.
    Any,
    /// `msg: <text>`: exactly this text.
    Exact(String),
    /// `regex: <pattern>`: an unanchored search.
    Regex(Regex),
}

impl AnnotationMatch {
    /// Whether `text` satisfies this expectation.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            // The reference runner uses `^.*$`, which fails on multi-line text.
            AnnotationMatch::Any => !text.contains('\n'),
            AnnotationMatch::Exact(m) => m == text,
            AnnotationMatch::Regex(r) => r.is_match(text),
        }
    }
}

/// The expected result lines.
#[derive(Clone, Debug)]
pub enum Expected {
    /// Series lines (possibly none: an empty vector or matrix).
    Series(Vec<ExpectedSeries>),
    /// A bare number line: a scalar result.
    Scalar(f64),
}

/// One expected series.
#[derive(Clone, Debug)]
pub struct ExpectedSeries {
    /// Line in the script.
    pub line: usize,
    /// The exact label set.
    pub labels: Labels,
    /// One value for instant vectors; one per step for matrices (`None` =
    /// no point at that step).
    pub values: Vec<Option<Value>>,
}

static INSTANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
        .expect("BUG: instant header regex")
});
static RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .expect("BUG: range header regex")
});
static EXPECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
        .expect("BUG: expect regex")
});
static RANGE_VECTOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect\s+range\s+vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
        .expect("BUG: range vector regex")
});

type Failure = (usize, String);

/// Parses the eval block at `b`; returns it and the index of the next line.
pub(super) fn parse_eval(b: &Block<'_>) -> Result<(Eval, usize), Failure> {
    let line = b.line_no();
    let header = b.header();
    let time = |s: &str| parse_millis(s.trim()).map_err(|e| (line, format!("invalid time: {e}")));
    let mut expect = Expectations::default();
    let (deprecated, kind, expr) = if let Some(c) = INSTANT.captures(header) {
        let at = c.get(2).map_or("", |m| m.as_str());
        (c.get(1), EvalKind::Instant { at_ms: time(at)? }, c.get(3))
    } else if let Some(c) = RANGE.captures(header) {
        let (start_ms, end_ms) = (time(&c[2])?, time(&c[3])?);
        if end_ms < start_ms {
            return Err((
                line,
                "invalid test definition, end timestamp before start".into(),
            ));
        }
        let step_ms = time(&c[4])?;
        (
            c.get(1),
            EvalKind::Range {
                start_ms,
                end_ms,
                step_ms,
            },
            c.get(5),
        )
    } else {
        return Err((line, format!("invalid evaluation command {header:?}")));
    };
    let expr = expr.map_or("", |m| m.as_str()).to_owned();
    match deprecated.map(|m| m.as_str()) {
        Some("fail") => expect.fail = Some(AnnotationMatch::Any),
        Some("warn") => expect.warn.push(AnnotationMatch::Any),
        Some("info") => expect.info.push(AnnotationMatch::Any),
        Some("ordered") => expect.ordered = true,
        _ => {}
    }
    let is_eval_fail = deprecated.is_some_and(|m| m.as_str() == "fail");
    let mut series = Vec::new();
    let mut scalar = None;
    let mut next = b.end();
    for (i, text) in b.body() {
        let at = |m: String| (i + 1, m);
        if is_eval_fail {
            if let Some(rest) = text.strip_prefix("expected_fail_message") {
                expect.fail = Some(AnnotationMatch::Exact(rest.trim().to_owned()));
                next = i + 1;
                break;
            }
            if let Some(rest) = text.strip_prefix("expected_fail_regexp") {
                let r = Regex::new(rest.trim()).map_err(|e| at(format!("invalid regexp: {e}")))?;
                expect.fail = Some(AnnotationMatch::Regex(r));
                next = i + 1;
                break;
            }
        }
        if text.starts_with("expect range vector") {
            let c = RANGE_VECTOR
                .captures(text)
                .ok_or_else(|| at(format!("invalid range vector definition {text:?}")))?;
            let t = |s: &str| parse_millis(s.trim()).map_err(|e| at(format!("invalid time: {e}")));
            expect.range_vector = Some((t(&c[1])?, t(&c[2])?, t(&c[3])?));
        } else if let Some(rest) = text.strip_prefix("expect string") {
            let rest = rest.trim();
            let s = match unquote_prefix(rest, 0) {
                Ok((s, end)) if end == rest.len() && !rest.starts_with('\'') => s,
                _ => return Err(at(format!("invalid expected string {rest:?}"))),
            };
            expect.string = Some(s);
        } else if text.split(' ').next() == Some("expect") {
            parse_expect(text, &mut expect).map_err(at)?;
        } else if let Some(v) = parse_scalar_line(text) {
            // A scalar line ends the block, as upstream.
            scalar = Some(v);
            next = i + 1;
            break;
        } else {
            let s = parse_series_line(text).map_err(|e| at(format!("invalid series line: {e}")))?;
            series.push(ExpectedSeries {
                line: i + 1,
                labels: s.labels,
                values: s.values,
            });
        }
    }
    let kind = match (kind, expect.range_vector) {
        (EvalKind::Instant { .. }, Some((_, end, _))) => EvalKind::Instant { at_ms: end },
        (k, _) => k,
    };
    if matches!(kind, EvalKind::Instant { .. }) && expect.range_vector.is_none() {
        if let Some(s) = series.iter().find(|s| s.values.len() > 1) {
            return Err((
                s.line,
                "expecting multiple values in instant evaluation not allowed".into(),
            ));
        }
    }
    let expected = match scalar {
        Some(v) => Expected::Scalar(v),
        None => Expected::Series(series),
    };
    Ok((
        Eval {
            line,
            expr,
            kind,
            expect,
            expected,
        },
        next,
    ))
}

fn parse_expect(text: &str, e: &mut Expectations) -> Result<(), String> {
    let c = EXPECT
        .captures(text)
        .ok_or_else(|| format!("invalid expect statement {text:?}"))?;
    let m = match (c.get(2).map(|m| m.as_str()), c.get(3)) {
        (Some("msg"), Some(t)) => AnnotationMatch::Exact(t.as_str().trim().to_owned()),
        (Some(_), Some(t)) => AnnotationMatch::Regex(
            Regex::new(t.as_str().trim())
                .map_err(|err| format!("invalid regex in {text:?}: {err}"))?,
        ),
        _ => AnnotationMatch::Any,
    };
    match &c[1] {
        "ordered" => e.ordered = true,
        "fail" if e.fail.is_some() => return Err("more than one expect fail".into()),
        "fail" => e.fail = Some(m),
        "warn" => e.warn.push(m),
        "info" => e.info.push(m),
        "no_warn" => e.no_warn = true,
        _ => e.no_info = true,
    }
    if e.no_warn && !e.warn.is_empty() {
        return Err("expect warn and expect no_warn together".into());
    }
    if e.no_info && !e.info.is_empty() {
        return Err("expect info and expect no_info together".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{Command, Script};

    fn eval_of(text: &str) -> Result<Eval, String> {
        let s = Script::parse("t.test", text).map_err(|e| e.to_string())?;
        match s.commands.into_iter().next() {
            Some(Command::Eval(e)) => Ok(*e),
            other => panic!("want an eval, got {other:?}"),
        }
    }

    #[test]
    fn headers() {
        let e = eval_of("eval instant at 50m sum by (job) (x)").unwrap();
        assert_eq!(
            (e.kind, e.expr.as_str()),
            (EvalKind::Instant { at_ms: 3_000_000 }, "sum by (job) (x)")
        );
        let e = eval_of("eval range from 0 to 10m step 5m x{a=\"to\"}").unwrap();
        assert_eq!(
            e.kind,
            EvalKind::Range {
                start_ms: 0,
                end_ms: 600_000,
                step_ms: 300_000
            }
        );
        let e = eval_of("eval_fail instant at 1m x\n  expected_fail_message boom").unwrap();
        assert!(matches!(e.expect.fail, Some(AnnotationMatch::Exact(ref m)) if m == "boom"));
        let e = eval_of("eval_ordered instant at 1m x").unwrap();
        assert!(e.expect.ordered);
        assert!(eval_of("eval range from 2m to 1m step 1m x")
            .unwrap_err()
            .contains("t.test:1: invalid test definition"));
        let e = eval_of("eval instant 1m x").unwrap_err();
        assert!(e.contains("invalid evaluation command"), "{e}");
        assert!(eval_of("eval foo")
            .unwrap_err()
            .contains("invalid evaluation command"));
    }

    #[test]
    fn bodies() {
        let e = eval_of("eval instant at 1m x\n expect warn msg: PromQL warning: a (1:5)\n expect warn regex: b+\n expect no_info\n expect ordered\n x{a=\"1\"} 1\n {} {{count:1}}").unwrap();
        assert_eq!(e.expect.warn.len(), 2);
        assert!(e.expect.warn[0].matches("PromQL warning: a (1:5)"));
        assert!(e.expect.warn[1].matches("xbbx") && !e.expect.warn[1].matches("x"));
        assert!(e.expect.no_info && e.expect.ordered);
        let Expected::Series(s) = &e.expected else {
            panic!("want series")
        };
        assert_eq!((s.len(), s[0].line, s[1].line), (2, 6, 7));

        let e = eval_of(
            "eval instant at 1m x[1m]\n expect range vector from 10s to 1m step 10s\n x 2 3 4",
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.expect.range_vector),
            (
                EvalKind::Instant { at_ms: 60_000 },
                Some((10_000, 60_000, 10_000))
            )
        );
        let e = eval_of("eval instant at 1m \"a\"\n expect string \"a\\tb\"").unwrap();
        assert_eq!(e.expect.string.as_deref(), Some("a\tb"));
        let e = eval_of("eval instant at 1m 1\n 0x10").unwrap();
        assert!(matches!(e.expected, Expected::Scalar(v) if v == 16.0));
        // A scalar line ends the block: what follows is a new command.
        assert!(Script::parse("t", "eval instant at 1m 1\n 1\n x 2")
            .unwrap_err()
            .to_string()
            .contains("t:3: invalid command"));
        let e = eval_of("eval instant at 1m 1\n expect fail regex: a.c\n").unwrap();
        assert!(e.expect.fail.is_some_and(|m| m.matches("xabcx")));
    }

    #[test]
    fn bad_bodies() {
        let err = |t: &str| eval_of(t).unwrap_err();
        assert!(err("eval instant at 1m x\n x 1 2").contains("t.test:2: expecting multiple values"));
        assert!(err("eval instant at 1m x\n expect warn\n expect no_warn").contains("t.test:3:"));
        assert!(err("eval instant at 1m x\n expect info\n expect no_info").contains("together"));
        assert!(err("eval instant at 1m x\n expect fail\n expect fail").contains("more than one"));
        assert!(err("eval instant at 1m x\n expect sometimes").contains("invalid expect statement"));
        assert!(err("eval instant at 1m x\n expect fail regex: (").contains("invalid regex"));
        assert!(err("eval instant at 1m x\n expect string abc").contains("invalid expected string"));
        // Found by fuzzing: nothing after the keyword.
        assert!(err("eval instant at 1m x\n expect string").contains("invalid expected string"));
        assert!(
            err("eval instant at 1m x\n expect range vector from x to 1m step 1s")
                .contains("invalid time")
        );
        assert!(err("eval instant at 1m x\n x{a=1} 1").contains("invalid series line"));
    }
}
