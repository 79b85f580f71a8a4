//! Whole bodies into owned label sets, for tests and tools.
//!
//! This is what Prometheus's scrape loop builds per sample, minus the cache:
//! a [`Labels`] with `__name__`, the value and the timestamp. As Prometheus
//! 3 does, the `le` label of histogram samples and the `quantile` label of
//! summary samples are rewritten to OpenMetrics float form (`1` → `1.0`) so
//! that both formats give the same series; a repeated label name is an
//! error, as it is for Prometheus's scrape.

use std::borrow::Cow;

use model::{Labels, LabelsBuilder, MetricType, Timestamp, METRIC_NAME};

use crate::entry::{Entry, Series};
use crate::error::{ErrorKind, ParseError};
use crate::float::{format_openmetrics_float, parse_value};
use crate::openmetrics::OpenMetricsParser;
use crate::text::TextParser;

/// One sample of a body with its full label set.
pub type CollectedSample = (Labels, f64, Option<Timestamp>);

/// Reads every sample of a text-format body.
pub fn collect_text(body: &[u8]) -> Result<Vec<CollectedSample>, ParseError> {
    collect(body, TextParser::new(body))
}

/// Reads every sample of an OpenMetrics body (`_created` samples included).
pub fn collect_openmetrics(body: &[u8]) -> Result<Vec<CollectedSample>, ParseError> {
    collect(body, OpenMetricsParser::new(body))
}

fn collect<'a>(
    body: &'a [u8],
    entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>,
) -> Result<Vec<CollectedSample>, ParseError> {
    let mut out = Vec::new();
    let mut metric_type = MetricType::Unknown;
    let mut builder = LabelsBuilder::new();
    for entry in entries {
        match entry? {
            Entry::Type { metric_type: t, .. } => metric_type = t,
            Entry::Series(s) => {
                let labels = series_labels(body, &s, metric_type, &mut builder)?;
                out.push((labels, s.value(), s.timestamp()));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn series_labels(
    body: &[u8],
    s: &Series<'_>,
    metric_type: MetricType,
    b: &mut LabelsBuilder,
) -> Result<Labels, ParseError> {
    let offset = s.raw().as_ptr() as usize - body.as_ptr() as usize;
    if s.name().is_empty() {
        return Err(ParseError::at(body, offset, ErrorKind::EmptyName("metric")));
    }
    b.reset();
    b.set(METRIC_NAME, s.name());
    for l in s.labels() {
        if l.name.is_empty() {
            return Err(ParseError::at(body, offset, ErrorKind::EmptyName("label")));
        }
        if b.get(&l.name).is_some() || l.name == METRIC_NAME {
            return Err(ParseError::at(
                body,
                offset,
                ErrorKind::DuplicateLabel(l.name.into_owned()),
            ));
        }
        let value = normalize_float_label(metric_type, &l.name, l.value);
        b.set(&l.name, &value);
    }
    Ok(b.build())
}

/// Prometheus 3 rewrites `le` (histograms) and `quantile` (summaries) to the
/// OpenMetrics float spelling, so `le="1"` and `le="1.0"` are one series.
pub fn normalize_float_label<'v>(t: MetricType, name: &str, value: Cow<'v, str>) -> Cow<'v, str> {
    let applies = (t == MetricType::Summary && name == "quantile")
        || (t == MetricType::Histogram && name == "le");
    if !applies {
        return value;
    }
    match parse_value(value.as_bytes()) {
        Ok(f) => {
            let mut buf = Vec::with_capacity(24);
            format_openmetrics_float(&mut buf, f);
            String::from_utf8(buf).map_or(value, Cow::Owned)
        }
        Err(_) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_with_normalised_buckets() {
        let body = b"# TYPE h histogram\nh_bucket{le=\"1\"} 2 10\nh_bucket{le=\"+Inf\"} 3\nx{le=\"1\"} 0\n";
        let got = collect_text(body).unwrap();
        let rendered: Vec<String> = got
            .iter()
            .map(|(l, v, t)| format!("{l} {v} {t:?}"))
            .collect();
        assert_eq!(
            rendered,
            vec![
                r#"{__name__="h_bucket", le="1.0"} 2 Some(10)"#,
                r#"{__name__="h_bucket", le="+Inf"} 3 None"#,
                r#"{__name__="x", le="1.0"} 0 None"#,
            ]
        );
    }

    #[test]
    fn both_formats_agree() {
        let text = collect_text(b"# TYPE s summary\ns{quantile=\"0.5\",a=\"x\"} 1 1000\n").unwrap();
        let om = collect_openmetrics(b"# TYPE s summary\ns{quantile=\"0.5\",a=\"x\"} 1 1\n# EOF\n")
            .unwrap();
        assert_eq!(text, om);
    }

    #[test]
    fn duplicate_labels_are_errors() {
        let e = collect_text(b"ok 1\na{b=\"1\",b=\"2\"} 1\n").unwrap_err();
        assert_eq!(e.to_string(), r#"2:1: label name "b" is not unique"#);
        let e = collect_text(b"a{__name__=\"x\"} 1\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::DuplicateLabel("__name__".into()));
        let e = collect_text(b"{\"\"} 1\n").unwrap_err();
        assert_eq!(e.to_string(), "1:1: empty metric name");
        let e = collect_openmetrics(b"a{\"\"=\"v\"} 1\n# EOF\n").unwrap_err();
        assert_eq!(e.to_string(), "1:1: empty label name");
    }
}
