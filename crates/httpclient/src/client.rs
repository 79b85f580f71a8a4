//! [`HttpClient`]: a reqwest client built from a section's HTTP client
//! settings, with the per-request parts of those settings.

use std::path::Path;
use std::time::Duration;

use config::{HttpClientConfig, TlsConfig};
use reqwest::header::{HeaderName, HeaderValue};

use crate::HttpClientError;

/// The first setting of `cfg` that pharos cannot apply yet, if any, named
/// as the config spells it; callers refuse such a config, naming the job.
pub fn unsupported(cfg: &HttpClientConfig) -> Option<&'static str> {
    let tls = &cfg.tls_config;
    let refs = cfg
        .basic_auth
        .as_ref()
        .is_some_and(|b| !b.username_ref.is_empty() || !b.password_ref.is_empty())
        || cfg
            .authorization
            .as_ref()
            .is_some_and(|a| !a.credentials_ref.is_empty())
        || !tls.ca_ref.is_empty()
        || !tls.cert_ref.is_empty()
        || !tls.key_ref.is_empty();
    if cfg.oauth2.is_some() {
        Some("oauth2")
    } else if refs {
        Some("secret references (*_ref)")
    } else if !tls.server_name.is_empty() {
        Some("tls_config server_name")
    } else if matches!(tls.max_version.as_str(), "TLS10" | "TLS11") {
        Some("TLS versions below 1.2")
    } else if !cfg.proxy.proxy_connect_header.is_empty() {
        Some("proxy_connect_header")
    } else {
        None
    }
}

/// Where a header value or credential comes from.
#[derive(Debug, Clone)]
enum Value {
    Inline(String),
    File(&'static str, String),
}

impl Value {
    fn new(inline: &str, file: &str, what: &'static str) -> Self {
        if file.is_empty() {
            Value::Inline(inline.to_owned())
        } else {
            Value::File(what, file.to_owned())
        }
    }

    async fn read(&self) -> Result<String, HttpClientError> {
        match self {
            Value::Inline(v) => Ok(v.clone()),
            Value::File(what, path) => tokio::fs::read_to_string(path)
                .await
                // Files often end in a newline that is not part of the secret.
                .map(|s| s.trim().to_owned())
                .map_err(|source| HttpClientError::ReadFile {
                    what,
                    path: path.into(),
                    source,
                }),
        }
    }
}

/// A client with the per-request parts of its settings. Cloning is cheap and
/// shares the connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    basic: Option<(Value, Value)>,
    authorization: Option<(String, Value)>,
    headers: Vec<(HeaderName, Value)>,
}

