//! Asks Debian's `promtool` (Prometheus 2.42) to judge our parsers and
//! encoders where it can:
//!
//! - OpenMetrics: `promtool tsdb create-blocks-from openmetrics` parses a
//!   body with Prometheus's own OpenMetrics parser and `promtool tsdb dump`
//!   prints every sample; our `collect_openmetrics` must read the same
//!   series, values and timestamps.
//! - Text: `promtool check metrics` must accept what `encode_text` writes.
//!
//! Inputs stay within what 2.42 knows: no quoted UTF-8 names, no trailing
//! comma in a label list (3.x accepts one), and no `le` or `quantile` labels
//! (3.x rewrites those; 2.42 does not).

use std::io::Write;
use std::process::{Command, Stdio};

use expfmt::{decode_openmetrics, decode_text, encode_openmetrics, encode_text, Entry};

const PROMTOOL: &str = "/usr/bin/promtool";

const BODY: &str = r#"# HELP foo Counter with "quotes" \\ and \n newline.
# TYPE foo counter
foo_total{a="b",c="d\"e\\f\ng"} 17.0 1520879607.789 # {trace_id="abc"} 1.0 1520879607.7
foo_total{a="x"} 1e+06 1520879608.5
foo_created{a="x"} 1520879000.25 1520879608.5
# TYPE g_seconds gauge
# UNIT g_seconds seconds
g_seconds NaN 1520879607
g_seconds{h="é",empty=""} -Inf 1520879607.001
g_seconds{h="tiny"} 1.5e-07 1520879607.002
g_seconds{h="big"} 123456789012345678 1520879607.003
g_seconds{h="neg"} -0.25 1520879607.004
# TYPE i info
i_info{version="1.2.3"} 1 1520879607.006
# TYPE s stateset
s{s="a"} 1 1520879607.007
s{s="b"} 0 1520879607.007
# TYPE u unknown
u 42 1520879607.999
# EOF
"#;

fn promtool_available() -> bool {
    if testkit::reference("promtool").is_some() {
        return true;
    }
    // CI machines install it with the project; say so loudly when absent.
    eprintln!("SKIPPED: {PROMTOOL} not installed");
    false
}

