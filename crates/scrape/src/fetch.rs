//! Fetching a target's body over HTTP: the headers Prometheus sends, the
//! timeout, gzip, and the body size limit (`targetScraper`).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, CONTENT_TYPE, USER_AGENT};

use crate::{ScrapeError, ScrapeOptions};

/// An HTTP client for scraping, shared by the loops of a job (connections
/// are pooled and kept alive between scrapes). It carries the job's HTTP
/// client settings: TLS and proxy fixed when it was built, credentials and
/// extra headers applied to every request.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: httpclient::HttpClient,
}

impl HttpClient {
    /// A client with the default settings: gzip, no proxy (Prometheus uses
    /// one only when configured, not from the environment), redirects
    /// followed, no credentials.
    pub fn new() -> Result<HttpClient, ScrapeError> {
        let inner = httpclient::HttpClient::new(&Default::default(), None)
            .map_err(|e| ScrapeError::Client(e.to_string()))?;
        Ok(HttpClient { inner })
    }
}

/// A job's client built from its HTTP client settings; the scrape loops
/// keep their own timeout, so `client` should have none.
impl From<httpclient::HttpClient> for HttpClient {
    fn from(inner: httpclient::HttpClient) -> HttpClient {
        HttpClient { inner }
    }
}

/// Fetches one target, keeping its request headers and body buffer.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: httpclient::HttpClient,
    url: String,
    headers: HeaderMap,
    timeout: Duration,
    body_limit: u64,
    /// The last body, reused so steady-state scrapes do not reallocate it.
    pub(crate) body: Vec<u8>,
}

impl Fetcher {
    pub(crate) fn new(
        client: &HttpClient,
        url: &str,
        opts: &ScrapeOptions,
        timeout: Duration,
    ) -> Fetcher {
        let mut headers = HeaderMap::new();
        let mut insert = |name, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        insert(ACCEPT, &opts.accept_header());
        insert(
            ACCEPT_ENCODING,
            if opts.enable_compression {
                "gzip"
            } else {
                "identity"
            },
        );
        insert(USER_AGENT, concat!("pharos/", env!("CARGO_PKG_VERSION")));
        // Go's FormatFloat(seconds, 'f', -1): `10`, `0.5`.
        let secs = timeout.as_secs_f64().to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            headers.insert("X-Prometheus-Scrape-Timeout-Seconds", v);
        }
        Fetcher {
            client: client.inner.clone(),
            url: url.to_owned(),
            headers,
            timeout,
            body_limit: if opts.body_size_limit == 0 {
                u64::MAX
            } else {
                opts.body_size_limit
            },
            body: Vec::new(),
        }
    }

    /// Fetches the body into [`Fetcher::body`] and returns its
    /// `Content-Type`, all within the scrape timeout.
    pub(crate) async fn fetch(&mut self) -> Result<String, ScrapeError> {
        self.body.clear();
        match tokio::time::timeout(self.timeout, self.fetch_inner()).await {
            Ok(r) => r,
            Err(_) => Err(ScrapeError::Request {
                url: self.url.clone(),
                cause: "context deadline exceeded".to_owned(),
            }),
        }
    }

    async fn fetch_inner(&mut self) -> Result<String, ScrapeError> {
        let request_error = |e: reqwest::Error| ScrapeError::Request {
            url: self.url.clone(),
            cause: root_cause(&e),
        };
        // The job's credentials and headers first (their files are read
        // now), then the scrape's own headers, which win on a name clash.
        let req = self
            .client
            .get(&self.url)
            .await
            .map_err(|e| ScrapeError::Request {
                url: self.url.clone(),
                cause: e.to_string(),
            })?;
        let mut resp = req
            .headers(self.headers.clone())
            .send()
            .await
            .map_err(request_error)?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(ScrapeError::Status(resp.status().to_string()));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        loop {
            let chunk = resp.chunk().await.map_err(|e| ScrapeError::Body {
                url: self.url.clone(),
                cause: root_cause(&e),
            })?;
            let Some(chunk) = chunk else { break };
            // As Prometheus: reading `limit` bytes is already too many.
            if (self.body.len() + chunk.len()) as u64 >= self.body_limit {
                return Err(ScrapeError::BodySizeLimit);
            }
            self.body.extend_from_slice(&chunk);
        }
        Ok(content_type)
    }
}

/// The innermost cause of an error, which says what actually failed
/// (`Connection refused (os error 111)`) rather than that a request did.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