impl HttpClient {
    /// Builds the client from `cfg`; requests time out after `timeout`
    /// when one is given (callers with their own deadline pass `None`).
    /// Reads the CA and client certificate files. Settings that
    /// [`unsupported`] names are not checked here: callers refuse them
    /// first.
    pub fn new(cfg: &HttpClientConfig, timeout: Option<Duration>) -> Result<Self, HttpClientError> {
        let fail = HttpClientError::Build;
        let redirect = if cfg.follow_redirects() {
            // Go's client gives up after ten redirects too.
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        };
        let mut b = reqwest::Client::builder().redirect(redirect);
        if let Some(t) = timeout {
            b = b.timeout(t);
        }
        if cfg.enable_http2 == Some(false) {
            // The client offers HTTP/1.1 only anyway (reqwest is built
            // without HTTP/2), so `enable_http2: true` falls back to it, as
            // Go does with a server that does not speak HTTP/2.
            b = b.http1_only();
        }
        if !cfg.proxy.proxy_from_environment {
            // reqwest reads HTTP_PROXY and friends unless told not to;
            // Prometheus ignores them unless `proxy_from_environment`.
            b = b.no_proxy();
        }
        if let Some(p) = &cfg.proxy.proxy_url {
            let proxy = reqwest::Proxy::all(p.raw.as_str())
                .map_err(|e| fail(format!("proxy_url {:?}: {e}", p.raw)))?
                .no_proxy(reqwest::NoProxy::from_string(&cfg.proxy.no_proxy));
            b = b.proxy(proxy);
        }
        b = tls(b, &cfg.tls_config).map_err(fail)?;
        let basic = cfg.basic_auth.as_ref().map(|a| {
            (
                Value::new(&a.username, &a.username_file, "username_file"),
                Value::new(a.password.expose(), &a.password_file, "password_file"),
            )
        });
        let authorization = cfg.authorization.as_ref().map(|a| {
            let kind = if a.kind.is_empty() { "Bearer" } else { &a.kind };
            (
                kind.to_owned(),
                Value::new(
                    a.credentials.expose(),
                    &a.credentials_file,
                    "credentials_file",
                ),
            )
        });
        let mut headers = Vec::new();
        for (name, h) in cfg.http_headers.iter().flatten() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| fail(format!("http_headers {name:?}: {e}")))?;
            let values = h.values.iter().map(|v| Value::Inline(v.clone()));
            let secrets = h
                .secrets
                .iter()
                .map(|v| Value::Inline(v.expose().to_owned()));
            let files = h
                .files
                .iter()
                .map(|f| Value::File("http_headers file", f.clone()));
            headers.extend(
                values
                    .chain(secrets)
                    .chain(files)
                    .map(|v| (name.clone(), v)),
            );
        }
        let client = b.build().map_err(|e| fail(e.to_string()))?;
        Ok(HttpClient {
            client,
            basic,
            authorization,
            headers,
        })
    }

    /// A GET request with the settings' credentials and headers, their
    /// files read now. Headers the caller adds afterwards replace those of
    /// the same name.
    pub async fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, HttpClientError> {
        let mut req = self.client.get(url);
        if let Some((user, password)) = &self.basic {
            req = req.basic_auth(user.read().await?, Some(password.read().await?));
        }
        if let Some((kind, credentials)) = &self.authorization {
            let value = format!("{kind} {}", credentials.read().await?);
            req = req.header(reqwest::header::AUTHORIZATION, value);
        }
        for (name, value) in &self.headers {
            let v = value.read().await?;
            match HeaderValue::from_str(&v) {
                Ok(v) => req = req.header(name.clone(), v),
                Err(_) => {
                    tracing::warn!(header = %name, "skipping a header value that is not valid in HTTP")
                }
            }
        }
        Ok(req)
    }
}

/// Applies `tls_config`: a CA replaces the built-in roots, as Go's
/// `RootCAs` does.
fn tls(mut b: reqwest::ClientBuilder, t: &TlsConfig) -> Result<reqwest::ClientBuilder, String> {
    let ca = pem(&t.ca, &t.ca_file, "ca_file")?;
    if !ca.is_empty() {
        let certs = reqwest::Certificate::from_pem_bundle(&ca).map_err(|e| format!("ca: {e}"))?;
        b = b.tls_built_in_root_certs(false);
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    let cert = pem(&t.cert, &t.cert_file, "cert_file")?;
    let key = pem(t.key.expose(), &t.key_file, "key_file")?;
    if !cert.is_empty() || !key.is_empty() {
        let mut both = cert;
        both.push(b'\n');
        both.extend_from_slice(&key);
        let id = reqwest::Identity::from_pem(&both).map_err(|e| format!("cert/key: {e}"))?;
        b = b.identity(id);
    }
    if t.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    if t.min_version == "TLS13" {
        b = b.min_tls_version(reqwest::tls::Version::TLS_1_3);
    }
    if t.max_version == "TLS12" {
        b = b.max_tls_version(reqwest::tls::Version::TLS_1_2);
    }
    Ok(b)
}

/// PEM text given inline or in a file.
fn pem(inline: &str, file: &str, what: &str) -> Result<Vec<u8>, String> {
    if file.is_empty() {
        return Ok(inline.as_bytes().to_vec());
    }
    std::fs::read(Path::new(file)).map_err(|e| format!("cannot read {what} {file}: {e}"))
}

#[cfg(test)]
mod tests;
