//! `--web.external-url`: the URL under which the server is reached, used
//! for links back to it and, through its path, as the default route
//! prefix. Computed as Prometheus does when not given: `http://`, the
//! host's name and the port of the first listen address.

use crate::WebError;

/// A sanitised external URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalUrl {
    url: url::Url,
}

impl ExternalUrl {
    /// Computes the external URL from the flag's value (empty or `None`
    /// when not given) and the first listen address.
    pub fn compute(raw: Option<&str>, listen_address: &str) -> Result<ExternalUrl, WebError> {
        let raw = raw.unwrap_or("");
        let err = |reason: String| WebError::ExternalUrl {
            url: raw.to_owned(),
            reason,
        };
        let text = if raw.is_empty() {
            let (_, port) = listen_address
                .rsplit_once(':')
                .ok_or_else(|| err(format!("missing port in listen address {listen_address:?}")))?;
            format!("http://{}:{port}/", hostname())
        } else {
            raw.to_owned()
        };
        let quoted = |c: char| c == '"' || c == '\'';
        if text.starts_with(quoted) || text.ends_with(quoted) {
            return Err(err("URL must not begin or end with quotes".to_owned()));
        }
        let mut url = url::Url::parse(&text).map_err(|e| err(e.to_string()))?;
        // Prometheus keeps the path without its trailing slashes.
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        Ok(ExternalUrl { url })
    }

    /// The URL, without a trailing slash after its path.
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    /// The path, `""` or `/a/b`: the default `--web.route-prefix`.
    pub fn path(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }
}

/// The host's name, as Go's `os.Hostname` reads it on Linux.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_like_prometheus() {
        let u = ExternalUrl::compute(Some("https://example.com/prom/"), ":9090").unwrap();
        assert_eq!(
            (u.as_str(), u.path()),
            ("https://example.com/prom", "/prom")
        );
        let u = ExternalUrl::compute(Some("http://example.com"), ":9090").unwrap();
        assert_eq!((u.as_str(), u.path()), ("http://example.com", ""));
        let u = ExternalUrl::compute(None, "0.0.0.0:9091").unwrap();
        assert_eq!(u.as_str(), format!("http://{}:9091", hostname()));
        assert_eq!(u.path(), "");
        let e = ExternalUrl::compute(Some("\"http://x/\""), ":9090").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot parse external URL \"\\\"http://x/\\\"\": URL must not begin or end with quotes"
        );
        assert!(ExternalUrl::compute(None, "9090").is_err());
        let prefix = crate::RoutePrefix::new(
            ExternalUrl::compute(Some("http://x/a/b/"), ":1")
                .unwrap()
                .path(),
        );
        assert_eq!(prefix.as_str(), "/a/b");
    }
}
