//! `pharos check config [--syntax-only] [--agent] <file>...`, as promtool's
//! `check config`: load each file as the server would (including the files
//! of `scrape_config_files`); unless `--syntax-only`, also check that the
//! files the config points at exist — rule files (then checked as rule
//! files), credentials, TLS certificates and keys, file-SD target files.
//!
//! Output follows promtool: `Checking <file>`, then ` SUCCESS: <file> is
//! valid prometheus config file syntax` or, on stderr, `  FAILED: <error>`,
//! where pharos's error also names the line, column and field.

use std::io::Write;
use std::path::{Path, PathBuf};

use config::{Config, LoadOptions, ScrapeConfig, ServiceDiscoveryConfigs, TlsConfig};

use super::rules;

/// Checks every file; false if any is invalid.
pub(crate) fn check_files(
    out: &mut dyn Write,
    err: &mut dyn Write,
    files: &[PathBuf],
    syntax_only: bool,
    agent_mode: bool,
) -> std::io::Result<bool> {
    let mut ok = true;
    for file in files {
        writeln!(out, "Checking {}", file.display())?;
        let mut warnings = Vec::new();
        let checked = check_one(file, syntax_only, agent_mode, &mut warnings);
        for w in &warnings {
            writeln!(out, "  WARNING: {w}")?;
        }
        let rule_files = match checked {
            Ok(rule_files) => {
                if !rule_files.is_empty() {
                    writeln!(out, "  SUCCESS: {} rule files found", rule_files.len())?;
                }
                writeln!(
                    out,
                    " SUCCESS: {} is valid prometheus config file syntax",
                    file.display()
                )?;
                rule_files
            }
            Err(e) => {
                out.flush()?;
                writeln!(err, "  FAILED: {e}")?;
                ok = false;
                Vec::new()
            }
        };
        writeln!(out)?;
        if !syntax_only {
            ok &= rules::check_files(out, err, &rule_files)?;
        }
    }
    Ok(ok)
}

/// Loads one config and checks the files it names; returns its rule files.
fn check_one(
    file: &Path,
    syntax_only: bool,
    agent_mode: bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, String> {
    let cfg = config::load_file(file, LoadOptions { agent_mode }).map_err(|e| e.to_string())?;
    if syntax_only {
        // promtool checks only what needs no file: the main file's jobs,
        // their client certificate and key given together.
        for s in &cfg.scrape_configs {
            check_scrape_config(s, true, warnings)?;
        }
        return Ok(Vec::new());
    }
    let rule_files = rule_files(&cfg)?;
    let scrape_configs = cfg
        .all_scrape_configs()
        .map_err(|e| format!("error loading scrape configs: {e}"))?;
    for s in &scrape_configs {
        check_scrape_config(s, false, warnings)?;
    }
    for am in &cfg.alerting.alertmanagers {
        check_sd_files(&am.service_discovery, None, warnings)?;
    }
    Ok(rule_files)
}

/// Expands `rule_files`; a name without a wildcard must exist.
fn rule_files(cfg: &Config) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for pattern in &cfg.rule_files {
        let found: Vec<PathBuf> = glob::glob(pattern)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .collect();
        if !pattern.contains('*') && found.is_empty() {
            return Err(format!("{pattern:?} does not point to an existing file"));
        }
        out.extend(found);
    }
    Ok(out)
}

fn check_scrape_config(
    s: &ScrapeConfig,
    syntax_only: bool,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    if let Some(auth) = s.http.authorization.as_ref().filter(|_| !syntax_only) {
        exists(&auth.credentials_file).map_err(|e| {
            format!(
                "error checking authorization credentials or bearer token file {:?}: {e}",
                auth.credentials_file
            )
        })?;
    }
    check_tls(&s.http.tls_config, syntax_only)?;
    for k in &s.service_discovery.kubernetes_sd_configs {
        check_tls(&k.http.tls_config, syntax_only)?;
    }
    if syntax_only {
        return Ok(());
    }
    check_sd_files(&s.service_discovery, Some(&s.job_name), warnings)
}

