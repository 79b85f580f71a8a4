//! Sections about the server's own telemetry and ingestion paths:
//! `tracing` (OpenTelemetry export), `otlp` (OTLP ingestion) and `runtime`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::discovery::yaml_struct;
use crate::http_client::TlsConfig;
use crate::remote::check_headers;
use crate::validate::{invalid, Check};

yaml_struct! {
    /// The `tracing` section.
    pub struct TracingConfig {
        client_type: String = "grpc".to_owned(),
        endpoint: String = String::new(),
        sampling_fraction: f64 = 0.0,
        insecure: bool = false,
        tls_config: TlsConfig = TlsConfig::default(),
        headers: BTreeMap<String, String> = BTreeMap::new(),
        compression: String = String::new(),
        #[serde(with = "crate::values::duration")]
        timeout: Duration = Duration::ZERO,
    }
}

impl TracingConfig {
    pub(crate) fn validate(&self) -> Check {
        if self.client_type != "http" && self.client_type != "grpc" {
            return Err(invalid(format!(
                "expected tracing client type to be to be http or grpc, but got {}",
                self.client_type
            ))
            .at("client_type"));
        }
        self.tls_config.validate().map_err(|e| e.at("tls_config"))?;
        check_headers(
            &self.headers,
            "custom authorization header configuration is not yet supported",
        )?;
        if self.endpoint.is_empty() {
            return Err(invalid("tracing endpoint must be set"));
        }
        if !self.compression.is_empty() && self.compression != "gzip" {
            return Err(invalid(format!(
                "invalid compression type {} provided, valid options: gzip",
                self.compression
            ))
            .at("compression"));
        }
        Ok(())
    }
}

/// OTLP metric name translation strategies.
pub const TRANSLATION_STRATEGIES: [&str; 4] = [
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
];

yaml_struct! {
    /// The `otlp` section: how OTLP metrics become Prometheus series.
    pub struct OtlpConfig {
        promote_all_resource_attributes: bool = false,
        promote_resource_attributes: Vec<String> = Vec::new(),
        ignore_resource_attributes: Vec<String> = Vec::new(),
        translation_strategy: String = "UnderscoreEscapingWithSuffixes".to_owned(),
        keep_identifying_resource_attributes: bool = false,
        convert_histograms_to_nhcb: bool = false,
        promote_scope_metadata: bool = false,
        label_name_underscore_sanitization: bool = true,
        label_name_preserve_multiple_underscores: bool = true,
    }
}

/// Trims attribute names and reports empty and repeated ones, all of them,
/// one per line (Go's `errors.Join`).
fn sanitize_attributes(attributes: &mut [String], adjective: &str) -> Result<(), String> {
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for attr in attributes.iter_mut() {
        let trimmed = attr.trim().to_owned();
        if trimmed.is_empty() {
            errors.push(format!("empty {adjective} OTel resource attribute"));
            continue;
        }
        if seen.contains(&trimmed) {
            errors.push(format!(
                "duplicated {adjective} OTel resource attribute {trimmed:?}"
            ));
            continue;
        }
        seen.push(trimmed.clone());
        *attr = trimmed;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

impl OtlpConfig {
    pub(crate) fn validate(&mut self) -> Check {
        if self.promote_all_resource_attributes {
            if !self.promote_resource_attributes.is_empty() {
                return Err(invalid("'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously"));
            }
            sanitize_attributes(&mut self.ignore_resource_attributes, "ignored").map_err(|e| {
                invalid(format!("invalid 'ignore_resource_attributes': {e}"))
                    .at("ignore_resource_attributes")
            })?;
        } else {
            if !self.ignore_resource_attributes.is_empty() {
                return Err(invalid("'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true"));
            }
            sanitize_attributes(&mut self.promote_resource_attributes, "promoted").map_err(
                |e| {
                    invalid(format!("invalid 'promote_resource_attributes': {e}"))
                        .at("promote_resource_attributes")
                },
            )?;
        }
        Ok(())
    }

    /// The check Prometheus makes once the whole file is read, since it
    /// depends on the global name validation scheme.
    pub(crate) fn check_strategy(&self, legacy_names: bool) -> Check {
        let s = self.translation_strategy.as_str();
        match s {
            "" | "UnderscoreEscapingWithSuffixes" | "UnderscoreEscapingWithoutSuffixes" => Ok(()),
            "NoTranslation" | "NoUTF8EscapingWithSuffixes" if legacy_names => Err(invalid(
                format!("OTLP translation strategy {s:?} is not allowed when UTF8 is disabled"),
            )
            .at("translation_strategy")),
            "NoTranslation" | "NoUTF8EscapingWithSuffixes" => Ok(()),
            _ => Err(
                invalid(format!("unsupported OTLP translation strategy {s:?}"))
                    .at("translation_strategy"),
            ),
        }
    }
}

yaml_struct! {
    /// The `runtime` section.
    pub struct RuntimeConfig {
        gogc: i64 = 0,
    }
}

impl RuntimeConfig {
    /// Fills in Go's GC target as Prometheus does (`GOGC` or 75); pharos
    /// has no garbage collector, but keeps the value for the status page.
    pub(crate) fn apply_default(&mut self) {
        if self.gogc == 0 {
            self.gogc = std::env::var("GOGC")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(75);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists_report_every_problem() {
        let mut o = OtlpConfig {
            promote_resource_attributes: vec![" a ".into(), "".into(), "a".into()],
            ..OtlpConfig::default()
        };
        let e = o.validate().unwrap_err().message;
        assert!(
            e.starts_with(
                "invalid 'promote_resource_attributes': empty promoted OTel resource attribute"
            ),
            "{e}"
        );
        assert!(
            e.contains(r#"duplicated promoted OTel resource attribute "a""#),
            "{e}"
        );
    }

    #[test]
    fn strategies() {
        let o = OtlpConfig {
            translation_strategy: "NoTranslation".into(),
            ..OtlpConfig::default()
        };
        assert!(o.check_strategy(false).is_ok());
        assert!(o.check_strategy(true).is_err());
        let o = OtlpConfig {
            translation_strategy: "Invalid".into(),
            ..OtlpConfig::default()
        };
        assert_eq!(
            o.check_strategy(false).unwrap_err().message,
            r#"unsupported OTLP translation strategy "Invalid""#
        );
    }

    #[test]
    fn tracing_needs_an_endpoint() {
        let t = TracingConfig::default();
        assert_eq!(
            t.validate().unwrap_err().message,
            "tracing endpoint must be set"
        );
        let t = TracingConfig {
            endpoint: "x:4317".into(),
            compression: "foo".into(),
            ..TracingConfig::default()
        };
        assert_eq!(
            t.validate().unwrap_err().message,
            "invalid compression type foo provided, valid options: gzip"
        );
    }
}
