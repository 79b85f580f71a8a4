//! Metric metadata: type, help and unit.

use std::fmt;
use std::str::FromStr;

/// A metric family's type as the exposition formats name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// `counter`: monotonically increasing, resets to zero.
    Counter,
    /// `gauge`: goes up and down.
    Gauge,
    /// `histogram`: bucketed observations with `_bucket`, `_sum`, `_count`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics): a histogram whose buckets go down too.
    GaugeHistogram,
    /// `summary`: client-side quantiles with `_sum` and `_count`.
    Summary,
    /// `info` (OpenMetrics): constant labels exposed as a `_info` series of 1.
    Info,
    /// `stateset` (OpenMetrics): one series per state, 1 for the active ones.
    StateSet,
    /// `untyped` (text format) / `unknown` (OpenMetrics).
    #[default]
    Unknown,
}

impl MetricType {
    /// The name used by the Prometheus text format (`untyped` for unknown).
    pub fn as_text_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "untyped",
            t => t.as_openmetrics_str(),
        }
    }

    /// The name used by OpenMetrics and the HTTP API (`unknown` for unknown).
    pub fn as_openmetrics_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_openmetrics_str())
    }
}

/// Error for a type name no format knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid metric type {0:?}")]
pub struct InvalidMetricType(pub String);

impl FromStr for MetricType {
    type Err = InvalidMetricType;

    /// Accepts the names of both formats (`untyped` and `unknown` alike).
    fn from_str(s: &str) -> Result<MetricType, InvalidMetricType> {
        Ok(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "untyped" | "unknown" => MetricType::Unknown,
            _ => return Err(InvalidMetricType(s.to_owned())),
        })
    }
}

/// What a target says about a metric family.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// The family's type.
    pub metric_type: MetricType,
    /// The `# HELP` text, unescaped.
    pub help: String,
    /// The `# UNIT` (OpenMetrics only), or empty.
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in [
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Histogram,
            MetricType::GaugeHistogram,
            MetricType::Summary,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::Unknown,
        ] {
            assert_eq!(t.as_openmetrics_str().parse::<MetricType>(), Ok(t));
            assert_eq!(t.as_text_str().parse::<MetricType>(), Ok(t));
        }
        assert!("Counter".parse::<MetricType>().is_err());
    }
}
