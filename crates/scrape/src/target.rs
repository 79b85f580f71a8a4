//! A scrape target: what discovery found, what relabeling made of it, and
//! the URL, interval and timeout that follow from its labels.
//!
//! As in Prometheus 3.x (`scrape/target.go`, `PopulateLabels`): the
//! discovered labels get the job's defaults (`job`, `__scrape_interval__`,
//! `__scrape_timeout__`, `__metrics_path__`, `__scheme__`, `__param_<name>`
//! and the three histogram switches) where discovery left them unset; target
//! relabeling runs; the address, interval, timeout and switches are checked;
//! `__meta_*` labels go; `instance` defaults to `__address__`. The series of
//! a target carry only its labels without the `__` prefix.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use model::labels::write_go_quoted;
use model::{format_duration, parse_duration, DurationError, Labels, LabelsBuilder};

use crate::health::ScrapeState;
use crate::metadata::MetadataStore;
use crate::ScrapeOptions;

const ADDRESS: &str = "__address__";
const SCHEME: &str = "__scheme__";
const METRICS_PATH: &str = "__metrics_path__";
const SCRAPE_INTERVAL: &str = "__scrape_interval__";
const SCRAPE_TIMEOUT: &str = "__scrape_timeout__";
const PARAM_PREFIX: &str = "__param_";
const META_PREFIX: &str = "__meta_";
const RESERVED_PREFIX: &str = "__";
/// Histogram switches Prometheus 3 adds to every target; pharos reads no
/// native histograms yet but keeps the labels so discovered labels match.
const HISTOGRAM_SWITCHES: [(&str, &str); 3] = [
    (
        "__convert_classic_histograms_to_nhcb__",
        "convert classic histograms to nhcb",
    ),
    (
        "__always_scrape_classic_histograms__",
        "always scrape classic histograms",
    ),
    ("__scrape_native_histograms__", "scrape native histograms"),
];

/// Why a discovered target cannot be scraped; the messages are
/// Prometheus's, as the targets API and logs show them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No `__address__` after relabeling.
    #[error("no address")]
    NoAddress,
    /// `__address__` holds a `/` (a URL rather than `host:port`).
    #[error("{} is not a valid hostname", go_quote(.0))]
    InvalidAddress(String),
    /// `__scrape_interval__` is not a duration.
    #[error("error parsing scrape interval: {0}")]
    Interval(DurationError),
    /// `__scrape_timeout__` is not a duration.
    #[error("error parsing scrape timeout: {0}")]
    Timeout(DurationError),
    /// `__scrape_interval__` is zero.
    #[error("scrape interval cannot be 0")]
    ZeroInterval,
    /// `__scrape_timeout__` is zero.
    #[error("scrape timeout cannot be 0")]
    ZeroTimeout,
    /// The timeout is longer than the interval.
    #[error("scrape timeout cannot be greater than scrape interval ({} > {})", go_quote(.timeout), go_quote(.interval))]
    TimeoutAboveInterval {
        /// `__scrape_timeout__` as written.
        timeout: String,
        /// `__scrape_interval__` as written.
        interval: String,
    },
    /// A histogram switch label is not a Go boolean.
    #[error("error parsing {what}: strconv.ParseBool: parsing {}: invalid syntax", go_quote(.value))]
    InvalidSwitch {
        /// What the switch is, in Prometheus's words.
        what: &'static str,
        /// The value found.
        value: String,
    },
}

fn go_quote(s: &str) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_go_quoted(&mut out, s);
    out
}

/// One target of a scrape job, shared by its loop and the targets API.
#[derive(Debug)]
pub struct Target {
    discovered: Labels,
    labels: Labels,
    url: String,
    interval: Duration,
    timeout: Duration,
    state: Mutex<ScrapeState>,
    metadata: Arc<MetadataStore>,
}

