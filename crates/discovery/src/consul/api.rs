//! The parts of Consul's HTTP API that Consul SD reads: the agent's
//! datacenter, the catalog's service list and a service's health entries,
//! the last two as blocking queries (`index` + `wait`, answered when the
//! `X-Consul-Index` moves past `index` or the wait ends).

use std::collections::BTreeMap;
use std::time::Duration;

use config::discovery::ConsulSdConfig;
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
    http: crate::http::HttpClient,
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
        let base = format!("{}://{}{}", c.scheme, c.server, c.path_prefix);
        // Past the longest wait, so a blocking query is not cut short.
        let http = crate::http::HttpClient::new(&base, &c.http, WAIT + Duration::from_secs(15))
            .map_err(|e| ConsulError::HttpSettings(e.to_string()))?;
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
            base,
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
        let fail = |reason: String| ConsulError::Request {
            url: url.clone(),
            reason,
        };
        let mut req = self
            .http
            .get(&url)
            .await
            .map_err(|e| fail(e.to_string()))?
            .query(&self.common)
            .query(query);
        if !self.token.is_empty() {
            req = req.header("X-Consul-Token", &self.token);
        }
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
