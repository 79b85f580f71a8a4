//! Encoders for both formats, from owned [`MetricFamily`] values.
//!
//! Both write, per family, metadata lines then one line per sample:
//!
//! ```text
//! # HELP <name> <escaped help>        only when help is set
//! # TYPE <name> <type>                always
//! # UNIT <name> <unit>                OpenMetrics, only when unit is set
//! <name>{<l>="<v>",...} <value>[ <timestamp>][ # {<l>="<v>",...} <value>[ <timestamp>]]
//! ```
//!
//! and OpenMetrics ends the body with `# EOF\n`. Names that are not legacy
//! identifiers are quoted, Prometheus 3 style: the metric name moves into
//! the braces as the first element (`{"my.metric",a="1"}`), a label name is
//! written `"label.name"="v"`. Label values escape `\`, `"` and newline;
//! help text escapes `\` and newline (and `"` in OpenMetrics).
//!
//! Text format: values as Go's `%g` shortest form (`1e+06`, `0.1`, `+Inf`,
//! `NaN`), timestamps as integer milliseconds, no units or exemplars, and the
//! OpenMetrics-only types (gaugehistogram, info, stateset) as `untyped`.
//! OpenMetrics: values as `labels.FormatOpenMetricsFloat` (`1.0`), timestamps
//! as exact decimal seconds (`1520879607.789`).

use model::labels::{is_valid_legacy_label_name, is_valid_legacy_metric_name};
use model::MetricType;

use crate::family::{FamilySample, MetricFamily};
use crate::float::{format_go_float, format_openmetrics_float};

/// Which of the two formats an encoder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    OpenMetrics,
}

/// Appends `families` in the Prometheus text format 0.0.4.
pub fn encode_text(out: &mut Vec<u8>, families: &[MetricFamily]) {
    for f in families {
        encode_family(out, f, Format::Text);
    }
}

/// Appends `families` in OpenMetrics 1.0, ending with `# EOF`.
pub fn encode_openmetrics(out: &mut Vec<u8>, families: &[MetricFamily]) {
    for f in families {
        encode_family(out, f, Format::OpenMetrics);
    }
    out.extend_from_slice(b"# EOF\n");
}

fn encode_family(out: &mut Vec<u8>, f: &MetricFamily, format: Format) {
    if let Some(help) = &f.help {
        out.extend_from_slice(b"# HELP ");
        write_metadata_name(out, &f.name);
        out.push(b' ');
        write_escaped(out, help, format == Format::OpenMetrics);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    write_metadata_name(out, &f.name);
    out.push(b' ');
    let type_name = match (format, f.metric_type) {
        (Format::OpenMetrics, t) => t.as_openmetrics_str(),
        (Format::Text, MetricType::GaugeHistogram | MetricType::Info | MetricType::StateSet) => {
            "untyped"
        }
        (Format::Text, t) => t.as_text_str(),
    };
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
    if let (Format::OpenMetrics, Some(unit)) = (format, &f.unit) {
        out.extend_from_slice(b"# UNIT ");
        write_metadata_name(out, &f.name);
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
    for s in &f.samples {
        encode_sample(out, s, format);
    }
}

fn encode_sample(out: &mut Vec<u8>, s: &FamilySample, format: Format) {
    let legacy = is_valid_legacy_metric_name(&s.name);
    if legacy {
        out.extend_from_slice(s.name.as_bytes());
    }
    if !legacy || !s.labels.is_empty() {
        out.push(b'{');
        let mut first = true;
        if !legacy {
            write_quoted(out, &s.name);
            first = false;
        }
        write_labels(out, &s.labels, first);
        out.push(b'}');
    }
    out.push(b' ');
    write_value(out, s.value, format);
    if let Some(ts) = s.timestamp {
        out.push(b' ');
        write_timestamp(out, ts, format);
    }
    if let (Format::OpenMetrics, Some(e)) = (format, &s.exemplar) {
        out.extend_from_slice(b" # {");
        write_labels(out, &e.labels, true);
        out.extend_from_slice(b"} ");
        write_value(out, e.value, format);
        if let Some(ts) = e.timestamp {
            out.push(b' ');
            write_timestamp(out, ts, format);
        }
    }
    out.push(b'\n');
}

fn write_labels(out: &mut Vec<u8>, labels: &[(String, String)], mut first: bool) {
    for (name, value) in labels {
        if !first {
            out.push(b',');
        }
        first = false;
        if is_valid_legacy_label_name(name) {
            out.extend_from_slice(name.as_bytes());
        } else {
            write_quoted(out, name);
        }
        out.push(b'=');
        write_quoted(out, value);
    }
}

fn write_metadata_name(out: &mut Vec<u8>, name: &str) {
    if is_valid_legacy_metric_name(name) {
        out.extend_from_slice(name.as_bytes());
    } else {
        write_quoted(out, name);
    }
}

fn write_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s, true);
    out.push(b'"');
}