impl Target {
    /// Builds the target for `discovered` (a target's labels merged over its
    /// group's, see [`merge_group_labels`]) under `opts`: `Ok(None)` when
    /// target relabeling drops it.
    pub fn new(discovered: &Labels, opts: &ScrapeOptions) -> Result<Option<Target>, TargetError> {
        let discovered = with_defaults(discovered, opts);
        let Some(relabeled) = relabel::process(&discovered, &opts.relabel_configs) else {
            return Ok(None);
        };
        let address = relabeled.get(ADDRESS).ok_or(TargetError::NoAddress)?;
        if address.contains('/') {
            return Err(TargetError::InvalidAddress(address.to_owned()));
        }
        let interval_text = relabeled.get_or_empty(SCRAPE_INTERVAL);
        let interval = parse_duration(interval_text).map_err(TargetError::Interval)?;
        if interval.is_zero() {
            return Err(TargetError::ZeroInterval);
        }
        let timeout_text = relabeled.get_or_empty(SCRAPE_TIMEOUT);
        let timeout = parse_duration(timeout_text).map_err(TargetError::Timeout)?;
        if timeout.is_zero() {
            return Err(TargetError::ZeroTimeout);
        }
        if timeout > interval {
            return Err(TargetError::TimeoutAboveInterval {
                timeout: timeout_text.to_owned(),
                interval: interval_text.to_owned(),
            });
        }
        for (name, what) in HISTOGRAM_SWITCHES {
            if let Some(v) = relabeled.get(name) {
                if parse_go_bool(v).is_none() {
                    return Err(TargetError::InvalidSwitch {
                        what,
                        value: v.to_owned(),
                    });
                }
            }
        }
        let mut b = LabelsBuilder::new();
        for l in relabeled
            .iter()
            .filter(|l| !l.name.starts_with(META_PREFIX))
        {
            b.set(l.name, l.value);
        }
        if b.get("instance").is_none() {
            b.set("instance", address);
        }
        let labels = b.build();
        let url = build_url(&labels, opts);
        Ok(Some(Target {
            discovered,
            labels,
            url,
            interval,
            timeout,
            state: Mutex::new(ScrapeState::default()),
            metadata: Arc::default(),
        }))
    }

    /// `discovered` with the job's defaults where unset: what target
    /// relabeling sees, and what the targets API shows as a target's
    /// discovered labels — also for targets relabeling dropped.
    pub fn populate_discovered(discovered: &Labels, opts: &ScrapeOptions) -> Labels {
        with_defaults(discovered, opts)
    }

    /// The labels discovery gave, with the job's defaults filled in, before
    /// relabeling (the targets API's `discoveredLabels`).
    pub fn discovered_labels(&self) -> &Labels {
        &self.discovered
    }

    /// Every label after relabeling, `__address__` and friends included.
    pub fn all_labels(&self) -> &Labels {
        &self.labels
    }

    /// The labels every series of this target carries: those without the
    /// `__` prefix.
    pub fn labels(&self) -> Labels {
        without_reserved(&self.labels)
    }

    /// The URL scraped, as Prometheus prints it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The scrape interval from `__scrape_interval__`.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The scrape timeout from `__scrape_timeout__`.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What the last scrape found.
    pub fn state(&self) -> ScrapeState {
        self.lock_state().clone()
    }

    /// The metadata of the families the target exposed (for the metadata
    /// APIs); its scrape loop keeps it current.
    pub fn metadata(&self) -> &Arc<MetadataStore> {
        &self.metadata
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, ScrapeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A hash of labels and URL that tells targets apart, as Prometheus's
    /// (FNV-1a over the decimal label hash and the URL).
    pub fn hash(&self) -> u64 {
        let mut h = Fnv64a::new();
        let mut digits = String::with_capacity(20);
        let _ = write!(digits, "{:016}", self.labels.hash64());
        h.write(digits.as_bytes());
        h.write(self.url.as_bytes());
        h.0
    }

    /// How long after `now_nanos` (nanoseconds since the epoch) this target's
    /// first scrape falls, so that the targets of a server spread over the
    /// interval and each keeps the same phase across restarts.
    pub fn offset(&self, interval: Duration, seed: u64, now_nanos: u128) -> Duration {
        let iv = interval.as_nanos().max(1);
        let base = iv - now_nanos % iv;
        let offset = u128::from(self.hash() ^ seed) % iv;
        let mut next = base + offset;
        if next > iv {
            next -= iv;
        }
        Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX))
    }
}

