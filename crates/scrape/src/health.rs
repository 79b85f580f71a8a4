//! What the last scrape of a target found, for the targets API.

use std::fmt;
use std::time::{Duration, SystemTime};

/// A target's health as the targets API words it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `unknown`, `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a target's last scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScrapeState {
    /// Up, down or unknown.
    pub health: Health,
    /// Why the last scrape failed, in Prometheus's words; `None` after a
    /// success.
    pub last_error: Option<String>,
    /// When the last scrape started (its samples' timestamp).
    pub last_scrape: Option<SystemTime>,
    /// How long the last scrape took.
    pub last_duration: Duration,
}
