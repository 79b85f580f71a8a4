//! Prometheus's checks of HTTP client settings and the resolution of their
//! file names against the config's directory.

use std::path::Path;

use super::{Authorization, HttpClientConfig, OAuth2, ProxyConfig, TlsConfig};
use crate::load::join_dir;
use crate::validate::{count, invalid, Check};

/// Headers an `http_headers` entry may not set (prometheus/common's list).
const RESERVED_HEADERS: &[&str] = &[
    "Authorization",
    "Host",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "User-Agent",
    "Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Www-Authenticate",
    "Accept-Encoding",
    "X-Prometheus-Remote-Write-Version",
    "X-Prometheus-Remote-Read-Version",
    "X-Prometheus-Scrape-Timeout-Seconds",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
];

/// Go's `http.CanonicalHeaderKey`: each dash-separated word capitalised.
pub(super) fn canonical_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl HttpClientConfig {
    /// Whether redirects are followed (default true).
    pub fn follow_redirects(&self) -> bool {
        self.follow_redirects.unwrap_or(true)
    }

    /// Whether these are the settings a section gets when it sets none:
    /// Kubernetes SD refuses custom settings without `api_server`.
    pub fn is_default(&self) -> bool {
        let mut plain = self.clone();
        plain.follow_redirects = None;
        plain.enable_http2 = None;
        plain == HttpClientConfig::default()
            && self.follow_redirects()
            && self.enable_http2.unwrap_or(true)
    }

    /// Prometheus's checks, in its order; also moves a legacy bearer token
    /// into `authorization` and defaults the authorization type to `Bearer`.
    pub(crate) fn validate(&mut self) -> Check {
        let bearer = !self.bearer_token.is_empty();
        let bearer_file = !self.bearer_token_file.is_empty();
        if bearer && bearer_file {
            return Err(invalid(
                "at most one of bearer_token & bearer_token_file must be configured",
            ));
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && (bearer || bearer_file) {
            return Err(invalid("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"));
        }
        if let Some(b) = &self.basic_auth {
            if count(&[
                !b.username.is_empty(),
                !b.username_file.is_empty(),
                !b.username_ref.is_empty(),
            ]) > 1
            {
                return Err(invalid("at most one of basic_auth username, username_file & username_ref must be configured"));
            }
            if count(&[
                !b.password.is_empty(),
                !b.password_file.is_empty(),
                !b.password_ref.is_empty(),
            ]) > 1
            {
                return Err(invalid("at most one of basic_auth password, password_file & password_ref must be configured"));
            }
        }
        if let Some(a) = &mut self.authorization {
            if bearer || bearer_file {
                return Err(invalid(
                    "authorization is not compatible with bearer_token & bearer_token_file",
                ));
            }
            if count(&[
                !a.credentials.is_empty(),
                !a.credentials_file.is_empty(),
                !a.credentials_ref.is_empty(),
            ]) > 1
            {
                return Err(invalid(
                    "at most one of authorization credentials & credentials_file must be configured",
                ));
            }
            a.kind = a.kind.trim().to_owned();
            if a.kind.is_empty() {
                a.kind = "Bearer".to_owned();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(invalid(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
                ));
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err(invalid(
                    "at most one of basic_auth, oauth2 & authorization must be configured",
                ));
            }
        } else if bearer {
            self.authorization = Some(Authorization {
                kind: "Bearer".to_owned(),
                credentials: std::mem::take(&mut self.bearer_token),
                ..Authorization::default()
            });
        } else if bearer_file {
            self.authorization = Some(Authorization {
                kind: "Bearer".to_owned(),
                credentials_file: std::mem::take(&mut self.bearer_token_file),
                ..Authorization::default()
            });
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return Err(invalid(
                    "at most one of basic_auth, oauth2 & authorization must be configured",
                ));
            }
            o.validate()?;
        }
        self.proxy.validate()?;
        self.tls_config.validate().map_err(|e| e.at("tls_config"))?;
        if let Some(headers) = &self.http_headers {
            for name in headers.keys() {
                let canonical = canonical_header(name);
                if RESERVED_HEADERS.contains(&canonical.as_str()) {
                    return Err(
                        invalid(format!("setting header {canonical:?} is not allowed"))
                            .at(name)
                            .at("http_headers"),
                    );
                }
            }
        }
        Ok(())
    }

    /// Resolves relative file names against the config file's directory.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        if let Some(b) = &mut self.basic_auth {
            join_dir(dir, &mut b.username_file);
            join_dir(dir, &mut b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            join_dir(dir, &mut a.credentials_file);
        }
        if let Some(o) = &mut self.oauth2 {
            join_dir(dir, &mut o.client_secret_file);
            join_dir(dir, &mut o.client_certificate_key_file);
            o.tls_config.set_directory(dir);
        }
        join_dir(dir, &mut self.bearer_token_file);
        self.tls_config.set_directory(dir);
        if let Some(headers) = &mut self.http_headers {
            for h in headers.values_mut() {
                for f in &mut h.files {
                    join_dir(dir, f);
                }
            }
        }
    }
}

