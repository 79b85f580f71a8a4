//! The whole `prometheus.yml` and the order in which Prometheus checks it.

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use crate::alerting::AlertingConfig;
use crate::discovery::yaml_struct;
use crate::global::GlobalConfig;
use crate::load::join_dir;
use crate::remote::{RemoteReadConfig, RemoteWriteConfig};
use crate::scrape::ScrapeConfig;
use crate::storage::StorageConfig;
use crate::telemetry::{OtlpConfig, RuntimeConfig, TracingConfig};
use crate::validate::{invalid, Check};
use crate::values::non_null_list;

non_null_list!(
    /// `scrape_configs`.
    scrape_config_list,
    "empty or null scrape config section"
);
non_null_list!(
    /// `remote_write`.
    remote_write_list,
    "empty or null remote write config section"
);
non_null_list!(
    /// `remote_read`.
    remote_read_list,
    "empty or null remote read config section"
);

yaml_struct! {
    /// A `prometheus.yml`. After [`crate::load_file`] every default is
    /// filled in and every relative file name is resolved against the
    /// config file's directory; jobs from `scrape_config_files` are added
    /// by [`Config::all_scrape_configs`].
    pub struct Config {
        global: GlobalConfig = GlobalConfig::default(),
        runtime: RuntimeConfig = RuntimeConfig::default(),
        alerting: AlertingConfig = AlertingConfig::default(),
        rule_files: Vec<String> = Vec::new(),
        scrape_config_files: Vec<String> = Vec::new(),
        #[serde(deserialize_with = "scrape_config_list")]
        scrape_configs: Vec<ScrapeConfig> = Vec::new(),
        storage: StorageConfig = StorageConfig::default(),
        tracing: Option<TracingConfig> = None,
        #[serde(deserialize_with = "remote_write_list")]
        remote_write: Vec<RemoteWriteConfig> = Vec::new(),
        #[serde(deserialize_with = "remote_read_list")]
        remote_read: Vec<RemoteReadConfig> = Vec::new(),
        otlp: OtlpConfig = OtlpConfig::default(),
    }
}

/// Rule and scrape-config file globs may have a wildcard only in the last
/// path element.
fn glob_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[^*]*(\*[^/]*)?$").unwrap_or_else(|e| panic!("BUG: glob pattern: {e}"))
    })
}

impl Config {
    /// Prometheus's checks and defaults, in its order: each section as it
    /// is decoded, then the checks across sections.
    pub(crate) fn validate(&mut self) -> Check {
        self.global.validate().map_err(|e| e.at("global"))?;
        self.runtime.apply_default();
        for (i, s) in self.scrape_configs.iter_mut().enumerate() {
            s.check_decoded()
                .map_err(|e| e.at_index(i).at("scrape_configs"))?;
        }
        self.storage.validate().map_err(|e| e.at("storage"))?;
        if let Some(t) = &self.tracing {
            t.validate().map_err(|e| e.at("tracing"))?;
        }
        self.otlp.validate().map_err(|e| e.at("otlp"))?;
        for (i, f) in self.rule_files.iter().enumerate() {
            if !glob_pattern().is_match(f) {
                return Err(invalid(format!("invalid rule file path {f:?}"))
                    .at_index(i)
                    .at("rule_files"));
            }
        }
        for (i, f) in self.scrape_config_files.iter().enumerate() {
            if !glob_pattern().is_match(f) {
                return Err(invalid(format!("invalid scrape config file path {f:?}"))
                    .at_index(i)
                    .at("scrape_config_files"));
            }
        }
        let mut jobs = HashSet::new();
        for (i, s) in self.scrape_configs.iter_mut().enumerate() {
            let at = |e: crate::validate::Invalid| e.at_index(i).at("scrape_configs");
            s.resolve(&self.global).map_err(at)?;
            if !jobs.insert(s.job_name.clone()) {
                return Err(at(invalid(format!(
                    "found multiple scrape configs with job name {:?}",
                    s.job_name
                ))));
            }
        }
        let scheme = self.global.validation_scheme();
        self.alerting
            .validate(scheme)
            .map_err(|e| e.at("alerting"))?;
        let mut names = HashSet::new();
        for (i, rw) in self.remote_write.iter_mut().enumerate() {
            let at = |e: crate::validate::Invalid| e.at_index(i).at("remote_write");
            rw.validate(scheme).map_err(at)?;
            if !rw.name.is_empty() && !names.insert(rw.name.clone()) {
                return Err(at(invalid(format!(
                    "found multiple remote write configs with job name {:?}",
                    rw.name
                ))));
            }
        }
        let mut names = HashSet::new();
        for (i, rr) in self.remote_read.iter_mut().enumerate() {
            let at = |e: crate::validate::Invalid| e.at_index(i).at("remote_read");
            rr.validate().map_err(at)?;
            if !rr.name.is_empty() && !names.insert(rr.name.clone()) {
                return Err(at(invalid(format!(
                    "found multiple remote read configs with job name {:?}",
                    rr.name
                ))));
            }
        }
        Ok(())
    }

