//! `static_configs` (target groups written in the config) and
//! `file_sd_configs` (target groups read from JSON/YAML files).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::{yaml_struct, SdConfig};
use crate::load::join_dir;
use crate::validate::{invalid, Check};

/// A target group: `targets` (host:port) sharing `labels`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// `targets`: `host:port` addresses.
    pub targets: Vec<String>,
    /// `labels` added to every target of the group.
    #[serde(deserialize_with = "crate::values::label_set::deserialize")]
    pub labels: BTreeMap<String, String>,
}

impl SdConfig for StaticConfig {
    const KEY: &'static str = "static_configs";
    const SUPPORTED: bool = true;
    fn validate(&mut self) -> Check {
        Ok(())
    }
}

impl StaticConfig {
    /// Prometheus's check that targets are addresses, not URLs; made only
    /// when no relabeling could rewrite them.
    pub(crate) fn check_targets(&self) -> Check {
        for (i, t) in self.targets.iter().enumerate() {
            if t.contains('/') {
                return Err(invalid(format!("{t:?} is not a valid hostname"))
                    .at_index(i)
                    .at("targets"));
            }
        }
        Ok(())
    }
}

yaml_struct! {
    /// `file_sd_configs`: target groups from files, re-read on change and
    /// every `refresh_interval`.
    pub struct FileSdConfig {
        files: Vec<String> = Vec::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(300),
    }
}

fn file_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")
            .unwrap_or_else(|e| panic!("BUG: file SD pattern: {e}"))
    })
}

impl SdConfig for FileSdConfig {
    const KEY: &'static str = "file_sd_configs";
    const SUPPORTED: bool = true;
    fn validate(&mut self) -> Check {
        if self.files.is_empty() {
            return Err(invalid(
                "file service discovery config must contain at least one path name",
            ));
        }
        for (i, name) in self.files.iter().enumerate() {
            if !file_pattern().is_match(name) {
                return Err(invalid(format!(
                    "path name {name:?} is not valid for file discovery"
                ))
                .at_index(i)
                .at("files"));
            }
        }
        Ok(())
    }
    fn set_directory(&mut self, dir: &Path) {
        for f in &mut self.files {
            join_dir(dir, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_need_a_known_extension() {
        for (files, ok) in [
            (vec!["a/*.json"], true),
            (vec!["a/b.yml"], true),
            (vec!["a/*/b.yml"], false),
            (vec!["a/b.txt"], false),
            (vec![], false),
        ] {
            let mut c = FileSdConfig {
                files: files.into_iter().map(String::from).collect(),
                ..FileSdConfig::default()
            };
            assert_eq!(c.validate().is_ok(), ok, "{:?}", c.files);
        }
    }

    #[test]
    fn urls_are_not_targets() {
        let g = StaticConfig {
            targets: vec!["a:1".into(), "http://bad".into()],
            ..StaticConfig::default()
        };
        assert_eq!(
            g.check_targets().unwrap_err().message,
            r#""http://bad" is not a valid hostname"#
        );
    }
}
