//! The reference Prometheus judges relabeling. For `metric_relabel_configs`
//! it scrapes one exposition (served on loopback) once per rule chain, each
//! chain in its own job, and the series it stores must be exactly the series
//! `relabel::process` predicts for each job's scraped labels. For
//! `relabel_configs` it discovers Kubernetes-like pods from a file, and the
//! targets it shows (and the number it drops) must be those predicted.
//!
//! The reference is Prometheus 2.x, so the cases stay where 2.x and 3.x
//! agree: no newlines in values (2.x compiled `^(?:…)$`, so `.` stopped at
//! a newline), legacy label names, no target template that expands to an
//! invalid name (2.x then deleted the literal `target_label`), no `labelmap`
//! collisions after earlier edits (2.x visited labels in name order).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use model::Labels;
use relabel::{NameValidationScheme, RelabelConfig};

const EXPOSITION: &str = r#"# TYPE t_requests_total counter
t_requests_total{method="GET",code="200",path="/api/v1/query"} 1
t_requests_total{method="post",code="503",path="/"} 2
t_temp_celsius{room="Küche",sensor="s-1",zone="eu;west"} 3
t_temp_celsius{room="Straße İ",sensor="s-22"} 4
t_pair{a="1",b="1",m_x="x"} 5
t_pair{a="1",b="2",digits="٣4"} 6
t_up 1
"#;

/// One rule chain per job, as YAML flow sequences.
const CASES: &[&str] = &[
    r"[{source_labels: [path], regex: '/api/(v\d+)/.*', target_label: api, replacement: '$1'}]",
    "[{source_labels: [method, code], regex: '(.*);(.*)', target_label: 'm_${1}', replacement: '${2}'}]",
    "[{source_labels: [code], target_label: c1, replacement: '$1x'}, {source_labels: [code], target_label: c2, replacement: '${1}x'}]",
    "[{source_labels: [__name__, method], modulus: 13, target_label: shard, action: hashmod}]",
    "[{source_labels: [room, sensor, nope], separator: '|', modulus: 1000, target_label: shard, action: HashMod}]",
    "[{regex: '(m.*|s.*)', replacement: 'x_${1}', action: labelmap}]",
    "[{regex: 'code|path|zone', action: labeldrop}]",
    "[{regex: '__name__|job|instance|room', action: labelkeep}]",
    "[{source_labels: [code], regex: '5..', action: drop}]",
    "[{source_labels: [__name__], regex: 't_temp.*|t_up', action: keep}]",
    "[{source_labels: [a], target_label: b, action: keepequal}]",
    "[{source_labels: [a], target_label: b, action: dropequal}]",
    "[{source_labels: [method], target_label: method, action: uppercase}, {source_labels: [room], target_label: low, action: lowercase}, {source_labels: [room], target_label: up, action: uppercase}]",
    r"[{source_labels: [room], regex: '\w+', target_label: wordy, replacement: 'yes'}, {source_labels: [digits], regex: '\d+', target_label: num, replacement: 'yes'}]",
    r"[{source_labels: [zone], regex: '\Qeu;west\E', target_label: z, replacement: 'q'}, {source_labels: [method], regex: 'x{y}|GET', target_label: brace, replacement: 'b'}]",
    "[{source_labels: [method, nope, code], target_label: joined}, {target_label: env, replacement: prod}]",
    r"[{source_labels: [sensor], regex: 's-(\d)', target_label: sensor, replacement: '${2}'}]",
    "[{source_labels: [__name__], regex: 't_(.*)_total', target_label: __name__, replacement: 't_${1}_count'}]",
    "[{source_labels: [method], regex: '(?P<first>.)(?P<rest>.*)', target_label: swapped, replacement: '$rest$$${first}'}]",
    "[{source_labels: [method], regex: '(?i)get', action: drop}, {source_labels: [room], regex: 'k.*', action: Drop}]",
    "[{source_labels: [sensor], regex: '(s)-(\\d)(\\d)?', target_label: 'n_$3', replacement: '$01$2'}]",
];

/// Names Prometheus adds per scrape, outside metric relabeling.
const REPORT_SERIES: &[&str] = &[
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

fn serve_exposition(text: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind exposition server");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    port
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| body.to_owned())
        .or_else(|| head.starts_with("HTTP/1.0 200").then(|| body.to_owned()))
}

