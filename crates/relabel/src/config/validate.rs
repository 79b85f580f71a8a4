//! Checks of a relabel rule, with Prometheus's messages word for word.

use std::fmt;
use std::sync::LazyLock;

use super::{Action, NameValidationScheme, RelabelConfig, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR};

/// A legacy-scheme label name in which `$name`/`${name}` references may
/// stand for characters (what `target_label` and a `labelmap` replacement
/// must look like under the legacy scheme).
static LEGACY_TEMPLATE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{[0-9A-Za-z_]+\}|[0-9A-Za-z_]+))+[0-9A-Za-z_]*)+$")
        .unwrap_or_else(|e| panic!("BUG: legacy template regex: {e}"))
});

/// Why a relabel rule is refused. The messages are Prometheus's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `action:` given with no value.
    #[error("relabel action cannot be empty")]
    EmptyAction,
    /// An action name Prometheus does not know.
    #[error("unknown relabel action {}", GoQuoted(.0))]
    UnknownAction(String),
    /// `hashmod` with `modulus` 0 or absent.
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ZeroModulus,
    /// An action that writes or compares a label, without `target_label`.
    #[error("relabel configuration for {0} action requires 'target_label' value")]
    MissingTargetLabel(Action),
    /// A `target_label` that is no valid label name (or template) under the scheme.
    #[error("{} is invalid 'target_label' for {action} action", GoQuoted(.target_label))]
    InvalidTargetLabel {
        /// The offending value.
        target_label: String,
        /// The rule's action.
        action: Action,
    },
    /// `replacement` given for an action that has none.
    #[error("'replacement' can not be set for {0} action")]
    ReplacementNotAllowed(Action),
    /// A `labelmap` replacement that cannot form a label name.
    #[error("{} is invalid 'replacement' for {action} action", GoQuoted(.replacement))]
    InvalidReplacement {
        /// The offending value.
        replacement: String,
        /// The rule's action.
        action: Action,
    },
    /// `keepequal`/`dropequal` with fields other than the two they use.
    #[error("{0} action requires only 'source_labels' and `target_label`, and no other fields")]
    EqualityExtraFields(Action),
    /// `labeldrop`/`labelkeep` with fields other than `regex`.
    #[error("{0} action requires only 'regex', and no other fields")]
    LabelFilterExtraFields(Action),
}

/// Formats a string as Go's `%q` does.
struct GoQuoted<'a>(&'a str);

impl fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        model::labels::write_go_quoted(f, self.0)
    }
}

impl RelabelConfig {
    /// Checks the rule as Prometheus's `Config.Validate` does, in the same
    /// order, so the first problem reported is the one Prometheus reports.
    ///
    /// `scheme` is the enclosing config's name validation scheme; it is
    /// recorded on the rule (unless the rule has one already) because
    /// `replace` checks the names it computes against it when it runs.
    pub fn validate(&mut self, scheme: NameValidationScheme) -> Result<(), ConfigError> {
        let action = self.action;
        use Action::*;
        if self.modulus == 0 && action == HashMod {
            return Err(ConfigError::ZeroModulus);
        }
        let writes_target = matches!(
            action,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if writes_target && self.target_label.is_empty() {
            return Err(ConfigError::MissingTargetLabel(action));
        }
        let scheme = *self.name_validation_scheme.get_or_insert(scheme);
        let invalid_target = || ConfigError::InvalidTargetLabel {
            target_label: self.target_label.clone(),
            action,
        };
        let templated = self.target_label.contains('$');
        if action == Replace && !templated && !scheme.is_valid_label_name(&self.target_label) {
            return Err(invalid_target());
        }
        if action == Replace && templated && !is_valid_template(scheme, &self.target_label) {
            return Err(invalid_target());
        }
        let single_target = matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual);
        if single_target && !scheme.is_valid_label_name(&self.target_label) {
            return Err(invalid_target());
        }
        if single_target && self.replacement != DEFAULT_REPLACEMENT {
            return Err(ConfigError::ReplacementNotAllowed(action));
        }
        if action == LabelMap && !is_valid_template(scheme, &self.replacement) {
            return Err(ConfigError::InvalidReplacement {
                replacement: self.replacement.clone(),
                action,
            });
        }
        if action == HashMod && !scheme.is_valid_label_name(&self.target_label) {
            return Err(invalid_target());
        }
        let defaults = self.separator == DEFAULT_SEPARATOR
            && self.replacement == DEFAULT_REPLACEMENT
            && self.modulus == 0;
        // Prometheus compares the regex with the default by identity, so an
        // explicit `regex: (.*)` counts as set.
        if matches!(action, KeepEqual | DropEqual)
            && !(defaults && self.regex.is_implicit_default())
        {
            return Err(ConfigError::EqualityExtraFields(action));
        }
        if matches!(action, LabelDrop | LabelKeep)
            && !(defaults && self.source_labels.is_none() && self.target_label.is_empty())
        {
            return Err(ConfigError::LabelFilterExtraFields(action));
        }
        Ok(())
    }
}

/// A label name that may contain `$` references: under UTF-8 any non-empty
/// name is fine; under the legacy scheme the references stand for
/// name characters.
fn is_valid_template(scheme: NameValidationScheme, name: &str) -> bool {
    match scheme {
        NameValidationScheme::Utf8 => scheme.is_valid_label_name(name),
        NameValidationScheme::Legacy => LEGACY_TEMPLATE.is_match(name),
    }
}
