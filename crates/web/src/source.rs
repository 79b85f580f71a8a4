//! The web config as it is now: exporter-toolkit re-reads the file on every
//! request and every TLS handshake, so that new certificates and users take
//! effect at once. pharos keeps that effect without the cost: it compares
//! the modification time, size and inode of the config file and of the
//! certificate, key and client CA files it names, and re-reads only when
//! one of them changed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::{HeaderName, HeaderValue};
use config::WebConfig;
use parking_lot::Mutex;
use tokio_rustls::rustls;

/// A loaded web config with what is derived from it.
pub(crate) struct Loaded {
    pub(crate) config: WebConfig,
    /// The rustls config when TLS is enabled.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    /// `http_server_config.headers`, ready to set.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

/// What identifies one version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Option<(SystemTime, u64, u64)>);

fn stamp(path: &Path) -> Stamp {
    Stamp(std::fs::metadata(path).ok().map(|m| {
        (
            m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            m.len(),
            m.ino(),
        )
    }))
}

struct Cached {
    files: Arc<Vec<(PathBuf, Stamp)>>,
    loaded: Result<Arc<Loaded>, String>,
}

/// The web config file, re-read when it or its files change.
pub(crate) struct WebConfigSource {
    path: PathBuf,
    cached: Mutex<Option<Cached>>,
}

impl WebConfigSource {
    pub(crate) fn new(path: PathBuf) -> Self {
        WebConfigSource {
            path,
            cached: Mutex::new(None),
        }
    }

    /// The config now, or why it cannot be used.
    pub(crate) fn current(&self) -> Result<Arc<Loaded>, String> {
        // The files are compared outside the lock, so that requests do not
        // queue behind each other's `stat` calls.
        let seen = self
            .cached
            .lock()
            .as_ref()
            .map(|c| (c.files.clone(), c.loaded.clone()));
        if let Some((files, loaded)) = seen {
            if files.iter().all(|(p, s)| &stamp(p) == s) {
                return loaded;
            }
        }
        let mut cached = self.cached.lock();
        // Another request may have re-read the files meanwhile.
        if let Some(c) = cached.as_ref() {
            if c.files.iter().all(|(p, s)| &stamp(p) == s) {
                return c.loaded.clone();
            }
        }
        // Stamps are taken before reading, so a change during the read
        // leads to one more read next time rather than a missed change.
        let mut files = vec![(self.path.clone(), stamp(&self.path))];
        let loaded = load(&self.path, &mut files);
        if let Err(e) = &loaded {
            tracing::error!(file = %self.path.display(), err = %e, "Unable to parse web configuration");
        }
        *cached = Some(Cached {
            files: Arc::new(files),
            loaded: loaded.clone(),
        });
        loaded
    }
}

fn load(path: &Path, files: &mut Vec<(PathBuf, Stamp)>) -> Result<Arc<Loaded>, String> {
    let config = WebConfig::load_file(path).map_err(|e| e.to_string())?;
    let t = &config.tls_server_config;
    for f in [&t.cert_file, &t.key_file, &t.client_ca_file] {
        if !f.is_empty() {
            let p = PathBuf::from(f);
            let s = stamp(&p);
            files.push((p, s));
        }
    }
    let tls = if t.is_enabled() {
        let cfg = crate::tls::server_config(t, config.http_server_config.http2)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Some(Arc::new(cfg))
    } else {
        None
    };
    let headers = config
        .http_server_config
        .headers
        .iter()
        .map(|(k, v)| {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| format!("invalid header name {k:?}: {e}"))?;
            let value =
                HeaderValue::from_str(v).map_err(|e| format!("invalid value for {k}: {e}"))?;
            Ok((name, value))
        })
        .collect::<Result<_, String>>()?;
    Ok(Arc::new(Loaded {
        config,
        tls,
        headers,
    }))
}
