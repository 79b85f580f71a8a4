//! One relabel rule as written in `prometheus.yml`.
//!
//! The same rule shape serves `relabel_configs`, `metric_relabel_configs`,
//! `alert_relabel_configs` and `write_relabel_configs`. Deserializing fills
//! Prometheus's defaults and compiles the regex; [`RelabelConfig::validate`]
//! is a separate pass, as in Prometheus, because it depends on the name
//! validation scheme of the enclosing config.

mod validate;

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Regex;

pub use validate::ConfigError;

/// Separator between joined source label values when none is given.
pub const DEFAULT_SEPARATOR: &str = ";";
/// Replacement when none is given: the first capture group.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// What a rule does.
///
/// In YAML an action is matched case-insensitively (`Replace`, `KEEP`) and
/// written back in lower case, as Prometheus does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Action {
    /// Sets `target_label` (which may use capture groups) to the expanded
    /// `replacement` if `regex` matches the joined source values.
    #[default]
    Replace,
    /// Drops the series/target unless `regex` matches the joined source values.
    Keep,
    /// Drops the series/target if `regex` matches the joined source values.
    Drop,
    /// Drops unless the joined source values equal `target_label`'s value.
    KeepEqual,
    /// Drops if the joined source values equal `target_label`'s value.
    DropEqual,
    /// Sets `target_label` to the MD5 hash of the joined source values
    /// modulo `modulus` (for sharding).
    HashMod,
    /// Copies every label whose name matches `regex` to the name given by
    /// expanding `replacement` against it.
    LabelMap,
    /// Removes every label whose name matches `regex`.
    LabelDrop,
    /// Removes every label whose name does not match `regex`.
    LabelKeep,
    /// Sets `target_label` to the joined source values in lower case.
    Lowercase,
    /// Sets `target_label` to the joined source values in upper case.
    Uppercase,
}

impl Action {
    /// Every action, in Prometheus's order of declaration.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The action's name as Prometheus writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name, ignoring case as Prometheus does.
    pub fn parse(name: &str) -> Result<Action, ConfigError> {
        let lower = name.to_lowercase();
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == lower)
            .ok_or_else(|| ConfigError::UnknownAction(name.to_owned()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Action, ConfigError> {
        Action::parse(s)
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        d.deserialize_any(ActionVisitor)
    }
}

struct ActionVisitor;

impl Visitor<'_> for ActionVisitor {
    type Value = Action;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a relabel action")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Action, E> {
        Action::parse(v).map_err(E::custom)
    }

    // Prometheus reads any scalar as text, so `action: 1` is an unknown action.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Action, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Action, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Action, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Action, E> {
        self.visit_str(if v { "true" } else { "false" })
    }

    // `action:` with no value leaves Prometheus with an empty action, which
    // its validation refuses; refuse it here with the same words.
    fn visit_unit<E: de::Error>(self) -> Result<Action, E> {
        Err(E::custom(ConfigError::EmptyAction))
    }

    fn visit_none<E: de::Error>(self) -> Result<Action, E> {
        self.visit_unit()
    }
}

/// Which label names are valid: Prometheus 3.x defaults to UTF-8 (any
/// non-empty name); `legacy` is `[a-zA-Z_][a-zA-Z0-9_]*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NameValidationScheme {
    /// Any non-empty UTF-8 name (`metric_name_validation_scheme: utf8`).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*` (`metric_name_validation_scheme: legacy`).
    Legacy,
}

impl NameValidationScheme {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Utf8 => model::labels::is_valid_utf8_name(name),
            NameValidationScheme::Legacy => model::labels::is_valid_legacy_label_name(name),
        }
    }
}

/// One relabel rule (`relabel_config` in Prometheus's documentation).
///
/// Fields not given in YAML take Prometheus's defaults: `separator: ";"`,
/// `regex: (.*)`, `replacement: $1`, `action: replace`. A field given as
/// null (`separator:`) is the empty string, as in Prometheus.
///
/// ```
/// let yaml = "source_labels: [__meta_kubernetes_pod_name]\ntarget_label: pod\n";
/// let mut rule: relabel::RelabelConfig = serde_yaml_ng::from_str(yaml).unwrap();
/// rule.validate(relabel::NameValidationScheme::Utf8).unwrap();
/// let labels = model::Labels::from_pairs(&[("__meta_kubernetes_pod_name", "web-1")]);
/// let out = relabel::process(&labels, &[rule]).unwrap();
/// assert_eq!(out.get("pod"), Some("web-1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the input.
    /// `None` when absent, which `labeldrop`/`labelkeep` require (an explicit
    /// empty list is refused there, as in Prometheus).
    #[serde(default, skip_serializing_if = "is_none_or_empty")]
    pub source_labels: Option<Vec<String>>,
    /// Joins the source label values.
    #[serde(default = "default_separator", deserialize_with = "null_as_empty")]
    pub separator: String,
    /// Matched against the joined values (or label names for `labelmap`,
    /// `labeldrop`, `labelkeep`); anchored at both ends.
    #[serde(default, skip_serializing_if = "Regex::is_implicit_default")]
    pub regex: Regex,
    /// Modulus of `hashmod`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub modulus: u64,
    /// Label written by `replace`, `hashmod`, `lowercase`, `uppercase`, or
    /// compared by `keepequal`/`dropequal`. For `replace` it may use capture
    /// groups (`${1}`).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub target_label: String,
    /// Template expanded against the match, Go `ExpandString` rules.
    #[serde(default = "default_replacement", deserialize_with = "null_as_empty")]
    pub replacement: String,
    /// What the rule does.
    #[serde(default)]
    pub action: Action,
    /// Name validation applied when `replace` computes a target label name.
    /// Not part of the YAML; [`RelabelConfig::validate`] sets it from the
    /// enclosing config unless set already.
    #[serde(skip)]
    pub name_validation_scheme: Option<NameValidationScheme>,
}

