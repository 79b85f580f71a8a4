//! Asks Debian's `promtool` (Prometheus 2.42) to judge queries whose syntax
//! predates 3.x: each must be accepted or rejected exactly as `promtool
//! check rules` does, with the same `line:col: parse error: ...` text.
//! Skips with a message when `promtool` is not installed.

use std::process::Command;

/// Queries in the language both 2.42 and 3.x share. Left out: errors whose
/// text 3.x changed (`foo offset` now lists `step()`/`range()`, `foo[5m1]`
/// says "bad number or duration syntax", `foo[-5m]` is now a duration
/// expression: "duration must be greater than 0"; 2.42 words `@ 5` with an
/// internal item number); 3.x's texts for those are pinned in
/// the unit tests.
const QUERIES: &[&str] = &[
    "foo",
    "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
    "a + on(b) group_left(c) d",
    "topk(3, sum without (instance) (x)) > bool 1",
    "-a ^ 2 atan2 b",
    "x[30m:1m] offset 5m",
    "foo @ 100 offset -5m",
    "histogram_quantile(0.9, rate(h_bucket[5m]))",
    "label_replace(up, \"a\", \"$1\", \"job\", \"(.*)\")",
    "0x1F + 1e3 + Inf - NaN",
    "foo +",
    "rate(foo)",
    "1 < 2",
    "a and 1",
    "{}",
    "foo bar",
    "sum by a (x)",
    "a{b}",
    "a{b=c}",
    "foo[5m",
    "(foo",
    "unknown(x)",
    "sum(a, b)",
    "round(a, 1, 2)",
    "foo offset 1m offset 2m",
    "(foo + bar)[5m]",
    "a + on(b) group_left(b) c",
    "-\"s\"",
    "a ! b",
    "\"\\c\"",
    "foo{__name__=\"bar\"}",
    "rate(x[5m],)",
    "sum(x[5m])",
    "time(1)",
    "1 +",
    "topk(a)",
    "count_values(1, x)",
    "foo[5m] @ 1 @ 2",
    "sum(x) offset 1m",
    "a == bool on() group_right b",
    "x unless ignoring(a) group_left y",
    "absent_over_time(nonexistent[1h:])",
    "foo{a=\"b\",}",
    "sum without() (x)",
    "vector(1) or vector(2)",
    "scalar(x) * 2 > bool 1",
    "min_over_time(rate(x[5m])[1h:5m]) @ end()",
    ")",
];

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn promtool_agrees() {
    if Command::new("promtool").arg("--version").output().is_err() {
        println!("skipping: promtool is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("promql-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join("rules.yml");
    let mut yaml = String::from("groups:\n- name: g\n  rules:\n");
    for (i, q) in QUERIES.iter().enumerate() {
        yaml.push_str(&format!("  - record: r{i}\n    expr: {}\n", yaml_quote(q)));
    }
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut mismatches = Vec::new();
    for (i, q) in QUERIES.iter().enumerate() {
        let marker = format!("\"r{i}\": could not parse expression: ");
        let want = text
            .lines()
            .find_map(|l| l.split_once(&marker).map(|(_, m)| m.to_owned()));
        let got = promql::parse(q).err().map(|e| e.to_string());
        if got != want {
            mismatches.push(format!("{q:?}: promtool {want:?}, we {got:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
