//! Relabeling cost per label set.
//!
//! `kubernetes_pod_target`: the target relabeling of a typical
//! `kubernetes_sd_configs` pod job (annotation-driven scrape opt-in, scheme,
//! path and port rewrite, pod labels mapped in, namespace/pod/container
//! labels, sharding by `hashmod`) applied to a pod target carrying 30
//! `__meta_kubernetes_*` labels — the work done per target on every
//! discovery update.
//!
//! `metric_relabel_series`: a short `metric_relabel_configs` chain (drop a
//! family by name, drop a label, rename a metric) on a node_exporter-like
//! series — the work done per new series after a scrape.
//!
//! Run: `cargo bench -p relabel --bench relabel -- --warm-up-time 1 --measurement-time 3`

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use model::Labels;
use relabel::{NameValidationScheme, RelabelConfig, Relabeler};

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
- source_labels: [__meta_kubernetes_pod_container_name]
  target_label: container
- source_labels: [__meta_kubernetes_pod_node_name]
  target_label: node
- source_labels: [__address__]
  modulus: 4
  target_label: __tmp_shard
  action: hashmod
- source_labels: [__tmp_shard]
  regex: "1"
  action: keep
"#;

const SERIES_RULES: &str = r#"
- source_labels: [__name__]
  regex: go_gc_.*|go_memstats_.*_total
  action: drop
- regex: cpu_model|microcode
  action: labeldrop
- source_labels: [__name__]
  regex: node_(.*)_seconds_total
  target_label: __name__
  replacement: host_${1}_seconds_total
"#;

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    let mut rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(yaml).expect("bench rules parse");
    for r in &mut rules {
        r.validate(NameValidationScheme::Utf8)
            .expect("bench rules validate");
    }
    rules
}

fn pod_target() -> Labels {
    let mut pairs: Vec<(String, String)> = vec![
        ("__address__", "10.4.7.23:8080"),
        ("__metrics_path__", "/metrics"),
        ("__scheme__", "http"),
        ("__scrape_interval__", "30s"),
        ("__scrape_timeout__", "10s"),
        ("job", "kubernetes-pods"),
        ("__meta_kubernetes_namespace", "checkout"),
        ("__meta_kubernetes_pod_name", "cart-7f9c6d5b8-x2lqp"),
        ("__meta_kubernetes_pod_ip", "10.4.7.23"),
        (
            "__meta_kubernetes_pod_uid",
            "0b6f1a9e-2c41-4d55-9a3e-6f0e8c2d7b11",
        ),
        ("__meta_kubernetes_pod_node_name", "node-pool-a-3"),
        ("__meta_kubernetes_pod_host_ip", "10.0.3.17"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_container_name", "cart"),
        (
            "__meta_kubernetes_pod_container_image",
            "registry.local/cart:1.42.0",
        ),
        ("__meta_kubernetes_pod_container_init", "false"),
        ("__meta_kubernetes_pod_container_port_name", "http-metrics"),
        ("__meta_kubernetes_pod_container_port_number", "8080"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        ("__meta_kubernetes_pod_controller_name", "cart-7f9c6d5b8"),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "9102",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_path",
            "/stats/prometheus",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
            "true",
        ),
        ("__meta_kubernetes_pod_label_app", "cart"),
        ("__meta_kubernetes_pod_label_pod_template_hash", "7f9c6d5b8"),
        ("__meta_kubernetes_pod_label_team", "payments"),
        ("__meta_kubernetes_pod_labelpresent_app", "true"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    pairs.sort();
    Labels::from_pairs(&pairs)
}

fn bench(c: &mut Criterion) {
    let pod_rules = rules(POD_RULES);
    let target = pod_target();
    let mut relabeler = Relabeler::new();
    // The sample target must survive the chain (it lands in shard 1), or the
    // benchmark would measure an early drop.
    let out = relabeler.process(&target, &pod_rules);
    assert!(
        out.is_some(),
        "bench target is dropped; pick another address"
    );
    c.bench_function("kubernetes_pod_target", |b| {
        b.iter(|| relabeler.process(black_box(&target), &pod_rules))
    });

    let series_rules = rules(SERIES_RULES);
    let series = Labels::from_pairs(&[
        ("__name__", "node_cpu_seconds_total"),
        ("cpu", "17"),
        ("instance", "host-3:9100"),
        ("job", "node"),
        ("mode", "iowait"),
    ]);
    c.bench_function("metric_relabel_series", |b| {
        b.iter(|| relabeler.process(black_box(&series), &series_rules))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
