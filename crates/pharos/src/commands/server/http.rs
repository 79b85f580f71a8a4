//! The routes `pharos server` serves beside the `web` crate's management
//! endpoints, until the HTTP API and the UI exist: `/metrics` and a plain
//! index at `/` naming the endpoints there are.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::status::ServerStatus;

/// The server's routes: these and the management endpoints, under `prefix`.
pub(crate) fn router(
    status: Arc<ServerStatus>,
    management: web::ManagementState,
    prefix: &web::RoutePrefix,
) -> Router {
    let own = Router::new()
        .route("/", get(index))
        .route("/metrics", get(metrics))
        .with_state(status);
    prefix.apply(own.merge(web::management_router(management)))
}

async fn index() -> &'static str {
    concat!(
        "pharos server\n\n",
        "No UI or query API yet. Endpoints:\n",
        "  /metrics    pharos's own metrics (the embedded default config scrapes them)\n",
        "  /-/healthy  liveness\n",
        "  /-/ready    readiness (the TSDB is open)\n",
        "  /-/reload   POST: reload the config (needs --web.enable-lifecycle)\n",
        "  /-/quit     POST: shut down (needs --web.enable-lifecycle)\n",
    )
}

async fn metrics(State(s): State<Arc<ServerStatus>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics_text(),
    )
        .into_response()
}
