//! Every script of the upstream conformance corpus parses without error.
//! The corpus is read in place (never copied): `$PHAROS_CONFORMANCE` or
//! `../shared/conformance` relative to the workspace root; the test skips
//! with a message when it is absent.

use promqltest::script::Script;

#[test]
fn every_corpus_file_parses() {
    let Some(dir) = promqltest::conformance_dir() else {
        eprintln!("skipping: PromQL conformance corpus not found (set PHAROS_CONFORMANCE)");
        return;
    };
    let files = promqltest::corpus_files(&dir).expect("list corpus");
    assert_eq!(files.len(), 21, "files in {}", dir.display());
    let mut evals = 0;
    let mut errors = Vec::new();
    for f in &files {
        match Script::from_file(f) {
            Ok(s) => evals += s.evals().count(),
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // README.md of the corpus: 2214 eval commands in 21 files.
    assert_eq!(evals, 2214);
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
    let Some(dir) = promqltest::conformance_dir() else {
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
