//! Reading a `prometheus.yml` from disk: decode, validate, resolve file
//! names against the config's directory, and load `scrape_config_files`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::discovery::StaticConfig;
use crate::error::ConfigError;
use crate::scrape::{ScrapeConfig, ScrapeConfigsFile};
use crate::validate::{FieldPath, Invalid, Seg};
use crate::yaml::{self, de::from_node, Node};

/// How to load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Agent mode: `alerting`, `rule_files` and `remote_read` are refused.
    pub agent_mode: bool,
}

/// Loads and validates a config file as Prometheus's `LoadFile` does.
pub fn load_file(path: &Path, options: LoadOptions) -> Result<Config, ConfigError> {
    let text = read(path)?;
    let name = path.display().to_string();
    let mut config = load_str(&text, &name)?;
    if options.agent_mode {
        config
            .check_agent_mode()
            .map_err(|e| locate(&name, None, e))?;
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    config.set_directory(dir);
    Ok(config)
}

/// Loads and validates config text; `name` names it in errors. Relative
/// file names stay as written.
pub fn load_str(text: &str, name: &str) -> Result<Config, ConfigError> {
    let tree = parse(text, name)?;
    let mut config: Config = decode(&tree, name)?;
    config
        .validate()
        .and_then(|()| config.check_loaded())
        .map_err(|e| locate(name, Some(&tree), e))?;
    Ok(config)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse(text: &str, name: &str) -> Result<Node, ConfigError> {
    yaml::parse(text).map_err(|e| {
        ConfigError::located(
            name,
            Some((e.mark.line, e.mark.col)),
            FieldPath::default(),
            e.message,
        )
    })
}

fn decode<'a, T: serde::Deserialize<'a>>(tree: &'a Node, name: &str) -> Result<T, ConfigError> {
    from_node(tree).map_err(|e| {
        ConfigError::located(
            name,
            e.mark.map(|m| (m.line, m.col)),
            FieldPath(e.path),
            e.message,
        )
    })
}

/// Turns a validation error into a located one, looking its path up in
/// the YAML tree for a line.
fn locate(name: &str, tree: Option<&Node>, e: Invalid) -> ConfigError {
    let position = tree.map(|t| {
        let m = t.find(&e.path).mark;
        (m.line, m.col)
    });
    ConfigError::located(name, position, FieldPath(e.path), e.message)
}

/// Decodes YAML text into `T` with this crate's strict decoder (unknown
/// and repeated keys refused, positions on errors), for the other files of
/// the Prometheus family such as rule files; `name` names the text in errors.
pub fn decode_yaml<T: for<'a> serde::Deserialize<'a>>(
    text: &str,
    name: &str,
) -> Result<T, ConfigError> {
    let tree = parse(text, name)?;
    decode(&tree, name)
}

/// Reads a file-SD file: a JSON or YAML list of target groups, decoded as
/// strictly as Prometheus decodes it.
pub fn load_target_groups(path: &Path) -> Result<Vec<StaticConfig>, ConfigError> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "json" | "yml" | "yaml") {
        let shown = path
            .extension()
            .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
        return Err(ConfigError::located(
            &name,
            None,
            FieldPath::default(),
            format!("invalid file extension: {shown:?}"),
        ));
    }
    let text = read(path)?;
    // JSON is YAML, so one decoder serves both formats.
    let tree = parse(&text, &name)?;
    let groups: Vec<Option<StaticConfig>> = decode(&tree, &name)?;
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            g.ok_or_else(|| {
                ConfigError::located(
                    &name,
                    None,
                    FieldPath(vec![Seg::Index(i)]),
                    format!("nil target group item found (index {i})"),
                )
            })
        })
        .collect()
}

/// Joins a relative file name onto `dir`, as Prometheus's `JoinDir`: empty
/// and absolute names are kept.
pub(crate) fn join_dir(dir: &Path, file: &mut String) {
    if file.is_empty() || Path::new(file.as_str()).is_absolute() {
        return;
    }
    *file = dir.join(file.as_str()).to_string_lossy().into_owned();
}