impl OAuth2 {
    fn validate(&self) -> Check {
        if self.client_id.is_empty() {
            return Err(invalid("oauth2 client_id must be configured"));
        }
        if self.token_url.is_empty() {
            return Err(invalid("oauth2 token_url must be configured"));
        }
        if self.grant_type == JWT_BEARER {
            if count(&[
                !self.client_certificate_key.is_empty(),
                !self.client_certificate_key_file.is_empty(),
                !self.client_certificate_key_ref.is_empty(),
            ]) > 1
            {
                return Err(invalid("at most one of oauth2 client_certificate_key, client_certificate_key_file & client_certificate_key_ref must be configured using grant-type=urn:ietf:params:oauth:grant-type:jwt-bearer"));
            }
            if !self.signature_algorithm.is_empty()
                && !["RS256", "RS384", "RS512"].contains(&self.signature_algorithm.as_str())
            {
                return Err(invalid(
                    "valid signature algorithms are RS256, RS384 and RS512",
                ));
            }
        } else if count(&[
            !self.client_secret.is_empty(),
            !self.client_secret_file.is_empty(),
            !self.client_secret_ref.is_empty(),
        ]) > 1
        {
            return Err(invalid("at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured using grant-type=client_credentials"));
        }
        self.proxy.validate()?;
        self.tls_config.validate().map_err(|e| e.at("tls_config"))
    }
}

impl TlsConfig {
    /// Prometheus's checks on TLS settings.
    pub(crate) fn validate(&self) -> Check {
        for v in [&self.min_version, &self.max_version] {
            if !v.is_empty() && !["TLS10", "TLS11", "TLS12", "TLS13"].contains(&v.as_str()) {
                return Err(invalid(format!("unknown TLS version: {v}")));
            }
        }
        if count(&[
            !self.ca.is_empty(),
            !self.ca_file.is_empty(),
            !self.ca_ref.is_empty(),
        ]) > 1
        {
            return Err(invalid(
                "at most one of ca, ca_file & ca_ref must be configured",
            ));
        }
        let cert = count(&[
            !self.cert.is_empty(),
            !self.cert_file.is_empty(),
            !self.cert_ref.is_empty(),
        ]);
        if cert > 1 {
            return Err(invalid(
                "at most one of cert, cert_file & cert_ref must be configured",
            ));
        }
        let key = count(&[
            !self.key.is_empty(),
            !self.key_file.is_empty(),
            !self.key_ref.is_empty(),
        ]);
        if key > 1 {
            return Err(invalid(
                "at most one of key and key_file must be configured",
            ));
        }
        if cert > 0 && key == 0 {
            return Err(invalid("exactly one of key or key_file must be configured when a client certificate is configured"));
        }
        if key > 0 && cert == 0 {
            return Err(invalid("exactly one of cert or cert_file must be configured when a client key is configured"));
        }
        Ok(())
    }

    /// Resolves relative file names against the config file's directory.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.ca_file);
        join_dir(dir, &mut self.cert_file);
        join_dir(dir, &mut self.key_file);
    }
}

impl ProxyConfig {
    fn validate(&self) -> Check {
        let has_url = self.proxy_url.as_ref().is_some_and(|u| !u.raw.is_empty());
        if !self.proxy_connect_header.is_empty() && !self.proxy_from_environment && !has_url {
            return Err(invalid("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured"));
        }
        if self.proxy_from_environment && has_url {
            return Err(invalid(
                "if proxy_from_environment is configured, proxy_url must not be configured",
            ));
        }
        if self.proxy_from_environment && !self.no_proxy.is_empty() {
            return Err(invalid(
                "if proxy_from_environment is configured, no_proxy must not be configured",
            ));
        }
        if self.proxy_url.is_none() && !self.no_proxy.is_empty() {
            return Err(invalid(
                "if no_proxy is configured, proxy_url must also be configured",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{de::from_node, parse};

    fn load(text: &str) -> HttpClientConfig {
        let node = parse(text).unwrap();
        from_node(&node).unwrap()
    }

    fn check(text: &str) -> Result<HttpClientConfig, String> {
        let mut c = load(text);
        c.validate().map(|()| c).map_err(|e| e.message)
    }

    #[test]
    fn auth_combinations() {
        let cases: &[(&str, Option<&str>)] = &[
            ("bearer_token: a\nbearer_token_file: b\n", Some("at most one of bearer_token & bearer_token_file must be configured")),
            ("basic_auth: {username: u}\nbearer_token: a\n", Some("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured")),
            ("basic_auth: {username: u}\nauthorization: {credentials: c}\n", Some("at most one of basic_auth, oauth2 & authorization must be configured")),
            ("authorization: {type: Basic}\n", Some(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#)),
            ("oauth2: {client_id: x}\n", Some("oauth2 token_url must be configured")),
            ("oauth2: {client_id: x, token_url: http://t}\n", None),
            ("tls_config: {cert_file: c}\n", Some("exactly one of key or key_file must be configured when a client certificate is configured")),
            ("tls_config: {min_version: TLS9}\n", Some("unknown TLS version: TLS9")),
            ("no_proxy: x\n", Some("if no_proxy is configured, proxy_url must also be configured")),
            ("http_headers: {user-agent: {values: [x]}}\n", Some(r#"setting header "User-Agent" is not allowed"#)),
        ];
        for (text, want) in cases {
            let got = check(text);
            match want {
                Some(w) => assert_eq!(got.unwrap_err(), *w, "{text}"),
                None => assert!(got.is_ok(), "{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn bearer_token_becomes_authorization() {
        let c = check("bearer_token: tok\n").unwrap();
        let a = c.authorization.unwrap();
        assert_eq!((a.kind.as_str(), a.credentials.expose()), ("Bearer", "tok"));
        assert!(c.bearer_token.is_empty());
    }

    #[test]
    fn default_settings_are_recognised() {
        assert!(load("").is_default());
        assert!(load("follow_redirects: true\n").is_default());
        assert!(!load("follow_redirects: false\n").is_default());
        assert!(!load("proxy_url: http://p\n").is_default());
        assert_eq!(
            load("proxy_url: http://p:1\n")
                .proxy
                .proxy_url
                .unwrap()
                .host,
            "p:1"
        );
    }
}
