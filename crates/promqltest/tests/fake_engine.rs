//! The runner against a tiny engine that answers only number and string
//! literals, vector selectors and `selector[range]` from the store, and pins
//! `@` by appending ` @ <seconds>`: enough to see every comparison, the
//! range-mode check, the `@` variants and the report really at work.

use model::{is_stale_nan, parse_metric_selector, Labels};
use promqltest::known::KnownFailures;
use promqltest::report::Report;
use promqltest::runner::{
    run_script, Engine, EngineError, MatrixSeries, QueryOutput, QueryValue, VectorSample,
};
use promqltest::script::Script;
use promqltest::values::Value;
use std::collections::BTreeMap;
use storage::{MemStorage, Queryable};

const LOOKBACK: i64 = 300_000;

/// `honour_at`: false makes a buggy engine that ignores `@`.
struct Fake {
    honour_at: bool,
}

fn err(e: impl ToString) -> EngineError {
    EngineError::new(e.to_string())
}

/// A series' labels and raw (t, v) samples.
type RawSeries = (Labels, Vec<(i64, f64)>);

/// Samples of the series matching `sel` with `lo < t <= hi`.
fn select(db: &dyn Queryable, sel: &str, lo: i64, hi: i64) -> Result<Vec<RawSeries>, EngineError> {
    let matchers = parse_metric_selector(sel).map_err(err)?;
    let q = db.querier(lo + 1, hi).map_err(err)?;
    let mut out = Vec::new();
    for s in q.select(true, None, &matchers).map_err(err)? {
        let mut s = s.map_err(err)?;
        let pts: Vec<(i64, f64)> = s
            .collect_samples()
            .map_err(err)?
            .into_iter()
            .filter(|p| p.t > lo && p.t <= hi)
            .map(|p| (p.t, p.v))
            .collect();
        out.push((s.labels, pts));
    }
    Ok(out)
}

impl Engine for Fake {
    fn instant(
        &self,
        db: &dyn Queryable,
        expr: &str,
        at_ms: i64,
    ) -> Result<QueryOutput, EngineError> {
        let (expr, at) = match expr.split_once(" @ ") {
            Some((e, secs)) if self.honour_at => {
                let s: f64 = secs.parse().map_err(err)?;
                (e, (s * 1000.0).round() as i64)
            }
            Some((e, _)) => (e, at_ms),
            None => (expr, at_ms),
        };
        if let Ok(v) = expr.parse::<f64>() {
            return Ok(QueryOutput::new(QueryValue::Scalar(v)));
        }
        if let Some(s) = expr.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Ok(QueryOutput::new(QueryValue::String(s.to_owned())));
        }
        if let Some((sel, range)) = expr.strip_suffix(']').and_then(|e| e.split_once('[')) {
            let d = model::parse_duration(range).map_err(err)?.as_millis() as i64;
            let m = select(db, sel, at - d, at)?
                .into_iter()
                .filter(|(_, p)| !p.is_empty())
                .map(|(labels, p)| MatrixSeries {
                    labels,
                    points: p.into_iter().map(|(t, v)| (t, Value::Float(v))).collect(),
                })
                .collect();
            return Ok(QueryOutput::new(QueryValue::Matrix(m)));
        }
        let mut v = Vec::new();
        let mut warnings = Vec::new();
        for (labels, pts) in select(db, expr, at - LOOKBACK, at)? {
            if labels.metric_name().is_some_and(|n| n.starts_with("warn_")) {
                warnings.push("PromQL warning: fake warning (1:1)".to_owned());
            }
            match pts.last() {
                Some((_, x)) if !is_stale_nan(*x) => v.push(VectorSample {
                    labels,
                    value: Value::Float(*x),
                }),
                _ => {}
            }
        }
        Ok(QueryOutput {
            value: QueryValue::Vector(v),
            warnings,
            infos: Vec::new(),
        })
    }

    fn range(
        &self,
        db: &dyn Queryable,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, EngineError> {
        let mut m: BTreeMap<Labels, Vec<(i64, Value)>> = BTreeMap::new();
        let mut t = start;
        while t <= end {
            match self.instant(db, expr, t)?.value {
                QueryValue::Scalar(v) => m
                    .entry(Labels::empty())
                    .or_default()
                    .push((t, Value::Float(v))),
                QueryValue::Vector(v) => {
                    for s in v {
                        m.entry(s.labels).or_default().push((t, s.value));
                    }
                }
                _ => return Err(err("fake engine: range query of a string or matrix")),
            }
            t += step;
        }
        let m = m
            .into_iter()
            .map(|(labels, points)| MatrixSeries { labels, points })
            .collect();
        Ok(QueryOutput::new(QueryValue::Matrix(m)))
    }

    fn pin_at(&self, expr: &str, at_ms: i64) -> Option<String> {
        Some(format!("{expr} @ {:.3}", at_ms as f64 / 1000.0))
    }

    fn check_syntax(&self, expr: &str) -> Result<(), EngineError> {
        if expr.contains("((") {
            return Err(err("unbalanced parentheses"));
        }
        Ok(())
    }
}

