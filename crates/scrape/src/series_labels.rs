//! The labels a scraped series is stored under: the exposed labels merged
//! with the target's (Prometheus's `mutateSampleLabels`), metric relabeling,
//! and the label limits. Runs only for series the cache does not know, so it
//! may allocate; its buffers are reused all the same.

use std::borrow::Cow;

use expfmt::{normalize_float_label, Series};
use model::labels::{is_valid_legacy_label_name, is_valid_legacy_metric_name};
use model::{Labels, LabelsBuilder, MetricType, METRIC_NAME};
use relabel::{NameValidationScheme, RelabelConfig, Relabeler};

use crate::ScrapeError;

const EXPORTED_PREFIX: &str = "exported_";

/// How a job turns exposed series into stored ones.
#[derive(Clone, Debug, Default)]
pub(crate) struct LabelRules {
    /// Exposed labels win over target labels.
    pub(crate) honor_labels: bool,
    /// `metric_relabel_configs`.
    pub(crate) metric_relabel: Vec<RelabelConfig>,
    /// Limits on the final labels.
    pub(crate) limits: LabelLimits,
    /// Which metric and label names are valid.
    pub(crate) validation: NameValidationScheme,
}

/// The limits a series' final labels must keep (zero: no limit).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LabelLimits {
    pub(crate) labels: usize,
    pub(crate) name_length: usize,
    pub(crate) value_length: usize,
}

/// Builds final series labels, reusing its buffers.
#[derive(Debug, Default)]
pub(crate) struct SeriesLabeler {
    /// The exposed labels as `(name, value)`, `__name__` first; empty values
    /// kept, since an exposed empty label still shadows a target label under
    /// `honor_labels`.
    scraped: Vec<(String, String)>,
    conflicts: Vec<(String, String)>,
    builder: LabelsBuilder,
    relabeler: Relabeler,
    name: String,
}

/// What to do with a series.
pub(crate) enum Labeled {
    /// Store under these labels.
    Keep(Labels),
    /// Metric relabeling dropped it.
    Dropped,
}

impl SeriesLabeler {
    /// The final labels of `series` of family type `metric_type` for a
    /// target with labels `target`.
    pub(crate) fn label(
        &mut self,
        series: &Series<'_>,
        metric_type: MetricType,
        target: &Labels,
        rules: &LabelRules,
    ) -> Result<Labeled, ScrapeError> {
        self.read_exposed(series, metric_type)?;
        let b = &mut self.builder;
        b.reset();
        for (n, v) in &self.scraped {
            b.set(n, v);
        }
        if rules.honor_labels {
            for l in target {
                if !self.scraped.iter().any(|(n, _)| n == l.name) {
                    b.set(l.name, l.value);
                }
            }
        } else {
            self.conflicts.clear();
            for l in target {
                if let Some((n, v)) = self
                    .scraped
                    .iter()
                    .find(|(n, v)| n == l.name && !v.is_empty())
                {
                    self.conflicts.push((n.clone(), v.clone()));
                }
                b.set(l.name, l.value);
            }
            // Shorter names first, so `exported_job` taken by the target
            // pushes the exposed `job` to `exported_exported_job`, as in
            // Prometheus.
            self.conflicts.sort_by_key(|(n, _)| n.len());
            for (n, v) in &self.conflicts {
                self.name.clone_from(n);
                loop {
                    self.name.insert_str(0, EXPORTED_PREFIX);
                    if b.get(&self.name).is_none() {
                        b.set(&self.name, v);
                        break;
                    }
                }
            }
        }
        let merged = b.build();
        let labels = if rules.metric_relabel.is_empty() {
            merged
        } else {
            match self.relabeler.process(&merged, &rules.metric_relabel) {
                Some(l) => l,
                None => return Ok(Labeled::Dropped),
            }
        };
        if labels.is_empty() {
            return Ok(Labeled::Dropped);
        }
        if !labels.has(METRIC_NAME) {
            return Err(ScrapeError::MissingName);
        }
        if rules.validation == NameValidationScheme::Legacy && !legacy_valid(&labels) {
            return Err(ScrapeError::InvalidLabels(labels.to_string()));
        }
        check_limits(&labels, rules.limits)?;
        Ok(Labeled::Keep(labels))
    }

    /// Fills `scraped` from the series line, refusing repeated or empty names.
    fn read_exposed(
        &mut self,
        series: &Series<'_>,
        metric_type: MetricType,
    ) -> Result<(), ScrapeError> {
        self.scraped.clear();
        self.scraped
            .push((METRIC_NAME.to_owned(), series.name().to_owned()));
        let mut bad = series.name().is_empty();
        for l in series.labels() {
            if l.name.is_empty() || self.scraped.iter().any(|(n, _)| *n == *l.name) {
                bad = true;
            }
            let value = normalize_float_label(metric_type, &l.name, l.value);
            self.scraped
                .push((l.name.into_owned(), Cow::into_owned(value)));
        }
        if bad {
            return Err(ScrapeError::InvalidLabels(render(&self.scraped)));
        }
        Ok(())
    }
}

/// Whether every name is valid under the legacy (pre-3.0) scheme.
fn legacy_valid(labels: &Labels) -> bool {
    labels.iter().all(|l| {
        if l.name == METRIC_NAME {
            is_valid_legacy_metric_name(l.value)
        } else {
            is_valid_legacy_label_name(l.name)
        }
    })
}

/// `{a="b", ...}` in exposed order, as Prometheus prints an invalid set.
fn render(pairs: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(n);
        out.push('=');
        let _ = model::labels::write_go_quoted(&mut out, v);
    }
    out.push('}');
    out
}

/// Prometheus's `verifyLabelLimits`, with its messages (metric and label
/// names cut to 50 characters).
pub(crate) fn check_limits(labels: &Labels, limits: LabelLimits) -> Result<(), ScrapeError> {
    let metric = cut(labels.get_or_empty(METRIC_NAME));
    if limits.labels > 0 {
        let n = labels.len();
        if n > limits.labels {
            return Err(ScrapeError::LabelLimit(format!(
                "label_limit exceeded (metric: {metric}, number of labels: {n}, limit: {})",
                limits.labels
            )));
        }
    }
    for l in labels {
        if limits.name_length > 0 && l.name.len() > limits.name_length {
            return Err(ScrapeError::LabelLimit(format!(
                "label_name_length_limit exceeded (metric: {metric}, label name: {}, length: {}, limit: {})",
                cut(l.name),
                l.name.len(),
                limits.name_length
            )));
        }
        if limits.value_length > 0 && l.value.len() > limits.value_length {
            let mut quoted = String::new();
            let _ = model::labels::write_go_quoted(&mut quoted, cut(l.value));
            return Err(ScrapeError::LabelLimit(format!(
                "label_value_length_limit exceeded (metric: {metric}, label name: {}, value: {quoted}, length: {}, limit: {})",
                cut(l.name),
                l.value.len(),
                limits.value_length
            )));
        }
    }
    Ok(())
}

/// The first 50 characters, as Go's `%.50s`.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(50) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The labels of a report series (`up`, `scrape_duration_seconds`, ...):
/// the target's labels and the name (Prometheus's `mutateReportSampleLabels`,
/// which can only ever add the target labels to a bare name).
pub(crate) fn report_labels(name: &str, target: &Labels) -> Labels {
    let mut b = target.to_builder();
    b.set(METRIC_NAME, name);
    b.build()
}

#[cfg(test)]
mod tests;
