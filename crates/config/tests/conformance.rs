//! Prometheus's own configuration test vectors: every `*.good.yml` must
//! load, every `*.bad.yml` and `*.incompatible.yml` must be refused with the
//! error text the vectors' README lists. The expectations are read from
//! that README's tables, so the data stays the single source of truth.
//!
//! The vectors live outside the repository (`$PHAROS_CONFORMANCE`, else
//! `shared/conformance` beside the checkout); without them the test skips,
//! unless `PHAROS_REQUIRE_CONFORMANCE` is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{load_file, ConfigError, LoadOptions};

/// The folder of the vectors (see `testkit::conformance_dir`).
fn conformance_dir() -> Option<PathBuf> {
    testkit::conformance_dir("prometheus-config")
}

/// What a file must do in one mode.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Accept,
    /// Refused; the error must contain every one of these texts.
    Reject(Vec<String>),
}

#[derive(Debug, Default)]
struct Expectation {
    server: Option<Verdict>,
    agent: Option<Verdict>,
}

/// The texts quoted in a README cell: ``` ``a `b` c`` ``` or `` `a` ``. A
/// leading `parsing YAML file testdata/x.yml: ` names upstream's test path
/// and is dropped.
fn quoted(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cell;
    while let Some(start) = rest.find('`') {
        let (open, after) = if rest[start..].starts_with("``") {
            ("``", &rest[start + 2..])
        } else {
            ("`", &rest[start + 1..])
        };
        let Some(end) = after.find(open) else { break };
        let text = after[..end].trim();
        let text = match text.strip_prefix("parsing YAML file ") {
            Some(t) => t.split_once(": ").map_or(t, |(_, m)| m),
            None => text,
        };
        out.push(text.to_owned());
        rest = &after[end + open.len()..];
    }
    out
}

