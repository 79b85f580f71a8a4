//! The shared HTTP client (`httpclient`), its errors worded as discovery's.

use std::time::Duration;

use config::HttpClientConfig;
use httpclient::HttpClientError;

use crate::DiscoveryError;

pub(crate) use httpclient::unsupported;

/// An HTTP client of one provider: [`httpclient::HttpClient`] with the URL
/// its errors name.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    inner: httpclient::HttpClient,
}

impl Client {
    /// Builds the client for `url` from `cfg`; requests time out after
    /// `timeout`.
    pub(crate) fn new(
        url: &str,
        cfg: &HttpClientConfig,
        timeout: Duration,
    ) -> Result<Self, DiscoveryError> {
        let inner =
            httpclient::HttpClient::new(cfg, Some(timeout)).map_err(|e| discovery_error(url, e))?;
        Ok(Client { inner })
    }

    /// A GET request with the settings' credentials and headers.
    pub(crate) async fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, DiscoveryError> {
        self.inner
            .get(url)
            .await
            .map_err(|e| discovery_error(url, e))
    }
}

fn discovery_error(url: &str, e: HttpClientError) -> DiscoveryError {
    match e {
        HttpClientError::Build(reason) => DiscoveryError::HttpClient {
            url: url.to_owned(),
            reason,
        },
        HttpClientError::ReadFile { what, path, source } => {
            DiscoveryError::ReadFile { what, path, source }
        }
    }
}
