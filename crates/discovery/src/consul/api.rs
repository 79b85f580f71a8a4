//! The parts of Consul's HTTP API that Consul SD reads: the agent's
//! datacenter, the catalog's service list and a service's health entries,
//! the last two as blocking queries (`index` + `wait`, answered when the
//! `X-Consul-Index` moves past `index` or the wait ends).

use std::collections::BTreeMap;
use std::time::Duration;

use config::discovery::ConsulSdConfig;
use config::HttpClientConfig;
use serde::Deserialize;

use super::ConsulError;

/// How long Consul may hold a blocking query (Prometheus's watch timeout).
pub(crate) const WAIT: Duration = Duration::from_secs(120);

/// One entry of `/v1/health/service/<name>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceEntry {
    pub(crate) node: Node,
    pub(crate) service: Service,
    #[serde(default)]
    pub(crate) checks: Vec<Check>,
}

/// The node part of a health entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Node {
    #[serde(default)]
    pub(crate) node: String,
    #[serde(default)]
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) tagged_addresses: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) meta: Option<BTreeMap<String, String>>,
}

/// The service part of a health entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Service {
    #[serde(default, rename = "ID")]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) tags: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) port: i64,
    #[serde(default)]
    pub(crate) meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) namespace: String,
    #[serde(default)]
    pub(crate) partition: String,
}

/// One health check of a health entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Check {
    #[serde(default, rename = "CheckID")]
    pub(crate) check_id: String,
    #[serde(default)]
    pub(crate) status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentSelf {
    config: AgentConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentConfig {
    datacenter: String,
}

/// A Consul API client with the settings of one `consul_sd_configs` entry.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Query parameters every request carries (datacenter, namespace,
    /// partition, staleness).
    common: Vec<(String, String)>,
    node_meta: Vec<(String, String)>,
}

impl Api {
    /// A client for `c`.
    pub(crate) fn new(c: &ConsulSdConfig) -> Result<Api, ConsulError> {
        let http = http_client(&c.http)?;
        let mut common = Vec::new();
        for (k, v) in [
            ("dc", &c.datacenter),
            ("ns", &c.namespace),
            ("partition", &c.partition),
        ] {
            if !v.is_empty() {
                common.push((k.to_owned(), v.clone()));
            }
        }
        Ok(Api {
            http,
            base: format!("{}://{}{}", c.scheme, c.server, c.path_prefix),
            token: c.token.expose().to_owned(),
            common,
            node_meta: c
                .node_meta
                .iter()
                .map(|(k, v)| ("node-meta".to_owned(), format!("{k}:{v}")))
                .collect(),
        })
    }

    async fn get(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(bytes_body::Body, u64), ConsulError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.get(&url).query(&self.common).query(query);
        if !self.token.is_empty() {
            req = req.header("X-Consul-Token", &self.token);
        }
        let fail = |reason: String| ConsulError::Request {
            url: url.clone(),
            reason,
        };
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let index = resp
            .headers()
            .get("X-Consul-Index")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            return Err(fail(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }
        Ok((
            bytes_body::Body {
                url,
                body: body.to_vec(),
            },
            index,
        ))
    }

    fn blocking(&self, index: u64, allow_stale: bool, filter: &str) -> Vec<(String, String)> {
        let mut q = self.node_meta.clone();
        if index != 0 {
            q.push(("index".into(), index.to_string()));
        }
        q.push(("wait".into(), format!("{}ms", WAIT.as_millis())));
        if allow_stale {
            q.push(("stale".into(), String::new()));
        }
        if !filter.is_empty() {
            q.push(("filter".into(), filter.to_owned()));
        }
        q
    }

    /// The agent's datacenter, from `/v1/agent/self`.
    pub(crate) async fn datacenter(&self) -> Result<String, ConsulError> {
        let (body, _) = self.get("/v1/agent/self", &[]).await?;
        let s: AgentSelf = body.json()?;
        Ok(s.config.datacenter)
    }

    /// The catalog's services and their tags, and the index.
    pub(crate) async fn services(
        &self,
        index: u64,
        allow_stale: bool,
        filter: &str,
    ) -> Result<(BTreeMap<String, Vec<String>>, u64), ConsulError> {
        let q = self.blocking(index, allow_stale, filter);
        let (body, index) = self.get("/v1/catalog/services", &q).await?;
        let m: BTreeMap<String, Option<Vec<String>>> = body.json()?;
        Ok((
            m.into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
            index,
        ))
    }

    /// The health entries of `service` (every status, not only passing) that
    /// carry all of `tags`, and the index.
    pub(crate) async fn health(
        &self,
        service: &str,
        tags: &[String],
        index: u64,
        allow_stale: bool,
        filter: &str,
    ) -> Result<(Vec<ServiceEntry>, u64), ConsulError> {
        let mut q = self.blocking(index, allow_stale, filter);
        q.extend(tags.iter().map(|t| ("tag".to_owned(), t.clone())));
        let path = format!("/v1/health/service/{}", path_escape(service));
        let (body, index) = self.get(&path, &q).await?;
        let entries: Option<Vec<ServiceEntry>> = body.json()?;
        Ok((entries.unwrap_or_default(), index))
    }
}

/// Escapes a service name for a URL path segment.
fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

mod bytes_body {
    use super::ConsulError;