/// The series Prometheus stores, by their label text.
fn stored_series(port: u16) -> Option<BTreeSet<String>> {
    let body = http_get(
        port,
        "/api/v1/series?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D",
    )?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut out = BTreeSet::new();
    for s in json["data"].as_array()? {
        let pairs: Vec<(String, String)> = s
            .as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let l = Labels::from_pairs(&pairs);
        if !REPORT_SERIES.contains(&l.metric_name().unwrap_or_default()) {
            out.insert(l.to_string());
        }
    }
    Some(out)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn metric_relabeling_matches_prometheus() {
    check_against_prometheus(EXPOSITION, CASES);
}

/// Values that tell Go's regexp syntax from the `regex` crate's, as label
/// `v` of one series each (no `"` or `\\`, which would need escaping).
const REGEX_VALUES: &str = r#"t_v{v="a"} 1
t_v{v="<a>"} 1
t_v{v="[x"} 1
t_v{v="a&b"} 1
t_v{v="x{,3}"} 1
t_v{v="xx"} 1
t_v{v="a.b"} 1
t_v{v="axb"} 1
t_v{v="123"} 1
t_v{v="٣"} 1
t_v{v="é"} 1
t_v{v="é1"} 1
t_v{v="foo bar"} 1
t_v{v="Straße"} 1
t_v{v="STRASSE"} 1
t_v{v="K"} 1
t_v{v="k"} 1
t_v{v="αβ"} 1
t_v{v="A"} 1
t_v{v="b"} 1
t_v{v="]a"} 1
t_v{v="_#"} 1
t_v{v="x{y}"} 1
t_v{v="éa"} 1
t_v{v="a b"} 1
"#;

/// `keep` rules whose patterns read differently in the two syntaxes.
const REGEX_CASES: &[&str] = &[
    r"[{source_labels: [v], regex: '\<a\>', action: keep}]",
    "[{source_labels: [v], regex: '[[]x', action: keep}]",
    "[{source_labels: [v], regex: '[a&&b]+', action: keep}]",
    "[{source_labels: [v], regex: 'x{,3}', action: keep}]",
    "[{source_labels: [v], regex: 'x{2}|x{y}', action: keep}]",
    r"[{source_labels: [v], regex: '\Qa.b\E', action: keep}]",
    r"[{source_labels: [v], regex: '[\d]+|\w+', action: keep}]",
    r"[{source_labels: [v], regex: '\D|\W\d', action: keep}]",
    r"[{source_labels: [v], regex: '.*\bb.*|é\b', action: keep}]",
    r"[{source_labels: [v], regex: '.*\B.*', action: drop}]",
    r"[{source_labels: [v], regex: '\S+\s\S+', action: keep}]",
    "[{source_labels: [v], regex: '(?i)straße', action: keep}]",
    "[{source_labels: [v], regex: '(?i)k', action: keep}]",
    r"[{source_labels: [v], regex: '\pL+', action: keep}]",
    r"[{source_labels: [v], regex: '\p{Greek}+|[[:upper:]]', action: keep}]",
    "[{source_labels: [v], regex: '[[:^alpha:]]+', action: keep}]",
    r"[{source_labels: [v], regex: '\x41|\142', action: keep}]",
    "[{source_labels: [v], regex: 'a)|(b', action: keep}]",
    "[{source_labels: [v], regex: '[]a]+', action: keep}]",
    r"[{source_labels: [v], regex: '\_\#|a\ b', action: keep}]",
    "[{source_labels: [v], regex: '(?i)É.*', action: keep}]",
    "[{source_labels: [v], regex: '(?U)(x+)(x*)', target_label: g, replacement: '$1|$2'}]",
    "[{source_labels: [v], regex: '(a|ab)(c|bcd)?(.*)', target_label: g, replacement: '$1|$2|$3'}]",
];

#[test]
fn go_regexp_syntax_matches_prometheus() {
    check_against_prometheus(REGEX_VALUES, REGEX_CASES);
}

/// Has the reference Prometheus scrape `exposition` once per case, each
/// case a job with those `metric_relabel_configs`, and compares the stored
/// series with what `relabel::process` predicts.
fn check_against_prometheus(exposition: &'static str, cases: &[&str]) {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let target_port = serve_exposition(exposition);
    let instance = format!("127.0.0.1:{target_port}");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = String::from("global:\n  scrape_interval: 1s\nscrape_configs:\n");
    let mut expected = BTreeSet::new();
    let series = expfmt_series(exposition);
    for (i, case) in cases.iter().enumerate() {
        let job = format!("c{i}");
        config.push_str(&format!(
            "  - job_name: {job}\n    static_configs: [{{targets: ['{instance}']}}]\n    metric_relabel_configs: {case}\n"
        ));
        let mut rules: Vec<RelabelConfig> =
            serde_yaml_ng::from_str(case).unwrap_or_else(|e| panic!("{case}: {e}"));
        for r in &mut rules {
            r.validate(NameValidationScheme::Legacy)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
        }
        for s in &series {
            let mut pairs = s.clone();
            pairs.push(("job".into(), job.clone()));
            pairs.push(("instance".into(), instance.clone()));
            if let Some(out) = relabel::process(&Labels::from_pairs(&pairs), &rules) {
                expected.insert(out.to_string());
            }
        }
    }
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, &config).expect("write config");
    let port = testkit::free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start prometheus");
    let _guard = Killed(child);

    // Every job has scraped once when each has an `up` series; two more
    // seconds let a second scrape land, which changes nothing if all is well.
    let start = Instant::now();
    let up_query = "/api/v1/series?match%5B%5D=up";
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "prometheus did not scrape all jobs in 60s"
        );
        std::thread::sleep(Duration::from_millis(500));
        let Some(body) = http_get(port, up_query) else {
            continue;
        };
        let n = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|j| j["data"].as_array().map(Vec::len))
            .unwrap_or(0);
        if n == cases.len() {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let got = stored_series(port).expect("series API answers");
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "predicted but not stored: {missing:#?}\nstored but not predicted: {extra:#?}"
    );
}

