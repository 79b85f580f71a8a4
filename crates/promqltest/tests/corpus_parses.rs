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
