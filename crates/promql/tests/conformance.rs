//! Every PromQL expression in the `eval` commands of Prometheus's test
//! scripts parses (unless the script expects the eval to fail), and prints
//! back, on one line and in the multi-line `format_query` form, to text that
//! parses to the same tree.
//!
//! The scripts are read in place (`testkit::conformance_dir("promql")`);
//! when the folder is absent the test prints why and passes, unless
//! `PHAROS_REQUIRE_CONFORMANCE` is set.

use std::path::PathBuf;

/// One `eval` command: file, line, expression, whether it expects failure.
struct Eval {
    file: String,
    line: usize,
    expr: String,
    expect_fail: bool,
}

/// Extracts the eval commands with the header patterns of the script
/// language (LANGUAGE.md §6.1) and the failure expectations of §7/§10.
fn evals() -> Option<Vec<Eval>> {
    let dir = testkit::conformance_dir("promql")?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!("cannot read {}", dir.display());
    };
    let instant = regex::Regex::new(
        r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$",
    )
    .ok()?;
    let range = regex::Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .ok()?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.split('\n').map(str::trim).collect();
        for (i, l) in lines.iter().enumerate() {
            let (kind, expr) = if let Some(c) = instant.captures(l) {
                (
                    c.get(1).map(|m| m.as_str()),
                    c.get(3).map_or("", |m| m.as_str()),
                )
            } else if let Some(c) = range.captures(l) {
                (
                    c.get(1).map(|m| m.as_str()),
                    c.get(5).map_or("", |m| m.as_str()),
                )
            } else {
                continue;
            };
            let body = lines[i + 1..]
                .iter()
                .take_while(|b| !b.is_empty() && !b.starts_with('#'));
            let expect_fail =
                kind == Some("fail") || body.clone().any(|b| b.starts_with("expect fail"));
            out.push(Eval {
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                line: i + 1,
                expr: expr.to_owned(),
                expect_fail,
            });
        }
    }
    Some(out)
}

#[test]
fn every_eval_expression_parses_and_round_trips() {
    let Some(evals) = evals() else { return };
    assert!(
        evals.len() > 2000,
        "found only {} eval commands",
        evals.len()
    );
    let mut failures = Vec::new();
    let (mut xfail, mut xfail_rejected) = (0, 0);
    for e in &evals {
        let parsed = promql::parse(&e.expr);
        if e.expect_fail {
            xfail += 1;
            if let Err(err) = &parsed {
                xfail_rejected += 1;
                println!(
                    "expected failure, parser rejects: {}:{} {} => {err}",
                    e.file, e.line, e.expr
                );
            }
            continue;
        }
        match parsed {
            Err(err) => failures.push(format!("{}:{}: {} => {err}", e.file, e.line, e.expr)),
            Ok(tree) => {
                let printed = tree.to_string();
                match promql::parse(&printed) {
                    Err(err) => failures.push(format!(
                        "{}:{}: {} printed as {printed} => {err}",
                        e.file, e.line, e.expr
                    )),
                    Ok(again) if again.to_string() != printed => failures.push(format!(
                        "{}:{}: {} printed as {printed}, reprinted as {again}",
                        e.file, e.line, e.expr
                    )),
                    Ok(_) => {}
                }
                // The multi-line form, split as far as it goes, reads back the same.
                let narrow = promql::pretty_width(&tree, 10);
                match promql::parse(&narrow) {
                    Ok(again) if again.to_string() == printed => {}
                    Ok(again) => failures.push(format!(
                        "{}:{}: pretty form {narrow:?} reads back as {again}",
                        e.file, e.line
                    )),
                    Err(err) => failures.push(format!(
                        "{}:{}: pretty form {narrow:?} => {err}",
                        e.file, e.line
                    )),
                }
            }
        }
    }
    println!(
        "{} evals, {} expected to fail ({} of those rejected by the parser), {} failures",
        evals.len(),
        xfail,
        xfail_rejected,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} expressions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
