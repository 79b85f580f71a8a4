//! Owned metric families: what the encoders write and what tools and tests
//! read a whole body into.
//!
//! Scrapers should not use this: it allocates per sample. They iterate the
//! streaming parsers instead.

use model::{MetricType, Timestamp};

use crate::entry::{Entry, Series};
use crate::error::ParseError;
use crate::openmetrics::{family_suffixes, OpenMetricsParser};
use crate::text::TextParser;

/// A metric family: its metadata and its samples in exposition order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricFamily {
    /// The family name as the metadata lines give it (for OpenMetrics
    /// counters without `_total`).
    pub name: String,
    /// The `# HELP` text, unescaped; `None` writes no HELP line.
    pub help: Option<String>,
    /// The `# UNIT` (OpenMetrics only; the text encoder ignores it).
    pub unit: Option<String>,
    /// The family's type.
    pub metric_type: MetricType,
    /// The samples, each with its full name (`foo_bucket`, `foo_total`, …).
    pub samples: Vec<FamilySample>,
}

/// One sample line of a family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamilySample {
    /// The full sample name.
    pub name: String,
    /// The labels in the order they are written, without the metric name.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds.
    pub timestamp: Option<Timestamp>,
    /// The exemplar (OpenMetrics only; the text encoder ignores it).
    pub exemplar: Option<FamilyExemplar>,
}

/// An exemplar attached to a sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamilyExemplar {
    /// The exemplar's labels in written order.
    pub labels: Vec<(String, String)>,
    /// The exemplar's value.
    pub value: f64,
    /// The exemplar's timestamp in milliseconds.
    pub timestamp: Option<Timestamp>,
}

/// Reads a whole text-format body into families.
///
/// A metadata line starts a new family unless it names the family being
/// built and that family has no samples yet. A sample joins the current
/// family when its name is the family name or the family name plus one of
/// the suffixes of the family's type; otherwise it starts an untyped family
/// of its own, as a sample without metadata does.
pub fn decode_text(body: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    decode(TextParser::new(body))
}

/// Reads a whole OpenMetrics body into families; grouping as
/// [`decode_text`]. `_created` samples are kept as samples.
pub fn decode_openmetrics(body: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    decode(OpenMetricsParser::new(body))
}

fn decode<'a>(
    entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>,
) -> Result<Vec<MetricFamily>, ParseError> {
    let mut families: Vec<MetricFamily> = Vec::new();
    for entry in entries {
        match entry? {
            Entry::Help { name, help } => {
                metadata_family(&mut families, &name).help = Some(help.into_owned())
            }
            Entry::Type { name, metric_type } => {
                metadata_family(&mut families, &name).metric_type = metric_type
            }
            Entry::Unit { name, unit } => {
                metadata_family(&mut families, &name).unit = Some(unit.to_owned())
            }
            Entry::Series(s) => {
                let joins = families
                    .last()
                    .is_some_and(|f| belongs(s.name(), &f.name, f.metric_type));
                if !joins {
                    families.push(MetricFamily {
                        name: s.name().to_owned(),
                        ..MetricFamily::default()
                    });
                }
                if let Some(f) = families.last_mut() {
                    f.samples.push(owned_sample(&s));
                }
            }
            Entry::Comment(_) | Entry::Eof => {}
        }
    }
    Ok(families)
}

fn metadata_family<'f>(families: &'f mut Vec<MetricFamily>, name: &str) -> &'f mut MetricFamily {
    let reuse = families
        .last()
        .is_some_and(|f| f.name == name && f.samples.is_empty());
    if !reuse {
        families.push(MetricFamily {
            name: name.to_owned(),
            ..MetricFamily::default()
        });
    }
    let last = families.len() - 1;
    &mut families[last]
}

/// Whether a sample named `sample` is part of family `family` of type `t`.
/// Text-format families are lax (any counter may be bare), so the bare name
/// always belongs.
fn belongs(sample: &str, family: &str, t: MetricType) -> bool {
    match sample.strip_prefix(family) {
        Some("") => true,
        Some(suffix) => family_suffixes(t).contains(&suffix),
        None => false,
    }
}

fn owned_sample(s: &Series<'_>) -> FamilySample {
    FamilySample {
        name: s.name().to_owned(),
        labels: s
            .labels()
            .map(|l| (l.name.into_owned(), l.value.into_owned()))
            .collect(),
        value: s.value(),
        timestamp: s.timestamp(),
        exemplar: s.exemplar().map(|e| FamilyExemplar {
            labels: e
                .labels()
                .map(|l| (l.name.into_owned(), l.value.into_owned()))
                .collect(),
            value: e.value(),
            timestamp: e.timestamp(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_samples_under_their_metadata() {
        let body = b"# HELP h Latency.\n# TYPE h histogram\n\
            h_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\n\
            loose 3\n# TYPE c counter\nc 1\nc_total 2\nother_total 3\n";
        let fams = decode_text(body).unwrap();
        let shape: Vec<(&str, MetricType, usize)> = fams
            .iter()
            .map(|f| (f.name.as_str(), f.metric_type, f.samples.len()))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("h", MetricType::Histogram, 3),
                ("loose", MetricType::Unknown, 1),
                ("c", MetricType::Counter, 2),
                ("other_total", MetricType::Unknown, 1),
            ]
        );
        assert_eq!(fams[0].help.as_deref(), Some("Latency."));
        assert_eq!(
            fams[0].samples[0].labels,
            vec![("le".to_owned(), "1".to_owned())]
        );
    }

    #[test]
    fn openmetrics_metadata_merges_into_one_family() {
        let body = b"# TYPE x_seconds gauge\n# UNIT x_seconds seconds\n# HELP x_seconds X.\nx_seconds 1.0\n# EOF\n";
        let fams = decode_openmetrics(body).unwrap();
        assert_eq!(fams.len(), 1);
        assert_eq!(fams[0].unit.as_deref(), Some("seconds"));
        assert_eq!(fams[0].help.as_deref(), Some("X."));
    }
}
