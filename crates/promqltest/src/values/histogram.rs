//! Native histogram literals: `{{schema:0 sum:5 count:5 z_bucket:1
//! buckets:[1 2] offset:0 n_buckets:[1]}}`, and the histogram arithmetic
//! that `{{A}}+{{B}}xK` needs.
//!
//! Bucket counts in a literal are absolute per bucket (not cumulative, not
//! delta-encoded) over consecutive bucket indices starting at `offset`.

use std::collections::BTreeMap;

use super::parse_number;

/// Schema of native histograms with custom bucket bounds (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// A float histogram as the script notation writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Exponential schema (−4…8) or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Sum of observations.
    pub sum: f64,
    /// Count of observations.
    pub count: f64,
    /// Count in the zero bucket.
    pub zero_count: f64,
    /// Width of the zero bucket (0 unless written: not the client default).
    pub zero_threshold: f64,
    /// Positive buckets.
    pub positive: Buckets,
    /// Negative buckets.
    pub negative: Buckets,
    /// Upper bounds of custom buckets (schema −53).
    pub custom_values: Vec<f64>,
    /// The counter-reset hint.
    pub hint: CounterResetHint,
    /// Whether the literal spelled out `counter_reset_hint:`; comparison
    /// checks the hint only then.
    pub hint_specified: bool,
}

/// Consecutive buckets from index `offset` on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    /// Index of the first bucket.
    pub offset: i32,
    /// Absolute count of each bucket.
    pub counts: Vec<f64>,
}

/// What a histogram says about counter resets since the previous sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterResetHint {
    /// Nothing known.
    #[default]
    Unknown,
    /// A counter reset happened.
    Reset,
    /// No counter reset happened.
    NotReset,
    /// A gauge histogram: resets are meaningless.
    Gauge,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            schema: 0,
            sum: 0.0,
            count: 0.0,
            zero_count: 0.0,
            zero_threshold: 0.0,
            positive: Buckets::default(),
            negative: Buckets::default(),
            custom_values: Vec::new(),
            hint: CounterResetHint::Unknown,
            hint_specified: false,
        }
    }
}

impl Buckets {
    /// The non-empty buckets as (index, count), in index order: the
    /// "compacted" layout comparison uses, so `offset:2 buckets:[1]` equals
    /// `buckets:[0 0 1]`.
    pub fn non_empty(&self) -> Vec<(i32, f64)> {
        (self.offset..)
            .zip(self.counts.iter().copied())
            .filter(|(_, c)| *c != 0.0)
            .collect()
    }

    fn from_map(m: &BTreeMap<i32, f64>) -> Buckets {
        let (Some((&lo, _)), Some((&hi, _))) = (m.first_key_value(), m.last_key_value()) else {
            return Buckets::default();
        };
        let counts = (lo..=hi)
            .map(|i| m.get(&i).copied().unwrap_or(0.0))
            .collect();
        Buckets { offset: lo, counts }
    }

    /// Adds `sign` × these buckets, reduced from `from` to schema `to`, into `m`.
    fn add_into(&self, m: &mut BTreeMap<i32, f64>, from: i32, to: i32, sign: f64) {
        for (i, c) in (self.offset..).zip(self.counts.iter()) {
            let idx = if from == to || to == CUSTOM_BUCKETS_SCHEMA {
                i
            } else {
                // Merging 2^delta neighbouring buckets: bucket i of the finer
                // schema falls into ((i-1) >> delta) + 1 of the coarser one.
                ((i - 1) >> (from - to)) + 1
            };
            *m.entry(idx).or_insert(0.0) += sign * c;
        }
    }
}

impl Histogram {
    /// `self + sign × other` with `self`'s schema; `other`'s schema must be
    /// at least as fine (it is reduced), custom bounds must match.
    pub(crate) fn combine(&self, other: &Histogram, sign: f64) -> Result<Histogram, String> {
        let (to, from) = (self.schema, other.schema);
        if (to == CUSTOM_BUCKETS_SCHEMA) != (from == CUSTOM_BUCKETS_SCHEMA) {
            return Err("cannot mix custom-bucket and exponential histograms".into());
        }
        if to == CUSTOM_BUCKETS_SCHEMA && self.custom_values != other.custom_values {
            return Err("custom bucket bounds differ".into());
        }
        if from < to {
            return Err(format!("cannot add schema {from} to finer schema {to}"));
        }
        let mut pos = BTreeMap::new();
        let mut neg = BTreeMap::new();
        self.positive.add_into(&mut pos, to, to, 1.0);
        self.negative.add_into(&mut neg, to, to, 1.0);
        other.positive.add_into(&mut pos, from, to, sign);
        other.negative.add_into(&mut neg, from, to, sign);
        let hint = match (self.hint, other.hint) {
            (a, b) if a == b => a,
            (CounterResetHint::Gauge, _) | (_, CounterResetHint::Gauge) => CounterResetHint::Gauge,
            _ => CounterResetHint::Unknown,
        };
        Ok(Histogram {
            schema: to,
            sum: self.sum + sign * other.sum,
            count: self.count + sign * other.count,
            zero_count: self.zero_count + sign * other.zero_count,
            zero_threshold: self.zero_threshold.max(other.zero_threshold),
            positive: Buckets::from_map(&pos),
            negative: Buckets::from_map(&neg),
            custom_values: self.custom_values.clone(),
            hint,
            hint_specified: other.hint_specified,
        })
    }
}

