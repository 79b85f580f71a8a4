//! The server: listeners, the per-connection TLS handshake, the
//! per-request web config checks (basic auth, headers), and graceful
//! shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt as _;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::BasicAuth;
use crate::rate_limit::RateLimiter;
use crate::source::{Loaded, WebConfigSource};
use crate::WebError;

/// Limits of a server, with Prometheus's defaults.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest request body accepted; larger ones get 413.
    pub max_request_body_bytes: usize,
    /// Connections served at once over all listeners
    /// (`--web.max-connections`); further ones wait to be accepted.
    pub max_connections: usize,
    /// Time allowed for a TLS handshake and for reading a request's
    /// headers (`--web.read-timeout`).
    pub read_timeout: Duration,
    /// How long a shutdown waits for requests in flight (a long query, a
    /// slow client) before it leaves them.
    pub drain_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            // Remote-write batches are the largest bodies a Prometheus
            // server takes; 32 MiB leaves room for big ones.
            max_request_body_bytes: 32 << 20,
            max_connections: 512,
            read_timeout: Duration::from_secs(300),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// An HTTP(S) server on one or more bound listeners.
pub struct Server {
    listeners: Vec<TcpListener>,
    source: Option<Arc<WebConfigSource>>,
    tls: bool,
    limiter: Option<RateLimiter>,
    options: ServerOptions,
}

struct Shared {
    router: Router,
    source: Option<Arc<WebConfigSource>>,
    auth: BasicAuth,
    tls: bool,
    limiter: Option<RateLimiter>,
    options: ServerOptions,
}

impl Server {
    /// Binds every listen address and loads the web config file, if any.
    /// Whether the server speaks TLS is decided here, from the config as it
    /// is now; later changes of the file change certificates, users and
    /// headers but not that, as in Prometheus.
    pub async fn bind<S: AsRef<str>>(
        addresses: &[S],
        web_config_file: Option<&Path>,
    ) -> Result<Server, WebError> {
        let mut source = None;
        let mut tls = false;
        let mut limiter = None;
        if let Some(path) = web_config_file.filter(|p| !p.as_os_str().is_empty()) {
            let s = Arc::new(WebConfigSource::new(path.to_owned()));
            let loaded = s.current().map_err(|reason| WebError::Config {
                file: path.display().to_string(),
                reason,
            })?;
            tls = loaded.tls.is_some();
            let r = &loaded.config.rate_limit;
            limiter = RateLimiter::new(r.interval, r.burst);
            source = Some(s);
        }
        let mut listeners = Vec::new();
        for a in addresses {
            listeners.push(crate::listen::bind(a.as_ref()).await?);
        }
        Ok(Server {
            listeners,
            source,
            tls,
            limiter,
            options: ServerOptions::default(),
        })
    }

    /// Replaces the limits.
    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// The bound addresses, in the order given.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Whether the server speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Serves `router` until `shutdown` completes; then stops accepting
    /// and waits for the requests in flight to be answered.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), WebError> {
        let shared = Arc::new(Shared {
            router: router.layer(RequestBodyLimitLayer::new(
                self.options.max_request_body_bytes,
            )),
            source: self.source,
            auth: BasicAuth::default(),
            tls: self.tls,
            limiter: self.limiter,
            options: self.options.clone(),
        });
        let graceful = Arc::new(GracefulShutdown::new());
        let permits = Arc::new(Semaphore::new(self.options.max_connections.max(1)));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut loops = tokio::task::JoinSet::new();
        for l in self.listeners {
            tracing::info!(address = ?l.local_addr().ok(), tls = shared.tls, "Listening on");
            loops.spawn(accept_loop(
                l,
                shared.clone(),
                permits.clone(),
                stop_rx.clone(),
                graceful.clone(),
            ));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        while loops.join_next().await.is_some() {}
        // The accept loops have ended, so this is the last reference.
        if let Ok(g) = Arc::try_unwrap(graceful) {
            if tokio::time::timeout(self.options.drain_timeout, g.shutdown())
                .await
                .is_err()
            {
                tracing::warn!(timeout = ?self.options.drain_timeout, "requests still in flight after the drain timeout; leaving them");
            }
        }
        Ok(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
    graceful: Arc<GracefulShutdown>,
) {
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like pass; back off
                    // a little, as Go's server does, rather than spin.
                    tracing::warn!(err = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let shared = shared.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, shared, watcher).await;
        });
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, watcher: Watcher) {
    let _ = stream.set_nodelay(true);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.options.read_timeout);
    let svc_shared = shared.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = svc_shared.clone();
        async move { Ok::<_, Infallible>(handle(&shared, req).await) }
    });
    if !shared.tls {
        // Go serves no HTTP/2 without TLS; neither does pharos.
        let builder = builder.http1_only();
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let _ = watcher.watch(conn.into_owned()).await;
        return;
    }
    // A new connection picks up new certificates, as exporter-toolkit's
    // per-handshake config does.
    let tls_config = match shared.source.as_ref().map(|s| s.current()) {
        Some(Ok(loaded)) => loaded.tls.clone(),
        _ => None,
    };
    let Some(tls_config) = tls_config else {
        tracing::error!("TLS handshake refused: no valid TLS config");
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    let tls_stream =
        match tokio::time::timeout(shared.options.read_timeout, acceptor.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(err = %e, "TLS handshake failed");
                return;
            }
            Err(_) => return,
        };
    let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let builder = if h2 {
        builder.http2_only()
    } else {
        builder.http1_only()
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
    let _ = watcher.watch(conn.into_owned()).await;
}

/// A plain-text answer as Go's `http.Error` writes it, with the status's
/// reason as the text.
pub(crate) fn text_error(status: StatusCode) -> Response<Body> {
    text_error_with(status, status.canonical_reason().unwrap_or(""))
}

/// A plain-text answer as Go's `http.Error(w, text, status)` writes it.
pub(crate) fn text_error_with(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let loaded: Option<Arc<Loaded>> = match &shared.source {
        None => None,
        Some(s) => match s.current() {
            Ok(l) => Some(l),
            // exporter-toolkit answers 500 while the file is broken.
            Err(_) => return text_error(StatusCode::INTERNAL_SERVER_ERROR),
        },
    };
    if shared.limiter.as_ref().is_some_and(|l| !l.allow()) {
        return text_error(StatusCode::TOO_MANY_REQUESTS);
    }
    let users = loaded
        .as_ref()
        .map(|l| &l.config.basic_auth_users)
        .filter(|u| !u.is_empty());
    let mut resp = match users {
        Some(users) if !shared.auth.check(users, req.headers()).await => {
            let mut r = text_error(StatusCode::UNAUTHORIZED);
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            r
        }
        _ => match shared.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        },
    };
    if let Some(l) = loaded {
        // exporter-toolkit sets these before the handler runs, so a
        // handler's own value wins.
        for (k, v) in &l.headers {
            resp.headers_mut().entry(k).or_insert_with(|| v.clone());
        }
    }
    resp
}
