//! Runs Prometheus's PromQL test scripts (`shared/conformance/promql`)
//! through the runner against pharos's engine and prints the pass/fail
//! counts per file. No pass count is asserted here (`.ci/run` checks the
//! known-failures list through `pharos promqltest`); the test fails only if
//! the runner does not finish every file (a panic in the engine).

use std::path::PathBuf;

use promqltest::PromqlEngine;
use storage::MemStorage;

#[test]
fn conformance_scripts_run_to_the_end() {
    let Some(dir) = testkit::conformance_dir("promql") else {
        println!("skipped: no conformance scripts (set PHAROS_CONFORMANCE)");
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: cannot read {}", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let adapter = PromqlEngine::default();
    let (mut passed, mut failed, mut finished) = (0, 0, 0);
    for f in &files {
        // One file at a time so that a panic names its file.
        let report = promqltest::report::run_files(&adapter, &[f.as_path()], MemStorage::new);
        let Some(fr) = report.files.first() else {
            panic!("no report for {}", f.display());
        };
        println!(
            "{:28} passed {:4} failed {:4}",
            fr.name,
            fr.passed(),
            fr.outcomes.len() - fr.passed()
        );
        if std::env::var_os("SHOW_FAILURES").is_some() {
            for o in fr.outcomes.iter().filter(|o| o.failure.is_some()) {
                println!(
                    "  {}:{} {} => {}",
                    fr.name,
                    o.line,
                    o.expr,
                    o.failure.as_deref().unwrap_or("")
                );
            }
        }
        finished += 1;
        passed += fr.passed();
        failed += fr.outcomes.len() - fr.passed();
    }
    println!("TOTAL passed {passed} failed {failed}");
    assert_eq!(finished, files.len(), "the runner must finish every file");
}