impl Default for RelabelConfig {
    /// A rule with every field at Prometheus's default (`replace` with no
    /// target, which [`RelabelConfig::validate`] refuses).
    fn default() -> RelabelConfig {
        RelabelConfig {
            source_labels: None,
            separator: default_separator(),
            regex: Regex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: default_replacement(),
            action: Action::Replace,
            name_validation_scheme: None,
        }
    }
}

impl RelabelConfig {
    /// The names of the source labels (empty when absent).
    pub fn source_labels(&self) -> &[String] {
        self.source_labels.as_deref().unwrap_or(&[])
    }

    /// The scheme in force: the one set on the rule, else UTF-8.
    pub fn scheme(&self) -> NameValidationScheme {
        self.name_validation_scheme.unwrap_or_default()
    }
}

fn default_separator() -> String {
    DEFAULT_SEPARATOR.to_owned()
}

fn default_replacement() -> String {
    DEFAULT_REPLACEMENT.to_owned()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_none_or_empty(v: &Option<Vec<String>>) -> bool {
    v.as_ref().is_none_or(Vec::is_empty)
}

/// A string field given as null is the empty string (Prometheus's YAML
/// decoder sets the zero value); a scalar that looks like a number or
/// boolean keeps its text.
fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(LenientString)
}

struct LenientString;

impl Visitor<'_> for LenientString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<RelabelConfig, String> {
        serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_fill_absent_fields() {
        let c = parse("target_label: t").unwrap();
        assert_eq!(c.separator, ";");
        assert_eq!(c.replacement, "$1");
        assert_eq!(c.regex.as_str(), "(.*)");
        assert!(c.regex.is_implicit_default());
        assert_eq!(c.action, Action::Replace);
        assert_eq!(c.source_labels, None);
        assert_eq!(c.modulus, 0);
    }

    #[test]
    fn null_fields_are_empty_and_scalars_keep_text() {
        let c = parse("separator:\nreplacement:\nregex:\ntarget_label: 12").unwrap();
        assert_eq!(c.separator, "");
        assert_eq!(c.replacement, "");
        assert_eq!(c.regex.as_str(), "");
        assert!(!c.regex.is_implicit_default());
        assert_eq!(c.target_label, "12");
        assert_eq!(parse("replacement: true").unwrap().replacement, "true");
    }

    #[test]
    fn actions_ignore_case() {
        assert_eq!(parse("action: LabelMap").unwrap().action, Action::LabelMap);
        assert_eq!(
            parse("action: KEEPEQUAL").unwrap().action,
            Action::KeepEqual
        );
        let e = parse("action: Nope").unwrap_err();
        assert!(e.contains(r#"unknown relabel action "Nope""#), "{e}");
        let e = parse("action: 1").unwrap_err();
        assert!(e.contains(r#"unknown relabel action "1""#), "{e}");
        let e = parse("action:").unwrap_err();
        assert!(e.contains("relabel action cannot be empty"), "{e}");
    }

    #[test]
    fn unknown_fields_and_bad_regex_are_refused() {
        let e = parse("target: x").unwrap_err();
        assert!(e.contains("unknown field `target`"), "{e}");
        let e = parse("regex: '(a'").unwrap_err();
        assert!(
            e.contains("error parsing regexp: missing closing ): `^(?s:(a)$`"),
            "{e}"
        );
    }

    #[test]
    fn serializes_in_prometheus_shape() {
        let c = parse("source_labels: [a, b]\ntarget_label: t\naction: Replace").unwrap();
        let y = serde_yaml_ng::to_string(&c).unwrap();
        assert_eq!(
            y,
            "source_labels:\n- a\n- b\nseparator: ;\ntarget_label: t\nreplacement: $1\naction: replace\n"
        );
        let c = parse("regex: (.*)\naction: labelmap\nmodulus: 3").unwrap();
        let y = serde_yaml_ng::to_string(&c).unwrap();
        assert_eq!(
            y,
            "separator: ;\nregex: (.*)\nmodulus: 3\nreplacement: $1\naction: labelmap\n"
        );
        assert_eq!(parse(&y).unwrap(), c);
    }
}