/// What `promtool tsdb dump` prints for a body, one line per sample, sorted.
fn promtool_dump(body: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.om");
    std::fs::write(&input, body).expect("write input");
    let data = dir.path().join("data");
    let out = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool refused the body: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(data.join("wal")).expect("wal dir");
    let out = Command::new(PROMTOOL)
        .args(["tsdb", "dump"])
        .arg(&data)
        .output()
        .expect("run promtool dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// Our reading of the body, printed as `promtool tsdb dump` prints. Built
/// from the streaming parser directly, without the 3.x `le`/`quantile`
/// rewriting that `collect_openmetrics` does and 2.42 does not.
fn our_dump(body: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut b = model::LabelsBuilder::new();
    for entry in expfmt::OpenMetricsParser::new(body) {
        let Entry::Series(s) = entry.expect("our parser accepts the body") else {
            continue;
        };
        b.reset();
        b.set("__name__", s.name());
        for l in s.labels() {
            b.set(&l.name, &l.value);
        }
        let mut value = Vec::new();
        expfmt::format_go_float(&mut value, s.value());
        lines.push(format!(
            "{} {} {}",
            b.build(),
            String::from_utf8_lossy(&value),
            s.timestamp().unwrap_or_default()
        ));
    }
    lines.sort();
    lines
}

#[test]
fn openmetrics_reads_like_prometheus() {
    if !promtool_available() {
        return;
    }
    assert_eq!(our_dump(BODY.as_bytes()), promtool_dump(BODY.as_bytes()));
}

#[test]
fn node_exporter_text_reads_like_prometheus() {
    // Our text parser reads a real node_exporter scrape; our OpenMetrics
    // encoding of what it read (timestamped, as backfill needs) must then
    // read the same in promtool as in our OpenMetrics parser, and hold every
    // sample of the scrape.
    if !promtool_available() {
        return;
    }
    let text = include_bytes!("../testdata/node_exporter-1.5.0.prom");
    let mut families = decode_text(text).expect("our text parser reads node_exporter");
    let mut ts = 1_700_000_000_000;
    for s in families.iter_mut().flat_map(|f| f.samples.iter_mut()) {
        ts += 1;
        s.timestamp = Some(ts);
    }
    let samples = families.iter().map(|f| f.samples.len()).sum::<usize>();
    let series_lines = text
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .count();
    assert_eq!(samples, series_lines);
    let mut body = Vec::new();
    encode_openmetrics(&mut body, &families);
    assert_eq!(our_dump(&body), promtool_dump(&body));
}

#[test]
fn openmetrics_encoder_output_reads_like_prometheus() {
    if !promtool_available() {
        return;
    }
    let families = decode_openmetrics(BODY.as_bytes()).expect("parse");
    let mut body = Vec::new();
    encode_openmetrics(&mut body, &families);
    assert_eq!(our_dump(&body), promtool_dump(&body));
}

#[test]
fn text_encoder_output_passes_promtool_check_metrics() {
    if !promtool_available() {
        return;
    }
    let mut families = decode_openmetrics(BODY.as_bytes()).expect("parse");
    // The text format has no units; promtool's linter wants counters named
    // *_total, which the samples already are.
    for f in &mut families {
        f.unit = None;
        if f.metric_type == model::MetricType::Counter {
            f.name = "foo_total".into();
        }
        for s in &mut f.samples {
            s.exemplar = None;
        }
    }
    let mut body = Vec::new();
    encode_text(&mut body, &families);
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stderr.contains("parsing error") && !stdout.contains("parsing error"),
        "promtool could not parse our text:\n{}\n{stderr}{stdout}",
        String::from_utf8_lossy(&body)
    );
}

mod generated {
    //! Random families, encoded by us, read by promtool and by us.

    use super::*;
    use expfmt::{FamilyExemplar, FamilySample, MetricFamily};
    use model::MetricType;
    use proptest::prelude::*;

    /// Label values Go prints the way `model::Labels` does: printable ASCII,
    /// one non-ASCII letter and the three escapes.
    fn value() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 _./:é\"\\\\\n-]{0,12}"
    }

    fn family(index: usize) -> impl Strategy<Value = MetricFamily> {
        (
            proptest::sample::select(vec![
                MetricType::Counter,
                MetricType::Gauge,
                MetricType::Info,
                MetricType::StateSet,
                MetricType::Unknown,
            ]),
            proptest::collection::vec(
                (
                    proptest::collection::btree_map("[a-k][a-z0-9_]{0,5}", value(), 0..4),
                    prop_oneof![
                        any::<f64>(),
                        (0u32..1000).prop_map(f64::from),
                        Just(f64::NAN),
                        Just(f64::INFINITY)
                    ],
                    proptest::option::of(("[a-z]{1,5}", value(), any::<f64>())),
                ),
                1..4,
            ),
        )
            .prop_map(move |(metric_type, samples)| {
                let name = format!("fam{index}");
                let sample_name = match metric_type {
                    MetricType::Counter => format!("{name}_total"),
                    MetricType::Info => format!("{name}_info"),
                    _ => name.clone(),
                };
                MetricFamily {
                    help: Some(format!("Family {index}.")),
                    unit: None,
                    metric_type,
                    samples: samples
                        .into_iter()
                        .map(|(labels, value, exemplar)| FamilySample {
                            name: sample_name.clone(),
                            labels: labels.into_iter().collect(),
                            value,
                            // Filled in below, increasing through the body.
                            timestamp: None,
                            // 2.42 takes exemplars on counters and histograms
                            // only; 3.x on every sample, and so do we.
                            exemplar: exemplar.filter(|_| metric_type == MetricType::Counter).map(
                                |(n, v, x)| FamilyExemplar {
                                    labels: vec![(n, v)],
                                    value: x,
                                    timestamp: None,
                                },
                            ),
                        })
                        .collect(),
                    name,
                }
            })
    }

    fn families() -> impl Strategy<Value = Vec<MetricFamily>> {
        (1usize..4)
            .prop_flat_map(|n| (0..n).map(family).collect::<Vec<_>>())
            .prop_map(|mut fams| {
                // Backfill wants every sample timestamped and in order.
                let mut ts = 1_700_000_000_000i64;
                for s in fams.iter_mut().flat_map(|f| f.samples.iter_mut()) {
                    ts += 1_001;
                    s.timestamp = Some(ts);
                }
                fams
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn encoded_openmetrics_reads_like_prometheus(fams in families()) {
            if !promtool_available() {
                return Ok(());
            }
            let mut body = Vec::new();
            encode_openmetrics(&mut body, &fams);
            prop_assert_eq!(our_dump(&body), promtool_dump(&body), "{}", String::from_utf8_lossy(&body));
        }
    }
}
