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
    /// Accepting connections failed.
    #[error("cannot accept connections on {address}: {source}")]
    Accept {
        /// The listener's address.
        address: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}
