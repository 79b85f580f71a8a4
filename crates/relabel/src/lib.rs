//! Relabeling: Prometheus's `relabel_config` rules and their application to
//! label sets.
//!
//! One rule shape serves target relabeling (`relabel_configs`), series
//! relabeling after a scrape (`metric_relabel_configs`), and alert and
//! remote-write relabeling. This crate owns the rule ([`RelabelConfig`]:
//! YAML form, defaults, validation with Prometheus's messages) and its
//! semantics ([`process()`], [`Relabeler`]); it knows nothing of discovery,
//! scraping or where the rules sit in `prometheus.yml`.
//!
//! Semantics follow Prometheus 3.x's `model/relabel`: regexes are anchored
//! (`^(?s:…)$`) RE2 patterns, templates expand as Go's `ExpandString`, an
//! empty result deletes a label, and `hashmod` uses the last 8 bytes of the
//! MD5 of the joined values. Details that are easy to get wrong, each pinned
//! by a test:
//! - `$1x` names group `1x`, not group 1 then `x` (write `${1}x`);
//! - Go's `\d`, `\w`, `\s`, `\b` are ASCII-only (see [`regex`] for the
//!   other syntax differences);
//! - a `replace` whose expanded `target_label` is no valid name under the
//!   rule's [`NameValidationScheme`] does nothing;
//! - `labelmap` visits unchanged labels in name order, then labels changed
//!   by earlier rules in the order they were first changed (this decides
//!   which of two labels mapped to one name wins); labels it writes are not
//!   visited again, and the names it writes are not checked;
//! - `lowercase`/`uppercase` map one character to one character, as Go
//!   does (`ß` stays `ß` in upper case);
//! - an explicit `regex: (.*)` is not the default: `keepequal`/`dropequal`
//!   refuse it, and it is written back when the rule is serialized.
//!
//! Known difference: [`process_builder`] treats every label in the builder
//! as unchanged for `labelmap`'s visiting order, since a `LabelsBuilder`
//! does not record which labels were set after it was seeded.
//!
//! ```
//! use relabel::{process, RelabelConfig, NameValidationScheme};
//!
//! let yaml = r#"
//! - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_name]
//!   separator: /
//!   target_label: instance
//! - action: labelmap
//!   regex: __meta_kubernetes_pod_label_(.+)
//! - source_labels: [app]
//!   regex: canary-.*
//!   action: drop
//! "#;
//! let mut rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(yaml).unwrap();
//! for r in &mut rules {
//!     r.validate(NameValidationScheme::Utf8).unwrap();
//! }
//! let target = model::Labels::from_pairs(&[
//!     ("__meta_kubernetes_namespace", "prod"),
//!     ("__meta_kubernetes_pod_name", "web-0"),
//!     ("__meta_kubernetes_pod_label_app", "web"),
//! ]);
//! let out = process(&target, &rules).unwrap();
//! assert_eq!(out.get("instance"), Some("prod/web-0"));
//! assert_eq!(out.get("app"), Some("web"));
//! ```

pub mod config;
mod expand;
pub mod process;
pub mod regex;

pub use config::{Action, ConfigError, NameValidationScheme, RelabelConfig};
pub use process::{process, process_builder, Relabeler};
pub use regex::{Regex, RegexError};
