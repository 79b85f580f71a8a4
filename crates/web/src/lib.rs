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