    /// Checks made once the whole file is read.
    pub(crate) fn check_loaded(&mut self) -> Check {
        for value in self.global.external_labels.values_mut() {
            *value = expand_env(value);
        }
        let legacy = self.global.validation_scheme() == relabel::NameValidationScheme::Legacy;
        self.otlp.check_strategy(legacy).map_err(|e| e.at("otlp"))
    }

    /// The checks of agent mode, which has no rules, alerting or remote read.
    pub(crate) fn check_agent_mode(&self) -> Check {
        if !self.alerting.is_empty() {
            return Err(invalid("field alerting is not allowed in agent mode").at("alerting"));
        }
        if !self.rule_files.is_empty() {
            return Err(invalid("field rule_files is not allowed in agent mode").at("rule_files"));
        }
        if !self.remote_read.is_empty() {
            return Err(invalid("field remote_read is not allowed in agent mode").at("remote_read"));
        }
        Ok(())
    }

    /// The config as YAML, secrets shown as `<secret>` and passwords in
    /// URLs as `xxxxx` (what Prometheus's status page shows). Loading the
    /// text again gives the same config, but for those secrets.
    pub fn to_yaml(&self) -> Result<String, crate::SerError> {
        crate::yaml::ser::to_string(self)
    }

    /// The service discoveries this config uses that pharos cannot run
    /// yet, one message per section: the server refuses to start with
    /// them rather than silently discovering nothing. Jobs from
    /// `scrape_config_files` are checked with
    /// [`ServiceDiscoveryConfigs::unsupported`] on [`Config::all_scrape_configs`].
    ///
    /// [`ServiceDiscoveryConfigs::unsupported`]: crate::ServiceDiscoveryConfigs::unsupported
    pub fn unsupported_discoveries(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.scrape_configs {
            for key in s.service_discovery.unsupported() {
                out.push(format!(
                    "scrape config with job name {:?}: {key} is not supported by pharos yet",
                    s.job_name
                ));
            }
        }
        for (i, am) in self.alerting.alertmanagers.iter().enumerate() {
            for key in am.service_discovery.unsupported() {
                out.push(format!(
                    "alerting.alertmanagers[{i}]: {key} is not supported by pharos yet"
                ));
            }
        }
        out
    }

    /// Resolves relative file names against `dir`.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.global.set_directory(dir);
        self.alerting.set_directory(dir);
        for s in &mut self.scrape_configs {
            s.set_directory(dir);
        }
        for f in self
            .rule_files
            .iter_mut()
            .chain(&mut self.scrape_config_files)
        {
            join_dir(dir, f);
        }
        for rw in &mut self.remote_write {
            rw.set_directory(dir);
        }
        for rr in &mut self.remote_read {
            rr.set_directory(dir);
        }
        if let Some(t) = &mut self.tracing {
            t.tls_config.set_directory(dir);
        }
    }
}

/// Expands `$VAR` and `${VAR}` from the environment as Go's `os.Expand`
/// does, with `$$` for a literal `$`; unset variables expand to nothing.
/// Prometheus 3.x does this for external label values only.
pub(crate) fn expand_env(s: &str) -> String {
    expand_with(s, |name| {
        if name == "$" {
            "$".to_owned()
        } else {
            std::env::var(name).unwrap_or_default()
        }
    })
}

fn is_special(c: u8) -> bool {
    matches!(c, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || c.is_ascii_digit()
}

fn expand_with(s: &str, mut lookup: impl FnMut(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[last..j]);
            let rest = &s[j + 1..];
            let (name, width) = shell_name(rest);
            if name.is_empty() && width == 0 {
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name));
            }
            j += 1 + width;
            last = j;
        } else {
            j += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// The variable name after a `$` and how many bytes it spans; an empty
/// name with a width is bad syntax, which Go drops silently.
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        return match s[1..].find('}') {
            Some(0) => ("", 2),
            Some(i) => (&s[1..i + 1], i + 2),
            None => ("", 1),
        };
    }
    if is_special(b[0]) {
        return (&s[..1], 1);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    (&s[..n], n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_go() {
        let lookup = |n: &str| match n {
            "$" => "$".to_owned(),
            "TEST" => "x".to_owned(),
            _ => String::new(),
        };
        for (input, want) in [
            ("${TEST}", "x"),
            ("foo${TEST}bar", "fooxbar"),
            ("foo$${TEST}", "foo${TEST}"),
            ("foo$$bar", "foo$bar"),
            ("$TEST-y", "x-y"),
            ("a$", "a$"),
            ("$UNSET", ""),
            ("a $ b", "a $ b"),
        ] {
            assert_eq!(expand_with(input, lookup), want, "{input}");
        }
    }

    #[test]
    fn unsupported_discoveries_are_named() {
        let text = "scrape_configs:\n  - job_name: a\n    ec2_sd_configs: [{region: x}]\n    file_sd_configs: [{files: [f.json]}]\n  - job_name: b\n    kubernetes_sd_configs: [{role: pod}]\n";
        let c = crate::load_str(text, "t.yml").unwrap();
        assert_eq!(
            c.unsupported_discoveries(),
            [r#"scrape config with job name "a": ec2_sd_configs is not supported by pharos yet"#]
        );
    }

    #[test]
    fn glob_patterns() {
        assert!(glob_pattern().is_match("rules/*.yml"));
        assert!(!glob_pattern().is_match("my/*/rule"));
    }
}
