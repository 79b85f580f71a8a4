//! The rule-file part of `check config` (promtool's `check rules`): each
//! file must be a valid rule file whose expressions parse. This is the
//! subset of Prometheus's rule-file checks that needs no rule engine:
//! group names, record/alert exclusivity, required and forbidden fields,
//! label names and PromQL syntax. Template syntax is not checked yet.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RuleGroup {
    name: String,
    interval: String,
    query_offset: Option<String>,
    limit: i64,
    rules: Vec<Rule>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Rule {
    record: String,
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: String,
    keep_firing_for: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// Checks each rule file, printing as promtool does; false if any fails.
pub(crate) fn check_files(
    out: &mut dyn Write,
    err: &mut dyn Write,
    files: &[PathBuf],
) -> std::io::Result<bool> {
    let mut ok = true;
    for file in files {
        writeln!(out, "Checking {}", file.display())?;
        match check_file(file) {
            Ok(n) => writeln!(out, "  SUCCESS: {n} rules found")?,
            Err(errors) => {
                ok = false;
                out.flush()?;
                writeln!(err, "  FAILED:")?;
                for e in errors {
                    writeln!(err, "{}: {e}", file.display())?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(ok)
}

/// The number of rules, or every problem found.
fn check_file(file: &PathBuf) -> Result<usize, Vec<String>> {
    let text = std::fs::read_to_string(file).map_err(|e| vec![e.to_string()])?;
    let name = file.display().to_string();
    let parsed: RuleFile = config::decode_yaml(&text, &name).map_err(|e| vec![e.to_string()])?;
    let mut errors = Vec::new();
    let mut names = Vec::new();
    for g in &parsed.groups {
        if g.name.is_empty() {
            errors.push("Groupname must not be empty".to_owned());
        } else if names.contains(&g.name.as_str()) {
            errors.push(format!(
                "groupname: {:?} is repeated in the same file",
                g.name
            ));
        }
        names.push(&g.name);
        for d in [Some(&g.interval), g.query_offset.as_ref()]
            .into_iter()
            .flatten()
        {
            if !d.is_empty() {
                if let Err(e) = model::parse_duration(d) {
                    errors.push(format!("group {:?}: {e}", g.name));
                }
            }
        }
        if g.limit < 0 {
            errors.push(format!("group {:?}: limit must not be negative", g.name));
        }
        check_labels(&g.labels, &mut errors);
        for (i, r) in g.rules.iter().enumerate() {
            let what = format!(
                "group {:?}, rule {}, {:?}",
                g.name,
                i + 1,
                if r.record.is_empty() {
                    &r.alert
                } else {
                    &r.record
                }
            );
            for e in check_rule(r) {
                errors.push(format!("{what}: {e}"));
            }
        }
    }
    if errors.is_empty() {
        Ok(parsed.groups.iter().map(|g| g.rules.len()).sum())
    } else {
        Err(errors)
    }
}

fn check_labels(labels: &BTreeMap<String, String>, errors: &mut Vec<String>) {
    for k in labels.keys() {
        if k.is_empty() {
            errors.push(format!("invalid label name: {k}"));
        }
    }
}

fn check_rule(r: &Rule) -> Vec<String> {
    let mut errors = Vec::new();
    match (r.record.is_empty(), r.alert.is_empty()) {
        (false, false) => errors.push("only one of 'record' and 'alert' must be set".to_owned()),
        (true, true) => errors.push("one of 'record' or 'alert' must be set".to_owned()),
        _ => {}
    }
    if r.expr.is_empty() {
        errors.push("field 'expr' must be set in rule".to_owned());
    } else if let Err(e) = promql::parse(&r.expr) {
        errors.push(format!("could not parse expression: {e}"));
    }
    if !r.record.is_empty() {
        if !r.annotations.is_empty() {
            errors.push("invalid field 'annotations' in recording rule".to_owned());
        }
        if !r.for_.is_empty() {
            errors.push("invalid field 'for' in recording rule".to_owned());
        }
        if !r.keep_firing_for.is_empty() {
            errors.push("invalid field 'keep_firing_for' in recording rule".to_owned());
        }
        if r.record.contains('{') || r.record.contains('}') {
            errors.push(format!(
                "braces present in the recording rule name; should it be in expr?: {}",
                r.record
            ));
        }
    }
    for d in [&r.for_, &r.keep_firing_for] {
        if !d.is_empty() {
            if let Err(e) = model::parse_duration(d) {
                errors.push(e.to_string());
            }
        }
    }
    check_labels(&r.labels, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<usize, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.yml");
        std::fs::write(&f, text).unwrap();
        check_file(&f)
    }

    #[test]
    fn rule_files() {
        assert_eq!(check("groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: sum(x)\n  - alert: A\n    expr: up == 0\n    for: 5m\n"), Ok(2));
        let e = check("groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(\n").unwrap_err();
        assert!(
            e[0].starts_with("group \"g\", rule 1, \"x\": could not parse expression"),
            "{e:?}"
        );
        let e = check("groups:\n- name: g\n  rules:\n  - record: x\n    alert: y\n    expr: up\n")
            .unwrap_err();
        assert!(
            e[0].ends_with("only one of 'record' and 'alert' must be set"),
            "{e:?}"
        );
        let e = check("groups:\n- name: g\n- name: g\n").unwrap_err();
        assert_eq!(e, ["groupname: \"g\" is repeated in the same file"]);
        assert!(check("groups:\n- name: g\n  bogus: 1\n").is_err());
    }
}
