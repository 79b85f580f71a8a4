//! The crate's error: what went wrong, in which file, at which line and
//! column, under which field.

use std::fmt;
use std::path::PathBuf;

use crate::validate::FieldPath;

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML or not a valid config.
    #[error("{0}")]
    Invalid(Box<Located>),
}

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file, as given (or the name given to [`crate::load_str`]).
    pub file: String,
    /// 1-based line and column of the offending node, when known.
    pub position: Option<(usize, usize)>,
    /// The field path, e.g. `scrape_configs[0].scrape_timeout`.
    pub field: FieldPath,
    /// Prometheus's wording of the problem.
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.field.0.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ConfigError {
    /// Prometheus's wording of the problem, without file or position.
    pub fn message(&self) -> String {
        match self {
            ConfigError::Read { source, .. } => source.to_string(),
            ConfigError::Invalid(l) => l.message.clone(),
        }
    }

    /// Where the problem is, when it is in a file's content.
    pub fn location(&self) -> Option<&Located> {
        match self {
            ConfigError::Invalid(l) => Some(l),
            ConfigError::Read { .. } => None,
        }
    }

    pub(crate) fn located(
        file: &str,
        position: Option<(usize, usize)>,
        field: FieldPath,
        message: String,
    ) -> Self {
        ConfigError::Invalid(Box::new(Located {
            file: file.to_owned(),
            position,
            field,
            message,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Seg;

    #[test]
    fn names_file_line_and_field() {
        let e = ConfigError::located(
            "p.yml",
            Some((3, 5)),
            FieldPath(vec![Seg::Key("scrape_configs".into()), Seg::Index(0)]),
            "job_name is empty".into(),
        );
        assert_eq!(
            e.to_string(),
            "p.yml:3:5: scrape_configs[0]: job_name is empty"
        );
        assert_eq!(e.message(), "job_name is empty");
    }
}