/// promtool's check of a client certificate and key: both or neither, and
/// (unless syntax only) both present on disk.
fn check_tls(tls: &TlsConfig, syntax_only: bool) -> Result<(), String> {
    if !tls.cert_file.is_empty() && tls.key_file.is_empty() {
        return Err(format!(
            "client cert file {:?} specified without client key file",
            tls.cert_file
        ));
    }
    if !tls.key_file.is_empty() && tls.cert_file.is_empty() {
        return Err(format!(
            "client key file {:?} specified without client cert file",
            tls.key_file
        ));
    }
    if syntax_only {
        return Ok(());
    }
    exists(&tls.cert_file)
        .map_err(|e| format!("error checking client cert file {:?}: {e}", tls.cert_file))?;
    exists(&tls.key_file)
        .map_err(|e| format!("error checking client key file {:?}: {e}", tls.key_file))
}

/// Reads every file-SD file the sections name; a pattern matching nothing
/// is only a warning, as the files may appear later.
fn check_sd_files(
    sd: &ServiceDiscoveryConfigs,
    job: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    for f in &sd.file_sd_configs {
        for pattern in &f.files {
            let found: Vec<PathBuf> = glob::glob(pattern)
                .map_err(|e| e.to_string())?
                .filter_map(Result::ok)
                .collect();
            if found.is_empty() {
                warnings.push(match job {
                    Some(j) => {
                        format!("file {pattern:?} for file_sd in scrape job {j:?} does not exist")
                    }
                    None => format!(
                        "file {pattern:?} for file_sd in alertmanager config does not exist"
                    ),
                });
            }
            for path in found {
                config::load_target_groups(&path)
                    .map_err(|e| format!("checking SD file {pattern:?}: {e}"))?;
            }
        }
    }
    Ok(())
}

fn exists(file: &str) -> std::io::Result<()> {
    if file.is_empty() {
        return Ok(());
    }
    std::fs::metadata(file).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(files: &[PathBuf], syntax_only: bool) -> (bool, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let ok = check_files(&mut out, &mut err, files, syntax_only, false).unwrap();
        (
            ok,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn valid_and_invalid_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.yml");
        std::fs::write(&good, "scrape_configs:\n  - job_name: j\n").unwrap();
        let (ok, out, err) = run(std::slice::from_ref(&good), false);
        assert!(ok, "{err}");
        assert_eq!(
            out,
            format!(
                "Checking {0}\n SUCCESS: {0} is valid prometheus config file syntax\n\n",
                good.display()
            )
        );
        let bad = dir.path().join("bad.yml");
        std::fs::write(&bad, "scrape_configs:\n  - job_name: ''\n").unwrap();
        let (ok, _, err) = run(&[good, bad.clone()], false);
        assert!(!ok);
        assert_eq!(
            err,
            format!(
                "  FAILED: {}:2:5: scrape_configs[0]: job_name is empty\n",
                bad.display()
            )
        );
    }

    #[test]
    fn agent_mode_refuses_rules() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("p.yml");
        std::fs::write(&cfg, "rule_files: [x.rules]\n").unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let ok = check_files(&mut out, &mut err, std::slice::from_ref(&cfg), true, true).unwrap();
        assert!(!ok);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains("field rule_files is not allowed in agent mode"),
            "{err}"
        );
        let (ok, _, _) = run(&[cfg], true);
        assert!(ok, "server mode accepts the same file with --syntax-only");
    }

    #[test]
    fn referenced_files_must_exist_unless_syntax_only() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("p.yml");
        std::fs::write(
            &cfg,
            "rule_files: [missing.rules]\nscrape_configs:\n  - job_name: j\n    bearer_token_file: tok\n",
        )
        .unwrap();
        let (ok, _, err) = run(std::slice::from_ref(&cfg), false);
        assert!(!ok);
        assert!(
            err.contains("missing.rules\" does not point to an existing file"),
            "{err}"
        );
        let (ok, _, err) = run(std::slice::from_ref(&cfg), true);
        assert!(ok, "{err}");
        std::fs::write(dir.path().join("missing.rules"), "groups: []\n").unwrap();
        let (ok, _, err) = run(std::slice::from_ref(&cfg), false);
        assert!(!ok);
        assert!(
            err.contains("error checking authorization credentials or bearer token file"),
            "{err}"
        );
        std::fs::write(dir.path().join("tok"), "secret").unwrap();
        let (ok, out, err) = run(&[cfg], false);
        assert!(ok, "{err}");
        assert!(out.contains("  SUCCESS: 1 rule files found\n"), "{out}");
        assert!(out.contains("  SUCCESS: 0 rules found\n"), "{out}");
    }
}
