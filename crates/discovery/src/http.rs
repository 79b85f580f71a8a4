//! `http_sd_configs`: target groups fetched from an HTTP endpoint every
//! `refresh_interval`.
//!
//! The request and its checks are Prometheus's: a GET with
//! `Accept: application/json` and `X-Prometheus-Refresh-Interval-Seconds`;
//! the answer must be `200` with `Content-Type: application/json` (an
//! optional `charset=utf-8`) and a JSON list of `{"targets": [...],
//! "labels": {...}}`. Group `i` has source `<url>:<i>` and the label
//! `__meta_url`; groups that a shorter answer no longer has are sent empty.
//! A failed refresh sends nothing, so the last groups stay.

mod client;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use config::discovery::HttpSdConfig;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::refresh::{self, Refresh};
use crate::static_sd::target_group;
use crate::stats::{RefreshStats, SdStats};
use crate::{Discoverer, DiscoveryError, DiscoveryFuture, TargetGroup};

pub(crate) use client::unsupported as unsupported_http_setting;
// Consul SD talks HTTP with the same settings.
pub(crate) use client::Client as HttpClient;

/// The label naming the URL a group came from.
const URL_LABEL: &str = "__meta_url";

/// The provider of one `http_sd_configs` entry.
#[derive(Debug)]
pub struct HttpDiscovery {
    url: String,
    client: client::Client,
    interval: Duration,
    /// How many groups the last good answer had.
    last_len: usize,
    stats: Arc<SdStats>,
}

impl HttpDiscovery {
    /// The provider of `cfg`; fails when its HTTP client settings cannot be
    /// applied (a CA file that does not load, …).
    pub fn new(cfg: &HttpSdConfig, stats: Arc<SdStats>) -> Result<Self, DiscoveryError> {
        // A request may take the whole interval but no longer, as in
        // Prometheus.
        let client = client::Client::new(&cfg.url, &cfg.http, cfg.refresh_interval)?;
        Ok(HttpDiscovery {
            url: cfg.url.clone(),
            client,
            interval: cfg.refresh_interval,
            last_len: 0,
            stats,
        })
    }

    async fn fetch(&mut self) -> Result<Vec<TargetGroup>, DiscoveryError> {
        let fail = |reason: String| DiscoveryError::Http {
            url: self.url.clone(),
            reason,
        };
        let resp = self
            .client
            .get(&self.url)
            .await?
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::USER_AGENT,
                concat!("pharos/", env!("CARGO_PKG_VERSION")),
            )
            .header(
                "X-Prometheus-Refresh-Interval-Seconds",
                self.interval.as_secs_f64().to_string(),
            )
            .send()
            .await
            .map_err(|e| fail(error_chain(&e)))?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            // Go's `resp.Status`: the code and its reason phrase.
            let reason = status.canonical_reason().unwrap_or("");
            return Err(fail(format!(
                "server returned HTTP status {} {reason}",
                status.as_u16()
            )));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !is_json(&content_type) {
            return Err(fail(format!("unsupported content type {content_type:?}")));
        }
        let body = resp.bytes().await.map_err(|e| fail(error_chain(&e)))?;
        let mut groups = decode(&body, &self.url).map_err(fail)?;
        let len = groups.len();
        groups.extend((len..self.last_len).map(|i| TargetGroup {
            source: source(&self.url, i),
            ..TargetGroup::default()
        }));
        self.last_len = len;
        Ok(groups)
    }
}

impl Refresh for HttpDiscovery {
    const MECHANISM: &'static str = "http";

    fn refresh_stats(&self) -> &RefreshStats {
        &self.stats.http_refresh
    }

    async fn refresh(&mut self) -> Result<Vec<TargetGroup>, DiscoveryError> {
        let r = self.fetch().await;
        if r.is_err() {
            SdStats::inc(&self.stats.http_failures);
        }
        r
    }
}

impl Discoverer for HttpDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        let interval = self.interval;
        Box::pin(refresh::run(*self, interval, tx))
    }
}

/// The source of group `i` from `url`.
fn source(url: &str, i: usize) -> String {
    format!("{url}:{i}")
}

/// Whether a `Content-Type` is JSON as Prometheus accepts it:
/// `application/json`, optionally `; charset=utf-8` (quoted or not), any
/// case.
fn is_json(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    let Some(rest) = ct.strip_prefix("application/json") else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(param) = rest.strip_prefix(';') else {
        return false;
    };
    matches!(
        param.trim_start().strip_prefix("charset="),
        Some("utf-8" | "\"utf-8\"")
    )
}

/// One group as the endpoint sends it (Go's decoder for it rejects unknown
/// fields too).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Decodes an answer into groups with their sources and `__meta_url`.
fn decode(body: &[u8], url: &str) -> Result<Vec<TargetGroup>, String> {
    let groups: Vec<Option<JsonGroup>> =
        serde_json::from_slice(body).map_err(|e| format!("cannot decode target groups: {e}"))?;
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let g = g.ok_or_else(|| format!("nil target group item found (index {i})"))?;
            let labels = g.labels.unwrap_or_default();
            if labels.contains_key("") {
                return Err("\"\" is not a valid label name".to_owned());
            }
            Ok(target_group(
                source(url, i),
                g.targets.as_deref().unwrap_or_default(),
                &labels,
                Some((URL_LABEL, url)),
            ))
        })
        .collect()
}

/// An error with its causes, which reqwest keeps apart ("error sending
/// request" alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests;