/// Reads the README's tables into expectations per file.
fn expectations(readme: &str) -> BTreeMap<String, Expectation> {
    let mut out: BTreeMap<String, Expectation> = BTreeMap::new();
    let mut section = "";
    for line in readme.lines() {
        if let Some(h) = line
            .strip_prefix("### ")
            .or_else(|| line.strip_prefix("## "))
        {
            section = if h.starts_with("Rejected") {
                "rejected"
            } else if h.starts_with("Files without") {
                "unsuffixed"
            } else {
                ""
            };
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").collect();
        if section.is_empty() || cells.len() < 3 || !line.starts_with("| `") {
            continue;
        }
        let file = cells[0]
            .trim_start_matches("| ")
            .trim_matches('`')
            .to_owned();
        let how = cells[1];
        let last = cells[cells.len() - 1].trim_end_matches(" |");
        let e = out.entry(file).or_default();
        match section {
            "rejected" if how.contains("agent mode") => {
                e.agent = Some(Verdict::Reject(quoted(last)))
            }
            "rejected" => e.server = Some(Verdict::Reject(quoted(last))),
            _ => {
                if how.contains("**rejected**") {
                    // The cell quotes the offending setting, then the error.
                    let texts = quoted(how).into_iter().last().into_iter().collect();
                    e.server = Some(Verdict::Reject(texts));
                } else if how.contains("accepted in agent mode") {
                    e.server = Some(Verdict::Accept);
                    e.agent = Some(Verdict::Accept);
                } else if how.contains("accepted") || how.contains("should load") {
                    e.server = Some(Verdict::Accept);
                } else if how.contains("rejected") {
                    e.server = Some(Verdict::Reject(Vec::new()));
                }
            }
        }
    }
    out
}

/// Loads as `pharos check config` does: the file, then its included
/// scrape configs.
fn load(path: &Path, agent_mode: bool) -> Result<(), ConfigError> {
    let cfg = load_file(path, LoadOptions { agent_mode })?;
    cfg.all_scrape_configs().map(|_| ())
}

fn judge(path: &Path, agent_mode: bool, want: &Verdict) -> Result<bool, String> {
    let got = load(path, agent_mode);
    let mode = if agent_mode { "agent" } else { "server" };
    match (want, got) {
        (Verdict::Accept, Ok(())) => Ok(false),
        (Verdict::Accept, Err(e)) => Err(format!("{} ({mode}): refused: {e}", path.display())),
        (Verdict::Reject(_), Ok(())) => Err(format!("{} ({mode}): accepted", path.display())),
        (Verdict::Reject(texts), Err(e)) => {
            let msg = e.message();
            match texts.iter().find(|t| !msg.contains(t.as_str())) {
                Some(t) => Err(format!(
                    "{} ({mode}): error {msg:?} lacks {t:?} (full: {e})",
                    path.display()
                )),
                None => Ok(!texts.is_empty()),
            }
        }
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn prometheus_config_vectors() {
    let Some(dir) = conformance_dir() else { return };
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md of the vectors");
    let table = expectations(&readme);
    let testdata = dir.join("config/testdata");
    let mut failures = Vec::new();
    let (mut accepted, mut rejected, mut texts_matched) = (0, 0, 0);
    let mut run = |path: &Path, agent: bool, want: &Verdict| match judge(path, agent, want) {
        Ok(matched) => {
            match want {
                Verdict::Accept => accepted += 1,
                Verdict::Reject(_) => rejected += 1,
            }
            texts_matched += usize::from(matched);
        }
        Err(f) => failures.push(f),
    };
    let mut missing = Vec::new();
    let mut files = yaml_files(&testdata);
    files.extend(yaml_files(&testdata.join("scrape_configs")));
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let e = table.get(name);
        let by_name = if name.ends_with(".good.yml") {
            Some(Verdict::Accept)
        } else if name.ends_with(".bad.yml") || name.ends_with(".incompatible.yml") {
            Some(Verdict::Reject(Vec::new()))
        } else {
            None
        };
        let server = e.and_then(|e| e.server.clone()).or(by_name);
        match server {
            Some(v) => run(path, false, &v),
            None if e.is_some_and(|e| e.agent.is_some()) => run(path, false, &Verdict::Accept),
            None => missing.push(format!("{name}: no expectation in the README")),
        }
        if let Some(v) = e.and_then(|e| e.agent.clone()) {
            run(path, true, &v);
        }
    }
    for path in yaml_files(&dir.join("documentation/examples")) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("prometheus") {
            run(&path, false, &Verdict::Accept);
        }
    }
    failures.extend(missing);
    eprintln!(
        "prometheus-config vectors: {accepted} accepted, {rejected} rejected as expected \
         ({texts_matched} with the listed error text), {} wrong",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} wrong verdicts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn readme_cells_are_read() {
    assert_eq!(quoted("`a b`"), ["a b"]);
    assert_eq!(quoted("``x `y` z``"), ["x `y` z"]);
    assert_eq!(quoted("`p` and `q`"), ["p", "q"]);
    assert_eq!(
        quoted("`parsing YAML file testdata/f.yml: invalid path \"x\"`"),
        ["invalid path \"x\""]
    );
    assert!(quoted("any error").is_empty());
}

/// What upstream asserts about the loaded values of some accepted files:
/// the effective settings of their single job `prometheus` (inherited from
/// `global` or set locally), and a few other resolved values.
#[test]
fn resolved_values_of_prometheus_vectors() {
    use config::{Config, ScrapeConfig, DEFAULT_SCRAPE_PROTOCOLS, PROTO_FIRST_SCRAPE_PROTOCOLS};
    use std::time::Duration;

    let Some(dir) = conformance_dir() else { return };
    let testdata = dir.join("config/testdata");
    let load = |name: &str| -> Config {
        load_file(&testdata.join(name), LoadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    type Probe = fn(&ScrapeConfig) -> bool;
    let jobs: &[(&str, Probe)] = &[
        ("global_convert_classic_hist_to_nhcb.good.yml", |s| {
            s.convert_classic_histograms_to_nhcb_enabled()
        }),
        ("local_convert_classic_hist_to_nhcb.good.yml", |s| {
            s.convert_classic_histograms_to_nhcb_enabled()
        }),
        ("local_disable_convert_classic_hist_to_nhcb.good.yml", |s| {
            !s.convert_classic_histograms_to_nhcb_enabled()
        }),
        ("global_enable_always_scrape_classic_hist.good.yml", |s| {
            s.always_scrape_classic_histograms_enabled()
        }),
        ("global_disable_always_scrape_classic_hist.good.yml", |s| {
            !s.always_scrape_classic_histograms_enabled()
        }),
        ("local_enable_always_scrape_classic_hist.good.yml", |s| {
            s.always_scrape_classic_histograms_enabled()
        }),
        ("local_disable_always_scrape_classic_hist.good.yml", |s| {
            !s.always_scrape_classic_histograms_enabled()
        }),
        ("global_enable_extra_scrape_metrics.good.yml", |s| {
            s.extra_scrape_metrics_enabled()
        }),
        ("global_disable_extra_scrape_metrics.good.yml", |s| {
            !s.extra_scrape_metrics_enabled()
        }),
        ("local_enable_extra_scrape_metrics.good.yml", |s| {
            s.extra_scrape_metrics_enabled()
        }),
        ("local_disable_extra_scrape_metrics.good.yml", |s| {
            !s.extra_scrape_metrics_enabled()
        }),
        ("global_enable_scrape_native_hist.good.yml", |s| {
            s.scrape_native_histograms_enabled()
                && s.scrape_protocols.as_deref()
                    == Some(&PROTO_FIRST_SCRAPE_PROTOCOLS.map(String::from)[..])
        }),
        ("local_enable_scrape_native_hist.good.yml", |s| {
            s.scrape_native_histograms_enabled()
                && s.scrape_protocols.as_deref()
                    == Some(&PROTO_FIRST_SCRAPE_PROTOCOLS.map(String::from)[..])
        }),
        ("local_disable_scrape_native_hist.good.yml", |s| {
            !s.scrape_native_histograms_enabled()
                && s.scrape_protocols.as_deref()
                    == Some(&DEFAULT_SCRAPE_PROTOCOLS.map(String::from)[..])
        }),
        (
            "global_enable_scrape_native_hist_and_scrape_protocols.good.yml",
            |s| {
                s.scrape_native_histograms_enabled()
                    && s.scrape_protocols.as_deref()
                        == Some(&["PrometheusText0.0.4".to_owned()][..])
            },
        ),
        (
            "local_enable_scrape_native_hist_and_scrape_protocols.good.yml",
            |s| {
                s.scrape_native_histograms_enabled()
                    && s.scrape_protocols.as_deref()
                        == Some(&["PrometheusText0.0.4".to_owned()][..])
            },
        ),
        (
            "global_scrape_protocols_and_local_disable_scrape_native_hist.good.yml",
            |s| {
                !s.scrape_native_histograms_enabled()
                    && s.scrape_protocols.as_deref()
                        == Some(&["PrometheusText0.0.4".to_owned()][..])
            },
        ),
    ];
    for (name, probe) in jobs {
        let cfg = load(name);
        let all = cfg
            .all_scrape_configs()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let job = all
            .iter()
            .find(|s| s.job_name == "prometheus")
            .expect("job prometheus");
        assert!(probe(job), "{name}: {job:#?}");
        assert_eq!(
            (job.scrape_interval, job.scrape_timeout),
            (Duration::from_secs(60), Duration::from_secs(10)),
            "{name}"
        );
    }

    for (name, validation, escaping) in [
        (
            "scrape_config_default_validation_mode.yml",
            "utf8",
            "allow-utf-8",
        ),
        ("scrape_config_global_validation_mode.yml", "legacy", "dots"),
        (
            "scrape_config_local_validation_mode.yml",
            "legacy",
            "values",
        ),
        (
            "scrape_config_local_global_validation_mode.yml",
            "utf8",
            "dots",
        ),
        (
            "scrape_config_local_infer_escaping.yml",
            "legacy",
            "underscores",
        ),
    ] {
        let cfg = load(name);
        let s = &cfg.scrape_configs[0];
        assert_eq!(
            (
                s.metric_name_validation_scheme.as_str(),
                s.metric_name_escaping_scheme.as_str()
            ),
            (validation, escaping),
            "{name}"
        );
    }

    let jobs: Vec<String> = load("scrape_config_files_combined.good.yml")
        .all_scrape_configs()
        .expect("includes")
        .into_iter()
        .map(|s| s.job_name)
        .collect();
    assert_eq!(jobs, ["node", "prometheus", "alertmanager"]);
    let globbed = load("scrape_config_files_glob.good.yml")
        .all_scrape_configs()
        .expect("glob");
    assert_eq!(globbed.len(), 2);

    let rules = load("rules_abs_path.good.yml").rule_files;
    let d = |f: &str| testdata.join(f).to_string_lossy().into_owned();
    assert_eq!(
        rules,
        [
            d("first.rules"),
            d("rules/second.rules"),
            "/absolute/third.rules".to_owned()
        ]
    );

    let otlp = load("otlp_empty.yml").otlp;
    assert_eq!(otlp.translation_strategy, "UnderscoreEscapingWithSuffixes");
    assert!(otlp.label_name_underscore_sanitization);

    let rw = load("remote_write_retry_on_rate_limit.good.yml").remote_write;
    assert!(rw[0].queue_config.retry_on_http_429 && !rw[1].queue_config.retry_on_http_429);
    assert!(
        !load("scrape_config_disable_compression.good.yml").scrape_configs[0].enable_compression
    );
    let tsdb = load("tsdb_retention_percentage_float.good.yml")
        .storage
        .tsdb
        .expect("tsdb");
    assert_eq!(tsdb.retention.expect("retention").percentage, 0.5);
    let agent = load_file(
        &testdata.join("agent_mode.good.yml"),
        LoadOptions { agent_mode: true },
    )
    .expect("agent mode");
    assert_eq!(
        agent.remote_write[0].url.as_ref().map(|u| u.raw.as_str()),
        Some("http://remote1/push")
    );

    // Environment expansion in external label values, `$$` for `$`. Only
    // this test sets TEST; std serialises environment access.
    std::env::set_var("TEST", "TestValue");
    let labels = load("external_labels.good.yml").global.external_labels;
    let got: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("bar", "foo"),
            ("baz", "fooTestValuebar"),
            ("foo", "TestValue"),
            ("qux", "foo${TEST}"),
            ("xyz", "foo$bar")
        ]
    );

    // conf.good.yml: the most complete vector; every secret stays hidden.
    let conf = load("conf.good.yml");
    let shown = format!("{conf:?}");
    assert!(
        !shown.contains("mysecret"),
        "a secret leaked into Debug output"
    );
    assert!(shown.matches("<secret>").count() >= 29);
    let text = std::fs::read_to_string(testdata.join("conf.good.yml")).expect("conf.good.yml");
    let jobs_in_text = text
        .lines()
        .filter(|l| l.trim_start().starts_with("- job_name:"))
        .count();
    assert_eq!(conf.scrape_configs.len(), jobs_in_text);
    assert_eq!(
        conf.global
            .external_labels
            .get("monitor")
            .map(String::as_str),
        Some("codelab")
    );
}

/// Every accepted vector written back as YAML loads again to the same
/// config (secrets aside, which are written as `<secret>`), and no secret
/// appears in the text.
#[test]
fn accepted_vectors_round_trip_through_yaml() {
    let Some(dir) = conformance_dir() else { return };
    let testdata = dir.join("config/testdata");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for path in yaml_files(&testdata) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        // Environment expansion applies again on reload, so `$$` does not
        // survive a round trip (nor does it in Prometheus).
        if !name.ends_with(".good.yml") || name == "external_labels.good.yml" {
            continue;
        }
        let cfg = load_file(&path, LoadOptions::default()).expect("accepted vector");
        let text = match cfg.to_yaml() {
            Ok(t) => t,
            Err(e) => {
                wrong.push(format!("{name}: {e}"));
                continue;
            }
        };
        if text.contains("mysecret") {
            wrong.push(format!("{name}: a secret is shown"));
        }
        // Upstream's count for its most complete vector.
        let hidden = text.matches("<secret>").count();
        if name == "conf.good.yml" && hidden != 29 {
            wrong.push(format!(
                "{name}: {hidden} secrets shown as <secret>, upstream shows 29"
            ));
        }
        match config::load_str(&text, &name) {
            Ok(again) if format!("{again:?}") == format!("{cfg:?}") => checked += 1,
            Ok(again) => {
                let (a, b) = (format!("{cfg:#?}"), format!("{again:#?}"));
                let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
                wrong.push(format!("{name}: differs after reload at {first:?}"));
            }
            Err(e) => wrong.push(format!("{name}: written YAML refused: {e}\n{text}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 40, "only {checked} round trips");
}