impl Config {
    /// Every scrape config: the main file's, then those of the files that
    /// `scrape_config_files` matches, each checked and given the global
    /// defaults as Prometheus's `GetScrapeConfigs` does. Job names must be
    /// unique across all of them.
    pub fn all_scrape_configs(&self) -> Result<Vec<ScrapeConfig>, ConfigError> {
        let mut out = self.scrape_configs.clone();
        let mut jobs: HashMap<String, String> = out
            .iter()
            .map(|s| (s.job_name.clone(), "main config file".to_owned()))
            .collect();
        for pattern in &self.scrape_config_files {
            let paths = glob::glob(pattern).map_err(|e| {
                ConfigError::located(
                    pattern,
                    None,
                    FieldPath::default(),
                    format!("error retrieving scrape config files for {pattern:?}: {e}"),
                )
            })?;
            let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
            files.sort();
            for file in files {
                let shown = format!("{:?}", absolute(&file).display().to_string());
                let name = file.display().to_string();
                let text = read(&file)?;
                let tree = parse(&text, &name)?;
                let included: ScrapeConfigsFile = decode(&tree, &name)?;
                for (i, mut s) in included.scrape_configs.into_iter().enumerate() {
                    let at =
                        |e: Invalid| locate(&name, Some(&tree), e.at_index(i).at("scrape_configs"));
                    s.check_decoded().map_err(at)?;
                    s.resolve(&self.global).map_err(at)?;
                    if let Some(first) = jobs.get(&s.job_name) {
                        return Err(at(crate::validate::invalid(format!(
                            "found multiple scrape configs with job name {:?}, first found in {first}",
                            s.job_name
                        ))));
                    }
                    jobs.insert(s.job_name.clone(), shown.clone());
                    s.set_directory(file.parent().unwrap_or(Path::new("")));
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_line_and_field() {
        let e = load_str(
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 20s\n",
            "t.yml",
        )
        .unwrap_err();
        let l = e.location().unwrap();
        assert_eq!(l.position, Some((2, 5)));
        assert_eq!(l.field.to_string(), "scrape_configs[0]");
        assert_eq!(
            l.message,
            r#"scrape timeout greater than scrape interval for scrape config with job name "a""#
        );

        let e = load_str("global:\n  scrape_interval: 1x\n", "t.yml").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"t.yml:2:20: global.scrape_interval: not a valid duration string: "1x""#
        );
    }

    #[test]
    fn target_group_files() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("t.json");
        std::fs::write(
            &json,
            r#"[{"targets": ["a:1"], "labels": {"env": "prod"}}]"#,
        )
        .unwrap();
        let groups = load_target_groups(&json).unwrap();
        assert_eq!(groups[0].targets, ["a:1"]);
        assert_eq!(groups[0].labels["env"], "prod");
        let yml = dir.path().join("t.yml");
        std::fs::write(&yml, "- targets: [a:1]\n  bogus: 1\n").unwrap();
        let e = load_target_groups(&yml).unwrap_err();
        assert!(e.message().contains("field bogus not found"), "{e}");
        std::fs::write(&yml, "- targets: [a:1]\n- null\n").unwrap();
        assert_eq!(
            load_target_groups(&yml).unwrap_err().message(),
            "nil target group item found (index 1)"
        );
        let txt = dir.path().join("t.txt");
        std::fs::write(&txt, "").unwrap();
        assert_eq!(
            load_target_groups(&txt).unwrap_err().message(),
            r#"invalid file extension: ".txt""#
        );
    }

    #[test]
    fn directories_are_joined() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yml");
        std::fs::write(&path, "rule_files: [a.rules, /abs.rules]\nscrape_configs:\n  - job_name: j\n    bearer_token_file: tok\n").unwrap();
        let c = load_file(&path, LoadOptions::default()).unwrap();
        assert_eq!(
            c.rule_files[0],
            dir.path().join("a.rules").to_string_lossy()
        );
        assert_eq!(c.rule_files[1], "/abs.rules");
        let auth = c.scrape_configs[0].http.authorization.as_ref().unwrap();
        assert_eq!(
            auth.credentials_file,
            dir.path().join("tok").to_string_lossy()
        );
    }

    #[test]
    fn included_scrape_configs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("inc.yml"),
            "scrape_configs:\n  - job_name: a\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("inc2.yml"),
            "scrape_configs:\n  - job_name: b\n",
        )
        .unwrap();
        let main = dir.path().join("p.yml");
        std::fs::write(
            &main,
            "scrape_config_files: ['inc*.yml']\nscrape_configs:\n  - job_name: b\n",
        )
        .unwrap();
        let c = load_file(&main, LoadOptions::default()).unwrap();
        let e = c.all_scrape_configs().unwrap_err();
        assert_eq!(
            e.message(),
            "found multiple scrape configs with job name \"b\", first found in main config file"
        );
        assert!(
            e.to_string().contains("inc2.yml:2:5: scrape_configs[0]: "),
            "{e}"
        );
        std::fs::write(
            &main,
            "scrape_config_files: ['inc.yml']\nscrape_configs:\n  - job_name: b\n",
        )
        .unwrap();
        let c = load_file(&main, LoadOptions::default()).unwrap();
        let jobs: Vec<_> = c
            .all_scrape_configs()
            .unwrap()
            .into_iter()
            .map(|s| s.job_name)
            .collect();
        assert_eq!(jobs, ["b", "a"]);
    }
}