/// Parses the inside of `{{…}}` (without the braces).
pub(crate) fn parse_histogram_body(body: &str) -> Result<Histogram, String> {
    let mut h = Histogram::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("expected key:value in histogram at {rest:?}"))?;
        let key = rest[..colon].trim();
        if seen.contains(&key) {
            return Err(format!("duplicate histogram key {key:?}"));
        }
        seen.push(key);
        let after = rest[colon + 1..].trim_start();
        let (val, next) = if let Some(list) = after.strip_prefix('[') {
            let close = list
                .find(']')
                .ok_or_else(|| format!("unclosed list for {key:?}"))?;
            (&list[..close], &list[close + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let num = || parse_number(val).ok_or_else(|| format!("invalid number {val:?} for {key}"));
        let int = || {
            val.parse::<i32>()
                .map_err(|_| format!("invalid integer {val:?} for {key}"))
        };
        let list = || -> Result<Vec<f64>, String> {
            val.split_whitespace()
                .map(|v| parse_number(v).ok_or_else(|| format!("invalid number {v:?} in {key}")))
                .collect()
        };
        match key {
            "schema" => h.schema = int()?,
            "sum" => h.sum = num()?,
            "count" => h.count = num()?,
            "z_bucket" => h.zero_count = num()?,
            "z_bucket_w" => h.zero_threshold = num()?,
            "buckets" => h.positive.counts = list()?,
            "offset" => h.positive.offset = int()?,
            "n_buckets" => h.negative.counts = list()?,
            "n_offset" => h.negative.offset = int()?,
            "custom_values" => h.custom_values = list()?,
            "counter_reset_hint" => {
                h.hint = match val {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::Reset,
                    "not_reset" => CounterResetHint::NotReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return Err(format!("invalid counter_reset_hint {val:?}")),
                };
                h.hint_specified = true;
            }
            _ => return Err(format!("unknown histogram key {key:?}")),
        }
        rest = next.trim_start();
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Histogram {
        parse_histogram_body(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn literal_fields() {
        let h = parse("schema:1 sum:5 count:5 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 n_buckets:[Inf -1] n_offset:3 counter_reset_hint:gauge");
        assert_eq!((h.schema, h.sum, h.count, h.zero_count), (1, 5.0, 5.0, 1.0));
        assert_eq!(h.zero_threshold, 0.001);
        assert_eq!(
            h.positive,
            Buckets {
                offset: -1,
                counts: vec![1.0, 2.0]
            }
        );
        assert_eq!(
            h.negative,
            Buckets {
                offset: 3,
                counts: vec![f64::INFINITY, -1.0]
            }
        );
        assert_eq!((h.hint, h.hint_specified), (CounterResetHint::Gauge, true));
        assert_eq!(parse(""), Histogram::default());
        assert_eq!(
            parse("schema:-53 custom_values:[1 5]").custom_values,
            vec![1.0, 5.0]
        );
        for bad in [
            "sum:1 sum:2",
            "foo:1",
            "buckets:[1 2",
            "schema:x",
            "counter_reset_hint:maybe",
            "sum",
        ] {
            assert!(parse_histogram_body(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addition_same_schema_and_reduction() {
        let a = parse("sum:1 count:2 buckets:[1 1]");
        let b = parse("sum:1 count:2 offset:1 buckets:[1 1] counter_reset_hint:not_reset");
        let s = a.combine(&b, 1.0).unwrap();
        assert_eq!(
            s.positive,
            Buckets {
                offset: 0,
                counts: vec![1.0, 2.0, 1.0]
            }
        );
        assert_eq!((s.sum, s.count, s.hint_specified), (2.0, 4.0, true));
        assert_eq!(s.hint, CounterResetHint::Unknown);
        // Schema 1 buckets 1,2 merge into schema 0 bucket 1.
        let fine = parse("schema:1 offset:1 buckets:[3 4]");
        let r = a.combine(&fine, 1.0).unwrap();
        assert_eq!(
            r.positive,
            Buckets {
                offset: 0,
                counts: vec![1.0, 8.0]
            }
        );
        assert!(fine.combine(&a, 1.0).is_err());
        let d = s.combine(&b, -1.0).unwrap();
        assert_eq!(d.positive.non_empty(), vec![(0, 1.0), (1, 1.0)]);
    }
}
