//! `pharos check config` as a program: its verdicts on Prometheus's config
//! vectors, and its agreement with promtool on configs whose meaning did
//! not change between promtool 2.42 (the reference installed here) and
//! Prometheus 3.x.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pharos(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run pharos")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The folder of the config vectors (see `testkit::conformance_dir`).
fn vectors() -> Option<PathBuf> {
    testkit::conformance_dir("prometheus-config").map(|d| d.join("config/testdata"))
}

/// Every `*.good.yml` passes `--syntax-only` (the files they name need
/// not exist); every `*.bad.yml` and `*.incompatible.yml` fails a full
/// check for a reason of its own, not for a missing referenced file.
#[test]
fn verdicts_on_prometheus_vectors() {
    let Some(dir) = vectors() else { return };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list vectors")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut wrong = Vec::new();
    let (mut good, mut bad) = (0, 0);
    for name in &names {
        if name.ends_with(".good.yml") {
            good += 1;
            let out = pharos(&["check", "config", "--syntax-only", name], &dir);
            let want = format!(
                "Checking {name}\n SUCCESS: {name} is valid prometheus config file syntax\n\n"
            );
            if !out.status.success() || text(&out.stdout) != want {
                wrong.push(format!(
                    "{name}: {}{}",
                    text(&out.stdout),
                    text(&out.stderr)
                ));
            }
        } else if name.ends_with(".bad.yml") || name.ends_with(".incompatible.yml") {
            bad += 1;
            let out = pharos(&["check", "config", name], &dir);
            let err = text(&out.stderr);
            let about_files = err.contains("does not point to an existing file")
                || err.contains("error checking");
            if out.status.code() != Some(1) || !err.starts_with("  FAILED: ") || about_files {
                wrong.push(format!("{name}: exit {:?}: {err}", out.status.code()));
            }
        }
    }
    assert!(
        good > 40 && bad > 100,
        "too few vectors: {good} good, {bad} bad"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Configs that mean the same to promtool 2.42 and Prometheus 3.x: both
/// tools must give the same verdict, and the same output when valid.
#[test]
fn agrees_with_promtool() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token"), "t").unwrap();
    std::fs::write(dir.path().join("empty.rules"), "groups: []\n").unwrap();
    std::fs::write(
        dir.path().join("two.rules"),
        "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n  - alert: Down\n    expr: up == 0\n    for: 5m\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("targets.json"),
        r#"[{"targets": ["a:1"], "labels": {"env": "prod"}}]"#,
    )
    .unwrap();
    let cases: &[(&str, &str)] = &[
        ("minimal", "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['localhost:9090']\n"),
        ("empty", ""),
        ("global", "global:\n  scrape_interval: 15s\n  evaluation_interval: 30s\n  external_labels:\n    region: eu\n"),
        ("job name empty", "scrape_configs:\n  - job_name: ''\n"),
        ("timeout over interval", "scrape_configs:\n  - job_name: j\n    scrape_interval: 5s\n    scrape_timeout: 10s\n"),
        ("global timeout", "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n"),
        ("duplicate job", "scrape_configs:\n  - job_name: j\n  - job_name: j\n"),
        ("unknown field", "scrape_configs:\n  - job_name: j\n    scrape_intervall: 5s\n"),
        ("bad duration", "global:\n  scrape_interval: 5 seconds\n"),
        ("bad regex", "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a(b'\n        target_label: x\n"),
        ("hashmod", "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: hashmod\n        source_labels: [a]\n        target_label: x\n"),
        ("url as target", "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['http://a:1']\n"),
        ("two bearer tokens", "scrape_configs:\n  - job_name: j\n    bearer_token: a\n    bearer_token_file: token\n"),
        ("bearer token file", "scrape_configs:\n  - job_name: j\n    bearer_token_file: token\n"),
        ("missing token file", "scrape_configs:\n  - job_name: j\n    bearer_token_file: nothere\n"),
        ("cert without key", "scrape_configs:\n  - job_name: j\n    tls_config:\n      cert_file: token\n"),
        ("rule files", "rule_files: [empty.rules, two.rules]\n"),
        ("rule glob", "rule_files: ['*.rules']\n"),
        ("missing rule file", "rule_files: [nothere.rules]\n"),
        ("file sd", "scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: ['targets.json', 'none*.json']\n"),
        ("file sd bad name", "scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: ['targets.txt']\n"),
        ("dns", "scrape_configs:\n  - job_name: j\n    dns_sd_configs:\n      - names: [x]\n        type: A\n"),
        ("remote write", "remote_write:\n  - url: http://r/push\n    queue_config:\n      max_shards: 10\n"),
        ("remote write no url", "remote_write:\n  - name: x\n"),
        ("remote read dup", "remote_read:\n  - url: http://a\n    name: q\n  - url: http://b\n    name: q\n"),
        ("alertmanager", "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['am:9093']\n"),
        ("consul", "scrape_configs:\n  - job_name: j\n    consul_sd_configs:\n      - server: ''\n"),
        ("oauth2 no token url", "scrape_configs:\n  - job_name: j\n    oauth2:\n      client_id: x\n"),
        ("not yaml", "scrape_configs: [\n"),
        ("null scrape config", "scrape_configs:\n  -\n"),
    ];
    let mut disagreements = Vec::new();
    for (i, (what, yaml)) in cases.iter().enumerate() {
        let name = format!("c{i}.yml");
        std::fs::write(dir.path().join(&name), yaml).unwrap();
        let reference = Command::new(&promtool)
            .args(["check", "config", &name])
            .current_dir(dir.path())
            .output()
            .expect("run promtool");
        let ours = pharos(&["check", "config", &name], dir.path());
        let (want, got) = (reference.status.success(), ours.status.success());
        if want != got {
            disagreements.push(format!(
                "{what}: promtool {}: {}; pharos {}: {}",
                if want { "accepts" } else { "refuses" },
                text(&reference.stderr).trim(),
                if got { "accepts" } else { "refuses" },
                text(&ours.stderr).trim()
            ));
        } else if want && text(&reference.stdout) != text(&ours.stdout) {
            disagreements.push(format!(
                "{what}: output differs:\npromtool:\n{}pharos:\n{}",
                text(&reference.stdout),
                text(&ours.stdout)
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
