//! The reference `promtool` judges label-matcher regexes written in Go's
//! syntax where the `regex` crate reads them differently: which values a
//! pattern matches (`promtool test rules` evaluates the selectors, expecting
//! the series our matcher selects) and the message for a pattern Go refuses
//! (`promtool check rules`, whose parse error must contain ours).
//!
//! Patterns avoid backticks and single quotes (they are written as PromQL
//! raw strings inside single-quoted YAML) and values avoid newlines (the
//! reference's 2.x dot semantics around newlines is not the target).

use std::fmt::Write as _;
use std::process::Command;

use model::{MatchType, Matcher};

/// Patterns whose meaning differs between Go and the `regex` crate, or
/// that take a shortcut past the engine.
const PATTERNS: &[&str] = &[
    r"\d",
    r"\d+",
    r"\w+",
    r"\W",
    r"\s",
    r"\S+",
    r"\Q.\E",
    // Not `\Qa.b` (no `\E`): the reference (2.x) compiles the pattern
    // wrapped first, where the literal swallows the wrapper's `)`;
    // Prometheus 3 parses it alone, as pharos does, and matches "a.b".
    r"a{b}",
    r"a{,2}",
    r"\<a\>",
    r"[[]",
    r"[a&&b]+",
    r"[~~]",
    r"x{2}",
    r"[[:alpha:]]+",
    r"é\b",
    r"\x{41}",
    r"\101",
    r"(?i)ÉX",
    r".*",
    r".+",
    r"a.*",
    r".*b.*",
    r"a|b|",
    r"(?P<1a>a)(?P<1a>b)",
];

/// Label values tried against every pattern.
const VALUES: &[&str] = &[
    "3", "٣", "12", "é", "ab", "x", " ", "\u{a0}", ".", "a.b", "a{b}", "a{,2}", "<a>", "[", "&&",
    "a&b", "~", "xx", "A", "éx", "ÉX", "a", "b", "abc", "cbd",
];

/// `v` as a PromQL (Go) string literal.
fn quoted(v: &str) -> String {
    let mut q = String::new();
    model::labels::write_go_quoted(&mut q, v).expect("writing to a String");
    q
}

fn selected(pattern: &str) -> Vec<usize> {
    let m = Matcher::new(MatchType::Regex, "v", pattern)
        .unwrap_or_else(|e| panic!("pharos refuses {pattern:?}: {e}"));
    (0..VALUES.len())
        .filter(|&i| m.matches(VALUES[i]))
        .collect()
}

#[test]
fn go_syntax_selects_what_prometheus_selects() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let mut t = String::from("tests:\n- interval: 1m\n  input_series:\n");
    for (i, v) in VALUES.iter().enumerate() {
        let _ = writeln!(
            t,
            "  - series: 'm{{i=\"{i}\", v={}}}'\n    values: '1'",
            quoted(v)
        );
    }
    t.push_str("  promql_expr_test:\n");
    for p in PATTERNS {
        let _ = writeln!(
            t,
            "  - expr: 'm{{v=~`{p}`}}'\n    eval_time: 0\n    exp_samples:"
        );
        for i in selected(p) {
            let _ = writeln!(
                t,
                "    - labels: 'm{{i=\"{i}\", v={}}}'\n      value: 1",
                quoted(VALUES[i])
            );
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("matchers_test.yml");
    std::fs::write(&file, &t).expect("write rule test");
    let out = Command::new(promtool)
        .arg("test")
        .arg("rules")
        .arg(&file)
        .output()
        .expect("run promtool");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "promtool disagrees with pharos:\n{text}\n--- test file ---\n{t}"
    );
}

#[test]
fn refusals_read_as_prometheus_writes_them() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, pattern) in [
        "x{1001}",
        "x{2,1001}",
        "x{2,1}",
        "(?x)a",
        r"\1",
        r"\8",
        r"\u0041",
        r"\Z",
        "a**",
        "x{2}{3}",
        "*",
        "a|+",
        "[[:foo:]]",
        "(?P<>x)",
        "a)|(b",
        // Not asked: `(a` and `[a`, which the reference (2.x) compiles
        // wrapped first and so quotes as `^(?:(a)$`; Prometheus 3 parses the
        // pattern alone first and quotes `(a`, as pharos does.
    ]
    .into_iter()
    .enumerate()
    {
        let ours = Matcher::new(MatchType::Regex, "a", pattern)
            .expect_err(pattern)
            .source
            .to_string();
        let file = dir.path().join(format!("rules{i}.yml"));
        let rules = format!(
            "groups:\n- name: g\n  rules:\n  - record: r\n    expr: 'up{{a=~`{pattern}`}}'\n"
        );
        std::fs::write(&file, rules).expect("write rules");
        let out = Command::new(&promtool)
            .arg("check")
            .arg("rules")
            .arg(&file)
            .output()
            .expect("run promtool");
        let theirs = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "promtool accepts {pattern:?}");
        assert!(
            theirs.contains(&format!("parse error: {ours}\n")),
            "{pattern:?}: pharos says {ours:?}, promtool says {theirs}"
        );
    }
}