/// The exposition's series as label pairs (a small reader: the texts
/// above have no escapes and no `",` inside values).
fn expfmt_series(exposition: &str) -> Vec<Vec<(String, String)>> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let series = line.rsplit_once(' ').map_or(line, |(s, _)| s);
            let (name, rest) = series.split_once('{').unwrap_or((series, ""));
            let mut pairs = vec![("__name__".to_owned(), name.to_owned())];
            let rest = rest.strip_suffix("\"}").unwrap_or(rest);
            for pair in rest.split("\",").filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once("=\"").expect("name=\"value\"");
                pairs.push((k.to_owned(), v.to_owned()));
            }
            pairs
        })
        .collect()
}

/// The target relabeling of a Kubernetes-style pod job (the benchmark's
/// chain, with two shards kept instead of one).
const POD_RULES: &str = r#"
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  regex: "true"
  action: keep
- source_labels: [__meta_kubernetes_pod_phase]
  regex: Pending|Succeeded|Failed|Completed
  action: drop
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scheme]
  regex: (https?)
  target_label: __scheme__
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
  regex: (.+)
  target_label: __metrics_path__
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  regex: ([^:]+)(?::\d+)?;(\d+)
  replacement: $1:$2
  target_label: __address__
- action: labelmap
  regex: __meta_kubernetes_pod_label_(.+)
- source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
- source_labels: [__meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name]
  separator: "-"
  target_label: container
- source_labels: [__address__]
  modulus: 4
  target_label: __tmp_shard
  action: hashmod
- source_labels: [__tmp_shard]
  regex: "[12]"
  action: keep
"#;

/// Discovered labels of pod number `i`, varied so that every rule above
/// keeps some pods and changes or drops others.
fn pod(i: u16) -> Vec<(String, String)> {
    let mut l = vec![
        (
            "__address__".to_owned(),
            format!("127.0.0.{}:{}", 1 + i % 3, 20_000 + i),
        ),
        (
            "__meta_kubernetes_namespace".to_owned(),
            ["shop", "infra", "batch"][usize::from(i % 3)].to_owned(),
        ),
        ("__meta_kubernetes_pod_name".to_owned(), format!("web-{i}")),
        (
            "__meta_kubernetes_pod_phase".to_owned(),
            if i % 7 == 6 { "Failed" } else { "Running" }.to_owned(),
        ),
        (
            "__meta_kubernetes_pod_container_name".to_owned(),
            format!("c{}", i % 2),
        ),
        (
            "__meta_kubernetes_pod_label_app".to_owned(),
            format!("app{}", i % 4),
        ),
        (
            "__meta_kubernetes_pod_label_pod_template_hash".to_owned(),
            format!("{:x}", 0xbeef + u32::from(i)),
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape".to_owned(),
            (i % 5 != 4).to_string(),
        ),
    ];
    if i % 2 == 0 {
        l.push((
            "__meta_kubernetes_pod_container_port_name".to_owned(),
            "metrics".to_owned(),
        ));
    }
    if i % 3 != 2 {
        l.push((
            "__meta_kubernetes_pod_annotation_prometheus_io_port".to_owned(),
            format!("{}", 30_000 + i),
        ));
    }
    if i % 4 == 1 {
        l.push((
            "__meta_kubernetes_pod_annotation_prometheus_io_path".to_owned(),
            format!("/m{i}"),
        ));
    }
    if i % 6 == 3 {
        l.push((
            "__meta_kubernetes_pod_annotation_prometheus_io_scheme".to_owned(),
            "https".to_owned(),
        ));
    }
    l
}