const SCRIPT: &str = r#"
load 1m
  m{a="1"} 0+10x10
  m{a="2"} 5 5 5 stale
  warn_m 1

# passes
eval instant at 2m m
  m{a="1"} 20
  m{a="2"} 5

# fails: wrong value
eval instant at 2m m{a="1"}
  m{a="1"} 21

# fails: series missing
eval instant at 10m m
  m{a="1"} 100
  m{a="2"} 5

# fails: wrong order
eval instant at 2m m
  expect ordered
  m{a="2"} 5
  m{a="1"} 20

# passes: range with gaps after the stale marker
eval range from 0 to 4m step 1m m{a="2"}
  m{a="2"} 5 5 5 _ _

# fails: one point too many expected
eval range from 0 to 2m step 1m m{a="1"}
  m{a="1"} 0 10 20 30

# fails: no point after the stale marker
eval range from 0 to 3m step 1m m{a="2"}
  m{a="2"} 5 5 5 5

# passes: warning expected, then none allowed
eval instant at 1m warn_m
  expect warn msg: PromQL warning: fake warning (1:1)
  warn_m 1

# fails: no_warn
eval instant at 1m warn_m
  expect no_warn
  warn_m 1

# passes: scalar, string, failure
eval instant at 1m 42
  42

eval instant at 1m "hi"
  expect string "hi"

eval instant at 1m m{a=~"("}
  expect fail regex: ^invalid regular expression "\("