/// Escapes `\` and newline, and `"` when `quote` is set.
fn write_escaped(out: &mut Vec<u8>, s: &str, quote: bool) {
    let b = s.as_bytes();
    let mut from = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if quote => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&b[from..i]);
        out.extend_from_slice(esc);
        from = i + 1;
    }
    out.extend_from_slice(&b[from..]);
}

fn write_value(out: &mut Vec<u8>, v: f64, format: Format) {
    match format {
        Format::Text => format_go_float(out, v),
        Format::OpenMetrics => format_openmetrics_float(out, v),
    }
}

/// Text: integer milliseconds. OpenMetrics: seconds with the milliseconds as
/// an exact decimal fraction, so reading it back gives the same integer.
fn write_timestamp(out: &mut Vec<u8>, ms: i64, format: Format) {
    if format == Format::Text {
        out.extend_from_slice(ms.to_string().as_bytes());
        return;
    }
    if ms < 0 {
        out.push(b'-');
    }
    let abs = ms.unsigned_abs();
    out.extend_from_slice((abs / 1000).to_string().as_bytes());
    let frac = abs % 1000;
    if frac != 0 {
        let digits = format!(".{frac:03}");
        out.extend_from_slice(digits.trim_end_matches('0').as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::FamilyExemplar;

    fn fams() -> Vec<MetricFamily> {
        vec![
            MetricFamily {
                name: "http_requests".into(),
                help: Some("Requests \"served\" \\ total\nso far.".into()),
                unit: None,
                metric_type: MetricType::Counter,
                samples: vec![
                    FamilySample {
                        name: "http_requests_total".into(),
                        labels: vec![
                            ("code".into(), "200".into()),
                            ("path".into(), "/a\"b\\c\nd".into()),
                        ],
                        value: 1e6,
                        timestamp: Some(1520879607789),
                        exemplar: Some(FamilyExemplar {
                            labels: vec![("trace_id".into(), "abc".into())],
                            value: 1.0,
                            timestamp: Some(1500),
                        }),
                    },
                    FamilySample {
                        name: "http_requests_created".into(),
                        value: 1520872607.0,
                        ..FamilySample::default()
                    },
                ],
            },
            MetricFamily {
                name: "my.gauge_seconds".into(),
                help: None,
                unit: Some("seconds".into()),
                metric_type: MetricType::StateSet,
                samples: vec![FamilySample {
                    name: "my.gauge_seconds".into(),
                    labels: vec![("label.name".into(), "v".into())],
                    value: 0.1,
                    timestamp: Some(-1500),
                    exemplar: None,
                }],
            },
        ]
    }

    #[test]
    fn golden_text() {
        let mut out = Vec::new();
        encode_text(&mut out, &fams());
        let want = "# HELP http_requests Requests \"served\" \\\\ total\\nso far.\n\
            # TYPE http_requests counter\n\
            http_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1e+06 1520879607789\n\
            http_requests_created 1.520872607e+09\n\
            # TYPE \"my.gauge_seconds\" untyped\n\
            {\"my.gauge_seconds\",\"label.name\"=\"v\"} 0.1 -1500\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn golden_openmetrics() {
        let mut out = Vec::new();
        encode_openmetrics(&mut out, &fams());
        let want = "# HELP http_requests Requests \\\"served\\\" \\\\ total\\nso far.\n\
            # TYPE http_requests counter\n\
            http_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1e+06 1520879607.789 # {trace_id=\"abc\"} 1.0 1.5\n\
            http_requests_created 1.520872607e+09\n\
            # TYPE \"my.gauge_seconds\" stateset\n\
            # UNIT \"my.gauge_seconds\" seconds\n\
            {\"my.gauge_seconds\",\"label.name\"=\"v\"} 0.1 -1.5\n\
            # EOF\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}