/// Target relabeling as the reference Prometheus does it for file-SD
/// targets: defaults added before the rules, `__` labels dropped and
/// `instance` filled in after them; `/api/v1/targets` shows the result.
#[test]
fn target_relabeling_matches_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let pods: Vec<_> = (0..40).map(pod).collect();
    let groups: Vec<serde_json::Value> = pods
        .iter()
        .map(|p| {
            let labels: serde_json::Map<String, serde_json::Value> = p
                .iter()
                .filter(|(k, _)| k != "__address__")
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
                .collect();
            let address = p
                .iter()
                .find(|(k, _)| k == "__address__")
                .map(|(_, v)| v.clone());
            serde_json::json!({"targets": [address], "labels": labels})
        })
        .collect();
    let sd_file = dir.path().join("pods.json");
    std::fs::write(&sd_file, serde_json::to_string(&groups).expect("json")).expect("write targets");
    let rules_yaml: String = POD_RULES.lines().map(|l| format!("      {l}\n")).collect();
    let config = format!(
        "scrape_configs:\n  - job_name: pods\n    scrape_interval: 1m\n    scrape_timeout: 10s\n    \
         file_sd_configs: [{{files: ['{}']}}]\n    relabel_configs:\n{rules_yaml}",
        sd_file.display()
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, &config).expect("write config");

    let mut rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(POD_RULES).expect("rules parse");
    for r in &mut rules {
        r.validate(NameValidationScheme::Legacy)
            .expect("rules validate");
    }
    let mut expected = BTreeSet::new();
    let mut dropped = 0;
    for p in &pods {
        let mut input = p.clone();
        for (k, v) in [
            ("job", "pods"),
            ("__scheme__", "http"),
            ("__metrics_path__", "/metrics"),
            ("__scrape_interval__", "1m"),
            ("__scrape_timeout__", "10s"),
        ] {
            input.push((k.to_owned(), v.to_owned()));
        }
        let Some(out) = relabel::process(&Labels::from_pairs(&input), &rules) else {
            dropped += 1;
            continue;
        };
        let mut shown: Vec<(String, String)> = out
            .iter()
            .filter(|l| !l.name.starts_with("__"))
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect();
        if !out.has("instance") {
            shown.push((
                "instance".to_owned(),
                out.get_or_empty("__address__").to_owned(),
            ));
        }
        expected.insert(Labels::from_pairs(&shown).to_string());
    }
    assert!(
        !expected.is_empty() && dropped > 0,
        "the pods should exercise both outcomes"
    );

    let port = testkit::free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start prometheus");
    let _guard = Killed(child);

    let start = Instant::now();
    let (got, got_dropped) = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "targets did not appear in 60s"
        );
        std::thread::sleep(Duration::from_millis(500));
        let Some(body) = http_get(port, "/api/v1/targets") else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        let active = json["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let dropped_now = json["data"]["droppedTargets"]
            .as_array()
            .map_or(0, Vec::len);
        if active.len() + dropped_now < pods.len() {
            continue;
        }
        let shown: BTreeSet<String> = active
            .iter()
            .map(|t| {
                let pairs: Vec<(String, String)> = t["labels"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Labels::from_pairs(&pairs).to_string()
            })
            .collect();
        break (shown, dropped_now);
    };
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "predicted but not shown: {missing:#?}\nshown but not predicted: {extra:#?}"
    );
    assert_eq!(got_dropped, dropped, "dropped targets");
}