    /// A response body with the URL it came from, for error messages.
    pub(crate) struct Body {
        pub(crate) url: String,
        pub(crate) body: Vec<u8>,
    }

    impl Body {
        pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConsulError> {
            serde_json::from_slice(&self.body).map_err(|e| ConsulError::Decode {
                url: self.url.clone(),
                reason: e.to_string(),
            })
        }
    }
}

fn read(path: &str, what: &str) -> Result<String, ConsulError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConsulError::HttpSettings(format!("cannot read {what} {path}: {e}")))
}

/// A reqwest client with the authentication, TLS, proxy and header
/// settings of `h`, and a timeout past the blocking-query wait.
fn http_client(h: &HttpClientConfig) -> Result<reqwest::Client, ConsulError> {
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
    let bad = |e: &dyn std::fmt::Display| ConsulError::HttpSettings(e.to_string());
    let mut headers = HeaderMap::new();
    if let Some(b) = &h.basic_auth {
        let user = if b.username_file.is_empty() {
            b.username.clone()
        } else {
            read(&b.username_file, "basic_auth username_file")?
                .trim()
                .to_owned()
        };
        let pass = if b.password_file.is_empty() {
            b.password.expose().to_owned()
        } else {
            read(&b.password_file, "basic_auth password_file")?
                .trim()
                .to_owned()
        };
        use base64::Engine;
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {v}")).map_err(|e| bad(&e))?,
        );
    }
    let (kind, cred, cred_file) = match &h.authorization {
        Some(a) => (
            if a.kind.is_empty() {
                "Bearer"
            } else {
                a.kind.as_str()
            },
            a.credentials.expose().to_owned(),
            a.credentials_file.clone(),
        ),
        None => (
            "Bearer",
            h.bearer_token.expose().to_owned(),
            h.bearer_token_file.clone(),
        ),
    };
    let cred = if cred_file.is_empty() {
        cred
    } else {
        read(&cred_file, "authorization credentials_file")?
            .trim()
            .to_owned()
    };
    if !cred.is_empty() {
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("{kind} {cred}")).map_err(|e| bad(&e))?,
        );
    }
    for (name, v) in h.http_headers.iter().flatten() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(&e))?;
        for value in v
            .values
            .iter()
            .map(String::as_str)
            .chain(v.secrets.iter().map(|s| s.expose()))
        {
            headers.append(
                name.clone(),
                HeaderValue::from_str(value).map_err(|e| bad(&e))?,
            );
        }
    }
    let tls = &h.tls_config;
    let mut b = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(WAIT + Duration::from_secs(15))
        .danger_accept_invalid_certs(tls.insecure_skip_verify);
    if !h.follow_redirects() {
        b = b.redirect(reqwest::redirect::Policy::none());
    }
    let ca = if tls.ca_file.is_empty() {
        tls.ca.clone()
    } else {
        read(&tls.ca_file, "tls_config ca_file")?
    };
    if !ca.is_empty() {
        for cert in reqwest::Certificate::from_pem_bundle(ca.as_bytes()).map_err(|e| bad(&e))? {
            b = b.add_root_certificate(cert);
        }
    }
    let cert = if tls.cert_file.is_empty() {
        tls.cert.clone()
    } else {
        read(&tls.cert_file, "tls_config cert_file")?
    };
    let key = if tls.key_file.is_empty() {
        tls.key.expose().to_owned()
    } else {
        read(&tls.key_file, "tls_config key_file")?
    };
    if !cert.is_empty() && !key.is_empty() {
        let pem = format!("{cert}\n{key}");
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).map_err(|e| bad(&e))?);
    }
    if let Some(p) = &h.proxy.proxy_url {
        b = b.proxy(reqwest::Proxy::all(&p.raw).map_err(|e| bad(&e))?);
    } else if !h.proxy.proxy_from_environment {
        b = b.no_proxy();
    }
    b.build().map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_escaped_in_paths() {
        assert_eq!(path_escape("web"), "web");
        assert_eq!(path_escape("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn health_entries_decode_from_consul_json() {
        let e: Vec<ServiceEntry> = serde_json::from_str(
            r#"[{"Node":{"ID":"x","Node":"n1","Address":"10.0.0.1","TaggedAddresses":null,"Meta":null},
                 "Service":{"ID":"web-1","Service":"web","Tags":null,"Port":80,"Address":""},
                 "Checks":[{"CheckID":"serfHealth","Status":"passing"}]}]"#,
        )
        .unwrap();
        assert_eq!(e[0].node.node, "n1");
        assert_eq!(e[0].service.port, 80);
        assert_eq!(e[0].checks[0].check_id, "serfHealth");
    }
}