/// Merges a target's own labels over its group's labels (a target's value
/// wins), as discovery hands them to the target builder.
pub fn merge_group_labels(target: &Labels, group: &Labels) -> Labels {
    let mut b = target.to_builder();
    for l in group {
        if !target.has(l.name) {
            b.set(l.name, l.value);
        }
    }
    b.build()
}

fn without_reserved(labels: &Labels) -> Labels {
    Labels::from_sorted_unchecked(
        labels
            .iter()
            .filter(|l| !l.name.starts_with(RESERVED_PREFIX)),
    )
}

/// The discovered labels with the job's defaults where unset.
fn with_defaults(discovered: &Labels, opts: &ScrapeOptions) -> Labels {
    let mut b = discovered.to_builder();
    let interval = format_duration(opts.interval);
    let timeout = format_duration(opts.timeout);
    let defaults = [
        ("job", opts.job_name.as_str()),
        (SCRAPE_INTERVAL, &interval),
        (SCRAPE_TIMEOUT, &timeout),
        (METRICS_PATH, &opts.metrics_path),
        (SCHEME, &opts.scheme),
        (HISTOGRAM_SWITCHES[0].0, "false"),
        (HISTOGRAM_SWITCHES[1].0, "false"),
        (HISTOGRAM_SWITCHES[2].0, "false"),
    ];
    for (name, value) in defaults {
        if b.get(name).is_none() {
            b.set(name, value);
        }
    }
    for (k, v) in &opts.params {
        let name = format!("{PARAM_PREFIX}{k}");
        if let Some(first) = v.first() {
            if b.get(&name).is_none() {
                b.set(&name, first);
            }
        }
    }
    b.build()
}

/// `scheme://address/path?query`, the query holding the job's params with
/// each `__param_<name>` label replacing its first value, keys sorted and
/// escaped as Go's `url.Values.Encode`.
fn build_url(labels: &Labels, opts: &ScrapeOptions) -> String {
    let mut params = opts.params.clone();
    for l in labels.iter() {
        if let Some(k) = l.name.strip_prefix(PARAM_PREFIX) {
            let v = params.entry(k.to_owned()).or_default();
            match v.first_mut() {
                Some(first) => l.value.clone_into(first),
                None => v.push(l.value.to_owned()),
            }
        }
    }
    let mut url = String::new();
    url.push_str(labels.get_or_empty(SCHEME));
    url.push_str("://");
    url.push_str(labels.get_or_empty(ADDRESS));
    let path = labels.get_or_empty(METRICS_PATH);
    if !path.is_empty() && !path.starts_with('/') {
        url.push('/');
    }
    escape(&mut url, path, true);
    let mut first = true;
    for (k, vs) in &params {
        for v in vs {
            url.push(if first { '?' } else { '&' });
            first = false;
            escape(&mut url, k, false);
            url.push('=');
            escape(&mut url, v, false);
        }
    }
    url
}

/// Go's `url.PathEscape`-for-paths (`in_path`) or `url.QueryEscape`.
fn escape(out: &mut String, s: &str, in_path: bool) {
    for &c in s.as_bytes() {
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'_' | b'.' | b'~')
            || (in_path
                && matches!(
                    c,
                    b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@'
                ));
        if keep {
            out.push(char::from(c));
        } else if c == b' ' && !in_path {
            out.push('+');
        } else {
            let _ = write!(out, "%{c:02X}");
        }
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// 64-bit FNV-1a, the hash Prometheus spreads targets with.
struct Fnv64a(u64);

impl Fnv64a {
    fn new() -> Fnv64a {
        Fnv64a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests;
