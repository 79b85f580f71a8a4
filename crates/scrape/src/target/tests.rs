use std::time::Duration;

use model::Labels;
use relabel::RelabelConfig;

use super::*;

fn opts() -> ScrapeOptions {
    let mut o = ScrapeOptions::new("job1");
    o.interval = Duration::from_secs(15);
    o.timeout = Duration::from_secs(5);
    o
}

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    serde_yaml_ng::from_str(yaml).expect("valid relabel YAML")
}

fn build(pairs: &[(&str, &str)], o: &ScrapeOptions) -> Result<Option<Target>, String> {
    Target::new(&Labels::from_pairs(pairs), o).map_err(|e| e.to_string())
}

#[test]
fn defaults_and_url() {
    let t = build(&[("__address__", "h:9100"), ("__meta_x", "y")], &opts())
        .unwrap()
        .unwrap();
    assert_eq!(t.url(), "http://h:9100/metrics");
    assert_eq!(t.labels().to_string(), r#"{instance="h:9100", job="job1"}"#);
    assert_eq!(
        t.discovered_labels().to_string(),
        r#"{__address__="h:9100", __always_scrape_classic_histograms__="false", __convert_classic_histograms_to_nhcb__="false", __meta_x="y", __metrics_path__="/metrics", __scheme__="http", __scrape_interval__="15s", __scrape_native_histograms__="false", __scrape_timeout__="5s", job="job1"}"#
    );
    assert!(
        !t.all_labels().has("__meta_x"),
        "meta labels go after relabeling"
    );
    assert_eq!(
        (t.interval(), t.timeout()),
        (Duration::from_secs(15), Duration::from_secs(5))
    );
}

#[test]
fn params_and_relabeled_url_parts() {
    let mut o = opts();
    o.params
        .insert("module".into(), vec!["a b".into(), "c".into()]);
    o.params.insert("target".into(), vec!["x".into()]);
    o.relabel_configs = rules(
        "- {source_labels: [__address__], target_label: __param_target}\n\
         - {target_label: __address__, replacement: 'exporter:9115'}\n\
         - {target_label: __scheme__, replacement: https}\n\
         - {target_label: __metrics_path__, replacement: probe}\n\
         - {target_label: instance, replacement: 'mine'}\n",
    );
    let t = build(&[("__address__", "example.org")], &o)
        .unwrap()
        .unwrap();
    assert_eq!(
        t.url(),
        "https://exporter:9115/probe?module=a+b&module=c&target=example.org"
    );
    assert_eq!(t.labels().to_string(), r#"{instance="mine", job="job1"}"#);
}

#[test]
fn dropped_by_relabeling() {
    let mut o = opts();
    o.relabel_configs = rules("- {source_labels: [env], regex: dev, action: drop}\n");
    let dev = Labels::from_pairs(&[("__address__", "a"), ("env", "dev")]);
    assert!(Target::new(&dev, &o).unwrap().is_none());
    assert_eq!(
        Target::populate_discovered(&dev, &o).get("__scrape_interval__"),
        Some("15s"),
        "dropped targets still show their discovered labels with defaults"
    );
    assert!(build(&[("__address__", "a"), ("env", "prod")], &o)
        .unwrap()
        .is_some());
}

#[test]
fn errors_as_prometheus_words_them() {
    let o = opts();
    let check = |pairs: &[(&str, &str)], want: &str| {
        assert_eq!(build(pairs, &o).err().as_deref(), Some(want), "{pairs:?}");
    };
    check(&[("env", "x")], "no address");
    check(
        &[("__address__", "http://a/b")],
        r#""http://a/b" is not a valid hostname"#,
    );
    check(
        &[("__address__", "a"), ("__scrape_interval__", "1x")],
        r#"error parsing scrape interval: not a valid duration string: "1x""#,
    );
    check(
        &[("__address__", "a"), ("__scrape_interval__", "0s")],
        "scrape interval cannot be 0",
    );
    check(
        &[("__address__", "a"), ("__scrape_timeout__", "0")],
        "scrape timeout cannot be 0",
    );
    check(
        &[("__address__", "a"), ("__scrape_timeout__", "20s")],
        r#"scrape timeout cannot be greater than scrape interval ("20s" > "15s")"#,
    );
    check(
        &[
            ("__address__", "a"),
            ("__scrape_native_histograms__", "yes"),
        ],
        r#"error parsing scrape native histograms: strconv.ParseBool: parsing "yes": invalid syntax"#,
    );
}

#[test]
fn interval_from_labels_wins() {
    let t = build(
        &[
            ("__address__", "a"),
            ("__scrape_interval__", "1m"),
            ("__scrape_timeout__", "30s"),
        ],
        &opts(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (t.interval(), t.timeout()),
        (Duration::from_secs(60), Duration::from_secs(30))
    );
}

#[test]
fn group_labels_fill_gaps() {
    let merged = merge_group_labels(
        &Labels::from_pairs(&[("__address__", "a"), ("env", "t")]),
        &Labels::from_pairs(&[("env", "g"), ("dc", "1")]),
    );
    assert_eq!(merged.to_string(), r#"{__address__="a", dc="1", env="t"}"#);
}

#[test]
fn offsets_spread_within_the_interval_and_keep_phase() {
    let iv = Duration::from_secs(10);
    let mut offsets = Vec::new();
    for i in 0..50 {
        let t = build(&[("__address__", &format!("h{i}:80"))], &opts())
            .unwrap()
            .unwrap();
        let now = 1_000_000_000_000u128;
        let a = t.offset(iv, 0, now);
        assert!(a <= iv);
        // Half an interval later the next scrape is half an interval closer
        // (modulo the interval): the phase depends on the target only.
        let b = t.offset(iv, 0, now + 5_000_000_000);
        let phase = |o: Duration, n: u128| (n + o.as_nanos()) % iv.as_nanos();
        assert_eq!(phase(a, now), phase(b, now + 5_000_000_000));
        offsets.push(a);
    }
    offsets.sort();
    offsets.dedup();
    assert!(offsets.len() > 45, "targets get different offsets");
    let t = build(&[("__address__", "h0:80")], &opts())
        .unwrap()
        .unwrap();
    assert_ne!(
        t.offset(iv, 0, 0),
        t.offset(iv, 12345, 0),
        "the seed shifts the phase"
    );
}
