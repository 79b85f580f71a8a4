//! Appending a `load` block to a store.
//!
//! The k-th position of a series line lands at `k × interval` ms after the
//! epoch; gaps (`_`) append nothing; `stale` appends the stale-NaN marker.
//! All samples of one block go into one transaction. When a label set
//! appears twice in a block the last line wins, as upstream (the corpus
//! relies on it: `aggregators.test` redefines `data{test="inf3",point="d"}`).
//!
//! The [`storage::Appender`] contract carries floats only, so histogram
//! samples, start timestamps (`@st`) and the NHCB series `load_with_nhcb`
//! synthesises ([`nhcb_series`], computed and validated all the same, so a
//! conversion error fails the load as upstream) are not stored yet;
//! [`LoadStats`] counts what was left out so a report can say why histogram
//! evals fail.

mod nhcb;

pub use nhcb::{nhcb_series, NhcbSeries};

use std::collections::HashMap;

use model::Labels;
use storage::{AppendError, Appendable, StorageError};

use crate::script::Load;
use crate::values::Value;

/// What a load stored and what it had to leave out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Float samples appended (stale markers included).
    pub floats: usize,
    /// Histogram samples left out (written ones and synthesised NHCB
    /// ones): the store takes floats only.
    pub skipped_histograms: usize,
    /// Start timestamps left out: the store has no place for them.
    pub skipped_start_timestamps: usize,
}

/// Why a load failed; upstream abandons the rest of the file then.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The store refused a sample.
    #[error("cannot load series {labels} at {t} (line {line}): {source}")]
    Append {
        /// Line of the series.
        line: usize,
        /// The series.
        labels: Labels,
        /// The sample's timestamp in ms.
        t: i64,
        /// The store's reason.
        source: AppendError,
    },
    /// The store could not commit the block.
    #[error("cannot commit load of line {line}: {source}")]
    Commit {
        /// Line of the `load` header.
        line: usize,
        /// The store's reason.
        source: StorageError,
    },
    /// `load_with_nhcb` could not convert a classic histogram.
    #[error("cannot load native histograms of the block at line {line}: {msg}")]
    Nhcb {
        /// Line of the `load` header.
        line: usize,
        /// The conversion's reason.
        msg: String,
    },
    /// A timestamp does not fit in i64 milliseconds.
    #[error("cannot load series of line {line}: timestamp overflows")]
    Overflow {
        /// Line of the series.
        line: usize,
    },
}

/// Appends the samples of `load` to `db` in one transaction.
pub fn load(load: &Load, db: &dyn Appendable) -> Result<LoadStats, LoadError> {
    // Last definition of a label set wins.
    let mut last: HashMap<&Labels, usize> = HashMap::new();
    for (i, s) in load.series.iter().enumerate() {
        last.insert(&s.labels, i);
    }
    let mut stats = LoadStats::default();
    let nhcb = nhcb_series(load).map_err(|msg| LoadError::Nhcb {
        line: load.line,
        msg,
    })?;
    stats.skipped_histograms += nhcb.iter().map(|(_, hs)| hs.len()).sum::<usize>();
    let mut app = db.appender();
    for (i, s) in load.series.iter().enumerate() {
        if last.get(&s.labels) != Some(&i) {
            continue;
        }
        let mut series_ref = None;
        for (k, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let t = i64::try_from(k)
                .ok()
                .and_then(|k| k.checked_mul(load.interval_ms))
                .ok_or(LoadError::Overflow { line: s.line })?;
            if s.start_offsets
                .as_ref()
                .is_some_and(|o| o.get(k).is_some_and(Option::is_some))
            {
                stats.skipped_start_timestamps += 1;
            }
            match v {
                Value::Float(f) => {
                    let r = app.append(series_ref, &s.labels, t, *f);
                    match r {
                        Ok(r) => series_ref = Some(r),
                        Err(source) => {
                            // The error is what matters; a failed rollback adds nothing.
                            let _ = app.rollback();
                            return Err(LoadError::Append {
                                line: s.line,
                                labels: s.labels.clone(),
                                t,
                                source,
                            });
                        }
                    }
                    stats.floats += 1;
                }
                Value::Histogram(_) => stats.skipped_histograms += 1,
            }
        }
    }
    app.commit().map_err(|source| LoadError::Commit {
        line: load.line,
        source,
    })?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{Command, Script};
    use model::{is_stale_nan, Matcher};
    use storage::{MemStorage, Queryable};

    fn run(text: &str, db: &MemStorage) -> Result<LoadStats, LoadError> {
        let s = Script::parse("t.test", text).unwrap();
        let Some(Command::Load(l)) = s.commands.first() else {
            panic!("want a load")
        };
        load(l, db)
    }

    /// The samples of `name` as `t=v` pairs.
    fn samples(db: &MemStorage, name: &str) -> String {
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let set = q
            .select(true, None, &[Matcher::equal("__name__", name)])
            .unwrap();
        let mut out = Vec::new();
        for s in set {
            let mut s = s.unwrap();
            while let Some(p) = s.samples.next() {
                let v = if is_stale_nan(p.v) {
                    "stale".to_owned()
                } else {
                    p.v.to_string()
                };
                out.push(format!("{}={v}", p.t));
            }
        }
        out.join(" ")
    }

    #[test]
    fn timestamps_gaps_and_stale() {
        let db = MemStorage::new();
        let st = run("load 1m\n foo 1 _ 3 stale\n bar _x2 0+5x1", &db).unwrap();
        assert_eq!(samples(&db, "foo"), "0=1 120000=3 180000=stale");
        assert_eq!(samples(&db, "bar"), "120000=0 180000=5");
        assert_eq!(
            st,
            LoadStats {
                floats: 5,
                ..LoadStats::default()
            }
        );
    }

    #[test]
    fn last_definition_wins() {
        let db = MemStorage::new();
        run("load 5m\n x{a=\"1\"} Inf 1\n x{a=\"1\"} -Inf", &db).unwrap();
        assert_eq!(samples(&db, "x"), "0=-inf");
    }

    #[test]
    fn left_out_parts_are_counted() {
        let db = MemStorage::new();
        let st = run(
            "load_with_nhcb 1m\n h 1 {{count:1}}\n h_count@st _ -1s\n h_count 1 2",
            &db,
        )
        .unwrap();
        assert_eq!(
            st,
            LoadStats {
                floats: 3,
                // The written one and two synthesised from h_count.
                skipped_histograms: 3,
                skipped_start_timestamps: 1,
            }
        );
        let e = run(
            "load_with_nhcb 1m\n x_bucket{le=\"1\"} 2\n x_bucket{le=\"2\"} 1",
            &db,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("cannot load native histograms of the block at line 1: cannot convert x"),
            "{e}"
        );
    }

    #[test]
    fn refused_samples_fail_the_load() {
        let db = MemStorage::new();
        run("load 1m\n foo 1 2", &db).unwrap();
        let e = run("load 1m\n foo 5", &db).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "cannot load series {__name__=\"foo\"} at 0 (line 2): out of order sample"
            ),
            "{e}"
        );
        assert_eq!(samples(&db, "foo"), "0=1 60000=2");
    }
}
