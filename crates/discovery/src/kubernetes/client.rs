//! How Kubernetes SD reaches the API server: the URL and HTTP client
//! settings of `api_server`, a kubeconfig file, or the pod's service account
//! (in-cluster), chosen as Prometheus chooses.

use base64::Engine;
use config::discovery::KubernetesSdConfig;
use config::HttpClientConfig;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::KubernetesError;

/// Where the service account's namespace is, for `own_namespace`.
const OWN_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// The connection settings, resolved as far as can be without a runtime:
/// reading a kubeconfig's credentials may run helper programs, so that part
/// waits for [`ApiSource::config`].
pub(crate) enum ApiSource {
    /// A ready configuration (explicit `api_server` or in-cluster).
    Ready(Box<kube::Config>),
    /// A parsed kubeconfig file, and its path.
    Kubeconfig(Box<Kubeconfig>, String),
}

impl ApiSource {
    /// Resolves the settings of `c`; also returns the pod's own namespace
    /// when in-cluster and `own_namespace` is set.
    pub(crate) fn new(c: &KubernetesSdConfig) -> Result<(ApiSource, String), KubernetesError> {
        if !c.kubeconfig_file.is_empty() {
            let kc = Kubeconfig::read_from(&c.kubeconfig_file).map_err(|e| {
                KubernetesError::Kubeconfig {
                    path: c.kubeconfig_file.clone(),
                    reason: e.to_string(),
                }
            })?;
            return Ok((
                ApiSource::Kubeconfig(Box::new(kc), c.kubeconfig_file.clone()),
                String::new(),
            ));
        }
        match &c.api_server {
            Some(url) => {
                let uri = url
                    .raw
                    .parse::<http::Uri>()
                    .map_err(|e| KubernetesError::ApiServer {
                        url: url.raw.clone(),
                        reason: e.to_string(),
                    })?;
                let mut cfg = kube::Config::new(uri);
                apply_http_settings(&mut cfg, &c.http)?;
                Ok((ApiSource::Ready(Box::new(cfg)), String::new()))
            }
            None => {
                let cfg = kube::Config::incluster()
                    .map_err(|e| KubernetesError::InCluster(e.to_string()))?;
                let mut own = String::new();
                if c.namespaces.own_namespace {
                    own = std::fs::read_to_string(OWN_NAMESPACE_FILE).map_err(|e| {
                        KubernetesError::OwnNamespace(format!("{OWN_NAMESPACE_FILE}: {e}"))
                    })?;
                    if own.is_empty() {
                        return Err(KubernetesError::OwnNamespace(format!(
                            "{OWN_NAMESPACE_FILE} is empty"
                        )));
                    }
                }
                Ok((ApiSource::Ready(Box::new(cfg)), own))
            }
        }
    }

    /// The client configuration.
    pub(crate) async fn config(self) -> Result<kube::Config, KubernetesError> {
        match self {
            ApiSource::Ready(c) => Ok(*c),
            ApiSource::Kubeconfig(kc, path) => {
                kube::Config::from_custom_kubeconfig(*kc, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| KubernetesError::Kubeconfig {
                        path,
                        reason: e.to_string(),
                    })
            }
        }
    }
}

fn read(path: &str, what: &str) -> Result<String, KubernetesError> {
    std::fs::read_to_string(path)
        .map_err(|e| KubernetesError::HttpSettings(format!("cannot read {what} {path}: {e}")))
}

fn header(
    name: http::HeaderName,
    value: &str,
) -> Result<(http::HeaderName, http::HeaderValue), KubernetesError> {
    let v = http::HeaderValue::from_str(value).map_err(|e| {
        KubernetesError::HttpSettings(format!("invalid value for header {name}: {e}"))
    })?;
    Ok((name, v))
}

/// Carries the `api_server` HTTP client settings over to kube's client:
/// authentication as request headers (a bearer token file is re-read by
/// kube, as Prometheus re-reads it), TLS roots and client certificate.
fn apply_http_settings(
    cfg: &mut kube::Config,
    h: &HttpClientConfig,
) -> Result<(), KubernetesError> {
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
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        cfg.headers.push(header(
            http::header::AUTHORIZATION,
            &format!("Basic {token}"),
        )?);
    }
    // Validation moved a legacy bearer_token into `authorization`; handle
    // both in case it did not run.
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
    if !cred_file.is_empty() && kind.eq_ignore_ascii_case("bearer") {
        cfg.auth_info.token_file = Some(cred_file);
    } else {
        let cred = if cred_file.is_empty() {
            cred
        } else {
            read(&cred_file, "authorization credentials_file")?
                .trim()
                .to_owned()
        };
        if !cred.is_empty() {
            cfg.headers.push(header(
                http::header::AUTHORIZATION,
                &format!("{kind} {cred}"),
            )?);
        }
    }
    if let Some(hs) = &h.http_headers {
        for (name, v) in hs {
            let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                KubernetesError::HttpSettings(format!("invalid header name {name:?}: {e}"))
            })?;
            for value in &v.values {
                cfg.headers.push(header(name.clone(), value)?);
            }
            for value in &v.secrets {
                cfg.headers.push(header(name.clone(), value.expose())?);
            }
        }
    }
    let tls = &h.tls_config;
    cfg.accept_invalid_certs = tls.insecure_skip_verify;
    if !tls.server_name.is_empty() {
        cfg.tls_server_name = Some(tls.server_name.clone());
    }
    let ca = if tls.ca_file.is_empty() {
        tls.ca.clone()
    } else {
        read(&tls.ca_file, "tls_config ca_file")?
    };
    if !ca.is_empty() {
        cfg.root_cert = Some(pem_certificates(&ca)?);
    }
    if !tls.cert_file.is_empty() {
        cfg.auth_info.client_certificate = Some(tls.cert_file.clone());
    } else if !tls.cert.is_empty() {
        cfg.auth_info.client_certificate_data =
            Some(base64::engine::general_purpose::STANDARD.encode(&tls.cert));
    }
    if !tls.key_file.is_empty() {
        cfg.auth_info.client_key = Some(tls.key_file.clone());
    } else if !tls.key.is_empty() {
        return Err(KubernetesError::HttpSettings(
            "an inline tls_config key is not supported for Kubernetes SD; use key_file".into(),
        ));
    }
    if let Some(p) = &h.proxy.proxy_url {
        cfg.proxy_url = Some(p.raw.parse().map_err(|e| {
            KubernetesError::HttpSettings(format!("invalid proxy_url {}: {e}", p.raw))
        })?);
    }
    Ok(())
}

/// The DER bytes of every certificate in a PEM text.
fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, KubernetesError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = body.find(END).ok_or_else(|| {
            KubernetesError::HttpSettings("unterminated certificate in tls_config CA".into())
        })?;
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| {
                KubernetesError::HttpSettings(format!("invalid certificate in tls_config CA: {e}"))
            })?;
        out.push(der);
        rest = &body[end + END.len()..];
    }
    if out.is_empty() {
        return Err(KubernetesError::HttpSettings(
            "tls_config CA holds no PEM certificate".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_decode() {
        let pem = "x\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAw==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(pem).unwrap(), vec![vec![0, 1, 2], vec![3]]);
        assert!(pem_certificates("nothing").is_err());
    }

    #[test]
    fn bearer_token_becomes_a_header() {
        let mut cfg = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        let h = HttpClientConfig {
            bearer_token: config::Secret::new("tok"),
            ..Default::default()
        };
        apply_http_settings(&mut cfg, &h).unwrap();
        assert_eq!(cfg.headers[0].1, "Bearer tok");
    }
}
