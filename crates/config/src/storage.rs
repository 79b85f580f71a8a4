//! The `storage` section: TSDB settings that may change at runtime
//! (out-of-order window, retention, chunk encoding) and exemplar storage.

use std::time::Duration;

use crate::discovery::yaml_struct;
use crate::validate::{invalid, Check};

yaml_struct! {
    /// The `storage` section.
    pub struct StorageConfig {
        tsdb: Option<TsdbConfig> = None,
        exemplars: Option<ExemplarsConfig> = None,
    }
}

yaml_struct! {
    /// `storage.tsdb`.
    pub struct TsdbConfig {
        #[serde(with = "crate::values::duration")]
        out_of_order_time_window: Duration = Duration::ZERO,
        stale_series_compaction_threshold: f64 = 0.0,
        chunk_encoding: ChunkEncodingConfig = ChunkEncodingConfig::default(),
        retention: Option<RetentionConfig> = None,
    }
}

yaml_struct! {
    /// `storage.tsdb.chunk_encoding`.
    pub struct ChunkEncodingConfig {
        floats: String = String::new(),
    }
}

yaml_struct! {
    /// `storage.tsdb.retention`: zero values leave the command-line flags
    /// in force.
    pub struct RetentionConfig {
        #[serde(with = "crate::values::duration")]
        time: Duration = Duration::ZERO,
        #[serde(with = "crate::values::byte_size")]
        size: i64 = 0,
        percentage: f64 = 0.0,
    }
}

yaml_struct! {
    /// `storage.exemplars`.
    pub struct ExemplarsConfig {
        max_exemplars: i64 = 100_000,
    }
}

impl StorageConfig {
    /// Checks and fills in defaults: a TSDB section with an empty retention
    /// always exists after loading, as in Prometheus.
    pub(crate) fn validate(&mut self) -> Check {
        let tsdb = self.tsdb.get_or_insert_with(TsdbConfig::default);
        if let Some(r) = &tsdb.retention {
            if r.size < 0 {
                return Err(invalid(format!(
                    "'storage.tsdb.retention.size' must be greater than or equal to 0, got {}",
                    r.size
                ))
                .at("size")
                .at("retention")
                .at("tsdb"));
            }
            if !(0.0..=100.0).contains(&r.percentage) {
                return Err(invalid(format!(
                    "'storage.tsdb.retention.percentage' must be in the range [0, 100], got {}",
                    r.percentage
                ))
                .at("percentage")
                .at("retention")
                .at("tsdb"));
            }
        }
        match tsdb.chunk_encoding.floats.as_str() {
            "" | "xor" | "xor2" => {}
            other => {
                return Err(invalid(format!("'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got {other:?}"))
                    .at("floats")
                    .at("chunk_encoding")
                    .at("tsdb"))
            }
        }
        tsdb.retention.get_or_insert_with(RetentionConfig::default);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_and_encoding_checks() {
        let mut s = StorageConfig::default();
        s.validate().unwrap();
        assert!(s.tsdb.as_ref().unwrap().retention.is_some());
        let mut s = StorageConfig {
            tsdb: Some(TsdbConfig {
                retention: Some(RetentionConfig {
                    percentage: 101.0,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(s.validate().unwrap_err().message.contains("[0, 100]"));
        let mut s = StorageConfig {
            tsdb: Some(TsdbConfig {
                chunk_encoding: ChunkEncodingConfig {
                    floats: "XOR".into(),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(s.validate().unwrap_err().message.ends_with(r#"got "XOR""#));
    }
}
