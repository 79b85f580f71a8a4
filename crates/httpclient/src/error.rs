//! Why a client could not be built or a request could not be prepared.

use std::path::PathBuf;

/// An error of [`crate::HttpClient`].
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// The settings cannot be applied: a CA or client certificate file that
    /// does not load, a proxy URL or header name that is not valid, ...
    #[error("{0}")]
    Build(String),
    /// A credentials or header file could not be read for a request.
    #[error("cannot read {what} {}: {source}", path.display())]
    ReadFile {
        /// What the file holds, e.g. `password_file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
