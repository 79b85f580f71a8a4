//! The server's HTTP endpoints for now: the management endpoints
//! (`/-/healthy`, `/-/ready`, `/-/reload`, `/-/quit`, answered as
//! Prometheus answers them), `/metrics` and a plain index at `/`. The `web`
//! crate will take these over with the HTTP API and TLS/basic auth.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, oneshot};

use super::status::ServerStatus;

/// A request to the main loop, which owns reloads and shutdown.
#[derive(Debug)]
pub(crate) enum Lifecycle {
    /// Reload the config; the answer says whether it worked and why not.
    Reload(oneshot::Sender<Result<(), String>>),
    /// Shut down.
    Quit,
}

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct HttpState {
    pub(crate) status: Arc<ServerStatus>,
    pub(crate) lifecycle_enabled: bool,
    pub(crate) lifecycle: mpsc::Sender<Lifecycle>,
}

/// The router, under `prefix` (`""` or `/path`).
pub(crate) fn router(state: HttpState, prefix: &str) -> Router {
    let routes = Router::new()
        .route("/", get(index))
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/-/quit", post(quit).put(quit))
        .route("/metrics", get(metrics))
        .with_state(state);
    if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    }
}

async fn index() -> &'static str {
    concat!(
        "pharos server\n\n",
        "This server has no UI or query API yet. Endpoints:\n",
        "  /metrics    pharos's own metrics (the embedded default config scrapes them)\n",
        "  /-/healthy  liveness\n",
        "  /-/ready    readiness (the TSDB is open)\n",
        "  /-/reload   POST: reload the config (needs --web.enable-lifecycle)\n",
        "  /-/quit     POST: shut down (needs --web.enable-lifecycle)\n",
    )
}

async fn healthy() -> &'static str {
    "Prometheus Server is Healthy.\n"
}

async fn ready(State(s): State<HttpState>) -> Response {
    if s.status.is_ready() {
        "Prometheus Server is Ready.\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

const LIFECYCLE_DISABLED: &str = "Lifecycle API is not enabled.";

async fn reload(State(s): State<HttpState>) -> Response {
    if !s.lifecycle_enabled {
        return (StatusCode::FORBIDDEN, LIFECYCLE_DISABLED).into_response();
    }
    let (tx, rx) = oneshot::channel();
    if s.lifecycle.send(Lifecycle::Reload(tx)).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down").into_response();
    }
    match rx.await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}"),
        )
            .into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down").into_response(),
    }
}

async fn quit(State(s): State<HttpState>) -> Response {
    if !s.lifecycle_enabled {
        return (StatusCode::FORBIDDEN, LIFECYCLE_DISABLED).into_response();
    }
    // A closed channel means shutdown is already under way.
    let _ = s.lifecycle.send(Lifecycle::Quit).await;
    "Requesting termination... Goodbye!".into_response()
}

async fn metrics(State(s): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.status.metrics_text(),
    )
        .into_response()
}
