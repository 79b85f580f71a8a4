//! The HTTP client settings of `prometheus.yml` (`basic_auth`,
//! `authorization`, `tls_config`, proxy, `http_headers`,
//! `follow_redirects`, `enable_http2`), applied to a `reqwest` client.
//!
//! Scrape jobs and HTTP-based service discovery share the same settings
//! section; this crate is the one place that turns it into a client, so
//! that both honour it the same way:
//!
//! - [`HttpClient::new`] applies what is fixed for the client's life: TLS
//!   (CA, client certificate and key, `insecure_skip_verify`, versions),
//!   the proxy, redirects. CA and certificate files are read here, once.
//! - [`HttpClient::get`] starts a request with what may change between
//!   requests: the `basic_auth` and `authorization` credentials and the
//!   `http_headers`, whose files are read at every request as Prometheus
//!   does, so a rotated token is used without a reload.
//! - [`unsupported`] names a setting pharos cannot apply (`oauth2`, secret
//!   references, ...), so that a config using it is refused up front
//!   rather than used without it.
//!
//! ```
//! # async fn demo() -> Result<(), httpclient::HttpClientError> {
//! let mut cfg = config::HttpClientConfig::default();
//! cfg.authorization = Some(config::Authorization {
//!     kind: "Bearer".into(),
//!     credentials_file: "/etc/prometheus/token".into(),
//!     ..Default::default()
//! });
//! assert_eq!(httpclient::unsupported(&cfg), None);
//! let client = httpclient::HttpClient::new(&cfg, None)?;
//! let response = client.get("http://localhost:9100/metrics").await?.send().await;
//! # drop(response);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;

pub use client::{unsupported, HttpClient};
pub use error::HttpClientError;
