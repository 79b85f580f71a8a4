//! Every script of the upstream conformance corpus parses without error.
//! The corpus is read in place (never copied): `$PHAROS_CONFORMANCE` or
//! `../shared/conformance` relative to the workspace root; the test skips
//! with a message when it is absent.

use promqltest::script::{Command, EvalKind, Script};

#[test]
fn every_corpus_file_parses() {
    let Some(dir) = testkit::conformance_dir("promql") else {
        eprintln!("skipping: PromQL conformance corpus not found (set PHAROS_CONFORMANCE)");
        return;
    };
    let files = promqltest::corpus_files(&dir).expect("list corpus");
    assert_eq!(files.len(), 21, "files in {}", dir.display());
    let mut c = Counts::default();
    let mut errors = Vec::new();
    for f in &files {
        match Script::from_file(f) {
            Ok(s) => c.add(&s),
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The corpus's STATS.md, counted independently of this parser.
    let want = Counts {
        evals: 2214,
        instant: 1885,
        range: 329,
        fail: 35,
        warn: 90,
        info: 132,
        no_warn: 265,
        no_info: 149,
        ordered: 24,
        range_vector: 5,
        string: 5,
        loads: 310,
        nhcb_loads: 33,
        st_lines: 37,
        clears: 231,
    };
    assert_eq!(c, want);
}

/// Per-corpus tallies to compare with STATS.md.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    evals: usize,
    instant: usize,
    range: usize,
    fail: usize,
    warn: usize,
    info: usize,
    no_warn: usize,
    no_info: usize,
    ordered: usize,
    range_vector: usize,
    string: usize,
    loads: usize,
    nhcb_loads: usize,
    st_lines: usize,
    clears: usize,
}

impl Counts {
    fn add(&mut self, s: &Script) {
        for cmd in &s.commands {
            match cmd {
                Command::Clear { .. } => self.clears += 1,
                Command::Load(l) => {
                    self.loads += 1;
                    self.nhcb_loads += usize::from(l.with_nhcb);
                    self.st_lines += l
                        .series
                        .iter()
                        .filter(|s| s.start_offsets.is_some())
                        .count();
                }
                Command::Eval(e) => {
                    self.evals += 1;
                    match e.kind {
                        EvalKind::Instant { .. } => self.instant += 1,
                        EvalKind::Range { .. } => self.range += 1,
                    }
                    let x = &e.expect;
                    self.fail += usize::from(x.fail.is_some());
                    self.warn += usize::from(!x.warn.is_empty());
                    self.info += usize::from(!x.info.is_empty());
                    self.no_warn += usize::from(x.no_warn);
                    self.no_info += usize::from(x.no_info);
                    self.ordered += usize::from(x.ordered);
                    self.range_vector += usize::from(x.range_vector.is_some());
                    self.string += usize::from(x.string.is_some());
                }
            }
        }
    }
}

/// An engine that refuses every query: the run then exercises loading and
/// the failure bookkeeping over the whole corpus.
struct NoEngine;

impl promqltest::runner::Engine for NoEngine {
    fn instant(
        &self,
        _: &dyn storage::Queryable,
        _: &str,
        _: i64,
    ) -> Result<promqltest::runner::QueryOutput, promqltest::runner::EngineError> {
        Err(promqltest::runner::EngineError::new("no engine"))
    }

    fn range(
        &self,
        _: &dyn storage::Queryable,
        _: &str,
        _: i64,
        _: i64,
        _: i64,
    ) -> Result<promqltest::runner::QueryOutput, promqltest::runner::EngineError> {
        Err(promqltest::runner::EngineError::new("no engine"))
    }
}

#[test]
fn every_corpus_load_is_accepted_by_the_in_memory_store() {
    let Some(dir) = testkit::conformance_dir("promql") else {
        eprintln!("skipping: PromQL conformance corpus not found (set PHAROS_CONFORMANCE)");
        return;
    };
    let files = promqltest::corpus_files(&dir).expect("list corpus");
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let report = promqltest::report::run_files(&NoEngine, &paths, storage::MemStorage::new);
    let not_run: Vec<String> = report
        .files
        .iter()
        .flat_map(|f| f.outcomes.iter().map(move |o| (f, o)))
        .filter_map(|(f, o)| {
            let why = o.failure.as_deref()?;
            why.starts_with("not run")
                .then(|| format!("{}:{}: {why}", f.name, o.line))
        })
        .collect();
    assert!(not_run.is_empty(), "{}", not_run.join("\n"));
    assert_eq!(report.passed() + report.failed(), 2214);
    // Only `expect fail` evals pass against an engine that always fails.
    let text = report.render(None);
    assert!(text.ends_with(&format!(
        "{} passed, {} failed\n",
        report.passed(),
        report.failed()
    )));
}
