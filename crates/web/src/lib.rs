//! The HTTP serving core of every pharos server: listeners bound as
//! Prometheus's `--web.listen-address` takes them, TLS and basic
//! authentication per a `web.config.yml` (`--web.config.file`, the
//! exporter-toolkit format), response headers, a request body limit,
//! graceful shutdown, the management endpoints (`/-/healthy`, `/-/ready`,
//! `/-/reload`, `/-/quit`) and `--web.route-prefix`.
//!
//! It owns the transport and the gate in front of the routes; the routes
//! themselves (API, UI, federation) are `axum` routers that other modules
//! pass to [`Server::serve`]. The web config file is checked again on every
//! connection and request, as exporter-toolkit does, but re-read only when
//! it or a certificate file changed.
//!
//! Where pharos differs from exporter-toolkit, and why:
//! - The web config is re-read only when the file (or a certificate, key
//!   or client CA file it names) changed — by modification time, size and
//!   inode — instead of on every request and handshake; the effect is the
//!   same, the cost is a few `stat` calls. For the same reason a change of
//!   `http2` applies to new connections, where Go reads it once.
//! - TLS is rustls: no TLS 1.0/1.1, no CBC or RSA-key-exchange suites, no
//!   P-521 (see the `tls` module); settings that leave no way to complete
//!   a handshake, and verifying client auth without a client CA, are
//!   refused when the config is loaded instead of failing every handshake.
//! - Go's `Allow` header on 405 lists OPTIONS and not HEAD; pharos's lists
//!   the methods axum routes.
//! - Plain-text connections speak HTTP/1 only, as Go's; TLS connections
//!   speak HTTP/2 when the client offers it and `http2` is on.
//!
//! ```no_run
//! # async fn run() -> Result<(), web::WebError> {
//! let readiness = web::Readiness::new();
//! let (state, mut events) = web::ManagementState::new(readiness.clone(), true);
//! let app = web::RoutePrefix::new("/prom").apply(web::management_router(state));
//! let server = web::Server::bind(&[":9090"], Some("web.yml".as_ref())).await?;
//! readiness.set_ready();
//! tokio::spawn(async move {
//!     while let Some(reload) = events.reloads.recv().await {
//!         reload.finish(Ok(())); // reload prometheus.yml here
//!     }
//! });
//! server.serve(app, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod auth;
mod error;
mod external_url;
mod listen;
mod management;
mod prefix;
mod rate_limit;
mod sans;
mod server;
mod source;
mod tls;

pub use error::WebError;
pub use external_url::ExternalUrl;
pub use management::{
    management_router, LifecycleEvents, ManagementState, Readiness, ReloadRequest,
};
pub use prefix::RoutePrefix;
pub use server::{Server, ServerOptions};

/// Checks a web config file as the server would use it — YAML, fields,
/// headers, password hashes, and the certificate, key and client CA files —
/// as `promtool check web-config` does.
pub fn check_web_config(path: &std::path::Path) -> Result<(), WebError> {
    source::WebConfigSource::new(path.to_owned())
        .current()
        .map(|_| ())
        .map_err(|reason| WebError::Config {
            file: path.display().to_string(),
            reason,
        })
}