# fails: a syntax error does not satisfy expect fail
eval instant at 1m ((
  expect fail

# passes: range vector
eval instant at 3m m{a="1"}[2m]
  expect range vector from 1m to 3m step 1m
  m{a="1"} _ 20 30

clear

# passes: the store is empty again
eval instant at 2m m
"#;

fn run(honour_at: bool) -> Report {
    let script = Script::parse("fake.test", SCRIPT).expect("script parses");
    let report = run_script(&Fake { honour_at }, &script, MemStorage::new);
    Report {
        files: vec![report],
    }
}

#[test]
fn compares_and_reports() {
    let report = run(true);
    let want = r#"fake.test:13: m{a="1"}: expected m{a="1"} 21, got 20
fake.test:17: m: expected m{a="2"} 5, got no such series
fake.test:22: m: expected m{a="1"} at position 2, got it at position 1
fake.test:32: m{a="1"}: expected 4 points for m{a="1"}, got a time range of only 3 steps
fake.test:36: m{a="2"}: expected m{a="2"} [5@0 5@60000 5@120000 5@180000], got [5@0 5@60000 5@120000]
fake.test:45: warn_m: expected no warnings, got ["PromQL warning: fake warning (1:1)"]
fake.test:60: ((: expected a valid expression, got parse error: unbalanced parentheses
fake.test: 8 passed, 7 failed
8 passed, 7 failed
"#;
    assert_eq!(report.render(None), want);
    assert!(!report.is_ok(None));
}

#[test]
fn known_failures_are_checked() {
    let report = run(true);
    let fresh = KnownFailures::from_report(&report);
    assert_eq!(fresh.len(), 7);
    assert!(report.is_ok(Some(&fresh)));
    assert!(report
        .render(Some(&fresh))
        .contains("fake.test:13: m{a=\"1\"}: expected m{a=\"1\"} 21, got 20  [known]\n"));
    // One entry dropped, one stale entry added.
    let text = fresh.to_text().replace("fake.test:13 ", "fake.test:8 ");
    let edited = KnownFailures::parse(&text).unwrap();
    let out = report.render(Some(&edited));
    assert!(
        out.contains("fake.test:8: passes but is listed in the known-failures file\n"),
        "{out}"
    );
    assert!(
        out.contains("fake.test:13: fails but is not in the known-failures file\n"),
        "{out}"
    );
    assert!(out.ends_with("8 passed, 7 failed\n"));
    assert!(!report.is_ok(Some(&edited)));
}

#[test]
fn at_variants_catch_an_engine_that_ignores_at() {
    let report = run(false);
    let f = &report.files[0];
    let line8 = f.outcomes.iter().find(|o| o.line == 8).unwrap();
    let why = line8.failure.as_deref().unwrap_or("");
    // At −10T the buggy engine sees nothing.
    assert!(
        why.starts_with(
            "with @ pinned (m @ 120.000 at -1200000ms): expected m{a=\"1\"} 20, got no such series"
        ),
        "{why}"
    );
}

/// An engine whose range queries disagree with its instant queries.
struct RangeOffByOne(Fake);

impl Engine for RangeOffByOne {
    fn instant(
        &self,
        db: &dyn Queryable,
        expr: &str,
        at_ms: i64,
    ) -> Result<QueryOutput, EngineError> {
        self.0.instant(db, expr, at_ms)
    }

    fn range(
        &self,
        db: &dyn Queryable,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, EngineError> {
        let mut out = self.0.range(db, expr, start, end, step)?;
        if let QueryValue::Matrix(m) = &mut out.value {
            for (_, v) in m.iter_mut().flat_map(|s| s.points.iter_mut()) {
                if let Value::Float(f) = v {
                    *f += 1.0;
                }
            }
        }
        Ok(out)
    }
}

#[test]
fn range_mode_check_compares_the_middle_step() {
    let text = "load 1m\n  m 0+10x10\n\neval instant at 2m m\n  m 20\n\neval instant at 2m 7\n  7\n\neval instant at 2m m\n  expect ordered\n  m 20\n";
    let script = Script::parse("r.test", text).unwrap();
    let report = Report {
        files: vec![run_script(
            &RangeOffByOne(Fake { honour_at: true }),
            &script,
            MemStorage::new,
        )],
    };
    let want = "r.test:4: m: range-mode check at 120000ms: expected m 20, got 21\n\
                r.test:7: 7: range-mode check at 120000ms: expected scalar 7, got 8\n\
                r.test: 1 passed, 2 failed\n1 passed, 2 failed\n";
    assert_eq!(report.render(None), want);
}

#[test]
fn command_reads_files_and_the_known_failures_list() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fake.test");
    std::fs::write(&script, SCRIPT).unwrap();
    let broken = dir.path().join("broken.test");
    std::fs::write(&broken, "load 1m\n  m 1\n\nevil instant at 1m m\n").unwrap();
    let paths = [script.as_path(), broken.as_path()];
    let engine = Fake { honour_at: true };

    let out = promqltest::report::run_command(&engine, &paths, None, MemStorage::new).unwrap();
    assert!(!out.ok);
    assert!(out.text.contains("broken.test:4: cannot parse test script broken.test:4: invalid command \"evil instant at 1m m\"\n"), "{}", out.text);
    assert!(out.text.contains("broken.test: 0 passed, 1 failed\n"));
    assert!(out.text.ends_with("8 passed, 8 failed\n"), "{}", out.text);

    // The list written from this run makes the same run pass the check.
    let report = promqltest::report::run_files(&engine, &paths, MemStorage::new);
    let known = dir.path().join("known-failures.txt");
    std::fs::write(&known, KnownFailures::from_report(&report).to_text()).unwrap();
    let out =
        promqltest::report::run_command(&engine, &paths, Some(&known), MemStorage::new).unwrap();
    assert!(out.ok, "{}", out.text);
    assert!(out.text.ends_with("8 passed, 8 failed\n"));

    let missing = dir.path().join("nope.txt");
    let e = promqltest::report::run_command(&engine, &paths, Some(&missing), MemStorage::new)
        .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read known-failures file"),
        "{e}"
    );
}

#[test]
fn count_lines_say_what_the_store_could_not_take() {
    let text = "load 1m\n  h {{count:1}}x2 5\n  c@st 0 _\n  c 1 2\n\neval instant at 3m h\n  h 5\n";
    let script = Script::parse("h.test", text).unwrap();
    let report = Report {
        files: vec![run_script(
            &Fake { honour_at: true },
            &script,
            MemStorage::new,
        )],
    };
    assert_eq!(
        report.render(None),
        "h.test: 1 passed, 0 failed (not loaded: 3 histogram samples, 1 start timestamps)\n1 passed, 0 failed\n"
    );
}
