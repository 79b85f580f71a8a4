//! Why a scrape failed. The messages are Prometheus's where it has one,
//! because the targets API shows them and users search for them.

/// Why one scrape failed; the scrape then reports `up` 0 and stores none of
/// its samples.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeError {
    /// The request failed or timed out (`Get "<url>": <cause>`).
    #[error("Get {url:?}: {cause}")]
    Request {
        /// The target URL.
        url: String,
        /// What failed, e.g. `context deadline exceeded` on timeout.
        cause: String,
    },
    /// The target answered with another status than 200.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The (uncompressed) body reached `body_size_limit`.
    #[error("body size limit exceeded")]
    BodySizeLimit,
    /// The body could not be read or decompressed.
    #[error("cannot read the scrape body of {url}: {cause}")]
    Body {
        /// The target URL.
        url: String,
        /// What failed.
        cause: String,
    },
    /// The `Content-Type` names no format pharos reads and no fallback is set.
    #[error("{0}")]
    ContentType(String),
    /// The target sent the protobuf format, which pharos cannot read yet.
    #[error(
        "cannot parse Content-Type {0:?}: the protobuf exposition format is not supported yet"
    )]
    Protobuf(String),
    /// The body is not valid in its format.
    #[error("{0}")]
    Parse(#[from] expfmt::ParseError),
    /// The job has more active targets than its `target_limit`: every
    /// target's scrape fails without a request, as in Prometheus.
    #[error("target_limit exceeded (number of targets: {targets}, limit: {limit})")]
    TargetLimit {
        /// Active targets of the job.
        targets: usize,
        /// The job's `target_limit`.
        limit: usize,
    },
    /// More samples than `sample_limit` after metric relabeling.
    #[error("sample limit exceeded")]
    SampleLimit,
    /// A series breaks `label_limit` or a label length limit; the message
    /// names the metric, label and limit as Prometheus's does.
    #[error("{0}")]
    LabelLimit(String),
    /// A series has no `__name__` after metric relabeling.
    #[error("missing metric name (__name__ label)")]
    MissingName,
    /// A series has an empty or repeated label name.
    #[error("invalid metric name or label names: {0}")]
    InvalidLabels(String),
    /// The store refused a sample or the commit.
    #[error("{0}")]
    Storage(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
