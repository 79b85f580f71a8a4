//! The crate's error.

/// Why a server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A listen address could not be bound.
    #[error("cannot listen on {address:?}: {reason}")]
    Listen {
        /// The address as given.
        address: String,
        /// Why.
        reason: String,
    },
    /// The web config file is invalid.
    #[error("invalid web config: {reason}")]
    Config {
        /// The file.
        file: String,
        /// Why, starting with the file name (and line, where known).
        reason: String,
    },
    /// `--web.external-url` is not a usable URL.
    #[error("cannot parse external URL {url:?}: {reason}")]
    ExternalUrl {
        /// The flag's value.
        url: String,
        /// Why.
        reason: String,
    },
}
